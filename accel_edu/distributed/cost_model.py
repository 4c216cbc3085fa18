"""The alpha-beta cost model of allreduce: time = (messages) * alpha + (bytes per rank sent) * beta.

alpha is the latency of one message (seconds), beta the time per byte (1 / bandwidth). For
an allreduce of n bytes over p ranks:

- ring (reduce-scatter, then allgather):  2 (p-1) alpha + 2 (p-1)/p n beta
  the bandwidth term approaches 2 n beta whatever p is, which is why large gradients use it;
- recursive doubling (log2 p rounds, each exchanging the whole buffer):  log2(p) (alpha + n beta)
  fewer messages, so it wins for small n;
- binomial tree (reduce to a root, then broadcast):  2 log2(p) (alpha + n beta).

Every model is ``alpha * latency_terms(p) + beta * n * bandwidth_terms(p)``: linear in alpha
and beta, so fitting measurements is one least-squares solve. What two processes on one
machine can show is only p = 2 over shared memory; alpha and beta fitted here are a memory
copy's, not a network's, and the predictions for many nodes are the model's, to be read with
the network's own alpha and beta.
"""
from __future__ import annotations

import math

import numpy as np

ALGORITHMS = ("ring", "recursive_doubling", "tree")


def _latency_and_bandwidth_terms(algorithm: str, p: int) -> tuple[float, float]:
    """(messages per rank, fraction of n each rank sends) of one allreduce over p ranks."""
    if p == 1:
        return 0.0, 0.0
    if algorithm == "ring":
        return 2.0 * (p - 1), 2.0 * (p - 1) / p
    if algorithm == "recursive_doubling":
        # For p not a power of two real libraries add a pre/post step; the ceiling counts it.
        rounds = math.ceil(math.log2(p))
        return float(rounds), float(rounds)
    if algorithm == "tree":
        rounds = math.ceil(math.log2(p))
        return 2.0 * rounds, 2.0 * rounds
    raise ValueError(f"algorithm must be one of {ALGORITHMS}; got {algorithm!r}")



def _check_ranks(p) -> int:
    if not isinstance(p, (int, np.integer)) or isinstance(p, bool) or p < 1:
        raise ValueError(f"p (the number of ranks) must be a positive integer; got {p!r}")
    return int(p)


def allreduce_time(n_bytes, p: int, alpha: float, beta: float, algorithm: str = "ring"):
    """Predicted seconds for one allreduce of ``n_bytes`` (a number or an array) over ``p`` ranks."""
    p = _check_ranks(p)
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative finite number of seconds; got {value!r}")
    latency, bandwidth = _latency_and_bandwidth_terms(algorithm, p)
    return latency * alpha + bandwidth * np.asarray(n_bytes, dtype=float) * beta


def fit_alpha_beta(n_bytes, seconds, p: int, algorithm: str = "ring") -> dict:
    """Least-squares alpha and beta of ``algorithm`` from measured allreduce times.

    n_bytes, seconds: (k,) message sizes and their measured times (k >= 2, two sizes at least).
    Each equation is divided by its measured time, so the fit minimises *relative* error:
    unweighted, the largest messages (milliseconds) would swamp the smallest (microseconds)
    and alpha would be whatever is left over. A negative coefficient (noise) is refitted as 0.
    Returns {"alpha": s, "beta": s/byte, "bandwidth": bytes/s, "relative_rms": fit error}.
    """
    p = _check_ranks(p)
    if p < 2:
        raise ValueError("p must be at least 2 to fit an allreduce: with one rank nothing is sent")
    n = np.asarray(n_bytes, dtype=float).ravel()
    t = np.asarray(seconds, dtype=float).ravel()
    if n.shape != t.shape:
        raise ValueError(f"n_bytes and seconds must have the same length; got {n.size} and {t.size}")
    if len(np.unique(n)) < 2:
        raise ValueError(f"n_bytes must hold at least two different sizes to separate alpha from "
                         f"beta; got {np.unique(n).tolist()}")
    if np.any(t <= 0) or not np.all(np.isfinite(t)):
        raise ValueError("seconds must all be positive finite times")
    latency, bandwidth = _latency_and_bandwidth_terms(algorithm, p)
    design = np.column_stack([np.full_like(n, latency), bandwidth * n]) / t[:, None]
    coef, *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    for drop in (0, 1):  # a negative term: keep the other alone (the non-negative optimum)
        if coef[drop] < 0:
            keep = 1 - drop
            only, *_ = np.linalg.lstsq(design[:, [keep]], np.ones_like(t), rcond=None)
            coef = np.zeros(2)
            coef[keep] = max(only[0], 0.0)
    alpha, beta = float(coef[0]), float(coef[1])
    predicted = allreduce_time(n, p, alpha, beta, algorithm)
    return {"alpha": alpha, "beta": beta, "bandwidth": (1.0 / beta) if beta > 0 else math.inf,
            "relative_rms": float(np.sqrt(np.mean((predicted / t - 1.0) ** 2))),
            "algorithm": algorithm, "p": p}


def predict_scaling(n_bytes: float, ranks, alpha: float, beta: float,
                    algorithms=ALGORITHMS) -> list[dict]:
    """Predicted allreduce time of ``n_bytes`` for each p in ``ranks`` and each algorithm.

    Returns records {"p", "algorithm", "seconds"}, ready to plot (one line per algorithm).
    """
    return [{"p": _check_ranks(p), "algorithm": a, "seconds": float(allreduce_time(n_bytes, p, alpha, beta, a))}
            for a in algorithms for p in ranks]


def data_parallel_speedup(compute_seconds: float, gradient_bytes: float, ranks, alpha: float,
                          beta: float, algorithm: str = "ring") -> list[dict]:
    """Strong scaling of one SGD step: the batch's compute splits p ways, the allreduce does not.

    step(p) = compute_seconds / p + allreduce_time(gradient_bytes, p); speedup = step(1) / step(p).
    Returns records {"p", "step_seconds", "speedup", "efficiency"} (efficiency = speedup / p).
    The model assumes no overlap of communication with the backward pass (real frameworks
    overlap it, bucket by bucket) and a network whose alpha and beta do not change with p.
    """
    if not np.isfinite(compute_seconds) or compute_seconds <= 0:
        raise ValueError(f"compute_seconds must be a positive time; got {compute_seconds!r}")
    records = []
    for p in ranks:
        p = _check_ranks(p)
        step = compute_seconds / p + float(allreduce_time(gradient_bytes, p, alpha, beta, algorithm))
        speedup = compute_seconds / step
        records.append({"p": p, "step_seconds": step, "speedup": speedup, "efficiency": speedup / p})
    return records

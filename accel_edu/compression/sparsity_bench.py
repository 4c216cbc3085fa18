"""Where does sparse beat dense? CSR SpMM against a dense OpenBLAS GEMM, over sparsity.

    python -m accel_edu.compression.sparsity_bench [--m 1024 --k 1024 --n 64] [--json]

A (M, K) with a given fraction of zeros, times a dense B (K, N): the dense product costs
2 M K N whatever A holds; CSR costs 2 nnz N, but each stored value brings an index, a gather
of a row of B and a loop that the hardware cannot predict as well. The rows (one per sparsity)
are what the chapter plots: time of each candidate, and its speed-up over dense (> 1: sparse wins).
Times are interleaved medians of candidates run in turn (``bench.timing.interleaved_medians``).
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from ..runtime import available_backends, to_device
from ..runtime.opencl import finish

SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def random_sparse(m: int, k: int, sparsity: float, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """A dense (m, k) array with round(sparsity * m * k) zeros at random places."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(dtype)
    zeros = rng.choice(m * k, size=round(sparsity * m * k), replace=False)
    a.reshape(-1)[zeros] = 0
    return a


def spmm_vs_dense(m: int = 1024, k: int = 1024, n: int = 64, sparsities=SPARSITIES, repeat: int = 5,
                  backends=("numba", "opencl"), seed: int = 0, **timing) -> list[dict]:
    """[{"sparsity", "nnz", "dense_s", "<backend>_s", "<backend>_speedup"}], one row per sparsity;
    with Numba available, also "dense_numba_s".

    dense_s is NumPy/OpenBLAS's a @ b on the dense array (zeros included); <backend>_s is our
    CSR SpMM on that backend; speedup = dense_s / <backend>_s. dense_numba_s is chapter 1's
    Numba GEMM on the same dense array: a dense baseline built by the same compiler, which
    slows down with the machine's load as our sparse kernels do (OpenBLAS's threads collapse
    under load far more). NumPy's CSR reference (add.at, seconds per call at 50%) is left out
    unless asked for in ``backends``. ``timing`` goes to interleaved_medians (min_seconds,
    settle: a quick live run may shorten them).
    """
    from ..bench.timing import interleaved_medians
    from .csr import CSRMatrix
    have = available_backends()
    backends = [b for b in backends if have[b]]
    b = np.random.default_rng(seed + 1).standard_normal((k, n)).astype(np.float32)
    rows = []
    for sparsity in sparsities:
        dense = random_sparse(m, k, sparsity, seed)
        a = CSRMatrix.from_dense(dense)
        candidates = {"dense": (lambda d=dense: d @ b, None)}
        if have["numba"]:
            from ..backprop import kernels as BK
            candidates["dense_numba"] = (lambda d=dense: BK.gemm(d, b, backend="numba"), None)
        for be in backends:
            if be == "opencl":
                parts = [to_device(v) for v in (a.indptr, a.indices, a.data, b)]
                from . import kernels as K
                candidates[be] = (lambda p=parts: K.csr_spmm(*p, backend="opencl"), finish)
            else:
                candidates[be] = (lambda be=be, a=a: a.matmul(b, backend=be), None)
        times = interleaved_medians(candidates, repeat=repeat, **timing)
        row = {"sparsity": sparsity, "nnz": a.nnz, "dense_s": times["dense"]}
        if "dense_numba" in times:
            row["dense_numba_s"] = times["dense_numba"]
        for be in backends:
            row[f"{be}_s"] = times[be]
            row[f"{be}_speedup"] = times["dense"] / times[be]
        rows.append(row)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=1024)
    parser.add_argument("--k", type=int, default=1024)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = spmm_vs_dense(args.m, args.k, args.n, repeat=args.repeat)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"A ({args.m}, {args.k}) sparse x B ({args.k}, {args.n}) dense; speed-up over dense OpenBLAS (> 1: sparse wins)")
    names = [key[:-8] for key in rows[0] if key.endswith("_speedup")]
    print("  sparsity  dense ms  " + "  ".join(f"{b:>14}" for b in names))
    for r in rows:
        cells = "  ".join(f"{r[b + '_s'] * 1e3:7.2f} x{r[b + '_speedup']:5.2f}" for b in names)
        print(f"  {r['sparsity']:8.2f}  {r['dense_s'] * 1e3:8.2f}  {cells}")


if __name__ == "__main__":
    main()

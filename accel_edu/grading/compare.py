"""Compare what a submission returned with what the reference says, in words.

Every function returns ``None`` when the output is right, else one sentence for the student:
which output, what was expected, what came back, and where the largest error is.
"""
from __future__ import annotations

import numpy as np

from .protocol import Opaque


def describe(value) -> str:
    if value is None:
        return "None (did you forget `return`?)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, Opaque):
        return f"a {value.type_name} ({value.text[:60]})"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return "a dict"
    return f"a {type(value).__name__} ({str(value)[:40]})"


def check_outputs(got, want: tuple, names: tuple[str, ...], rtol: float, scalars: tuple[str, ...] = ()) -> str | None:
    """``got`` against ``want`` (one array per name); a tuple of several outputs is expected
    when there is more than one name."""
    if len(names) > 1:
        if not isinstance(got, (tuple, list)):
            return f"should return a tuple ({', '.join(names)}); got {describe(got)}"
        if len(got) != len(names):
            return f"should return {len(names)} values ({', '.join(names)}); got {len(got)}"
        outputs = list(got)
    else:
        outputs = [got]
    problems = []
    for name, g, w in zip(names, outputs, want):
        problem = (check_scalar(name, g, w, rtol) if name in scalars else check_array(name, g, w, rtol))
        if problem:
            problems.append(problem)
    return "; ".join(problems) or None


def check_scalar(name: str, got, want, rtol: float) -> str | None:
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(()).item()
    elif isinstance(got, np.generic):
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return f"{name} should be a number; got {describe(got)}"
    want = float(np.asarray(want))
    if not np.isfinite(got):
        return f"{name} is {got}; expected {want:.6g} (overflow? subtract the row maximum first)"
    if abs(got - want) > rtol * max(abs(want), 1.0):
        return f"{name} is {got:.6g}; expected {want:.6g}"
    return None


def check_array(name: str, got, want: np.ndarray, rtol: float) -> str | None:
    if isinstance(got, list):
        return f"{name} should be a NumPy array; got a list (wrap it in np.array)"
    if not isinstance(got, np.ndarray):
        return f"{name} should be an array of shape {want.shape}; got {describe(got)}"
    if got.shape != want.shape:
        hint = " (transposed?)" if got.shape == want.shape[::-1] and got.ndim == 2 else ""
        return f"{name} has shape {got.shape}; expected {want.shape}{hint}"
    if got.dtype != want.dtype:
        return (f"{name} has dtype {got.dtype}; expected {want.dtype}, the dtype of the inputs "
                f"(an operation promoted it: check constants and np.zeros dtypes)")
    if got.dtype.kind not in "fc":
        return None if np.array_equal(got, want) else f"{name} has the wrong values"
    bad_nonfinite = ~np.isfinite(got) & np.isfinite(want)
    if bad_nonfinite.any():
        idx = _index(np.argmax(bad_nonfinite), got.shape)
        return (f"{name} has {int(bad_nonfinite.sum())} NaN/inf value(s) where the answer is finite, "
                f"first at index {idx} (got {got[idx]}, expected {want[idx]:.6g})")
    g64, w64 = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(w64)
    scale = float(np.max(np.abs(w64[finite]), initial=0.0))
    err = np.where(finite, np.abs(g64 - w64), 0.0)
    tol = rtol * (np.abs(w64) + max(scale, 1e-30))
    over = err > tol
    if not over.any():
        return None
    idx = _index(np.argmax(np.where(over, err / tol, -1.0)), got.shape)
    return (f"{name}: {int(over.sum())} of {got.size} values are wrong; the worst is at index {idx}: "
            f"got {g64[idx]:.6g}, expected {w64[idx]:.6g} (error {err[idx]:.2g}, tolerance {tol[idx]:.2g})")


def _index(flat: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(int(flat), shape)) if shape else ()

"""Hostile and broken submissions, each with the score and message the grader must give.

Most are the solution notebook with one cell swapped or added, so they stay in step with it;
three are broken files kept beside this one (``files/``). ``build(out_dir)`` writes them all;
``python tests/grading_corpus/corpus.py OUT_DIR`` does the same, to look at them.

``expect`` maps a part number to its points, or to a ``(low, high)`` range where a speed
measurement makes the exact value vary; a part left out must get full marks. ``messages`` maps
a part number, or ``"notebook"`` for the notes on the notebook, to text its feedback must contain.
"""
from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOLUTION = HERE.parents[1] / "solutions" / "01_backprop.ipynb"
POINTS = {"1": 10, "2": 10, "3": 10, "4": 20, "5": 10}


@dataclass
class Hostile:
    name: str
    why: str
    replace: dict[str, str] = field(default_factory=dict)   # graded name -> new source of its cell
    insert: list[tuple[str, str]] = field(default_factory=list)  # (after the cell defining NAME, source)
    expect: dict = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    needs: str = ""                                         # "landlock" or "landlock-signals"


def _fn(header: str, body: str) -> str:
    return header + "\n" + "\n".join("    " + line for line in body.strip("\n").splitlines())


CORPUS = [
    Hostile("infinite_loop_cell", "a cell that never ends is stopped and skipped; nothing else is lost",
            insert=[("rng", "while True:\n    pass")], messages={"notebook": "ran longer than the"}),
    Hostile("infinite_loop_in_function", "a call that never returns costs the part's remaining cases",
            replace={"linear_backward": _fn("def linear_backward(dy, x, w):", """
if x.shape[1] == 129:  # hangs on one hidden case only
    while True:
        pass
return dy @ w, dy.T @ x, dy.sum(axis=0)""")},
            expect={"1": 10 * 4 / 12}, messages={"1": "did not return within"}),
    Hostile("os_exit_cell", "os._exit kills the worker; it restarts without that cell",
            insert=[("numerical_gradient", "import os\nos._exit(3)")],
            messages={"notebook": "exited with code 3"}),
    Hostile("os_exit_in_function", "a call that kills the worker twice: the part's remaining cases are not run",
            replace={"softmax_cross_entropy": _fn("def softmax_cross_entropy(logits, labels):", """
if logits.shape == (7, 3):  # one hidden shape, in float32 and again in float64
    import os
    os._exit(0)
n = logits.shape[0]
shifted = logits - logits.max(axis=1, keepdims=True)
log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
d = np.exp(log_probs)
d[np.arange(n), labels] -= 1
return -log_probs[np.arange(n), labels].mean(), d / n""")},
            expect={"3": 10 * 8 / 14}, messages={"3": "stopped the worker twice"}),
    Hostile("segfault_cell", "a segfault in a cell is survived",
            insert=[("gemm_fast", "import ctypes\nctypes.string_at(0)")], messages={"notebook": "SIGSEGV"}),
    Hostile("segfault_in_function", "a segfault on one hidden case loses that case; the rest are graded",
            replace={"numerical_gradient": _fn("def numerical_gradient(f, x, eps=1e-5):", """
if x.shape == (7,):
    import ctypes
    ctypes.string_at(0)
grad = np.zeros_like(x)
for i in np.ndindex(x.shape):
    old = x[i]
    x[i] = old + eps
    f_plus = f(x)
    x[i] = old - eps
    f_minus = f(x)
    x[i] = old
    grad[i] = (f_plus - f_minus) / (2 * eps)
return grad""")},
            expect={"2": 10 * 5 / 6}, messages={"2": "SIGSEGV"}),
    Hostile("memory_bomb_cell", "shared memory escapes RLIMIT_DATA; the watchdog stops it",
            insert=[("rng", "import mmap\nm = mmap.mmap(-1, 3 << 30)\n"
                            "np.frombuffer(m, dtype=np.uint8)[::4096] = 1")],
            messages={"notebook": "MB of memory"}),
    Hostile("memory_error_in_function", "a huge allocation fails with MemoryError, inside the part",
            replace={"numerical_gradient": _fn("def numerical_gradient(f, x, eps=1e-5):",
                                               "return np.ones(1 << 40)")},
            expect={"2": 0}, messages={"2": "MemoryError"}),
    Hostile("huge_output", "50 MB of prints are drained and counted, not kept",
            insert=[("rng", "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * 1_000_000 + '\\n')")],
            messages={"notebook": "bytes. Printed output earns nothing"}),
    Hostile("base_exceptions", "sys.exit, KeyboardInterrupt and a BaseException of its own: caught, reported",
            replace={"linear_backward": _fn("def linear_backward(dy, x, w):", "raise KeyboardInterrupt")},
            insert=[("rng", "class Boom(BaseException):\n    pass\nraise Boom('custom')"),
                    ("rng", "import sys\nsys.exit('bye')")],
            expect={"1": 0}, messages={"1": "raised KeyboardInterrupt", "notebook": "raised SystemExit"}),
    Hostile("syntax_error", "a syntax error loses the function defined in that cell",
            replace={"softmax_cross_entropy": "def softmax_cross_entropy(logits, labels)\n    return 0"},
            expect={"3": 0}, messages={"3": "raised SyntaxError"}),
    Hostile("renamed_function", "a renamed function is not found, and the message suggests the name",
            replace={"linear_backward": _fn("def linear_backwards(dy, x, w):", "return dy @ w, dy.T @ x, dy.sum(0)")},
            expect={"1": 0}, messages={"1": "Similar names: linear_backwards"}),
    Hostile("wrong_signature", "a missing argument: the message shows the signature the grader calls",
            replace={"linear_backward": _fn("def linear_backward(dy, x):", "return dy, x, dy")},
            expect={"1": 0}, messages={"1": "The grader calls linear_backward(dy, x, w)"}),
    Hostile("returns_none", "a forgotten return",
            replace={"linear_backward": _fn("def linear_backward(dy, x, w):", "dx = dy @ w")},
            expect={"1": 0}, messages={"1": "did you forget `return`?"}),
    Hostile("transposed_dw", "the wrong shape, with a hint",
            replace={"linear_backward": _fn("def linear_backward(dy, x, w):", "return dy @ w, x.T @ dy, dy.sum(0)")},
            expect={"1": 0}, messages={"1": "(transposed?)"}),
    Hostile("wrong_dtype", "float64 out for float32 in: the float32 half of the cases fails",
            replace={"softmax_cross_entropy": _fn("def softmax_cross_entropy(logits, labels):", """
z = logits.astype(np.float64)
n = z.shape[0]
shifted = z - z.max(axis=1, keepdims=True)
log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
d = np.exp(log_probs)
d[np.arange(n), labels] -= 1
return -log_probs[np.arange(n), labels].mean(), d / n""")},
            expect={"3": 5}, messages={"3": "dtype float64; expected float32"}),
    Hostile("unstable_softmax", "no max subtraction: logits of 1e4 overflow to NaN",
            replace={"softmax_cross_entropy": _fn("def softmax_cross_entropy(logits, labels):", """
n = logits.shape[0]
e = np.exp(logits)
p = e / e.sum(axis=1, keepdims=True)
loss = -np.log(p[np.arange(n), labels]).mean()
p[np.arange(n), labels] -= 1
return loss, p / n""")},
            expect={"3": 10 * 12 / 14}, messages={"3": "NaN/inf"}),
    Hostile("numerical_gradient_moves_x", "x is not put back: the grader notices the input changed",
            replace={"numerical_gradient": _fn("def numerical_gradient(f, x, eps=1e-5):", """
grad = np.zeros_like(x)
for i in np.ndindex(x.shape):
    x[i] += eps
    f_plus = f(x)
    x[i] -= 2 * eps
    grad[i] = (f_plus - f(x)) / (2 * eps)
return grad""")},
            expect={"2": 0}, messages={"2": "changed its input x in place"}),
    Hostile("monkeypatch", "patching numpy's comparisons and the reference kernels changes only the worker",
            insert=[("rng", """import importlib
import numpy.testing
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
reference = importlib.import_module("accel_" + "edu.backprop.numpy_kernels")
reference.linear_backward = lambda dy, x, w: (0 * (dy @ w), 0 * (dy.T @ x), 0 * dy.sum(0))""")],
            replace={"linear_backward": _fn("def linear_backward(dy, x, w):",
                                            "return 0 * (dy @ w), 0 * (dy.T @ x), 0 * dy.sum(0)")},
            expect={"1": 0}, messages={"1": "values are wrong"}),
    Hostile("peek_for_answers", "searching the worker for expected values finds none: they never leave the grader",
            replace={"linear_backward": _fn("def linear_backward(dy, x, w):", """
import sys
want = [(dy.shape[0], w.shape[1]), w.shape, (w.shape[0],)]
found = [np.zeros(s, dy.dtype) for s in want]
frame = sys._getframe()
while frame is not None:  # every local and global of every frame, grader's worker included
    for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
        for k, shape in enumerate(want):
            if isinstance(value, np.ndarray) and value.shape == shape and value is not w:
                found[k] = value
    frame = frame.f_back
return tuple(found)""")},
            expect={"1": 0}),
    Hostile("cached_gemm", "caching results fakes nothing: every timed call has fresh inputs",
            replace={"gemm_fast": """_results = {}


@njit
def _gemm(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=np.float32)
    for i in range(m):
        for p in range(k):
            for j in range(n):
                c[i, j] += a[i, p] * b[p, j]
    return c


def gemm_fast(a, b):
    key = (a.shape, b.shape)
    if key not in _results or a.shape[0] < 256:  # cache only the big, timed product
        _results[key] = _gemm(a, b)
    return _results[key]"""},
            expect={"4": 8}, messages={"4": "returned a wrong result"}),
    Hostile("slow_gemm", "right but as slow as the naive loops: correctness points, well short of the "
            "speed credit (a range: on CI's loaded 2 cores the same code once timed 2x faster than the "
            "baseline, worth 5 of the 12 speed points; full credit needs 5x)",
            replace={"gemm_fast": "gemm_fast = gemm_naive"}, expect={"4": (8, 16)}, messages={"4": "faster"}),
    Hostile("matmul_gemm", "@ inside gemm_fast is not the loops the part asks for",
            replace={"gemm_fast": _fn("def gemm_fast(a, b):", "return a @ b")},
            expect={"4": 0}, messages={"4": "uses the @ operator"}),
    Hostile("imports_reference", "importing the grader's reference kernels scores zero on the NumPy parts",
            insert=[("rng", "from accel_edu.backprop.numpy_kernels import linear_backward as reference_backward")],
            expect={"1": 0, "2": 0, "3": 0, "4": 0}, messages={"1": "imports the grader's reference code"}),
    Hostile("protocol_garbage", "garbage written on the grader's private pipe: the cell is dropped",
            insert=[("rng", "import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'garbage' * 64)\n"
                            "    except OSError:\n        pass")],
            messages={"notebook": "not a grader message"}),
    Hostile("patch_the_worker", "the submission rewires the grader's worker: its replies are refused",
            insert=[("rng", """import sys
worker = sys.modules["accel_edu.grading.worker"]
honest_call = worker.call
worker.call = lambda ns, name, *rest: [1, 2, 3] if name == "linear_backward" else honest_call(ns, name, *rest)""")],
            expect={"1": 0}, messages={"1": "sent a reply the grader cannot read"}),
    Hostile("opencl_no_guard", "no `if (i < n)`: writes past the end are caught by a canary",
            replace={"RELU_BACKWARD_SRC": 'RELU_BACKWARD_SRC = r"""\n__kernel void relu_backward(__global const float *dy, '
                     '__global const float *x,\n    __global float *dx, const int n)\n{\n    int i = get_global_id(0);\n'
                     '    dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;\n}\n"""'},
            expect={"5": 10 / 6}, messages={"5": "wrote past the end of dx"}),
    Hostile("opencl_build_error", "OpenCL C that does not compile: the compiler's message is shown",
            replace={"RELU_BACKWARD_SRC": 'RELU_BACKWARD_SRC = "__kernel void relu_backward(__global const float *dy, '
                     '__global const float *x, __global float *dx, const int n) { dx[0] = oops; }"'},
            expect={"5": 0}, messages={"5": "The OpenCL compiler says"}),
    Hostile("opencl_crash", "a kernel that writes far out of bounds crashes the launcher, not the grader",
            replace={"RELU_BACKWARD_SRC": 'RELU_BACKWARD_SRC = "__kernel void relu_backward(__global const float *dy, '
                     '__global const float *x, __global float *dx, const int n) '
                     '{ long i = get_global_id(0); dx[i * 400000000L] = dy[0]; }"'},
            expect={"5": 0}, messages={"5": "crashed the process that launched it"}),
    Hostile("write_outside", "writing outside the worker's folder is refused",
            insert=[("rng", "with open('{OUTSIDE}/pwned.txt', 'w') as f:\n    f.write('pwned')")],
            messages={"notebook": "PermissionError"}, needs="landlock"),
    Hostile("signal_the_grader", "signalling or reading the grader process is refused",
            insert=[("rng", "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)")],
            messages={"notebook": "PermissionError"}, needs="landlock-signals"),
]

FILES = {  # broken files: every part scores zero, with this message. A file that cannot be read
    # has no metadata to name its assignment, so its name does (there is more than one).
    "corrupt__01_backprop.ipynb": "not valid notebook JSON",
    "not_a_notebook__01_backprop.ipynb": "not text",
    "empty.ipynb": "no code cells",
}


def _defines(cell, name: str) -> bool:
    return cell.cell_type == "code" and re.search(rf"^(def\s+{name}\b|{name}\s*=)", cell.source, re.M) is not None


def _find(nb, name: str) -> int:
    if name == "rng":
        return next(i for i, c in enumerate(nb.cells) if "rng = np.random.default_rng" in c.source)
    return next(i for i, c in enumerate(nb.cells) if _defines(c, name))


def make(entry: Hostile, outside: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(SOLUTION, as_version=4)
    for name, source in entry.replace.items():
        nb.cells[_find(nb, name)].source = source
    for after, source in entry.insert:
        cell = nbformat.v4.new_code_cell(source.replace("{OUTSIDE}", str(outside)))
        nb.cells.insert(_find(nb, after) + 1, cell)
    return nb


def build(out_dir: Path, outside: Path, skip: set[str] = frozenset()) -> list[str]:
    """Write every entry (except ``skip``) and the broken files; returns the names written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for entry in CORPUS:
        if entry.name not in skip:
            nbformat.write(make(entry, outside), out_dir / f"{entry.name}.ipynb")
            names.append(entry.name)
    for filename in FILES:
        shutil.copy(HERE / "files" / filename, out_dir / filename)
        names.append(Path(filename).stem)
    return names


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile_notebooks")
    print("\n".join(build(target, target / "outside")))

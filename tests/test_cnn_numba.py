"""What the registry walk (tests/test_registry.py) does not cover for the CNN's Numba kernels:
ties in max pooling, and a batch big enough to split across threads and tasks."""
from __future__ import annotations


import numpy as np
import pytest

from accel_edu.runtime import available_backends

AVAILABLE = available_backends()
pytestmark = pytest.mark.skipif(not AVAILABLE["numba"], reason=AVAILABLE["numba"].detail)

from accel_edu.cnn import numpy_kernels as ref  # noqa: E402



def _compare(got, want, rtol, where):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want), where
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g.shape, g.dtype) == (w.shape, w.dtype), f"{where}, output {k}: got {g.shape} {g.dtype}, " \
                                                          f"want {w.shape} {w.dtype}"
        if w.dtype.kind == "i":  # argmax: the same pixel, not a nearby one
            np.testing.assert_array_equal(g, w, err_msg=f"{where}, output {k}")
        else:
            atol = rtol * max(float(np.abs(w).max(initial=0.0)), 1.0)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{where}, output {k}")


def test_maxpool_ties_pick_the_first_maximum_in_window_order():
    from accel_edu.cnn import numba_kernels as nb
    x = np.zeros((1, 2, 5, 6))  # every window is one big tie; the second plane has ties of 1s
    x[0, 1, ::2, 1::2] = 1.0
    for kw in (dict(kernel=2), dict(kernel=3, stride=1, padding=1), dict(kernel=(2, 3), stride=(1, 2))):
        y, argmax = nb.maxpool2d_forward(x, **kw)
        y_ref, argmax_ref = ref.maxpool2d_forward(x, **kw)
        np.testing.assert_array_equal(argmax, argmax_ref)
        np.testing.assert_array_equal(y, y_ref)


def test_conv_lenet_shape_matches_reference():
    """A LeNet-sized batch, big enough that the GEMM uses several cache blocks and threads."""
    from accel_edu.cnn import numba_kernels as nb
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((9, 3, 28, 28), (6, 3, 5, 5), (6,)))
    dy = rng.standard_normal((9, 6, 12, 12)).astype(np.float32)
    kw = dict(stride=2, padding=0)
    for step in nb.LADDERS["conv2d_forward"]:
        _compare(getattr(nb, f"conv2d_forward_{step}")(x, w, b, **kw), ref.conv2d_forward(x, w, b, **kw), 2e-4, step)
        _compare(getattr(nb, f"conv2d_backward_{step}")(dy, x, w, **kw), ref.conv2d_backward(dy, x, w, **kw),
                 2e-4, f"{step} backward")
    _compare(nb.conv2d_direct_forward(x, w, b, **kw), ref.conv2d_forward(x, w, b, **kw), 2e-4, "direct")

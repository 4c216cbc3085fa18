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


@pytest.fixture(params=["1 thread", "all threads"])
def threads(request):
    """With one thread the packed forward, the register-tiled kernels and max pooling skip the
    parallel region: test both paths."""
    import numba
    before = numba.get_num_threads()
    numba.set_num_threads(1 if request.param == "1 thread" else numba.config.NUMBA_NUM_THREADS)
    yield numba.get_num_threads()
    numba.set_num_threads(before)


def test_maxpool_ties_pick_the_first_maximum_in_window_order(threads):
    from accel_edu.cnn import numba_kernels as nb
    x = np.zeros((1, 2, 5, 6))  # every window is one big tie; the second plane has ties of 1s
    x[0, 1, ::2, 1::2] = 1.0
    for kw in (dict(kernel=2), dict(kernel=3, stride=1, padding=1), dict(kernel=(2, 3), stride=(1, 2))):
        y, argmax = nb.maxpool2d_forward(x, **kw)
        y_ref, argmax_ref = ref.maxpool2d_forward(x, **kw)
        np.testing.assert_array_equal(argmax, argmax_ref)
        np.testing.assert_array_equal(y, y_ref)
        dy = np.arange(y.size, dtype=float).reshape(y.shape)   # every window's gradient distinct
        np.testing.assert_array_equal(nb.maxpool2d_backward(dy, argmax, x.shape),
                                      ref.maxpool2d_backward(dy, argmax_ref, x.shape))


def test_conv_lenet_shape_matches_reference(threads):
    """A LeNet-sized batch, big enough that the GEMM uses several cache blocks and threads."""
    from accel_edu.cnn import numba_kernels as nb
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((9, 3, 28, 28), (6, 3, 5, 5), (6,)))
    dy = rng.standard_normal((9, 6, 12, 12)).astype(np.float32)
    kw = dict(stride=2, padding=0)
    for step in nb.LADDERS["conv2d_forward"]:
        _compare(getattr(nb, f"conv2d_forward_{step}")(x, w, b, **kw), ref.conv2d_forward(x, w, b, **kw), 2e-4, step)
    for step in nb.LADDERS["conv2d_backward"]:
        _compare(getattr(nb, f"conv2d_backward_{step}")(dy, x, w, **kw), ref.conv2d_backward(dy, x, w, **kw),
                 2e-4, f"{step} backward")
    _compare(nb.conv2d_direct_forward(x, w, b, **kw), ref.conv2d_forward(x, w, b, **kw), 2e-4, "direct")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_register_tiled_backward_on_both_of_its_dx_routes(dtype, threads):
    """dx as a full convolution (stride 1, padding within the dilated kernel), and the column
    route it leaves the rest to; channel counts that fill no tile exactly (17 output channels:
    two 16-lane groups; 3 input channels: a half-empty pair; 9 taps: a ragged 8-tap tile),
    images wider than one 16-pixel vector, and a batch split over several tasks."""
    from accel_edu.cnn import numba_kernels as nb
    rng = np.random.default_rng(2)
    for s, p, d, hw in ((1, 0, 1, (19, 21)), (1, 2, 1, (9, 18)), (1, 1, 2, (11, 8)),
                        (2, 1, 1, (13, 12)), (1, 3, 1, (7, 7))):   # the last two: the column route
        x = rng.standard_normal((10, 3) + hw).astype(dtype)
        w = rng.standard_normal((17, 3, 3, 3)).astype(dtype)
        b = rng.standard_normal(17).astype(dtype)
        dy = rng.standard_normal(ref.conv2d_forward(x, w, stride=s, padding=p, dilation=d).shape).astype(dtype)
        kw = dict(stride=s, padding=p, dilation=d)
        rtol = 2e-4 if dtype == np.float32 else 1e-10
        _compare(nb.conv2d_backward_register_tiled(dy, x, w, **kw), ref.conv2d_backward(dy, x, w, **kw),
                 rtol, f"register_tiled backward {kw}, {threads} thread(s)")
        _compare(nb.conv2d_direct_forward_register_tiled(x, w, b, **kw), ref.conv2d_forward(x, w, b, **kw),
                 rtol, f"register_tiled direct forward {kw}, {threads} thread(s)")


def test_register_tiled_backward_is_the_default():
    from accel_edu.cnn import numba_kernels as nb
    assert nb.LADDERS["conv2d_backward"][-1] == "register_tiled"
    assert nb.conv2d_backward is nb.conv2d_backward_register_tiled

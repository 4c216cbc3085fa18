"""The CNN chapter's OpenCL kernels against the NumPy reference, on every awkward case of
``accel_edu.cnn.cases`` in float32 and float64 (argmax compared exactly), and a check that a
convolution's forward and backward pass never copy to or from the host."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from accel_edu.runtime import available_backends

AVAILABLE = available_backends()
pytestmark = pytest.mark.skipif(not AVAILABLE["opencl"], reason=AVAILABLE["opencl"].detail)

from accel_edu.cnn import cases  # noqa: E402
from accel_edu.cnn import numpy_kernels as ref  # noqa: E402

KERNELS = ["im2col", "col2im", "conv2d_forward", "conv2d_backward", "conv2d_direct_forward",
           "conv_transpose2d_forward", "conv_transpose2d_backward", "maxpool2d_forward",
           "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward", "flatten_forward",
           "flatten_backward"]
DIRECT_STEPS = ["naive", "register_tiled"]
RTOL = {np.float32: 1e-4, np.float64: 1e-10}


def _skip_without_fp64(dtype):
    from accel_edu.runtime.opencl import supports_fp64
    if dtype == np.float64 and not supports_fp64():
        pytest.skip("this OpenCL device has no float64")


def _upload(args):
    """Arrays to DeviceArrays (C-contiguous copies, as the registry makes); the rest as it is."""
    from accel_edu.runtime.opencl import to_device
    return tuple(to_device(a) if isinstance(a, np.ndarray) else a for a in args)


def _compare(got, want, rtol, where):
    from accel_edu.runtime.opencl import DeviceArray, to_host
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want), where
    for k, (g, w) in enumerate(zip(got, want)):
        assert isinstance(g, DeviceArray), f"{where}, output {k}: got {type(g).__name__}, want a DeviceArray"
        g = to_host(g)
        assert (g.shape, g.dtype) == (w.shape, w.dtype), f"{where}, output {k}: got {g.shape} {g.dtype}, " \
                                                          f"want {w.shape} {w.dtype}"
        if w.dtype.kind == "i":  # argmax: the same pixel, not a nearby one
            np.testing.assert_array_equal(g, w, err_msg=f"{where}, output {k}")
        else:  # sums of many terms: the absolute error scales with the largest entry
            atol = rtol * max(float(np.abs(w).max(initial=0.0)), 1.0)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{where}, output {k}")


def _check_against_reference(fn, name, dtype):
    for case in getattr(cases, name)(np.random.default_rng(0), np.dtype(dtype)):
        want = getattr(ref, name)(*copy.deepcopy(case.args), **case.kwargs)
        got = fn(*_upload(case.args), **case.kwargs)
        _compare(got, want, RTOL[dtype], f"{fn.__name__} ({np.dtype(dtype).name}), case {case.label!r}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", KERNELS)
def test_opencl_matches_reference(name, dtype):
    from accel_edu.cnn import opencl_kernels as cl_kernels
    _skip_without_fp64(dtype)
    _check_against_reference(getattr(cl_kernels, name), name, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("step", DIRECT_STEPS)
def test_every_direct_conv_step_matches_reference(step, dtype):
    from accel_edu.cnn import opencl_kernels as cl_kernels
    _skip_without_fp64(dtype)
    assert cl_kernels.LADDERS["conv2d_direct_forward"] == DIRECT_STEPS
    _check_against_reference(getattr(cl_kernels, f"conv2d_direct_forward_{step}"), "conv2d_direct_forward", dtype)


def test_maxpool_ties_pick_the_first_maximum_in_window_order():
    from accel_edu.cnn import opencl_kernels as cl_kernels
    from accel_edu.runtime.opencl import to_device, to_host
    x = np.zeros((1, 2, 5, 6), np.float32)  # every window is one big tie; the second plane has ties of 1s
    x[0, 1, ::2, 1::2] = 1.0
    for kw in (dict(kernel=2), dict(kernel=3, stride=1, padding=1), dict(kernel=(2, 3), stride=(1, 2))):
        y, argmax = cl_kernels.maxpool2d_forward(to_device(x), **kw)
        y_ref, argmax_ref = ref.maxpool2d_forward(x, **kw)
        np.testing.assert_array_equal(to_host(argmax), argmax_ref, err_msg=str(kw))
        np.testing.assert_array_equal(to_host(y), y_ref, err_msg=str(kw))


def test_conv_lenet_batch_matches_reference():
    """A LeNet-sized batch: the GEMMs span many register tiles and the bias sums many terms."""
    from accel_edu.cnn import opencl_kernels as cl_kernels
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((9, 3, 28, 28), (6, 3, 5, 5), (6,)))
    dy = rng.standard_normal((9, 6, 12, 12)).astype(np.float32)
    kw = dict(stride=2, padding=0)
    want = ref.conv2d_forward(x, w, b, **kw)
    _compare(cl_kernels.conv2d_forward(*_upload((x, w, b)), **kw), want, 2e-4, "forward")
    for step in DIRECT_STEPS:
        got = getattr(cl_kernels, f"conv2d_direct_forward_{step}")(*_upload((x, w, b)), **kw)
        _compare(got, want, 2e-4, f"direct, {step}")
    _compare(cl_kernels.conv2d_backward(*_upload((dy, x, w)), **kw), ref.conv2d_backward(dy, x, w, **kw),
             2e-4, "backward")


def test_conv_forward_and_backward_stay_on_the_device():
    """Between the upload of the inputs and the download of the results, no byte crosses."""
    from accel_edu.cnn import opencl_kernels as cl_kernels
    from accel_edu.runtime.opencl import finish, to_device, transfer_stats
    rng = np.random.default_rng(2)
    x, w, b, dy = (to_device(rng.standard_normal(s).astype(np.float32))
                   for s in ((4, 3, 11, 13), (5, 3, 3, 3), (5,), (4, 5, 6, 7)))
    before = transfer_stats()
    y = cl_kernels.conv2d_forward(x, w, b, stride=2, padding=1)
    dx, dw, db = cl_kernels.conv2d_backward(dy, x, w, stride=2, padding=1)
    y_direct = cl_kernels.conv2d_direct_forward(x, w, b, stride=2, padding=1)
    finish()
    assert transfer_stats() == before
    assert [a.shape for a in (y, y_direct, dx, dw, db)] == [(4, 5, 6, 7), (4, 5, 6, 7), x.shape, w.shape, (5,)]

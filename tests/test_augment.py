"""Data augmentation kernels: every backend agrees with NumPy, exact geometric properties
hold (identity, quarter turns, integer shifts, one-row signals), bad input is named, and the
Augment pipeline gives the same batch from the same seed on every backend."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from accel_edu.augment import Augment, affine_theta
from accel_edu.augment import kernels as K
from accel_edu.runtime import BACKENDS, DeviceArray, available_backends, to_device, to_numpy
from accel_edu.runtime import reset_transfer_stats, transfer_stats
from accel_edu.runtime.opencl import supports_fp64

AVAILABLE = available_backends()
ON = [pytest.param(b, marks=pytest.mark.skipif(not AVAILABLE[b], reason=AVAILABLE[b].detail))
      for b in BACKENDS]
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
f32 = np.float32


def _skip_unsupported(backend, dtype):
    if backend == "opencl" and dtype == np.float64 and not supports_fp64():
        pytest.skip("this OpenCL device has no float64")


def _images(shape, dtype=f32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _theta(rows, n, dtype=f32):
    """The same 2 x 3 map for each of n images."""
    return np.tile(np.asarray(rows, dtype), (n, 1, 1))


# -- the registry walk, for this chapter's kernels ------------------------------------------

@pytest.mark.parametrize("kernel", K.ALL, ids=lambda k: k.name)
def test_every_kernel_has_every_backend_and_cases(kernel):
    assert kernel.backends() == list(BACKENDS)
    assert kernel.cases is not None


@DTYPES
@pytest.mark.parametrize("backend", ON)
@pytest.mark.parametrize("kernel", K.ALL, ids=lambda k: k.name)
def test_agrees_with_numpy_on_every_case(kernel, backend, dtype):
    _skip_unsupported(backend, dtype)
    ran = 0
    for case in kernel.cases(np.random.default_rng(1234), dtype):
        want = kernel(*copy.deepcopy(case.args), backend="numpy", **case.kwargs)
        got = to_numpy(kernel(*copy.deepcopy(case.args), backend=backend, **case.kwargs))
        assert got.shape == want.shape and got.dtype == want.dtype, case.label
        np.testing.assert_allclose(got, want, rtol=kernel.rtol[dtype], atol=kernel.rtol[dtype] * 4,
                                   err_msg=f"{kernel.name}[{backend}] {case.label}")
        ran += 1
    assert ran > 0


def test_cases_cover_the_awkward_inputs():
    labels = [c.label for c in K.affine_warp.cases(np.random.default_rng(0), f32)]
    shapes = [c.args[0].shape for c in K.affine_warp.cases(np.random.default_rng(0), f32)]
    assert any(s[0] == 1 for s in shapes) and any(s[1] == 1 for s in shapes)
    assert any(s[2] == 1 for s in shapes), "no one-row signal"
    assert any(not c.args[0].flags.c_contiguous for c in K.affine_warp.cases(np.random.default_rng(0), f32))
    assert "identity" in labels


# -- exact geometric properties, on every backend --------------------------------------------

@DTYPES
@pytest.mark.parametrize("backend", ON)
def test_identity_map_returns_x_exactly(backend, dtype):
    _skip_unsupported(backend, dtype)
    x = _images((3, 2, 7, 5), dtype)
    out = to_numpy(K.affine_warp(x, _theta([[1, 0, 0], [0, 1, 0]], 3, dtype), 5.0, backend=backend))
    np.testing.assert_array_equal(out, x)  # the zero-weight neighbours (some reading fill) add 0


@pytest.mark.parametrize("backend", ON)
def test_quarter_and_half_turns_equal_rot90(backend):
    square = _images((2, 3, 6, 6))
    turned = to_numpy(K.affine_warp(square, _theta([[0, -1, 0], [1, 0, 0]], 2), backend=backend))
    np.testing.assert_array_equal(turned, np.rot90(square, k=1, axes=(2, 3)))
    wide = _images((2, 1, 5, 8))  # a half turn about the centre maps any rectangle onto itself
    half = to_numpy(K.affine_warp(wide, _theta([[-1, 0, 0], [0, -1, 0]], 2), backend=backend))
    np.testing.assert_array_equal(half, np.rot90(wide, k=2, axes=(2, 3)))
    # affine_theta(rotation=90) is the same quarter turn, up to cos(pi/2) ~ 6e-17
    near = to_numpy(K.affine_warp(square, affine_theta(rotation=[90, 90]), backend=backend))
    np.testing.assert_allclose(near, np.rot90(square, k=1, axes=(2, 3)), atol=1e-5)


@pytest.mark.parametrize("backend", ON)
def test_integer_shift_moves_content_and_fills_the_gap(backend):
    x = _images((2, 1, 4, 6))
    out = to_numpy(K.affine_warp(x, affine_theta(tx=[2, 2], ty=[1, 1]), -7.0, backend=backend))
    np.testing.assert_array_equal(out[:, :, 1:, 2:], x[:, :, :-1, :-2])  # content moved right 2, down 1
    assert np.all(out[:, :, 0, :] == -7) and np.all(out[:, :, :, :2] == -7)


@pytest.mark.parametrize("backend", ON)
def test_mirror_map_equals_flip_horizontal(backend):
    x = _images((3, 2, 5, 7))
    mirrored = to_numpy(K.affine_warp(x, _theta([[-1, 0, 0], [0, 1, 0]], 3), backend=backend))
    flipped = to_numpy(K.flip_horizontal(x, np.ones(3, bool), backend=backend))
    np.testing.assert_array_equal(mirrored, x[..., ::-1])
    np.testing.assert_array_equal(flipped, x[..., ::-1])


@pytest.mark.parametrize("backend", ON)
def test_one_row_signal_is_warped_along_its_length_only(backend):
    """H = 1: the source row is exactly 0, so the missing row below never blends in. Inside
    the signal, a zoom and shift is linear interpolation, as np.interp computes it."""
    signal = np.cumsum(_images((3, 1, 1, 40), np.float64), axis=-1)
    zoom, shift = np.array([1.0, 1.3, 0.8]), np.array([0.0, 2.5, -4.25])
    theta = affine_theta(scale=zoom, tx=shift, dtype=np.float64)
    _skip_unsupported(backend, np.float64)
    out = to_numpy(K.affine_warp(signal, theta, 1e6, backend=backend))  # a fill that would show
    cx, j = 19.5, np.arange(40)
    for n in range(3):
        source = (j - cx - shift[n]) / zoom[n] + cx
        inside = (source >= 0) & (source <= 39)
        np.testing.assert_allclose(out[n, 0, 0, inside], np.interp(source[inside], j, signal[n, 0, 0]),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out[0], signal[0])


@pytest.mark.parametrize("backend", ON)
def test_flip_horizontal_mirrors_only_the_chosen(backend):
    x = _images((4, 2, 3, 5))
    for mask in (np.array([True, False, False, True]), np.array([0, 1, 1, 0], np.uint8)):
        out = to_numpy(K.flip_horizontal(x, mask, backend=backend))
        for n, m in enumerate(mask):
            np.testing.assert_array_equal(out[n], x[n, :, :, ::-1] if m else x[n])


@pytest.mark.parametrize("backend", ON)
def test_gaussian_noise_is_x_plus_sigma_z_and_respects_clip(backend):
    x, z = _images((3, 1, 4, 4)), _images((3, 1, 4, 4), seed=1)
    np.testing.assert_array_equal(to_numpy(K.gaussian_noise(x, z, 0.0, backend=backend)), x)
    np.testing.assert_allclose(to_numpy(K.gaussian_noise(x, z, 0.5, backend=backend)), x + f32(0.5) * z,
                               rtol=1e-6)
    clipped = to_numpy(K.gaussian_noise(x, z, 2.0, (-0.5, 0.25), backend=backend))
    assert clipped.min() == f32(-0.5) and clipped.max() == f32(0.25)


# -- bad input: a ValueError naming the argument, on every backend ----------------------------

x4 = np.ones((2, 1, 3, 3), f32)
BAD_CALLS = [
    ("affine_warp", (np.ones((2, 3, 3), f32), _theta([[1, 0, 0], [0, 1, 0]], 2)), {}, r"x must be 4-D"),
    ("affine_warp", (x4, _theta([[1, 0, 0], [0, 1, 0]], 3)), {}, r"theta must have shape \(2, 2, 3\)"),
    ("affine_warp", (x4, np.ones((2, 3, 2), f32)), {}, r"theta must have shape \(2, 2, 3\)"),
    ("affine_warp", (x4, np.ones((2, 2, 3))), {}, "theta must have the same dtype as x"),
    ("affine_warp", (x4, np.full((2, 2, 3), np.nan, f32)), {}, "theta must be finite"),
    ("affine_warp", (x4, np.ones((2, 2, 3), f32)), {"fill": float("nan")}, "fill must be a finite number"),
    ("affine_warp", (x4.astype(np.int32), np.ones((2, 2, 3), f32)), {}, "x must have dtype float32"),
    ("flip_horizontal", (x4, np.ones(3, bool)), {}, r"mask must have shape \(2,\)"),
    ("flip_horizontal", (x4, np.ones(2, f32)), {}, "mask must be a bool or uint8 array"),
    ("flip_horizontal", (x4, [True, False]), {}, "mask must be a bool or uint8 array"),
    ("flip_horizontal", (np.ones((2, 3), f32), np.ones(2, bool)), {}, "x must be 4-D"),
    ("gaussian_noise", (x4, x4, -0.1), {}, "sigma must be a finite number >= 0; got -0.1"),
    ("gaussian_noise", (x4, np.ones((2, 1, 3, 4), f32), 0.1), {}, r"z must have the same shape as x"),
    ("gaussian_noise", (x4, x4.astype(np.float64), 0.1), {}, "z must have the same dtype as x"),
    ("gaussian_noise", (x4, x4, 0.1), {"clip": (1.0, 0.0)}, r"clip must be None or a \(low, high\) pair"),
]


@pytest.mark.parametrize("backend", ON)
@pytest.mark.parametrize("name, args, kwargs, message", BAD_CALLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_bad_arguments_are_named(name, args, kwargs, message, backend):
    with pytest.raises(ValueError, match=message):
        getattr(K, name)(*args, backend=backend, **kwargs)


# -- the Augment pipeline --------------------------------------------------------------------

def _on(backend):
    return [b for b in BACKENDS if AVAILABLE[b]] if backend is None else [backend]


@DTYPES
def test_a_seed_gives_the_same_batches_on_every_backend(dtype):
    x = np.abs(_images((5, 1, 8, 8), dtype))
    results = {}
    for backend in _on(None):
        if backend == "opencl" and dtype == np.float64 and not supports_fp64():
            continue
        aug = Augment(rotation=20, scale=(0.8, 1.2), translate=0.15, flip=0.5, noise=0.1, clip=(0, 3),
                      seed=7, backend=backend)
        results[backend] = [to_numpy(aug(x)) for _ in range(2)]  # two calls: the generator advances
    want = results["numpy"]
    assert not np.array_equal(want[0], want[1]), "the second call drew the same parameters"
    for backend, got in results.items():
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=backend)


def test_different_seeds_give_different_batches_and_draws_are_per_sample():
    x = _images((4, 1, 8, 8))
    a, b = Augment(seed=0)(x), Augment(seed=1)(x)
    assert not np.array_equal(a, b)
    theta = Augment(seed=0).draw(x.shape, f32).theta
    assert theta.shape == (4, 2, 3) and theta.dtype == f32 and len(np.unique(theta[:, 0, 0])) == 4


def test_signals_are_not_turned_or_shifted_vertically():
    signal = _images((6, 1, 1, 40))
    params = Augment(rotation=45, scale=(0.9, 1.1), translate=0.2, seed=0).draw(signal.shape, f32)
    # sv = theta[1,0] u + theta[1,1] v + theta[1,2] with v = 0: the source row is always row 0
    np.testing.assert_array_equal(params.theta[:, 1, [0, 2]], 0)
    # A turn alone is not drawn for a signal at all: the warp is the identity, exactly.
    np.testing.assert_array_equal(Augment(rotation=45, scale=(1, 1), translate=0, seed=0)(signal), signal)


def test_augment_with_everything_off_returns_x_itself():
    x = _images((2, 1, 4, 4))
    assert Augment(rotation=0, scale=(1, 1), translate=0)(x) is x


def test_flip_probability_one_flips_every_image():
    x = _images((3, 2, 4, 5))
    out = Augment(rotation=0, scale=(1, 1), translate=0, flip=1.0)(x)
    np.testing.assert_array_equal(out, x[..., ::-1])


@pytest.mark.skipif(not AVAILABLE["opencl"], reason=AVAILABLE["opencl"].detail)
def test_device_batch_stays_on_the_device():
    x = to_device(_images((4, 1, 8, 8)))
    aug = Augment(flip=0.5, noise=0.1, seed=3)  # no backend named: a DeviceArray picks OpenCL
    aug(x)  # warm-up: builds the program
    reset_transfer_stats()
    out = aug(x)
    assert isinstance(out, DeviceArray) and out.shape == x.shape
    assert transfer_stats()["d2h_count"] == 0, "the batch was downloaded"


@pytest.mark.parametrize("kwargs, message", [
    (dict(rotation=-5), "rotation must be a finite number of degrees >= 0; got -5"),
    (dict(scale=(1.1, 0.9)), r"scale must be a \(low, high\) pair with 0 < low <= high; got \(1.1, 0.9\)"),
    (dict(scale=1.1), r"scale must be a \(low, high\) pair"),
    (dict(scale=(0, 1)), r"scale must be a \(low, high\) pair with 0 < low"),
    (dict(translate=1.5), r"translate must be a fraction in \[0, 1\]"),
    (dict(translate=(0.1, 0.2, 0.3)), "translate must be a fraction"),
    (dict(flip=2), r"flip must be a probability in \[0, 1\]; got 2"),
    (dict(noise=-1.0), "noise must be a finite sigma >= 0"),
    (dict(clip=(1, 0)), "clip must have low <= high"),
    (dict(fill=float("inf")), "fill must be a finite number"),
    (dict(backend="cuda"), "backend must be one of numpy, numba, opencl; got 'cuda'"),
])
def test_augment_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Augment(**kwargs)


def test_augment_names_a_bad_batch():
    with pytest.raises(ValueError, match="x must be 4-D"):
        Augment()(np.ones((4, 64), f32))


def test_affine_theta_speaks_in_content_terms():
    np.testing.assert_allclose(affine_theta(scale=2.0)[0], [[0.5, 0, 0], [0, 0.5, 0]])
    np.testing.assert_allclose(affine_theta(tx=3.0, ty=-1.0)[0], [[1, 0, -3], [0, 1, 1]])
    assert affine_theta(rotation=np.zeros(5)).shape == (5, 2, 3)
    with pytest.raises(ValueError, match="scale must be > 0"):
        affine_theta(scale=0.0)

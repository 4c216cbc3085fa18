"""The CNN chapter's NumPy reference: convolution against two independent formulations,
col2im as the adjoint of im2col, gradients against central differences, PyTorch (when
installed) as an outside oracle, and a message for every bad argument."""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop.gradcheck import relative_error
from accel_edu.cnn import cases, checks
from accel_edu.cnn import numpy_kernels as ref

CONV = cases.CONV
POOL = cases.POOL
TRANSPOSE = cases.TRANSPOSE


def _rng(seed=0):
    return np.random.default_rng(seed)


def _conv(case, seed=0, dtype=np.float64):
    _, n, ci, co, h, w, kh, kw, s, p, d = case[:11]
    rng = _rng(seed)
    x = rng.standard_normal((n, ci, h, w)).astype(dtype)
    wt = rng.standard_normal((co, ci, kh, kw)).astype(dtype)
    return x, wt, rng.standard_normal(co).astype(dtype), dict(stride=s, padding=p, dilation=d)


def _transpose(case, seed=0):
    _, n, ci, co, h, w, kh, kw, s, p, d, op = case
    rng = _rng(seed)
    return (rng.standard_normal((n, ci, h, w)), rng.standard_normal((ci, co, kh, kw)),
            rng.standard_normal(co), dict(stride=s, padding=p, dilation=d, output_padding=op))


def naive_conv2d(x, w, b, stride, padding, dilation):
    """Seven loops straight from the definition, on the unpadded input (padding = out of range)."""
    (sh, sw), (ph, pw), (dh, dw) = map(ref.pair, (stride, padding, dilation))
    n_, ci_, h_, w_ = x.shape
    co_, _, kh, kw = w.shape
    oh_, ow_ = ref.output_size(h_, kh, sh, ph, dh), ref.output_size(w_, kw, sw, pw, dw)
    y = np.zeros((n_, co_, oh_, ow_))
    for n in range(n_):
        for o in range(co_):
            for oh in range(oh_):
                for ow in range(ow_):
                    acc = b[o]
                    for c in range(ci_):
                        for i in range(kh):
                            for j in range(kw):
                                r, q = oh * sh + i * dh - ph, ow * sw + j * dw - pw
                                if 0 <= r < h_ and 0 <= q < w_:
                                    acc += w[o, c, i, j] * x[n, c, r, q]
                    y[n, o, oh, ow] = acc
    return y


def numeric_grad(f, a, g, eps=1e-6):
    """d<f(), g>/da by central differences, perturbing every entry of a in place."""
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        plus = np.vdot(f(), g)
        a[idx] = old - eps
        minus = np.vdot(f(), g)
        a[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


# -- forward ------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CONV, ids=[c[0] for c in CONV])
def test_conv2d_matches_direct_and_naive(case):
    x, w, b, kw = _conv(case)
    y = ref.conv2d_forward(x, w, b, **kw)
    assert relative_error(y, ref.conv2d_direct_forward(x, w, b, **kw)) < 1e-12
    if y.size * w[0].size < 60_000:  # the seven loops are slow in Python: small cases only
        assert relative_error(y, naive_conv2d(x, w, b, **kw)) < 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_noncontiguous_input(dtype):
    x, w, b, kw = _conv(CONV[2], dtype=dtype)
    xs = np.repeat(x, 2, axis=3)[..., ::2]  # the same values, as a non-contiguous view
    assert not xs.flags.c_contiguous
    y = ref.conv2d_forward(xs, w, b, **kw)
    assert y.dtype == dtype and np.array_equal(y, ref.conv2d_forward(x, w, b, **kw))
    assert ref.conv2d_direct_forward(xs, w, None, **kw).dtype == dtype
    for out in ref.conv2d_backward(y, xs, w, **kw) + ref.conv_transpose2d_backward(xs, y, w, **kw):
        assert out.dtype == dtype
    assert ref.maxpool2d_forward(xs, 2)[0].dtype == dtype and ref.avgpool2d_forward(xs, 2).dtype == dtype


@pytest.mark.parametrize("case", CONV, ids=[c[0] for c in CONV])
def test_col2im_is_the_adjoint_of_im2col(case):
    x, w, _, kw = _conv(case)
    cols = ref.im2col(x, *w.shape[2:], **kw)
    c = _rng(1).standard_normal(cols.shape)
    lhs, rhs = np.vdot(cols, c), np.vdot(x, ref.col2im(c, x.shape, *w.shape[2:], **kw))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def test_pooling_known_values():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    y, argmax = ref.maxpool2d_forward(x, 2)
    assert y[0, 0].tolist() == [[5, 7], [13, 15]] and argmax[0, 0].tolist() == [[5, 7], [13, 15]]
    assert ref.avgpool2d_forward(x, 2)[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    # count_include_pad: the corner window of a padded 2x2 average holds one real pixel of four
    assert ref.avgpool2d_forward(x, 2, 2, 1)[0, 0, 0, 0] == 0 / 4 and ref.avgpool2d_forward(x + 1, 2, 2, 1)[0, 0, 0, 0] == 0.25


def test_flatten_round_trip():
    x = _rng().standard_normal((3, 2, 4, 5))
    y = ref.flatten_forward(x)
    assert y.shape == (3, 40) and y[1, 7] == x[1, 0, 1, 2]
    assert np.array_equal(ref.flatten_backward(y, x.shape), x)


# -- gradients ----------------------------------------------------------------------------------

GRAD_CONV = [c for c in CONV if c[0] != "LeNet's second layer"]


@pytest.mark.parametrize("case", GRAD_CONV, ids=[c[0] for c in GRAD_CONV])
def test_conv2d_gradients(case):
    x, w, b, kw = _conv(case)
    g = _rng(2).standard_normal(ref.conv2d_forward(x, w, b, **kw).shape)
    dx, dw, db = ref.conv2d_backward(g, x, w, **kw)
    f = lambda: ref.conv2d_forward(x, w, b, **kw)  # noqa: E731
    for name, analytic, param in (("x", dx, x), ("w", dw, w), ("b", db, b)):
        assert relative_error(analytic, numeric_grad(f, param, g)) < 1e-8, name


@pytest.mark.parametrize("case", TRANSPOSE, ids=[c[0] for c in TRANSPOSE])
def test_conv_transpose2d_gradients(case):
    x, w, b, kw = _transpose(case)
    g = _rng(2).standard_normal(ref.conv_transpose2d_forward(x, w, b, **kw).shape)
    dx, dw, db = ref.conv_transpose2d_backward(g, x, w, **kw)
    f = lambda: ref.conv_transpose2d_forward(x, w, b, **kw)  # noqa: E731
    for name, analytic, param in (("x", dx, x), ("w", dw, w), ("b", db, b)):
        assert relative_error(analytic, numeric_grad(f, param, g)) < 1e-8, name


@pytest.mark.parametrize("case", GRAD_CONV, ids=[c[0] for c in GRAD_CONV])
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>: the transposed convolution is conv2d's
    input gradient, with the weight read as (C_in, C_out, kh, kw) of the transposed layer."""
    x, w, _, kw = _conv(case)
    y = _rng(3).standard_normal(ref.conv2d_forward(x, w, None, **kw).shape)
    dx = ref.conv2d_backward(y, x, w, **kw)[0]
    (s, p, d), h, wd = map(ref.pair, kw.values()), x.shape[2], x.shape[3]
    # output_padding recovers the rows that conv2d's floor division dropped
    op = tuple((n + 2 * p[a] - d[a] * (w.shape[2 + a] - 1) - 1) % s[a] for a, n in enumerate((h, wd)))
    xt = ref.conv_transpose2d_forward(y, w, None, **kw, output_padding=op)
    assert xt.shape == x.shape and relative_error(xt, dx) < 1e-12
    lhs = np.vdot(ref.conv2d_forward(x, w, None, **kw), y)
    assert abs(lhs - np.vdot(x, xt)) <= 1e-10 * max(1.0, abs(lhs))


def _distinct(shape, seed=0):
    """Values in [0, 1), 1/size apart, in random order: no ties, and a 1e-6 nudge never changes
    an argmax (small magnitudes also keep the rounding error of central differences small)."""
    size = int(np.prod(shape))
    return _rng(seed).permutation(size).reshape(shape) / size


@pytest.mark.parametrize("case", POOL, ids=[c[0] for c in POOL])
def test_maxpool_gradient(case):
    _, n, c, h, w, kernel, s, p = case
    x = _distinct((n, c, h, w))
    y, argmax = ref.maxpool2d_forward(x, kernel, s, p)
    g = _rng(2).standard_normal(y.shape)
    dx = ref.maxpool2d_backward(g, argmax, x.shape)
    assert relative_error(dx, numeric_grad(lambda: ref.maxpool2d_forward(x, kernel, s, p)[0], x, g)) < 1e-8


@pytest.mark.parametrize("case", POOL, ids=[c[0] for c in POOL])
def test_avgpool_gradient(case):
    _, n, c, h, w, kernel, s, p = case
    x = _rng().standard_normal((n, c, h, w))
    g = _rng(2).standard_normal(ref.avgpool2d_forward(x, kernel, s, p).shape)
    dx = ref.avgpool2d_backward(g, x.shape, kernel, s, p)
    assert relative_error(dx, numeric_grad(lambda: ref.avgpool2d_forward(x, kernel, s, p), x, g)) < 1e-8


# -- PyTorch as an outside oracle -----------------------------------------------------------------

@pytest.mark.parametrize("case", CONV[1:5], ids=[c[0] for c in CONV[1:5]])
def test_conv2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b, kw = _conv(case)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    g = _rng(2).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    assert relative_error(ref.conv2d_forward(x, w, b, **kw), ty.detach().numpy()) < 1e-12
    for ours, theirs in zip(ref.conv2d_backward(g, x, w, **kw), (tx, tw, tb)):
        assert relative_error(ours, theirs.grad.numpy()) < 1e-12


@pytest.mark.parametrize("case", TRANSPOSE, ids=[c[0] for c in TRANSPOSE])
def test_conv_transpose2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b, kw = _transpose(case)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv_transpose2d(tx, tw, tb, **kw)
    g = _rng(2).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    assert relative_error(ref.conv_transpose2d_forward(x, w, b, **kw), ty.detach().numpy()) < 1e-12
    for ours, theirs in zip(ref.conv_transpose2d_backward(g, x, w, **kw), (tx, tw, tb)):
        assert relative_error(ours, theirs.grad.numpy()) < 1e-12


@pytest.mark.parametrize("case", POOL, ids=[c[0] for c in POOL])
def test_pooling_matches_torch(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    _, n, c, h, w, kernel, s, p = case
    x = _distinct((n, c, h, w))
    g = _rng(2).standard_normal(ref.maxpool2d_forward(x, kernel, s, p)[0].shape)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = F.max_pool2d(tx, kernel, s, p, return_indices=True)
    ty.backward(torch.tensor(g))
    y, argmax = ref.maxpool2d_forward(x, kernel, s, p)
    assert np.array_equal(y, ty.detach().numpy()) and np.array_equal(argmax, tidx.numpy())
    assert np.allclose(ref.maxpool2d_backward(g, argmax, x.shape), tx.grad.numpy(), rtol=0, atol=1e-12)
    tx = torch.tensor(x, requires_grad=True)
    ty = F.avg_pool2d(tx, kernel, s, p)  # count_include_pad=True by default, as ours
    ty.backward(torch.tensor(g))
    assert relative_error(ref.avgpool2d_forward(x, kernel, s, p), ty.detach().numpy()) < 1e-12
    assert relative_error(ref.avgpool2d_backward(g, x.shape, kernel, s, p), tx.grad.numpy()) < 1e-12


# -- bad arguments ------------------------------------------------------------------------------

X = np.zeros((2, 3, 8, 8))
W = np.zeros((4, 3, 3, 3))
BAD = [
    ("conv2d_forward", (X, np.zeros((4, 2, 3, 3))), {},
     r"x and w disagree on the input channels: x of shape \(2, 3, 8, 8\) has 3, w of shape \(4, 2, 3, 3\) "
     r"expects 2"),
    ("conv2d_forward", (np.zeros((2, 3, 3, 8)), np.zeros((4, 3, 5, 3))), {},
     "kernel 5 with padding 0 and dilation 1 does not fit an input of height 3"),
    ("conv2d_forward", (X, np.zeros((4, 3, 3, 3)), None), dict(dilation=(1, 4)),
     "kernel 3 with padding 0 and dilation 4 does not fit an input of width 8"),
    ("conv2d_forward", (X, W, np.zeros(3)), {}, r"b must have shape \(4,\), one bias per output channel; got \(3,\)"),
    ("conv2d_forward", (X, W), dict(stride=0), "stride must be a positive int or an \\(h, w\\) pair of them; got 0"),
    ("conv2d_forward", (X, W), dict(stride=1.5), "stride must be a positive int"),
    ("conv2d_forward", (X, W), dict(stride=(1, 2, 3)), "stride must be a positive int"),
    ("conv2d_forward", (X, W), dict(padding=-1), "padding must be an int >= 0"),
    ("conv2d_forward", (X, W), dict(dilation=True), "dilation must be a positive int"),
    ("conv2d_forward", (X, W.astype(np.float32)), {}, "w must have the same dtype as x"),
    ("conv2d_forward", (X[0], W), {}, "x must be 4-D"),
    ("conv2d_forward", (X.astype(int), W), {}, "x must have dtype float32 or float64"),
    ("conv2d_direct_forward", (X, np.zeros((4, 2, 3, 3))), {}, "x and w disagree on the input channels"),
    ("conv2d_backward", (np.zeros((2, 4, 7, 7)), X, W), {},
     r"dy must have shape \(2, 4, 6, 6\), the shape of the convolution's output; got \(2, 4, 7, 7\)"),
    ("im2col", (X, 0, 3), {}, "kh must be a positive int; got 0"),
    ("im2col", (X, 3, 9), {}, "kernel 9 with padding 0 and dilation 1 does not fit an input of width 8"),
    ("col2im", (np.zeros((2, 27, 35)), X.shape, 3, 3), {}, r"cols must have shape \(2, 27, 36\)"),
    ("col2im", (np.zeros((2, 27, 36)), (2, 3, 8), 3, 3), {}, "x_shape must be a tuple of 4 positive ints"),
    ("conv_transpose2d_forward", (X, W), {},
     r"x and w disagree on the input channels: .* \(w is \(C_in, C_out, kh, kw\) for a transposed convolution\)"),
    ("conv_transpose2d_forward", (X, np.zeros((3, 4, 3, 3))), dict(stride=2, output_padding=2),
     "output_padding must be smaller than the stride or the dilation"),
    ("conv_transpose2d_forward", (np.zeros((1, 3, 1, 1)), np.zeros((3, 4, 1, 1))), dict(padding=1),
     "padding 1 is too large: the output height would be -1"),
    ("conv_transpose2d_backward", (np.zeros((2, 4, 8, 8)), X, np.zeros((3, 4, 3, 3))), {},
     r"dy must have shape \(2, 4, 10, 10\)"),
    ("maxpool2d_forward", (X, 3), dict(padding=2), "padding must be at most half the kernel for pooling"),
    ("maxpool2d_forward", (X, 9), {}, "kernel 9 with padding 0 and dilation 1 does not fit an input of height 8"),
    ("maxpool2d_forward", (X, 2), dict(stride=-1), "stride must be a positive int"),
    ("maxpool2d_backward", (np.zeros((2, 3, 4, 4)), np.zeros((2, 3, 4, 4), dtype=np.int32), X.shape), {},
     "argmax must be an int64 array"),
    ("maxpool2d_backward", (np.zeros((2, 3, 4, 4)), np.full((2, 3, 4, 4), 64), X.shape), {},
     r"argmax must hold flat indices into an 8x8 plane, in \[0, 64\)"),
    ("maxpool2d_backward", (np.zeros((2, 3, 4, 4)), np.zeros((2, 3, 4, 3), dtype=np.int64), X.shape), {},
     "argmax must have shape"),
    ("maxpool2d_backward", (np.zeros((2, 4, 4, 4)), np.zeros((2, 4, 4, 4), dtype=np.int64), X.shape), {},
     "dy must have N=2 and C=3"),
    ("avgpool2d_forward", (X, (2, 2)), dict(padding=(0, 2)), "padding must be at most half the kernel"),
    ("avgpool2d_backward", (np.zeros((2, 3, 5, 4)), X.shape, 2), {}, r"dy must have shape \(2, 3, 4, 4\)"),
    ("flatten_forward", (np.zeros(5),), {}, "x must be 2-D or 3-D or 4-D or 5-D"),
    ("flatten_backward", (np.zeros((2, 191)), X.shape), {}, r"dy must have shape \(2, 192\)"),
]


@pytest.mark.parametrize("name, args, kwargs, message", BAD, ids=[f"{b[0]}: {b[3][:40]}" for b in BAD])
def test_bad_arguments_are_named(name, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(checks, name)(*args, **kwargs)


def test_every_case_passes_its_check():
    """The awkward cases the cross-backend test will use are all valid, in both dtypes."""
    names = [n for n in dir(cases) if n.endswith(("_forward", "_backward")) or n in ("im2col", "col2im")]
    assert len(names) == 13
    for dtype in (np.float32, np.float64):
        for name in names:
            for case in getattr(cases, name)(_rng(), dtype):
                getattr(checks, name)(*case.args, **case.kwargs)
                getattr(ref, name)(*case.args, **case.kwargs)

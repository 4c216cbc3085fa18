"""``accel-edu bench conv2d``: a convolution's forward + backward on every backend and variant,
side by side with PyTorch's CPU convolution.

Each record has the GEMM benchmark's fields (kernel, backend, variant, shape, median_s, gflops,
ratio_to_numpy) plus ``ratio_to_torch``: PyTorch's time over this one, from the same rounds
(above 1 is faster than PyTorch), or None without PyTorch. PyTorch runs with Numba's thread
count, so both use the same cores.
"""
from __future__ import annotations

import numpy as np

from ..runtime import REGISTRY, available_backends, to_device
from .timing import interleaved_medians, torch_on_numbas_threads

# name: (N, C_in, H, W, C_out, k, padding)
SHAPES = {"lenet1": (64, 1, 28, 28, 6, 5, 0),     # LeNet's first layer on 28x28 digits
          "lenet2": (64, 6, 12, 12, 16, 5, 0),    # its second layer
          "large": (32, 64, 32, 32, 64, 3, 1)}    # a VGG/ResNet-style 3x3 layer

SLOW_VARIANTS = {("numba", "direct/rows"), ("opencl", "direct/naive")}
"""Versions that take seconds per call on the large shape; timed there only with include_slow."""


def conv_flops(n, c_in, h, w, c_out, k, padding):
    """Forward + backward: the forward's 2*N*C_out*OH*OW*C_in*k*k, and as much again for each of
    dx and dw."""
    oh, ow = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    return 3 * 2.0 * n * c_out * oh * ow * c_in * k * k


def _step(backend, forward, backward, x, w, b, dy, padding):
    def run():
        forward(x, w, b, padding=padding)
        backward(dy, x, w, padding=padding)
    return run


def conv_candidates(name, backends, include_slow=False, seed=0, include_torch=True):
    """{(backend, variant): (fn, sync)}: one forward + backward of shape ``name`` each."""
    import accel_edu.chapters  # noqa: F401  registers the kernels
    n, c_in, h, wd, c_out, k, pad = SHAPES[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, wd)).astype(np.float32)
    w = (rng.standard_normal((c_out, c_in, k, k)) / np.sqrt(c_in * k * k)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    dy = rng.standard_normal((n, c_out, h + 2 * pad - k + 1, wd + 2 * pad - k + 1)).astype(np.float32)
    fwd, direct, bwd = REGISTRY["conv2d_forward"], REGISTRY["conv2d_direct_forward"], REGISTRY["conv2d_backward"]
    have = available_backends()
    candidates = {}
    for backend in backends:
        if not have[backend]:
            continue
        sync, args = None, (x, w, b, dy)
        if backend == "opencl":
            from ..runtime.opencl import finish
            sync, args = finish, tuple(to_device(a) for a in args)  # data already on the device
        for kernel, prefix in ((fwd, ""), (direct, "direct")):
            for variant in kernel.variants(backend):
                label = "/".join(v for v in (prefix, "" if variant == "default" else variant) if v) or "im2col"
                if (backend, label) in SLOW_VARIANTS and name == "large" and not include_slow:
                    continue
                # the backward of the same step where it has one (numba's "batched", "packed",
                # "register_tiled"), else the default
                back = variant if variant in bwd.variants(backend) else None
                candidates[(backend, label)] = (_step(backend, kernel.implementation(backend, variant),
                                                      bwd.implementation(backend, back), *args, pad), sync)
                default_back = bwd.defaults[backend]
                if kernel is fwd and variant == fwd.defaults[backend] and back not in (None, default_back):
                    # what Conv2d runs by default: the default forward with the default backward
                    candidates[(backend, f"{label}+{default_back.split('_')[-1]} backward")] = (
                        _step(backend, kernel.implementation(backend, variant),
                              bwd.implementation(backend, default_back), *args, pad), sync)
    if not include_torch:
        return candidates
    try:
        import torch
    except ImportError:
        return candidates
    torch_on_numbas_threads(torch)
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tdy = torch.from_numpy(dy)

    def torch_step():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=pad).backward(tdy)
    candidates[("torch", "cpu")] = (torch_step, None)
    return candidates


def conv2d_records(shapes, backends, *, repeat=5, include_slow=False, include_torch=True, progress=None):
    """Yield one record per (shape, backend, variant): forward + backward, float32."""
    for name in shapes:
        if name not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}; got {name!r}")
        candidates = conv_candidates(name, backends, include_slow, include_torch=include_torch)
        times = interleaved_medians(candidates, repeat=repeat)
        flops = conv_flops(*SHAPES[name])
        base, torch_s = times.get(("numpy", "im2col")), times.get(("torch", "cpu"))
        for (backend, variant), seconds in times.items():
            yield {"kernel": "conv2d", "backend": backend, "variant": variant, "shape": list(SHAPES[name]),
                   "shape_name": name, "median_s": seconds, "gflops": flops / seconds / 1e9,
                   "ratio_to_numpy": base / seconds if base else None,
                   "ratio_to_torch": torch_s / seconds if torch_s else None}
        if progress is not None:
            progress.update()

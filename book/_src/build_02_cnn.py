"""Writes book/02_cnn.ipynb from the cells below (then execute it with `make notebooks`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both.
"""
from chapter import code, md, write

md(r"""
# Convolutional networks, on three backends

A multilayer perceptron treats every input position as unrelated to every other. Images and
signals are not like that: an edge is an edge wherever it appears. A convolution slides one
small set of weights over every position, so the network learns a feature once and finds it
everywhere. This chapter builds convolution and pooling from scratch, forward and backward,
runs them on NumPy, Numba and OpenCL, and makes them fast.

**You will learn to**

- write convolution and pooling as the math says them, and compute output sizes and receptive
  fields;
- turn a convolution into one matrix multiply (im2col), and count what that costs in memory;
- derive the backward pass of a convolution and of max pooling, and check both numerically;
- climb the convolution's speed ladder on a CPU, measured next to PyTorch;
- train a CNN on handwritten digits and on MNIST-1D, augment its data with batch kernels, and
  train a denoising autoencoder.
""")

code(r"""
import numpy as np
import matplotlib.pyplot as plt

import accel_edu
from accel_edu.backprop import (Linear, ReLU, Sigmoid, Sequential, SoftmaxCrossEntropy, MSELoss,
                                SGD, train, gradient_check)
from accel_edu.cnn import Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Flatten
from accel_edu.cnn import numpy_kernels as ref

np.set_printoptions(precision=3, suppress=True)
{name: bool(a) for name, a in accel_edu.available_backends().items()}
""")

md(r"""
## Convolution as the math says it

A 2-D convolution layer maps an input $x$ of shape $(N, C_\text{in}, H, W)$ (batch, channels,
height, width: the NCHW layout) to an output $y$ of shape $(N, C_\text{out}, H', W')$ with a
weight tensor $w$ of shape $(C_\text{out}, C_\text{in}, k_h, k_w)$ and a bias $b$:

$$
y[n, o, u, v] = b[o] + \sum_{c=0}^{C_\text{in}-1} \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1}
  w[o, c, i, j]\; x[n, c,\; u s - p + i d,\; v s - p + j d].
$$

Every deep learning library computes this *cross-correlation* and calls it convolution (a
true convolution flips the kernel; since the kernel is learned, nobody minds). The stride $s$
skips positions, the padding $p$ surrounds the input with zeros, and the dilation $d$ spreads
the kernel's taps apart. Reads outside the input hit the padding and count as zero. Along each
axis the output has

$$
H' = \left\lfloor \frac{H + 2p - d(k_h - 1) - 1}{s} \right\rfloor + 1
$$

positions. The layer has $C_\text{out} C_\text{in} k_h k_w + C_\text{out}$ parameters,
whatever the image size: that is the weight sharing. A Linear layer from a $28 \times 28$
image to a $24 \times 24 \times 6$ output would need 2.7 million weights; a $5 \times 5$
convolution with 6 output channels needs 156.

Here is the formula applied to a digit with two hand-made $3 \times 3$ kernels, which respond
to vertical and horizontal edges:
""")

code(r"""
from accel_edu.data import load_digits
digits = load_digits(seed=0, flatten=False)          # x: (N, 1, 8, 8) in [0, 1]
x = digits.x_train[:1]
edges = np.array([[[[1, 0, -1], [2, 0, -2], [1, 0, -1]]],      # Sobel, vertical edges
                  [[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]]], np.float32)   # horizontal edges
y = ref.conv2d_forward(x, edges, padding=1)
print("x", x.shape, "* w", edges.shape, "->", y.shape)

fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
for ax, img, title in zip(axes, [x[0, 0], y[0, 0], y[0, 1]], ["digit", "vertical edges", "horizontal edges"]):
    ax.imshow(img, cmap="gray" if title == "digit" else "RdBu_r")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()
""")

md(r"""
### Receptive fields

One output pixel of the first layer sees a $k \times k$ patch of the image. A pixel two layers
up sees a patch of patches: each layer widens the view by $(k_l - 1)$ times the product of the
strides below it,

$$
r_l = r_{l-1} + (k_l - 1) \prod_{m < l} s_m, \qquad r_0 = 1.
$$

Pooling layers count too. This is why deep CNNs see whole objects with small kernels, and why
a stride or a pooling early on grows the view quickly. For LeNet-5 on $28 \times 28$ images:
""")

code(r"""
def receptive_fields(layers):
    # layers: (name, kernel, stride); returns (name, receptive field, jump = product of strides)
    r, jump, rows = 1, 1, []
    for name, k, s in layers:
        r += (k - 1) * jump
        jump *= s
        rows.append((name, r, jump))
    return rows

lenet5 = [("conv 5x5", 5, 1), ("maxpool 2", 2, 2), ("conv 5x5", 5, 1), ("maxpool 2", 2, 2)]
for name, r, jump in receptive_fields(lenet5):
    print(f"after {name:<10} each pixel sees {r:>2} x {r:<2} input pixels (one step = {jump} pixels)")
""")

md(r"""
### Pooling

Pooling summarises each window of one channel: *max pooling* keeps its largest value, *average
pooling* its mean. Neither has parameters. Max pooling's backward needs to know which pixel won
each window, so the forward returns that position too (`argmax`, a flat index into the input's
$H \times W$ plane), and the backward routes each gradient there:

$$
\frac{\partial \ell}{\partial x[n, c, h, w]} = \sum_{(u, v):\ \text{argmax}[n,c,u,v] = (h,w)}
\frac{\partial \ell}{\partial y[n, c, u, v]}.
$$

The sum matters: when windows overlap (stride below the kernel), one pixel can win several
windows, and its gradient is the sum of theirs. An assignment instead of an accumulation is the
classic bug, and it passes every test where the windows do not overlap. The gradient checker
(from the backprop chapter) catches it at once:
""")

code(r"""
class BuggyMaxPool2d(MaxPool2d):
    def backward(self, dy):
        n, c, h, w = self.x_shape
        dx = np.zeros((n * c, h * w))
        rows = np.arange(n * c)[:, None]
        dx[rows, self.argmax.reshape(n * c, -1)] = dy.reshape(n * c, -1)   # '=', not '+='
        return dx.reshape(self.x_shape)

x = np.random.default_rng(0).standard_normal((2, 2, 6, 6))
print("stride 2 = kernel, no overlap:", gradient_check(BuggyMaxPool2d(2), x).passed)
print("kernel 3, stride 1, overlapping:")
print(gradient_check(BuggyMaxPool2d(3, stride=1), x))
print("the library's MaxPool2d, overlapping:", gradient_check(MaxPool2d(3, stride=1), x).passed)
""")

md(r"""
## The im2col trick

The six nested loops of the formula are slow in Python and awkward to optimise. *im2col*
(image to columns) rearranges the input so that the convolution becomes one matrix multiply,
the kernel we spent the last chapter making fast. For each output pixel $(u, v)$ it copies the
receptive field, all $K = C_\text{in} k_h k_w$ values, into one column. With the weights
flattened to $W_2$ of shape $(C_\text{out}, K)$,

$$
\operatorname{cols}[n] \in \mathbb{R}^{K \times H'W'}, \qquad
y[n] = W_2 \operatorname{cols}[n] + b \quad (\text{shape } C_\text{out} \times H'W').
$$

A tiny example: one channel, a $4 \times 4$ input, a $2 \times 2$ kernel. Each column of `cols`
is one window, read row by row:
""")

code(r"""
x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
cols = ref.im2col(x, 2, 2)
print("x[0, 0] =\n", x[0, 0])
print("cols[0] (K = 4 rows, one column per output pixel) =\n", cols[0])
w = np.array([[[[1, 0], [0, -1]]]], np.float32)
print("conv via GEMM equals the direct loops:",
      np.allclose(ref.conv2d_forward(x, w), ref.conv2d_direct_forward(x, w)))
""")

md(r"""
### What it costs in memory

Every input pixel is copied once for each window that contains it: about $k_h k_w / s^2$ times.
For a $3 \times 3$ kernel at stride 1 that is 9 times the input, and for LeNet's $5 \times 5$
kernels 25 times. For a batch, the unfolded matrix can be far larger than the caches, and
writing it, then reading it back, then packing it again for the GEMM is memory traffic that the
formula never asked for:
""")

code(r"""
from accel_edu.bench.conv2d import SHAPES
print(f"{'layer':<8} {'x (MiB)':>8} {'cols (MiB)':>11} {'ratio':>6} {'GEMM FLOPs per byte of cols':>28}")
for name, (n, c, h, w_, c_out, k, p) in SHAPES.items():
    oh, ow = h + 2 * p - k + 1, w_ + 2 * p - k + 1
    x_bytes, cols_bytes = 4 * n * c * h * w_, 4 * n * c * k * k * oh * ow
    flops = 2 * n * c_out * oh * ow * c * k * k
    print(f"{name:<8} {x_bytes / 2**20:>8.2f} {cols_bytes / 2**20:>11.2f} {cols_bytes / x_bytes:>6.1f} "
          f"{flops / cols_bytes:>28.1f}")
""")

md(r"""
With few output channels (LeNet's first layer has 6), the GEMM does only a few FLOPs per byte
it reads from `cols`: it is bound by memory, not arithmetic. That is where a *direct*
convolution, which reads the input in place and never builds `cols`, can beat im2col. With many
output channels (the large layer), each column is reused $C_\text{out}$ times and the GEMM's
efficiency wins.

## The backward pass

With $\delta = \partial \ell / \partial y[n]$ as a $(C_\text{out}, H'W')$ matrix, the GEMM's
backward from the last chapter gives

$$
\frac{\partial \ell}{\partial W_2} = \sum_n \delta[n] \operatorname{cols}[n]^\top, \qquad
\frac{\partial \ell}{\partial \operatorname{cols}[n]} = W_2^\top \delta[n], \qquad
\frac{\partial \ell}{\partial b} = \sum_{n, u, v} \delta[n, :, u, v],
$$

and $\partial \ell / \partial x$ is `col2im` of the column gradient: the *adjoint* of im2col,
which adds every entry of a column back onto the pixel it was copied from. Because windows
overlap, several columns add into one pixel. A parallel col2im that gives each thread some
columns therefore has two threads adding into the same pixel: a race, and a silently wrong
gradient. Our kernels avoid it by giving each thread whole input planes (Numba) or whole input
rows that gather what they are owed (OpenCL), so each pixel has one writer.

The convolution's backward, and the whole layer stack, pass the gradient checker on awkward
shapes: stride 2 with padding, dilation, odd sizes, one channel, a batch of one, and a 1-D
kernel. Every backend runs the same check:
""")

code(r"""
F64 = dict(dtype=np.float64)
checks = {
    "conv 3x3, stride 2, padding 1, batch 1": (lambda: Conv2d(3, 4, 3, stride=2, padding=1, seed=1, **F64), (1, 3, 7, 9)),
    "conv 5x5, one channel, odd sizes": (lambda: Conv2d(1, 2, 5, seed=2, **F64), (2, 1, 9, 8)),
    "conv dilation 2, direct, no bias": (lambda: Conv2d(2, 3, 3, dilation=2, bias=False, algorithm="direct",
                                                        seed=3, **F64), (2, 2, 7, 8)),
    "transposed conv, stride 2": (lambda: ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1,
                                                          seed=4, **F64), (1, 3, 5, 4)),
    "maxpool 3, stride 2, padding 1": (lambda: MaxPool2d(3, 2, 1), (2, 3, 7, 9)),
    "avgpool 2": (lambda: AvgPool2d(2), (1, 1, 5, 7)),
}
rng = np.random.default_rng(0)
print(f"{'layer':<40} {'numpy':>8} {'numba':>8} {'opencl':>8}")
for name, (make, shape) in checks.items():
    x = rng.standard_normal(shape)
    errors = [max(gradient_check(make().to(b), x).errors.values()) for b in ("numpy", "numba", "opencl")]
    print(f"{name:<40} " + " ".join(f"{'ok' if e < 1e-6 else 'WRONG':>8}" for e in errors))
""")

md(r"""
## Three backends, one kernel table

Each kernel of the chapter is registered once, with its argument check, and implemented on each
backend; `tests/test_registry.py` checks every implementation against NumPy on awkward inputs.
""")

code(r"""
from accel_edu.cnn import kernels as cnn_kernels
for k in cnn_kernels.ALL:
    print(f"{k.name:<28} {k.summary}")
print()
for name in ("conv2d_forward", "conv2d_backward", "conv2d_direct_forward"):
    print(accel_edu.get_kernel(name))
""")

md(r"""
Bad input gets an error that names the argument, on every backend, before any kernel runs:
""")

code(r"""
try:
    Conv2d(3, 8, 5, backend="opencl").forward(np.zeros((1, 3, 4, 4), np.float32))
except ValueError as e:
    print("ValueError:", e)
""")

md(r"""
## The speed ladder

**Numba** has two ladders, each step a registered variant. The direct convolution:

- `direct/rows`: the formula's loops, parallel over (image, output channel) planes, with the
  innermost loop along an output row so that it vectorises: `y[u, lo:hi] += w * x[row, ...]`.
  It loads and stores the output row for every one of the $C_\text{in} k_h k_w$ taps.
- `direct/register_tiled`: a tile of 4 output pixels by 16 output channels stays in SIMD
  registers for all the taps (the backprop GEMM's micro-kernel tile); at each tap it
  multiplies 4 input pixels, read where they are, by one row of packed weights. This is the
  im2col GEMM with the unfolded matrix never written. One detail decided its speed: with the
  taps as three nested loops over $(c, i, j)$, LLVM kept the tile in memory; as one flat loop
  over a table of tap offsets, in registers, and the kernel ran about 1.3 times faster on the
  large layer.

And im2col + GEMM:

- `batched`: im2col of the whole batch into one $(K, N H'W')$ matrix, then one call of the
  backprop chapter's blocked GEMM, then a pass that rewrites the $(C_\text{out}, NH'W')$
  product as NCHW. Four passes over matrices much larger than the caches.
- `packed`: one image at a time, im2col writes straight into the panels that the GEMM's
  register-tiled micro-kernel reads, so unfolding and packing are one pass and the panels
  stay in L2. The micro-kernel writes each image's $(C_\text{out}, H'W')$ block directly
  into the NCHW output, which already is that matrix, starting from the bias. The backward
  does the same per image, with a private $dW$ per thread, summed at the end. Measured on
  this machine: packing in this order, and writing only the entries that are not padding
  (the same every image), cut the large layer's unfolding from 1.8 ms to 0.4 ms per image.
  Reading an unpacked `cols` matrix in place instead of packing it was 1.6 times slower on the
  large layer: its columns are 4 KiB apart, and the walk down them missed the caches.

The backward has a third step, its default:

- `register_tiled` (backward): the packed backward spent most of its time moving numbers. Per
  image of LeNet's second layer it took 8.5 µs to unfold $x$, 6.2 µs for
  $d\text{cols} = W^\top \delta$ and 6.1 µs to fold $d\text{cols}$ back into $dx$, against 3.8 µs
  for the $dW$ product itself. This step unfolds nothing. $dW$ comes from a register tile of 8
  taps by 16 output channels that reads $x$ where it is, through tables of offsets, as the
  direct forward does (2.1 µs). At stride 1, $dx$ is itself a convolution, the full one of
  $\delta$ with the kernel flipped, run as a tile of 2 input channels by 4 rows by 16 pixels that
  skips the taps which would read only the zero border; other strides keep the column route.
  One detail decided its speed: Numba tests every signed index for a negative value, and that
  kept the $dx$ tile from vectorising (78 µs an image); with unsigned indices it took 6 µs.

**OpenCL** (PoCL on this CPU) has im2col + GEMM (with the backprop chapter's register-tiled
GEMM), and two direct kernels: `naive`, one work-item per output element, and
`register_tiled`, where each work-item computes 4 output pixels times 16 output channels in
eight `float8` registers. One element per work-item is expensive under PoCL: im2col ran about
14 times faster with a whole output row per work-item.

The table times one forward and one backward (`dx`, `dw`, `db`) of LeNet's two layer shapes,
every Numba and OpenCL variant, re-measured whenever this notebook runs. The comparison with
NumPy and PyTorch comes from a recorded run below. OpenBLAS's and PyTorch's worker threads spin
while they wait for work, and on two cores shared with other thread pools (here Numba's and
PoCL's, in the notebook's kernel) they were measured 30 to 50 times slower than in a fresh
process on a quiet machine: the table would mislead.
""")

code(r"""
from accel_edu.bench.conv2d import conv2d_records
from accel_edu.bench.cli import format_conv_table
records = list(conv2d_records(["lenet1", "lenet2"], ["numba", "opencl"], repeat=3, include_torch=False))
print(format_conv_table(records))
""", ignore_output=True)

md(r"""
The recorded run below (`benchmarks/conv2d.py`, a fresh process on a quiet machine, with
PyTorch installed) includes NumPy, PyTorch and the large $3 \times 3$ layer:
""")

code(r"""
import json
from pathlib import Path
results = Path(accel_edu.__file__).parents[1] / "benchmarks" / "results"
recorded = sorted(results.glob("conv2d-????-??-??.json"))[-1]   # the library's default threading layer
bench = json.loads(recorded.read_text())
print(recorded.name, "|", bench["machine"]["cpu"], "|", bench["machine"]["cores"], "cores |",
      "Numba threading layer:", bench["machine"].get("numba_threading_layer", "workqueue"))
rows = bench["records"]
names = list(dict.fromkeys(r["shape_name"] for r in rows))
fig, axes = plt.subplots(1, len(names), figsize=(12, 3.8))
colors = {"numpy": "gray", "numba": "tab:blue", "opencl": "tab:orange", "torch": "tab:red"}
for ax, name in zip(axes, names):
    sub = [r for r in rows if r["shape_name"] == name]
    ms = [r["median_s"] * 1e3 for r in sub]
    ax.barh([f"{r['backend']} {r['variant']}" for r in sub], ms, color=[colors[r["backend"]] for r in sub])
    for i, (r, t) in enumerate(zip(sub, ms)):
        ax.text(t, i, f" {t:.1f}", va="center", fontsize=7)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlim(min(ms) / 1.5, max(ms) * 3)
    ax.set_xlabel("forward + backward, ms (log scale)")
    ax.set_title(name, fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
plt.tight_layout()
plt.show()
""")

md(r"""
What the recorded runs show (2-core AMD EPYC, Zen 5, idle, 1 December 2026; also in
`benchmarks/README.md`). Numba's threading layer turned out to matter as much as any kernel, so
both are shown: `workqueue`, the library's default, and OpenMP, which PyTorch itself uses:

| layer | best accel_edu (Numba), workqueue | with OpenMP | PyTorch | ratio, workqueue / OpenMP |
|---|---|---|---|---|
| LeNet 1 (1 to 6 channels, 28x28, k=5) | 1.35 ms | 0.99 ms | 2.8-2.9 ms | 2.1x / 2.8x faster |
| LeNet 2 (6 to 16 channels, 12x12, k=5) | 0.98 ms | 0.62 ms | 0.91-0.92 ms | 1.06x slower / 1.46x faster |
| large (64 to 64 channels, 32x32, k=3) | 39.3 ms | 38.3 ms | 30.9-37.1 ms | 1.27x / 1.03x slower |

- The whole-batch im2col is memory-bound: `packed` does the same arithmetic with a fraction
  of the memory traffic, and is 2-4 times faster than `batched` on every shape.
- The register-tiled backward, which unfolds nothing, took LeNet's second layer from 1.6x
  slower than PyTorch (the previous recorded run) to parity. On one thread each it is 1.09-1.17x
  faster than PyTorch.
- Why the threading layer: each layer of LeNet is a few hundred microseconds of work, and on
  this VM a `workqueue` parallel region costs 40-110 µs to start, an OpenMP one 3 µs. But
  OpenMP's threads spin while they wait, and with another process busy on the second core one
  region cost 8-16 ms, which is why the library defaults to `workqueue`
  (`accel_edu/runtime/numba_setup.py`). Set `NUMBA_THREADING_LAYER=omp` on a machine you have
  to yourself.
- OpenCL trails Numba here by 4-5x (Debian's PoCL 3.1: the PoCL inside pyopencl's wheel cannot
  compile for this CPU); its register-tiled direct kernel is its fastest version, and on the
  large layer beats OpenCL's own im2col + GEMM, because the unfolded matrix (72 MiB) and its
  packing for the GEMM cost more than the arithmetic.

""")

md(r"""
## Training a CNN on digits

A LeNet-style network for the $8 \times 8$ digits: two convolution-ReLU-maxpool stages, then a
linear classifier. The model and its recipe (plain SGD, as in the last chapter) live in
`accel_edu.cnn.models`, so that the benchmarks train exactly this network:
""")

code(r"""
from accel_edu.cnn import models
lenet = models.lenet_digits(backend="numba")
print(lenet)
print("parameters:", sum(p.size for p in lenet.state_dict().values()))
print("recipe:", models.RECIPES["lenet_digits"])
""")

code(r"""
recipe = models.RECIPES["lenet_digits"]
x_train, x_test = models.prepare_digits(digits.x_train), models.prepare_digits(digits.x_test)
hist_lenet = train(lenet, SoftmaxCrossEntropy(backend="numba"), x_train, digits.y_train,
                   epochs=recipe["epochs"], batch_size=recipe["batch_size"], lr=recipe["lr"],
                   x_test=x_test, y_test=digits.y_test, seed=0, progress=False)
print(f"digits CNN: test accuracy {hist_lenet.test_accuracy[-1]:.1%} after {len(hist_lenet.epoch)} epochs, "
      f"{hist_lenet.seconds[-1]:.1f} s")
""", ignore_output=True)

code(r"""
print("test accuracy >= 97%:", hist_lenet.test_accuracy[-1] >= 0.97)
""")

md(r"""
The confusion matrix shows which digits it still mixes up, and the first layer's filters show
what it learned to look for: small oriented strokes and blobs, like the hand-made edge
detectors above.
""")

code(r"""
pred = lenet.predict(x_test)
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (digits.y_test, pred), 1)
fig, ax = plt.subplots(figsize=(4.6, 4))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        if confusion[i, j]:
            ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=8,
                    color="white" if confusion[i, j] > confusion.max() / 2 else "black")
ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10), title="Confusion matrix (test set)")
plt.tight_layout()
plt.show()

filters = lenet.layers[0].state_dict()["w"][:, 0]          # (16, 3, 3): the first layer's kernels
fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for f, ax in enumerate(axes.flat):
    limit = np.abs(filters[f]).max()
    ax.imshow(filters[f], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.axis("off")
fig.suptitle("the 16 learned first-layer filters (red positive, blue negative)", fontsize=9)
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
### The same network in PyTorch

Speed counts end to end: a training step is many small kernels, and on layers this small the
fixed costs of each call weigh as much as the arithmetic. `accel_edu.bench.torch_twin` rebuilds
the model in PyTorch with the same weights, and `training_throughput` times whole SGD steps of
both on the same batches. Here, live, our two compiled backends; then the recorded run, in a
fresh process, with NumPy and PyTorch (batch 32 there, 16 here):
""")

code(r"""
from accel_edu.bench.training import training_throughput
ips = training_throughput(lambda b: models.lenet_digits(backend=b), x_train, digits.y_train,
                          backends=("numba", "opencl"), batch_size=recipe["batch_size"], steps=30, repeat=3,
                          include_torch=False)       # PyTorch: the recorded run below
for name, value in ips.items():
    print(f"{name:>7}: {value:>9,.0f} images/s")
""", ignore_output=True)

print_recorded = r"""
print("recorded (benchmarks/results):",
      ", ".join(f"{k} {v:,.0f}" for k, v in bench["training"]["images_per_second"].items()), "images/s")
"""
code(print_recorded, ignore_output=True)

md(r"""
In the recorded run PyTorch trains this small network about 2.6 times as fast as our best
backend with the default `workqueue` threading layer (27,200 against 10,500 images/s), and at
the same speed with OpenMP (25,900 against 27,100, `conv2d-2026-12-01-omp.json`). Its
convolutions are not the difference; a step here is about twenty kernel calls on tiny arrays,
and each of ours that runs in parallel pays a thread launch, 40-110 µs with `workqueue` on this
machine, besides its argument checks and allocations from Python.
""")

md(r"""
## Data augmentation as batch kernels

A network that has seen each training digit at one position, size and angle generalises better
if it also sees them moved, scaled and turned a little. *Data augmentation* makes those variants
on the fly, a fresh one every step. Rotation, scaling, translation and shear are all one affine
map of the pixel grid; `accel_edu.augment` implements it as one batch kernel, `affine_warp`,
which for every output pixel computes where it comes from and samples the input there
bilinearly. Flips and Gaussian noise are kernels of their own. The random parameters are drawn
on the host from a seeded generator, so the same seed gives the same batch on every backend.
""")

code(r"""
from accel_edu.augment import Augment
aug = Augment(rotation=15, scale=(0.9, 1.1), translate=0.1, noise=0.05, clip=(0.0, 1.0), seed=1,
              backend="numba")
originals = digits.x_train[:8]
fig, axes = plt.subplots(4, 8, figsize=(9, 4.8))
for row in range(4):
    batch = originals if row == 0 else aug(originals)
    for col in range(8):
        axes[row, col].imshow(batch[col, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].axis("off")
    axes[row, 0].set_title("original" if row == 0 else f"augmented, draw {row}", fontsize=8, loc="left")
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
## A 1-D CNN on MNIST-1D

In the last chapter an MLP reached about 68% on MNIST-1D {cite:p}`greydanus2020mnist1d`, as the
dataset's paper reports; the paper's CNN reaches about 94%. A 1-D convolution over signals of
length $L$ is a 2-D convolution of an $(N, C, 1, L)$ tensor with a $(1, k)$ kernel, so the same
layers serve. MNIST-1D's digits are templates shifted and stretched at random, so augmentation
has an obvious job here: shift and stretch the training signals again, a fresh draw every step
(`affine_warp` on signals keeps to their one row). We train the paper's CNN shape with plain SGD,
first without augmentation for 30 epochs (by then its test accuracy has stopped improving), then
with it for the recipe's 90:
""")

code(r"""
from accel_edu.data import load_mnist1d
m1d = load_mnist1d()
recipe1d = models.RECIPES["cnn1d_mnist1d"]
print(models.cnn1d_mnist1d(backend="numba"))
s_train, s_test = m1d.x_train.reshape(-1, 1, 1, 40), m1d.x_test.reshape(-1, 1, 1, 40)
hist_1d = {}
runs = {"no augmentation": (None, dict(recipe1d, epochs=30, lr_last_10=recipe1d["lr"])),
        "shifted and stretched": (Augment(rotation=0, scale=recipe1d["scale"], translate=recipe1d["translate"],
                                          seed=0, backend="numba"), recipe1d)}
for name, (transform, r) in runs.items():
    cnn1d = models.cnn1d_mnist1d(backend="numba")
    hist_1d[name] = train(cnn1d, SoftmaxCrossEntropy(backend="numba"), s_train, m1d.y_train,
                          epochs=r["epochs"], batch_size=r["batch_size"], lr=models.step_schedule(r),
                          x_test=s_test, y_test=m1d.y_test, seed=0, transform=transform, progress=False)
    h = hist_1d[name]
    print(f"{name:>22}: test accuracy {h.test_accuracy[-1]:.1%}, training accuracy {h.train_accuracy[-1]:.1%}, "
          f"{h.seconds[-1]:.0f} s")
""", ignore_output=True)

code(r"""
augmented, plain = hist_1d["shifted and stretched"], hist_1d["no augmentation"]
print("with augmentation the CNN reaches the paper's 94% (at least 93.5%):", augmented.test_accuracy[-1] >= 0.935)
print("augmentation raises test accuracy:", augmented.test_accuracy[-1] > plain.test_accuracy[-1])
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
runs = [(hist_lenet, "digits LeNet", "tab:blue"), (plain, "MNIST-1D, no augmentation", "tab:orange"),
        (augmented, "MNIST-1D, augmented", "tab:green")]
for h, name, color in runs:
    axes[0].plot(h.epoch, h.train_loss, color=color, label=name)
    axes[1].plot(h.epoch, h.train_accuracy, "--", color=color, lw=0.8)
    axes[1].plot(h.epoch, h.test_accuracy, color=color, label=name)
axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log", title="Loss")
axes[1].set(xlabel="epoch", ylabel="accuracy", title="Test (solid) and training (dashed) accuracy", ylim=(0.6, 1.0))
axes[1].axhline(0.94, color="gray", lw=0.8, ls=":")
axes[1].text(axes[1].get_xlim()[1], 0.935, "MNIST-1D paper, CNN", color="gray", fontsize=8, ha="right", va="top")
axes[1].axhline(0.68, color="gray", lw=0.8, ls=":")
axes[1].text(axes[1].get_xlim()[1], 0.675, "MNIST-1D paper, MLP", color="gray", fontsize=8, ha="right", va="top")
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
Without augmentation the network fits its 4,000 training signals almost perfectly while test
accuracy stalls: it has memorised them. With fresh shifts and stretches every step, training
accuracy stays lower, and test accuracy keeps climbing to the paper's figure. The
regularization chapter returns to this gap.

""")

md(r"""
## A denoising autoencoder

An autoencoder learns to reproduce its input through a narrow middle; a *denoising* one is shown
a noisy input and asked for the clean one, so it must learn what digits look like. The encoder
halves the resolution with strided convolutions; the decoder doubles it back with *transposed
convolutions*. A transposed convolution is the convolution's input gradient used as a layer:
where a stride-2 convolution maps $8 \times 8$ to $4 \times 4$, its transpose maps $4 \times 4$
back to $8 \times 8$, with learned weights. Its forward is the convolution's `col2im` and its
backward the convolution's forward, so the kernels are already written.
""")

code(r"""
recipe_ae = models.RECIPES["denoising_autoencoder"]
ae = models.denoising_autoencoder(backend="numba")
print(ae)
noise = Augment(rotation=0, scale=(1, 1), translate=0, noise=recipe_ae["sigma"], clip=(0.0, 1.0), seed=3,
                backend="numba")
clean, loss_fn, opt = digits.x_train, MSELoss(backend="numba"), SGD(ae.parameters(), lr=recipe_ae["lr"])
from accel_edu.data import batches
losses = []
for epoch in range(1, recipe_ae["epochs"] + 1):
    for xb, _ in batches(clean, digits.y_train, recipe_ae["batch_size"], shuffle=True, seed=0, epoch=epoch):
        loss = loss_fn(ae.forward(noise(xb)), xb)
        ae.backward(loss_fn.backward())
        opt.step()
    losses.append(float(accel_edu.to_numpy(loss)))
test_noisy = noise(digits.x_test)
recon = accel_edu.to_numpy(ae.forward(test_noisy))
mse_noisy = float(np.mean((test_noisy - digits.x_test) ** 2))
mse_recon = float(np.mean((recon - digits.x_test) ** 2))
print(f"test MSE to the clean digits: noisy input {mse_noisy:.4f}, reconstruction {mse_recon:.4f}")
""", ignore_output=True)

code(r"""
print("the reconstruction is much closer to the clean digits than the noisy input:", mse_recon < 0.6 * mse_noisy)
""")

code(r"""
fig, axes = plt.subplots(3, 10, figsize=(10, 3.3))
for col in range(10):
    for row, (img, name) in enumerate(((digits.x_test, "clean"), (test_noisy, "noisy input"),
                                        (recon, "reconstruction"))):
        axes[row, col].imshow(img[col, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].axis("off")
        if col == 0:
            axes[row, col].set_title(name, fontsize=8, loc="left")
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
## Summary

- A convolution shares a small kernel across positions; its output size and receptive field
  follow from kernel, stride, padding and dilation.
- im2col turns it into one GEMM at the price of a copy $k_h k_w / s^2$ times the input; the
  backward is two more GEMMs and col2im, whose overlapping writes must not race.
- Max pooling's backward accumulates into the winner of each window; an assignment is wrong
  exactly when windows overlap, and the gradient checker shows it.
- On a CPU the fast convolution unfolds one image at a time straight into the GEMM's register
  tiles, keeping the unfolded data in cache; measure the ladder on your machine.
- Augmentation, written as batch kernels, makes fresh training variants every step; on
  MNIST-1D it turned a CNN that memorised its training set into one that reaches the paper's 94%.

**Exercises.** `exercises/02_cnn.ipynb` asks you to write im2col, the convolution's backward,
max pooling's backward, a fast Numba direct convolution and an OpenCL convolution kernel;
`accel-edu grade` scores them (see {doc}`exercises_and_grading`).
""")

write("02_cnn.ipynb")

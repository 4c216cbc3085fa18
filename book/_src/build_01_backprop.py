"""Writes book/01_backprop.ipynb from the cells below (then execute it with `make notebooks`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both.
"""
from chapter import code, md, write

md(r"""
# Backpropagation, on three backends

A neural network learns by following the gradient of its loss. Backpropagation is the
algorithm that computes that gradient for every parameter in one backward sweep, at about the
cost of one forward pass. This chapter builds it from scratch: layers with a forward and a
backward, a loss, an optimizer step and a training loop. Then it runs the *same* layers on three
backends, NumPy, Numba and OpenCL, and measures the one kernel that dominates their cost: the
matrix multiply (GEMM).

**You will learn to**

- derive the backward pass of a layer from the chain rule, and check it numerically;
- write a softmax cross-entropy that stays finite for any logits;
- see why a network's time goes into GEMM, and climb the GEMM optimisation ladder on a CPU,
  from a textbook triple loop to within reach of OpenBLAS;
- train a multilayer perceptron (MLP) on handwritten digits and on MNIST-1D.
""")

code(r"""
import numpy as np
import matplotlib.pyplot as plt

import accel_edu
from accel_edu.backprop import (Linear, ReLU, Sigmoid, Tanh, Sequential, SoftmaxCrossEntropy,
                                SGD, train, gradient_check, loss_gradient_check)
from accel_edu.backprop import numpy_kernels

np.set_printoptions(precision=4, suppress=True)
{name: bool(a) for name, a in accel_edu.available_backends().items()}
""")

md(r"""
## The chain rule on a computational graph

Write a network as a chain of functions, $\hat y = f_L(\dots f_2(f_1(x; \theta_1); \theta_2) \dots; \theta_L)$,
followed by a scalar loss $\ell(\hat y, y)$. Call the intermediate values $h_0 = x$,
$h_i = f_i(h_{i-1}; \theta_i)$. The chain rule says

$$
\frac{\partial \ell}{\partial h_{i-1}} = \frac{\partial \ell}{\partial h_i}\,\frac{\partial h_i}{\partial h_{i-1}},
\qquad
\frac{\partial \ell}{\partial \theta_i} = \frac{\partial \ell}{\partial h_i}\,\frac{\partial h_i}{\partial \theta_i}.
$$

Backpropagation evaluates these from the loss backwards. Each layer receives the *upstream
gradient* $\delta_i = \partial \ell / \partial h_i$ and returns $\delta_{i-1}$, plus the
gradients of its own parameters. It never forms a Jacobian: it computes the
vector-Jacobian product directly, which for most layers costs about as much as the forward
pass. So each layer needs two functions, `forward` (which keeps what `backward` will need) and
`backward`.

### Linear

$y = x W^\top + b$ with $x \in \mathbb{R}^{N \times D_\text{in}}$, $W \in \mathbb{R}^{D_\text{out} \times D_\text{in}}$
and $b \in \mathbb{R}^{D_\text{out}}$. Writing $y_{nj} = \sum_k x_{nk} W_{jk} + b_j$ and
differentiating entry by entry,

$$
\frac{\partial \ell}{\partial x_{nk}} = \sum_j \delta_{nj} W_{jk}, \qquad
\frac{\partial \ell}{\partial W_{jk}} = \sum_n \delta_{nj} x_{nk}, \qquad
\frac{\partial \ell}{\partial b_j} = \sum_n \delta_{nj},
$$

that is $dx = \delta W$, $dW = \delta^\top x$, $db = \sum_n \delta_n$. The backward pass is two
more matrix multiplies, one with each operand transposed. That is why our GEMM takes
`trans_a` and `trans_b` flags: a training step is three GEMMs per Linear layer.

### Activations

Elementwise functions have diagonal Jacobians, so their backward is an elementwise product:

| layer | forward | backward |
|---|---|---|
| ReLU | $y = \max(x, 0)$ | $dx = \delta \odot [x > 0]$ |
| Sigmoid | $y = 1/(1 + e^{-x})$ | $dx = \delta \odot y \odot (1 - y)$ |
| Tanh | $y = \tanh x$ | $dx = \delta \odot (1 - y^2)$ |

Sigmoid and tanh are cheapest written in terms of their *output*, so their forward keeps $y$
rather than $x$.

Here is the reference implementation. Every other backend is tested against it:
""")

code(r"""
import inspect
print(inspect.getsource(numpy_kernels.linear_forward))
print(inspect.getsource(numpy_kernels.linear_backward))
""")

md(r"""
And the layer that uses it. Forward and backward sit side by side, so the chain rule can be
checked by eye:
""")

code(r"""
from accel_edu.backprop import layers
print(inspect.getsource(layers.Linear.forward))
print(inspect.getsource(layers.Linear.backward))
""")

md(r"""
## Checking a gradient: catch the bug before it trains

A wrong backward pass does not crash. The network still trains, a little worse, and nobody
knows why. The cure is a **numerical gradient check**. For a random upstream gradient $g$,
the scalar $L = \sum f(x) \odot g$ has $\partial L / \partial x = $ `backward(g)`. Central
differences estimate the same derivative independently:

$$
\frac{\partial L}{\partial x_i} \approx \frac{L(x + \varepsilon e_i) - L(x - \varepsilon e_i)}{2\varepsilon},
\qquad \text{error } O(\varepsilon^2).
$$

We compare in float64 with $\varepsilon = 10^{-6}$: the truncation error is about $10^{-12}$
and the rounding error about $10^{-16}/\varepsilon = 10^{-10}$. In float32 the rounding error
would be $10^{-7}/\varepsilon$, larger than the gradient itself. A correct backward gives a
relative error near $10^{-10}$; a wrong one, near $1$.

Projecting onto a random $g$ matters: checking `f(x).sum()` instead uses $g = 1$, which
cannot see a gradient whose entries are permuted.

Here is a sigmoid with a classic bug, the $(1 - y)$ factor forgotten:
""")

code(r"""
class BrokenSigmoid(Sigmoid):
    def backward(self, dy):
        return dy * self.y            # wrong: the derivative is y * (1 - y)

x = np.random.default_rng(0).standard_normal((4, 5))
print(gradient_check(BrokenSigmoid(), x))
""")

md("The checker names the culprit. With the right backward it passes:")

code(r"""
print(gradient_check(Sigmoid(), x))
print(gradient_check(Sequential(Linear(5, 8, seed=1), Tanh(), Linear(8, 3, seed=2)), x))
""")

md(r"""
## Softmax cross-entropy that cannot overflow

A classifier's last layer outputs *logits* $z \in \mathbb{R}^{N \times C}$. Softmax turns
them into probabilities $p_{nc} = e^{z_{nc}} / \sum_k e^{z_{nk}}$, and the loss is the mean
negative log-probability of the right class, $\ell = -\frac1N\sum_n \log p_{n, y_n}$.
Its gradient is remarkably simple,

$$
\frac{\partial \ell}{\partial z_{nc}} = \frac{1}{N}\left(p_{nc} - [c = y_n]\right),
$$

which is why the two are computed together, in one *fused* kernel: the probabilities are
needed by both.

Written literally, the formula fails. $e^{z}$ overflows float32 at $z \approx 89$:
""")

code(r"""
def naive_softmax_cross_entropy(z, y):
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(y)), y]).mean()

logits = np.array([[1e4, 0.0, -1e4], [3.0, 1.0, 0.2]], dtype=np.float32)
labels = np.array([0, 2])
with np.errstate(all="ignore"):
    print("naive loss:", naive_softmax_cross_entropy(logits, labels))
""")

md(r"""
The cure uses the identity $\operatorname{softmax}(z) = \operatorname{softmax}(z - m)$ for any
constant $m$ per row. With $m = \max_k z_k$ every exponent is $\le 0$, so nothing overflows,
and at least one term of the sum is $e^0 = 1$, so the logarithm never sees $0$:
$\log p_{nc} = (z_{nc} - m) - \log \sum_k e^{z_{nk} - m}$ (the *log-sum-exp* trick).
Every backend implements it this way:
""")

code(r"""
for backend in ("numpy", "numba", "opencl"):
    loss, grad = accel_edu.get_kernel("softmax_cross_entropy")(logits, labels, backend=backend)
    print(f"{backend:>6}: loss {float(accel_edu.to_numpy(loss)):.4f}, finite gradient: "
          f"{bool(np.isfinite(accel_edu.to_numpy(grad)).all())}")
print(loss_gradient_check(SoftmaxCrossEntropy(), logits.astype(np.float64) / 1e3, labels))
""")

md(r"""
## One model, three backends

Every kernel in `accel_edu` is registered once, with one argument check and one
implementation per backend:

- **NumPy**, the reference: short, vectorised, obviously right;
- **Numba**, loops compiled to machine code, parallel over cores with `prange`;
- **OpenCL**, C kernels compiled for a device. Here it is PoCL, which turns OpenCL into
  multithreaded SIMD code on this CPU. With a GPU present, the same kernels run there.

A layer calls kernels by name, so choosing a backend changes nothing above it. On OpenCL,
parameters and activations stay in device buffers from layer to layer. Data crosses to the
host only when we ask for a value, and the runtime counts every copy.
""")

code(r"""
print(accel_edu.get_kernel("gemm"))
print(accel_edu.get_kernel("softmax_cross_entropy"))
""")

md(r"""
We train the same MLP for 20 steps on each backend, from the same initial weights and on the
same batches, and compare the results with NumPy's:
""")

code(r"""
from accel_edu.data import load_digits
digits = load_digits(seed=0)
xb, yb = digits.x_train[:128], digits.y_train[:128]

def mlp(backend):
    return Sequential(Linear(64, 64, seed=1), ReLU(), Linear(64, 10, seed=2), backend=backend)

final = {}
for backend in ("numpy", "numba", "opencl"):
    model, loss_fn = mlp(backend), SoftmaxCrossEntropy(backend=backend)
    opt = SGD(model.parameters(), lr=0.2)
    accel_edu.reset_transfer_stats()
    for step in range(20):
        loss = loss_fn(model.forward(xb), yb)
        model.backward(loss_fn.backward())
        opt.step()
    moved = accel_edu.transfer_stats()
    final[backend] = (float(accel_edu.to_numpy(loss)), model.state_dict())
    print(f"{backend:>6}: loss after 20 steps {final[backend][0]:.5f}; "
          f"host->device copies {moved['h2d_count']}, device->host {moved['d2h_count']}")

for backend in ("numba", "opencl"):
    diff = max(np.abs(final[backend][1][k] - v).max() for k, v in final["numpy"][1].items())
    print(f"{backend} vs numpy: largest parameter difference below 1e-5: {diff < 1e-5}")
""")

md(r"""
The losses agree to the printed digits, and the parameters to float32 rounding. The
results are not bit-identical: each backend sums in its own order, and float addition is not
associative. On OpenCL the inputs and labels were uploaded once per step (40 copies), while
the weights never left the device.

## Where the time goes: GEMM

Count the work in a training step of a Linear layer with batch $N$: the forward GEMM is
$2ND_\text{in}D_\text{out}$ floating-point operations (FLOPs), and the backward pass does two
more of the same size. The activations and the loss are $O(ND)$. For any real layer width,
nearly all the arithmetic is GEMM. Making a network fast therefore starts with making GEMM
fast.

$C = AB$ with $A \in \mathbb{R}^{M\times K}$, $B \in \mathbb{R}^{K \times N}$ costs $2MNK$
FLOPs but touches only $MK + KN + MN$ numbers. At $n = 1024$ that is 2.1 GFLOP on 12 MB of
data: about 170 FLOPs per float loaded. A good kernel therefore runs at the speed of the
arithmetic, if it reuses each loaded value many times from registers and cache. The naive
triple loop does not: it reloads a column of $B$ for every output element.

Each step of the optimisation ladder below is a separate, registered kernel, tested against
NumPy like every other:
""")

code(r"""
for backend in ("numba", "opencl"):
    print(backend, "->", accel_edu.get_kernel("gemm").variants(backend))
""")

md(r"""
We time each version as the median of repeated runs after a warm-up, which pays Numba's
compilation and PoCL's program build. NumPy (OpenBLAS) is timed in the same run, because this
machine is shared and noisy and a ratio measured side by side is what survives that. The
dashed line is the machine's peak, measured by FMA-bound kernels that do no memory traffic
(the best of Numba's on every thread and `accel_edu/bench/peak.cl` on the OpenCL device; the
hardware chapter builds them).
""")

code(r"""
from accel_edu.bench.gemm import gemm_records
from accel_edu.bench.peak import peak_gflops
from accel_edu.bench.cli import format_table

records = list(gemm_records([256, 1024], ["numba", "opencl"], repeat=3))
peak = peak_gflops()
print(format_table(records))
print(f"\nmeasured float32 peak of this machine: {peak:.0f} GFLOP/s")
""", ignore_output=True)

code(r"""
big = [r for r in records if r["shape"][0] == 1024]
labels = [f"{r['backend']}\n{r['variant']}" for r in big]
fig, ax = plt.subplots(figsize=(9, 3.8))
colors = {"numpy": "gray", "numba": "tab:blue", "opencl": "tab:orange", "torch": "tab:red"}
ax.bar(labels, [r["gflops"] for r in big], color=[colors[r["backend"]] for r in big])
ax.axhline(peak, ls="--", color="k")
ax.text(len(big) - 0.5, peak, "measured peak", ha="right", va="bottom")
ax.set_ylabel("GFLOP/s (float32, n = 1024)")
ax.set_title("The GEMM ladder at n = 1024 (the slowest versions: see the n = 256 rows above)")
for i, r in enumerate(big):
    ax.text(i, r["gflops"], f"{r['ratio_to_numpy']:.2f}x", ha="center", va="bottom", fontsize=8)
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
What the ladder shows. The figures below come from `benchmarks/gemm.py` on a quiet 2-core AMD
EPYC with AVX2 (23 November 2026; `benchmarks/results/`). The table above is re-measured
every time the notebook runs, on whatever machine runs it, so expect noise.

**Numba.**
- `naive`: the triple loop, straight from the formula, runs at about 1.5 GFLOP/s, 1% of
  OpenBLAS. Its inner loop walks down a column of $B$, so nearly every load misses the cache.
  It keeps one running sum, and without `fastmath` the compiler may not reorder it, so
  nothing runs in SIMD lanes.
- `loop_order`: the same three loops in the order $i, p, j$, on one thread. The inner loop now
  streams a row of $B$ into a row of $C$, contiguous and independent, so it vectorises.
- `parallel`: reordering the loops to $i, p, j$ makes the inner loop stream a row of $B$ into
  a row of $C$: contiguous and independent, so it vectorises, and `prange` shares the rows
  among the cores. That is about 30x faster, yet still only a third of OpenBLAS, because every
  multiply-add loads and stores $C$.
- `cache_blocked`: `parallel` with $B$ read in blocks of 64 rows that stay in L2 while a group
  of rows of $C$ passes over them. On the AVX-512 machine where this rung was added it measured
  within 25% of `parallel`, either way: that loop hardly waited for $B$, it waited on loading
  and storing $C$, one vector of $C$ per vector multiply-add. Blocking for the cache pays once
  $C$ stays in registers, which is the next step.
- `blocked`: the BLIS design. It keeps a $4 \times 16$ tile of $C$ in eight SIMD registers
  for a long run of $k$, packs $A$ and $B$ into the order the tile reads them, and sizes
  blocks to stay in L2. At $n = 1024$ it reaches 75-80 GFLOP/s, 55-60% of OpenBLAS.
  Two details mattered more than any textbook said, and we found both only by measuring:
  Numba keeps the tile in registers only if it lives on the stack (a heap array ran 3x
  slower), and the four rows must be written out by hand (a loop over them stopped LLVM from
  vectorising). Most of the remaining gap is one instruction: with `fastmath=False` the
  compiler may not fuse a multiply and an add into an FMA, so the core issues two
  instructions where OpenBLAS issues one.
- `vector`: `blocked` with a tile sized to the machine's vector registers, 8 rows by two
  registers (8 x 32 float32 on AVX-512, 16 of its 32 registers, where `blocked`'s 4 x 16 is
  four). Each element is summed in the same order, so the result is bit for bit `blocked`'s;
  on a 2-core Zen 5 it ran 1.1-1.3x faster than `blocked` side by side at quiet moments
  (and anywhere from 0.7x to 1.5x while other jobs shared the cores).

**OpenCL on PoCL.**
- `naive`: one work-item per output element, a little faster than Numba's naive loop.
- `local_tiled`: the classic GPU kernel, which stages $16 \times 16$ tiles in local memory
  between barriers. On a GPU this is the first big win. Here it barely moves, because a CPU
  has no scratchpad for local memory to map to, and PoCL runs a work-group as loops over its
  work-items, cut at every barrier. Every value a work-item keeps across a barrier is spilled
  to memory. A textbook optimisation is a hypothesis until it is measured on the machine in
  front of you.
- `register_tiled`: what a CPU rewards. Each work-item computes a $6 \times 16$ block in
  twelve `float8` accumulators, written with plain `*` and `+` (PoCL calls `mad()` and
  `vload8()` as functions, which fell to a tenth of the speed), from packed panels. PoCL's
  compiler contracts `a * b + c` into FMA instructions. It reaches about 110 GFLOP/s, 75-80% of
  OpenBLAS and two thirds of the measured peak.
- `vector`: the same kernel compiled with the device's native vector width (`float16` where
  PoCL targets AVX-512, so `float8` filled half of each register) and a tile 8 rows tall. The
  same bits as `register_tiled`, and 1.2-1.8x faster on a loaded 2-core Zen 5.

On a GPU the same ladder would reward the opposite step. Local memory there is a real on-chip
scratchpad, and thousands of threads hide memory latency, so `local_tiled` gains 5-10x over
`naive`. Register tiling then adds its gains on top. The hardware chapter returns to this with
a roofline.
""")

md(r"""
## Training an MLP

With the layers checked and the kernels fast, training is a loop: forward, loss, backward,
step. `train` draws batches in an order fixed by the seed and the epoch, so every backend sees
the same batches. It shows a progress bar and returns the history per epoch.

### Handwritten digits

scikit-learn ships 1,797 digits of $8 \times 8$ pixels, so this works offline. A 64-256-10 MLP, trained for 30 epochs:
""")

code(r"""
digits = load_digits(seed=0)
model = Sequential(Linear(64, 256, seed=1), ReLU(), Linear(256, 10, seed=2), backend="numba")
hist_digits = train(model, SoftmaxCrossEntropy(backend="numba"), digits.x_train, digits.y_train,
                    epochs=30, batch_size=32, lr=0.3, x_test=digits.x_test, y_test=digits.y_test,
                    seed=0, progress=False)
print(f"digits: test accuracy after {len(hist_digits.epoch)} epochs: {hist_digits.test_accuracy[-1]:.1%}")
""", ignore_output=True)

code(r"""
print("test accuracy >= 95%:", hist_digits.test_accuracy[-1] >= 0.95)
""")

md(r"""
### MNIST-1D

MNIST-1D {cite:p}`greydanus2020mnist1d` is a procedurally generated, one-dimensional analogue
of MNIST: each of the ten digits is a template of 40 points, shifted, scaled, sheared and
noised. It is small enough to train on a laptop CPU in seconds, yet hard enough to separate
model families. Its paper reports about 68% test accuracy for an MLP, against 94% for a
CNN. We generate it locally with `mnist1d.data.make_dataset`; nothing is downloaded.
""")

code(r"""
from accel_edu.data import load_mnist1d
m1d = load_mnist1d()
print(m1d)
model = Sequential(Linear(40, 256, seed=1), ReLU(), Linear(256, 256, seed=2), ReLU(),
                   Linear(256, 10, seed=3), backend="numba")
hist_m1d = train(model, SoftmaxCrossEntropy(backend="numba"), m1d.x_train, m1d.y_train,
                 epochs=150, batch_size=64, lr=0.2, x_test=m1d.x_test, y_test=m1d.y_test,
                 seed=0, progress=False)
print(f"MNIST-1D: test accuracy {hist_m1d.test_accuracy[-1]:.1%}, "
      f"best {max(hist_m1d.test_accuracy):.1%}")
""", ignore_output=True)

code(r"""
print("reaches the paper's MLP figure (within 3 points of 68%):", max(hist_m1d.test_accuracy) >= 0.65)
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for h, name, color in ((hist_digits, "digits", "tab:blue"), (hist_m1d, "MNIST-1D", "tab:orange")):
    axes[0].plot(h.epoch, h.train_loss, color=color, label=name)
    axes[1].plot(h.epoch, h.train_accuracy, "--", color=color, label=f"{name} train")
    axes[1].plot(h.epoch, h.test_accuracy, color=color, label=f"{name} test")
axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log", title="Loss")
axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
axes[1].axhline(0.68, color="gray", lw=0.8, ls=":")
axes[1].text(150, 0.66, "MNIST-1D paper, MLP", color="gray", fontsize=8, ha="right", va="top")
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
The digits MLP fits its training set almost perfectly and generalises well. On MNIST-1D the
gap between training and test accuracy opens early: an MLP treats each of the 40 positions
as unrelated, so it must learn every shift of every template separately. A convolution shares
its weights across positions, which is what the CNN chapter will show.

## Summary

- A layer is a forward and a backward; backpropagation chains their vector-Jacobian
  products, and a Linear layer's backward is two more GEMMs.
- Check every backward numerically, in float64, against a random upstream gradient.
- Softmax cross-entropy is computed fused and shifted by the row maximum, so it is finite
  for any logits.
- The same kernels run on NumPy, Numba and OpenCL and agree to rounding. On OpenCL, data
  stays on the device.
- GEMM dominates, and its speed comes from reuse in registers and cache, not from
  parallelism alone. Measure each optimisation before you believe it.

**Exercises.** `exercises/01_backprop.ipynb` asks you to write the Linear backward, the stable
softmax cross-entropy, a fast Numba GEMM and an OpenCL kernel; `accel-edu grade` scores them
(see {doc}`exercises_and_grading`).
""")

write("01_backprop.ipynb")

"""Writes book/04_optim.ipynb from the cells below (then execute it with `make notebooks`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both.
"""
from chapter import code, md, write

md(r"""
# Optimizers, fused

Backpropagation gives the gradient; the optimizer decides what to do with it. Plain SGD steps
straight down the gradient. Momentum remembers where it was going. AdaGrad, RMSprop and Adam
give every weight its own step size from the history of its gradients. Each rule is a few
lines of arithmetic per parameter, run once per training step over every weight of the model,
so its speed is set by memory, not by arithmetic: the fast version is the one that touches each
number once.

**You will learn to**

- write SGD with momentum and Nesterov, AdaGrad, RMSprop, Adam and AdamW as the literature and
  `torch.optim` define them, and say where the two differ;
- watch them move on a curved valley and on an ill-conditioned bowl, then train the same
  network on MNIST-1D with each;
- see why a larger batch keeps the hardware busier and what it costs in steps;
- tell L2 regularisation inside Adam from AdamW's decoupled weight decay, by measurement;
- fuse an update into one pass over memory and measure it against the machine's STREAM
  bandwidth;
- clip gradients by their global norm and schedule the learning rate.
""")

code(r"""
import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import matplotlib.pyplot as plt

import accel_edu
from accel_edu.backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy, train
from accel_edu.optim import (SGD, Adagrad, RMSprop, Adam, AdamW, clip_grad_norm,
                             step_decay, exponential, cosine, linear_warmup, warmup_then)
from accel_edu.optim import kernels as K, numpy_kernels as ref
from accel_edu.optim.surfaces import rosenbrock, ill_conditioned, trajectory

np.set_printoptions(precision=4, suppress=True)
warnings.filterwarnings("ignore", message="Non-empty compiler output")   # some OpenCL runtimes chatter
{name: bool(a) for name, a in accel_edu.available_backends().items()}
""")

md(r"""
## Six update rules

Write $\theta$ for a parameter, $g_t$ for its gradient at step $t = 1, 2, \dots$ (after L2
weight decay, $g_t \leftarrow g_t + \lambda \theta_{t-1}$, where the rule has it) and $\eta$
for the learning rate. All operations are elementwise.

**SGD** steps down the gradient: $\theta_t = \theta_{t-1} - \eta\, g_t$.

**Momentum** (heavy ball) keeps a running direction $b$, so steps along a consistent
direction add up and steps that flip sign cancel:
$b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t$, $\theta_t = \theta_{t-1} - \eta\, b_t$, with momentum
$\mu$ and dampening $\tau$. **Nesterov** momentum steps with $g_t + \mu b_t$ instead, a look
ahead along the direction it is about to take ({cite:t}`sutskever2013momentum`, in the form PyTorch uses).

**AdaGrad** {cite:p}`duchi2011adagrad` divides by the root of every squared gradient so far:
$s_t = s_{t-1} + g_t^2$, $\theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{s_t} + \epsilon)$.
Rare, small gradients get large steps; but $s$ only grows, so every step size decays.

**RMSprop** {cite:p}`tieleman2012rmsprop` forgets: a running mean
$a_t = \alpha a_{t-1} + (1 - \alpha) g_t^2$ replaces the sum.

**Adam** {cite:p}`kingma2015adam` keeps running means of the gradient and of its square, and
corrects both for starting at zero:

$$
m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad
\theta_t = \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\,
           \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}.
$$

**AdamW** {cite:p}`loshchilov2019adamw` takes the weight decay out of the gradient and applies
it to the weight directly, $\theta \leftarrow \theta (1 - \eta \lambda)$, before the Adam step
on the raw gradient. Why that matters is measured below.

The reference implementations in `accel_edu/optim/numpy_kernels.py` follow `torch.optim`
exactly, including three conventions that papers leave open:

- the momentum buffer starts as a copy of the first gradient, not as zeros (with dampening the
  two differ: a zero start would shrink the first step by $1 - \tau$);
- Adam's $\epsilon$ is added after the bias correction of $\sqrt{v}$, as above;
- Adam's `weight_decay` is L2 in the gradient; AdamW's is decoupled (default 0.01).

`tests/test_optim_torch.py` runs 300 steps of each against `torch.optim` on a noisy
ill-conditioned problem and agrees to $10^{-9}$ in float64. (Left out: `amsgrad`, `maximize`,
RMSprop's `momentum` and `centered`, parameter groups.)
""")

md(r"""
### One kernel, three backends

An update is *in place*: it overwrites the parameter and its state and returns nothing new.
Here is Adam on each backend. The NumPy reference is written the way the formula reads, one
array operation at a time; the Numba and OpenCL versions do the same arithmetic in one loop
body per parameter:
""")

code(r"""
from accel_edu.optim import numba_kernels, opencl_kernels
print(inspect.getsource(ref._adam_moments))
print(inspect.getsource(numba_kernels._adam.py_func))
cl = (Path(opencl_kernels.__file__).parent / "update.cl").read_text()
print(cl[cl.index("__kernel void adam_update"):cl.index("/* x *= factor")])
""")

md(r"""
The three must agree. The chapter's kernel table (`accel_edu/optim/kernels.py`) registers each
update with the positions of its in-place arguments, so the registry walk in
`tests/test_registry.py` compares the parameter *and* the state on every backend, on awkward
shapes (one number, primes, 2-D and 3-D weights, a non-contiguous gradient). The same check,
once, by hand:
""")

code(r"""
rng = np.random.default_rng(0)
p, g = rng.standard_normal((37, 11)).astype(np.float32), rng.standard_normal((37, 11)).astype(np.float32)
m, v = 0.1 * rng.standard_normal((37, 11)).astype(np.float32), rng.random((37, 11)).astype(np.float32)
results = {}
for backend in ["numpy", "numba", "opencl"]:
    state = [x.copy() for x in (p, g, m, v)]
    K.adam_update(*state, 1e-3, step=5, backend=backend)     # NumPy arrays in; OpenCL copies back
    results[backend] = state
for backend in ["numba", "opencl"]:
    worst = max(np.max(np.abs(a - b) / (np.abs(b) + 1e-6)) for a, b in zip(results[backend], results["numpy"]))
    print(f"{backend:>6}: param, exp_avg, exp_avg_sq agree with NumPy to 1e-5: {worst < 1e-5}")
""")

md(r"""
## Trajectories on two surfaces

Two problems in two dimensions, where the path of every step can be drawn. The
*ill-conditioned bowl* $\tfrac12(x^2 + 50 y^2)$ is 50 times steeper along $y$ than along $x$:
a learning rate small enough not to explode along $y$ crawls along $x$. *Rosenbrock's valley*
$(1-x)^2 + 100(y - x^2)^2$ is a narrow curved ditch with its minimum at $(1, 1)$.
`trajectory` runs any optimizer of this chapter through the same `(module, name)` interface a
network uses, so what is drawn is what the kernels do. Each learning rate was picked by hand to
be about the best that rule allows here:
""")

code(r"""
configs = {
    "bowl": (ill_conditioned, (-4.0, 1.0), 60, {
        "SGD": lambda p: SGD(p, lr=0.035),
        "momentum": lambda p: SGD(p, lr=0.01, momentum=0.9),
        "Nesterov": lambda p: SGD(p, lr=0.01, momentum=0.9, nesterov=True),
        "AdaGrad": lambda p: Adagrad(p, lr=0.5),
        "RMSprop": lambda p: RMSprop(p, lr=0.05),
        "Adam": lambda p: Adam(p, lr=0.2)}),
    "Rosenbrock": (rosenbrock, (-1.5, 2.0), 2000, {
        "SGD": lambda p: SGD(p, lr=1e-3),
        "momentum": lambda p: SGD(p, lr=2e-4, momentum=0.9),
        "Nesterov": lambda p: SGD(p, lr=2e-4, momentum=0.9, nesterov=True),
        "AdaGrad": lambda p: Adagrad(p, lr=0.3),
        "RMSprop": lambda p: RMSprop(p, lr=3e-3),
        "Adam": lambda p: Adam(p, lr=0.03)}),
}
paths = {}
for surface_name, (surface, start, steps, makers) in configs.items():
    print(f"{surface_name}, {steps} steps from {start}:")
    for name, make in makers.items():
        path, losses = trajectory(make, surface, start, steps)
        paths[surface_name, name] = path
        print(f"  {name:>9}: loss {losses[-1]:9.2e} at ({path[-1, 0]:+.3f}, {path[-1, 1]:+.3f})")
""")

code(r"""
colors = dict(zip(["SGD", "momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"],
                  ["tab:gray", "tab:blue", "tab:cyan", "tab:green", "tab:purple", "tab:red"]))
fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
grids = {"bowl": (np.linspace(-4.5, 1.5, 200), np.linspace(-1.3, 1.3, 200)),
         "Rosenbrock": (np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))}
for ax, (surface_name, (surface, start, steps, makers)) in zip(axes, configs.items()):
    xs, ys = grids[surface_name]
    X, Y = np.meshgrid(xs, ys)
    Z = np.vectorize(lambda a, b: surface(np.array([a, b]))[0])(X, Y)
    ax.contour(X, Y, Z, levels=np.geomspace(Z.min() + 1e-3, Z.max(), 25), cmap="Greys", linewidths=0.6)
    for name in reversed(list(makers)):          # SGD drawn last, on top
        path = paths[surface_name, name]
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, color=colors[name], label=name)
    ax.plot(*start, "ko")
    ax.plot(*((0, 0) if surface_name == "bowl" else (1, 1)), "k*", ms=12)
    ax.set_title(f"{surface_name}: {steps} steps", fontsize=10)
    ax.set_xlim(xs[0], xs[-1]); ax.set_ylim(ys[0], ys[-1])
axes[0].legend(fontsize=8, loc="lower right")
plt.tight_layout()
plt.show()
""")

md(r"""
On the bowl, SGD at the largest stable rate bounces across the steep $y$ direction while it
creeps along $x$. Momentum accumulates the consistent $x$ component and cancels the
alternating $y$ one; Nesterov's look-ahead damps the overshoot further. The adaptive rules
divide each coordinate by its own gradient scale, which undoes the conditioning: AdaGrad,
RMSprop and Adam head almost straight for the minimum, then AdaGrad slows as its sums grow,
and RMSprop and Adam, whose steps are about $\eta$ in size whatever the gradient, rattle about
the minimum at a distance set by $\eta$. In Rosenbrock's valley the gradient points across
the ditch, not along it: SGD and AdaGrad reach the floor quickly and then barely move along it,
the momentum methods coast further, and Adam, with its per-coordinate scaling and momentum,
is the one that reaches $(1, 1)$.

## The same network on MNIST-1D, six ways

Two dimensions flatter some rules. MNIST-1D {cite:p}`greydanus2020mnist1d` (4000 training
signals of length 40, ten classes) with a 40-100-100-10 MLP, trained for 25 epochs from the
same initial weights with each optimizer, on the Numba backend. The learning rates are each
rule's usual default or a value tried from a short list:
""")

code(r"""
from accel_edu.data import load_mnist1d
m1d = load_mnist1d()

def mlp():
    return Sequential(Linear(40, 100, seed=1), ReLU(), Linear(100, 100, seed=2), ReLU(),
                      Linear(100, 10, seed=3), backend="numba")

optimizers = {
    "SGD": lambda p: SGD(p, lr=0.05),
    "momentum": lambda p: SGD(p, lr=0.02, momentum=0.9),
    "Nesterov": lambda p: SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    "AdaGrad": lambda p: Adagrad(p, lr=0.03),
    "RMSprop": lambda p: RMSprop(p, lr=1e-3),
    "Adam": lambda p: Adam(p, lr=2e-3),
}
histories = {}
for name, make in optimizers.items():
    model = mlp()
    histories[name] = train(model, SoftmaxCrossEntropy(backend="numba"), m1d.x_train, m1d.y_train,
                            epochs=25, batch_size=64, optimizer=make(model.parameters()),
                            x_test=m1d.x_test, y_test=m1d.y_test, seed=0, progress=False)
    h = histories[name]
    print(f"{name:>9}: train loss {h.train_loss[-1]:.3f}, test accuracy {h.test_accuracy[-1]:.1%} "
          f"(best {max(h.test_accuracy):.1%}), {h.seconds[-1]:.1f} s")
""", ignore_output=True)

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for name, h in histories.items():
    axes[0].plot(h.epoch, h.train_loss, color=colors[name], label=name)
    axes[1].plot(h.epoch, h.test_accuracy, color=colors[name], label=name)
axes[0].set_yscale("log"); axes[0].set_ylabel("training loss (log scale)")
axes[1].set_ylabel("test accuracy")
for ax in axes:
    ax.set_xlabel("epoch")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
In the committed run, plain SGD at its rate was still well behind after 25 epochs (about 51%
test accuracy); the momentum methods and the adaptive ones reached 61-64%, near the paper's 68%
for an MLP (the convolutional network of the last chapter gets over 90%), and Adam had the
lowest training loss. The training loss keeps falling after the test accuracy has stopped
rising: this MLP starts to memorise, which is what the regularization chapter is about. The
ranking depends on the learning rates, which is the honest lesson: a comparison of optimizers
is a comparison of tuned optimizers, or it says little.

## Batch size: throughput and convergence

A step costs a fixed overhead (launching kernels, the optimizer's pass over every weight) plus
work proportional to the batch. With a small batch the overhead dominates and the cores wait;
a larger batch turns the GEMMs into bigger, more efficient ones. So samples per second rise
with the batch size, until the cores are busy:
""")

code(r"""
import time
loss_fn = SoftmaxCrossEntropy(backend="numba")
batch_sizes = [8, 32, 128, 512, 2048]
throughput = {}
for bs in batch_sizes:
    model = mlp()
    opt = Adam(model.parameters(), lr=1e-3)
    xb, yb = m1d.x_train[:bs], m1d.y_train[:bs]
    steps = max(2, 4096 // bs)
    for _ in range(2):                         # warm-up: compile, first touch
        loss_fn(model.forward(xb), yb); model.backward(loss_fn.backward()); opt.step()
    start = time.perf_counter()
    for _ in range(steps):
        loss_fn(model.forward(xb), yb); model.backward(loss_fn.backward()); opt.step()
    throughput[bs] = steps * bs / (time.perf_counter() - start)
    print(f"batch {bs:>5}: {throughput[bs]:>9,.0f} samples/s")
""", ignore_output=True)

md(r"""
What a larger batch costs is steps: one epoch is $N/B$ steps, so at a fixed learning rate a
larger batch makes fewer updates per epoch. Each of its gradients is less noisy, but for the
same number of epochs it has taken fewer steps, and it ends with a higher loss. Here the same
Adam at $\eta = 10^{-3}$ for 8 epochs with each batch size, the loss of every step recorded
and plotted against the samples seen (epochs) and against the steps taken:
""")

code(r"""
from accel_edu.data import batches
step_losses = {}
for bs in [16, 64, 256, 1024]:
    model = mlp()
    opt = Adam(model.parameters(), lr=1e-3)
    losses = []
    for epoch in range(1, 9):
        for xb, yb in batches(m1d.x_train, m1d.y_train, bs, shuffle=True, seed=0, epoch=epoch):
            losses.append(float(loss_fn(model.forward(xb), yb)))
            model.backward(loss_fn.backward())
            opt.step()
    step_losses[bs] = np.array(losses)
    print(f"batch {bs:>5}: {len(losses):>5} steps, mean loss of the last epoch "
          f"{step_losses[bs][-(len(losses) // 8):].mean():.3f}")
""", ignore_output=True)

code(r"""
def smooth(x, k):
    return np.convolve(x, np.ones(k) / k, mode="valid") if len(x) > k else x

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
axes[0].plot(list(throughput), list(throughput.values()), "o-")
axes[0].set_xscale("log", base=2); axes[0].set_xlabel("batch size"); axes[0].set_ylabel("samples / s")
axes[0].set_title("throughput (live, this machine)", fontsize=10)
for bs, losses in step_losses.items():
    k = max(1, len(losses) // 40)               # smooth over about 1/40 of the run
    curve = smooth(losses, k)
    steps = np.arange(len(curve)) + k
    axes[1].plot(steps * bs / len(m1d.x_train), curve, label=f"B = {bs}")
    axes[2].plot(steps, curve, label=f"B = {bs}")
axes[1].set_xlabel("epochs (samples seen / N)"); axes[2].set_xlabel("optimizer steps")
axes[2].set_xscale("log")
for ax in axes[1:]:
    ax.set_ylabel("training loss (smoothed)"); ax.legend(fontsize=8)
axes[1].set_title("per epoch: small batches win", fontsize=10)
axes[2].set_title("per step: large batches win", fontsize=10)
plt.tight_layout()
plt.show()
""")

md(r"""
Per epoch the small batches win, because they take many more steps; per step the large batches
win, because each step sees more data. The wall clock is the product: samples per second
(left, higher for large batches) times how many samples the run needs (more for large batches
at a fixed learning rate). Practice raises the learning rate with the batch (linearly, with a
warm-up, is the usual recipe) to recover some of the lost steps, up to a *critical batch size*
beyond which a larger batch buys no fewer steps.

## Adam with L2 is not AdamW

Adding $\lambda \theta$ to the gradient is the same as weight decay for SGD. For Adam it is not:
the $\lambda\theta$ term goes into $m$ and $v$ and is divided by $\sqrt{v}$ like the rest of the
gradient. A weight whose gradients are large and noisy has a large $\sqrt{v}$, so its decay is
divided away; a weight whose gradients are small is decayed at full strength. AdamW applies the
decay outside the normalisation, so every weight shrinks by the same factor
$(1 - \eta\lambda)$ per step.

A measurement: weights that all start at 1 and whose gradients are pure noise (nothing to
learn), with standard deviations from $10^{-4}$ to $10$, 400 weights per scale, run for 1000
steps with $\eta = 10^{-2}$ and the same $\lambda = 0.1$, through the registered kernels. The
noise moves each weight at random; the mean over the 400 weights of one scale cancels that and
leaves what the decay did. With AdamW a weight should keep $(1 - 10^{-3})^{1000} \approx 0.37$
of itself, whatever its gradients:
""")

code(r"""
scales = np.geomspace(1e-4, 10, 11)
noise_std = np.repeat(scales, 400)                     # 400 weights per scale
kept = {}
for name, kernel in [("Adam + L2", K.adam_update), ("AdamW", K.adamw_update)]:
    rng = np.random.default_rng(0)                     # the same noise for both
    w, m, v = np.ones(noise_std.size), np.zeros(noise_std.size), np.zeros(noise_std.size)
    for t in range(1, 1001):
        kernel(w, rng.standard_normal(noise_std.size) * noise_std, m, v, 1e-2, weight_decay=0.1,
               step=t, backend="numpy")
    kept[name] = w.reshape(len(scales), 400).mean(axis=1)
print("gradient std   " + " ".join(f"{s:7.0e}" for s in scales))
for name, k in kept.items():
    print(f"{name:<14} " + " ".join(f"{x:7.3f}" for x in k))
""")

code(r"""
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, style in [("Adam + L2", "o-"), ("AdamW", "s-")]:
    ax.semilogx(scales, kept[name], style, ms=4, label=name)
ax.axhline((1 - 1e-3) ** 1000, color="gray", lw=0.8, ls="--")
ax.set_xlabel("standard deviation of the weight's gradient noise")
ax.set_ylabel("mean w after 1000 steps (from 1)")
ax.legend()
plt.tight_layout()
plt.show()
""")

md(r"""
With Adam + L2 the weights with small gradients are pulled all the way to zero (the decay term
*is* their whole gradient, and Adam turns it into full-size steps of $\eta$), while those
with gradient noise of 1 to 10 keep 0.7 to 0.9 of themselves: the regulariser's strength
depends on each weight's gradient scale, by an amount nobody chose. With AdamW all of them keep the same fraction, the one $\eta\lambda$
sets. That is why AdamW, not Adam with `weight_decay`, is the default for training
transformers, and why the two take different values of $\lambda$. (The regularization chapter
returns to L2 and weight decay for SGD, where they are the same thing.)

## Fused versus unfused: an update is a memory problem

Adam does about 15 floating-point operations per parameter, and must move 7 numbers: read
$\theta, g, m, v$, write $\theta, m, v$. In float32 that is 28 bytes for 15 flops, an arithmetic
intensity of about 0.5 flop/byte, far left of any CPU's ridge point on the roofline
{cite:p}`williams2009roofline`: the time is bytes divided by memory bandwidth. The NumPy
reference reads the formula one operation at a time, and each operation is a pass over whole
arrays (with temporaries): about ten times the traffic a single pass needs. The fused kernels
do everything for one parameter in registers and touch each number once.

The yardstick is STREAM {cite:p}`mccalpin1995stream`: four simple loops (copy, scale, add, triad
$a = b + s c$) over arrays far larger than the caches, the bandwidth a program can actually get
from DRAM. `accel-edu bench stream` runs it with Numba on all cores; `accel-edu bench optim`
times one Adam step and reports $28n / t$ as achieved bandwidth. A quick live run on this
machine (small, so only indicative):
""")

code(r"""
from accel_edu.bench.optim import optim_records
from accel_edu.bench.cli import format_optim_table
live = optim_records([1 << 22], ["numpy", "numba"], repeat=3, stream_n=1 << 23)
print(f"STREAM triad {live['stream']['triad']['median_gbps']:.1f} GB/s")
print(format_optim_table(live))
""", ignore_output=True)

md(r"""
The recorded run (`benchmarks/optim.py`, in a fresh process, with PyTorch installed) covers
1M to 16M parameters on every backend:
""")

code(r"""
recorded = sorted((Path(accel_edu.__file__).parents[1] / "benchmarks" / "results").glob("optim-*.json"))[-1]
bench = json.loads(recorded.read_text())
print(recorded.name, "|", bench["machine"]["cpu"], "|", bench["machine"]["cores"], "cores |",
      "OpenCL device:", bench["machine"]["opencl_device"])
triad = bench["stream"]["triad"]["median_gbps"]
rows = bench["records"]
sizes = sorted({r["n"] for r in rows})
largest = max(sizes)
print(f"{largest:,} parameters ({28 * largest / 1e6:.0f} MB moved); STREAM triad {triad:.1f} GB/s")
for r in (r for r in rows if r["n"] == largest):
    print(f"  {r['backend']:>6} {r['variant']:<13} {r['median_s'] * 1e3:6.1f} ms  {r['gbps']:5.1f} GB/s "
          f" {r['fraction_of_stream']:.2f} of triad")
labels = list(dict.fromkeys(f"{r['backend']} {r['variant']}" for r in rows))
bar_colors = {"numpy": "gray", "numba": "tab:blue", "opencl": "tab:orange", "torch": "tab:red"}
fig, ax = plt.subplots(figsize=(11, 4))
width = 0.8 / len(labels)
for j, label in enumerate(labels):
    gbps = [next((r["gbps"] for r in rows if r["n"] == n and f"{r['backend']} {r['variant']}" == label), 0)
            for n in sizes]
    ax.bar(np.arange(len(sizes)) + (j - len(labels) / 2 + 0.5) * width, gbps, width, label=label,
           color=bar_colors[label.split()[0]], alpha=0.45 if "fused" not in label.split()[1:] else 1.0)
ax.axhline(triad, color="k", ls="--", lw=1)
ax.text(len(sizes) - 0.5, triad, " STREAM triad", va="bottom", ha="right", fontsize=8)
ax.axhline(0.7 * triad, color="k", ls=":", lw=1)
ax.text(len(sizes) - 0.5, 0.7 * triad, " 70% of STREAM", va="bottom", ha="right", fontsize=8)
ax.set_xticks(range(len(sizes)), [f"{n / 2**20:.0f}M parameters\n({28 * n / 1e6:.0f} MB moved)" for n in sizes])
ax.set_ylabel("achieved GB/s (28 bytes per parameter)")
ax.legend(fontsize=7, ncol=2)
plt.tight_layout()
plt.show()
""")

md(r"""
What the recorded run shows (2 cores, 1 December 2026, a quiet moment on a machine shared with
other work; read the ratios, not the absolute figures):

- Fusion is the whole story. At 16M parameters the same arithmetic in one pass instead of about
  ten is 8.8 times faster than NumPy (9.1 ms against 80.6), and matches PyTorch's own fused CPU
  Adam (10.4 ms); PyTorch's `foreach=False` loop, one tensor operation at a time, is as slow as
  NumPy. Splitting the fused loop into three passes (10 numbers moved instead of 7) costs 1.4-2x,
  about what the byte count predicts.
- The fused kernels go *above* the STREAM figure, 1.4-1.5 times triad on 4M and 16M parameters,
  on Numba and on OpenCL alike. STREAM counts triad as 3 arrays, but the hardware moves 4: writing
  $a$ first reads its cache lines in (the write-allocate). An in-place update reads every line
  it writes anyway, so its 7 numbers are all the traffic there is, and a read-heavy mix runs
  faster than a write-heavy one. The goal, 70% of STREAM, is met with room to spare.
- At 1M parameters (29 MB) the four arrays nearly fit in this processor's 32 MB L3 cache, and
  the fused step runs faster than DRAM could feed it: measure bandwidth past the caches.
- The OpenCL kernel got there in one change. Its first version began, as most OpenCL kernels do,
  with `if (i >= n) return;`, and ran at half the speed (24 against 11 ms on 16M parameters,
  timed side by side): PoCL runs a work-group as one loop
  vectorised across work-items, and a test that some work-items might fail made it fall back to
  one at a time. Now the host launches the whole work-groups with no test at all and the last,
  partial one as a second launch with the test (`update.cl`'s `PARAMETER`). The sum of squares for clipping (`norm.cl`) avoids loops
  inside a work-item for the same reason.
""")

md(r"""
## Gradient clipping

When a gradient is huge (a steep cliff in the loss, an exploding recurrent network) one SGD
step can throw the weights far away. Clipping by the *global* norm rescales all gradients
together when their joint norm passes a threshold,

$$
\|g\| = \sqrt{\textstyle\sum_{\text{tensors}} \sum_i g_i^2}, \qquad
g \leftarrow g \cdot \min\!\left(1, \frac{c}{\|g\| + 10^{-6}}\right),
$$

which keeps the update's direction and bounds its size (clipping each tensor on its own would
turn it). `clip_grad_norm(parameters, max_norm)` computes the sum of squares of all gradients
of one backend in one kernel call and returns the norm before clipping, as
`torch.nn.utils.clip_grad_norm_` does. On Rosenbrock's steep walls, plain SGD at
$\eta = 3 \times 10^{-3}$ explodes; clipped to norm 10, the same SGD walks into the valley:
""")

code(r"""
sgd = lambda p: SGD(p, lr=3e-3)
for clip in [None, 10.0]:
    path, losses = trajectory(sgd, rosenbrock, (-1.5, 2.0), 2000, clip=clip)
    done = ~np.isnan(losses)
    print(f"clip={clip}: {done.sum() - 1:4d} steps, final loss {losses[done][-1]:.3g}")
""")

md(r"""
## Learning-rate schedules

A constant learning rate is a compromise: large enough to make progress early, small enough to
settle at the end. Schedules change it over the run. They are plain functions of the step here
(`accel_edu/optim/schedules.py`), each the closed form of the PyTorch scheduler of the same
idea: step decay (`StepLR`), exponential (`ExponentialLR`), cosine annealing
(`CosineAnnealingLR`), and a linear warm-up (`LinearLR`) that, composed with a cosine, is the
usual recipe for transformers. Set `opt.lr = schedule(t)` before each step, or pass one as
`lr=` to `train()`, which calls it once per epoch.
""")

code(r"""
schedules = {
    "step_decay(0.1, step_size=30, gamma=0.3)": step_decay(0.1, step_size=30, gamma=0.3),
    "exponential(0.1, gamma=0.97)": exponential(0.1, gamma=0.97),
    "cosine(0.1, total=100)": cosine(0.1, total=100),
    "warmup_then(linear_warmup(0.1, 10), cosine(0.1, 90))": warmup_then(linear_warmup(0.1, warmup=10),
                                                                        cosine(0.1, total=90)),
}
t = np.arange(101)
fig, ax = plt.subplots(figsize=(7, 3.4))
for name, s in schedules.items():
    ax.plot(t, [s(int(i)) for i in t], label=name)
    print(f"{name:>54}: t=0 {s(0):.4f}  t=10 {s(10):.4f}  t=50 {s(50):.4f}  t=100 {s(100):.4f}")
ax.set_xlabel("step t"); ax.set_ylabel("learning rate")
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()
""")

md(r"""
## Summary

- Every optimizer here is an elementwise rule over parameters, gradients and a little state:
  SGD, momentum and Nesterov follow a smoothed gradient; AdaGrad, RMSprop and Adam scale each
  weight's step by its own gradient history; Adam corrects its averages for their zero start.
- The kernels follow `torch.optim` to $10^{-9}$ over 300 steps, including the conventions papers
  leave open (the first momentum buffer, where $\epsilon$ goes).
- Adaptive rules undo bad conditioning in two dimensions; on a real network what matters most
  is a tuned learning rate.
- Larger batches raise throughput but take fewer steps per epoch; the trade-off is paid for with
  the learning rate.
- L2 in Adam's gradient is divided by $\sqrt{v}$ and decays the weights nobody meant to decay;
  AdamW's decoupled decay shrinks every weight alike.
- An update is memory-bound: fused into one pass it moves 7 numbers per parameter and runs at
  the machine's STREAM bandwidth; unfused, it runs several times slower.
- Clip by the global norm to survive steep walls; schedule the learning rate to converge.
""")

write("04_optim.ipynb")

"""Writes book/05_regularization.ipynb from the cells below (then execute it with
`python book/_src/execute.py book/05_regularization.ipynb`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both.
"""
from chapter import BOOK, code, md, write

# The optimizers chapter is written beside this one; link it once it is in the book's table
# of contents (a link to a page outside it fails the warnings-as-errors build).
OPTIM = ("{doc}`the optimizers chapter <04_optim>`" if "book/04_optim" in (BOOK.parent / "_toc.yml").read_text()
         else "the optimizers chapter (`book/04_optim.ipynb`)")

md(r"""
# Regularization: closing the gap between training and test

A network with enough parameters can memorise its training set: training accuracy reaches
100% while test accuracy stalls far below. *Regularization* is everything we do to make the
model generalise instead: penalise large weights, drop units at random, normalise
activations, stop before it memorises, or show it fresh variants of its data. This chapter
builds each from scratch, on NumPy, Numba and OpenCL, and measures what each does to the gap.

**You will learn to**

- write the L2 and L1 penalties as one fused in-place update of the gradient, and say why L2
  with Adam is not AdamW;
- implement inverted dropout with masks from a counter-based random generator (Philox), so
  every backend drops the same units for the same seed;
- derive batch normalization's forward and backward passes, in training and inference mode,
  and check them numerically;
- stop training early and restore the best weights;
- read a train/test gap, and see dropout at inference and batch norm's effect on the usable
  learning rate.
""")

code(r"""
import numpy as np
import matplotlib.pyplot as plt

import accel_edu
from accel_edu.backprop import (Linear, ReLU, Sequential, SoftmaxCrossEntropy, accuracy, train,
                                gradient_check)
from accel_edu.regularization import (BatchNorm1d, Dropout, EarlyStopping, L1Penalty, L2Penalty,
                                      dropout_forward, philox4x32)
from accel_edu.regularization import numpy_kernels as ref
from accel_edu.augment import Augment
from accel_edu.data import load_digits, load_mnist1d

np.set_printoptions(precision=3, suppress=True)
BACKENDS = [name for name, a in accel_edu.available_backends().items() if a]
BACKENDS
""")

md(r"""
## The regularizers, as math

**Weight penalties.** Add a penalty $R(w)$ to the loss $\mathcal{L}$. Its gradient adds to
the loss's, so the forward and backward passes do not change; only the gradient does, one
fused in-place kernel per weight tensor:

$$
R_2 = \frac{\lambda}{2} \sum_i w_i^2 \;\Rightarrow\; g \mathrel{+}= \lambda w, \qquad
R_1 = \lambda \sum_i |w_i| \;\Rightarrow\; g \mathrel{+}= \lambda\, \mathrm{sign}(w).
$$

With plain SGD, $w \leftarrow w - \eta (g + \lambda w) = (1 - \eta\lambda) w - \eta g$: the L2
penalty *is* weight decay. L1 pulls every weight towards zero by the same amount whatever its
size, so small weights reach exactly zero: sparse weights. Biases and normalisation
parameters are usually left unpenalised, and so they are here.

*L2 with Adam is not AdamW.* Adam divides each gradient by a running estimate of its own
scale, $\sqrt{\hat v}$. The L2 term $\lambda w$ is part of the gradient, so it is divided too:
weights whose gradients are large are hardly decayed at all. AdamW {cite:p}`loshchilov2019adamw`
*decouples* the decay, $w \leftarrow w - \eta(\hat m / (\sqrt{\hat v} + \epsilon) + \lambda w)$,
so every weight decays at the same rate. The demonstration is in """ + OPTIM + r""".

**Dropout** {cite:p}`srivastava2014dropout`. In training, each unit is kept with probability $1 - p$ and dropped (set to 0)
otherwise. *Inverted* dropout scales the kept units by $1/(1-p)$,

$$
y_i = \frac{m_i}{1-p}\, x_i, \quad m_i \sim \text{Bernoulli}(1-p), \qquad
\mathbb{E}[y_i] = x_i, \qquad \frac{\partial \mathcal{L}}{\partial x_i} = \frac{m_i}{1-p}
\frac{\partial \mathcal{L}}{\partial y_i},
$$

so at inference the layer is simply the identity. No unit can rely on a particular other
unit being there, which discourages co-adapted features; and the network trained is, in
effect, an average over $2^n$ thinned networks.

**Batch normalization** {cite:p}`ioffe2015batchnorm`. For each channel $c$, over the $m$ values it has in the batch
($m = N$ for features $(N, F)$, $m = N H W$ for images $(N, C, H, W)$):

$$
\mu_c = \frac{1}{m} \sum x, \quad \sigma_c^2 = \frac{1}{m} \sum (x - \mu_c)^2, \quad
\hat x = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}, \quad y = \gamma_c \hat x + \beta_c.
$$

In training the statistics are the batch's, and running averages are kept for inference,
PyTorch's way: $\bar\mu \leftarrow (1 - 0.1) \bar\mu + 0.1 \mu$ and the same for the
variance, with the *unbiased* $\sigma^2 m / (m - 1)$. At inference $y = \gamma (x - \bar\mu) /
\sqrt{\bar\sigma^2 + \epsilon} + \beta$: a fixed affine map. Because $\mu$ and $\sigma$ depend
on every $x$ of the channel, the backward pass has two extra terms; with
$\delta\beta = \sum \partial y$ and $\delta\gamma = \sum \partial y\, \hat x$:

$$
\frac{\partial \mathcal{L}}{\partial x} = \frac{\gamma}{m \sqrt{\sigma^2 + \epsilon}}
\left( m\, \frac{\partial \mathcal{L}}{\partial y} - \delta\beta - \hat x\, \delta\gamma \right).
$$

The gradient has zero sum over the channel and is orthogonal to $\hat x$: shifting or
scaling a channel's input changes nothing after normalisation, so it gets no gradient.

**Early stopping** watches a validation score each epoch, keeps the weights of the best
epoch, and stops after `patience` epochs without improvement. **Data augmentation** trains on
fresh random variants of each sample (the kernels of {doc}`02_cnn`, `accel_edu.augment`).
""")

md(r"""
## Random numbers every backend agrees on

Dropout needs random numbers, on every backend, and the three backends should drop *the same*
units for the same seed: then a model trains identically on NumPy, Numba and OpenCL, and a bug
in one shows up as a difference. A stateful generator (one that steps a hidden state per
number) cannot do that in parallel: work-item 1000 would have to wait for numbers 0 to 999.

A *counter-based* generator is a pure function: number $i$ is $f_\text{key}(i)$, for any $i$,
in any order. Philox4x32-10 {cite:p}`salmon2011philox` maps a 128-bit counter to 128 random bits
under a 64-bit key (the seed), in ten rounds of two 32-bit multiplies and some xors:

$$
(h_0, l_0) = M_0 c_0, \quad (h_1, l_1) = M_1 c_2, \quad
c \leftarrow (h_1 \oplus c_1 \oplus k_0,\; l_1,\; h_0 \oplus c_3 \oplus k_1,\; l_0), \quad
k \leftarrow k + (W_0, W_1).
$$

Word $e$ of a stream is lane $e \bmod 4$ of the block with counter $\lfloor e / 4 \rfloor$. A
uniform is its top 24 bits over $2^{24}$, exact in float32 and float64; dropout keeps unit $i$
when $u_i \ge p$, decided in integers ($\text{bits} \ge \lceil p\, 2^{24} \rceil$) so no
backend's rounding of $p$ can move a unit across the line. The reference implementation
reproduces Random123's published known-answer vectors:
""")

code(r"""
kat = philox4x32(np.array([[0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344]], np.uint32),
                 np.array([0xA4093822, 0x299F31D0], np.uint32), backend="numpy")
print("Philox4x32-10(pi digits) =", " ".join(f"{w:08x}" for w in kat[0]))
print("Random123 kat_vectors:     d16cfe09 94fdcceb 5001e420 24126ea1")
""")

md(r"""
The same dropout mask, from the same seed and counter offset, on every backend. Each kernel
evaluates Philox per element: NumPy vectorised over blocks, Numba in a `prange` loop, OpenCL
one work-item per element.
""")

code(r"""
x = np.ones((8, 40), np.float32)
masks = {b: accel_edu.to_numpy(dropout_forward(x, 0.5, 2026, 0, backend=b)[1]) for b in BACKENDS}
for b, m in masks.items():
    print(f"{b:>6}: kept {m.mean():.3f} of the units; identical to NumPy's mask: {np.array_equal(m, masks['numpy'])}")

fig, axes = plt.subplots(1, len(masks), figsize=(3.2 * len(masks), 1.2))
for ax, (b, m) in zip(np.atleast_1d(axes), masks.items()):
    ax.imshow(m, cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{b}: seed 2026", fontsize=9)
    ax.axis("off")
plt.show()
""", ignore_output=True)

code(r"""
print("every backend drew the same mask:", all(np.array_equal(m, masks["numpy"]) for m in masks.values()))
""")

md(r"""
The `Dropout` layer draws the mask of training step $t$ from counter offset $t \cdot 2^{32}$,
so every step gets fresh units dropped, reproducibly. The uniforms pass the basic statistical
checks (the tests check the mean, variance, a 64-bin $\chi^2$ and the lag-1 correlation of
$2^{18}$ draws):
""")

code(r"""
u = ref.philox_uniform(1 << 18, seed=1, dtype=np.float64)
counts = np.bincount((u * 64).astype(int), minlength=64)
chi2 = ((counts - len(u) / 64) ** 2 / (len(u) / 64)).sum()
print(f"mean {u.mean():.4f} (1/2), variance {u.var():.4f} (1/12 = {1/12:.4f}), "
      f"chi-square over 64 bins {chi2:.1f} (63 degrees of freedom)")
""")

md(r"""
## Gradient checks

Every backward pass is checked against central differences of its forward pass, in float64,
on every backend. Dropout is checked with its mask held fixed (one function of $x$); batch
norm in training mode on features and on images, including an image batch of one.
""")

code(r"""
from accel_edu.regularization import BatchNorm2d

class FixedMaskDropout(Dropout):
    # Every forward reuses step 0's mask, so finite differences see one function.
    def forward(self, x):
        self.step = 0
        return super().forward(x)

rng = np.random.default_rng(7)
for b in BACKENDS:
    checks = {"dropout (13, 5)": gradient_check(FixedMaskDropout(0.4, seed=3, backend=b), rng.standard_normal((13, 5))),
              "BatchNorm1d (6, 7)": gradient_check(BatchNorm1d(7, backend=b), rng.standard_normal((6, 7)) * 3 + 1),
              "BatchNorm2d (1, 3, 4, 5)": gradient_check(BatchNorm2d(3, backend=b), rng.standard_normal((1, 3, 4, 5)))}
    print(f"{b:>6}: " + ", ".join(f"{name} {'passed' if r.passed else 'FAILED'}" for name, r in checks.items()))
""")

md(r"""
Batch norm's hard cases: a constant channel has zero variance, and $\epsilon$ keeps
$1/\sqrt{\sigma^2 + \epsilon}$ finite ($\hat x = 0$, so $y = \beta$); activations of size
$10^6$ are normalised as well as small ones, because the variance is computed in two passes
(the mean first, then squares of $x - \mu$; the one-pass $\overline{x^2} - \bar x^2$ would
cancel catastrophically in float32). A batch of one feature vector has no variance to speak
of: in training mode that is an error, and in inference mode it is fine.
""")

code(r"""
bn = BatchNorm1d(3, backend="numba")
constant = np.full((8, 3), 4.25, np.float32)
huge = (np.random.default_rng(0).standard_normal((32, 3)) * 1e6 + 3e6).astype(np.float32)
print("constant input -> y =", bn.forward(constant)[0], " (beta = 0)")
print("input of size 1e6 -> per-channel std of y:", bn.forward(huge).std(axis=0))
try:
    bn.forward(np.ones((1, 3), np.float32))
except ValueError as err:
    print("ValueError:", err)
print("in eval mode a batch of one is fine:", bn.eval().forward(np.ones((1, 3), np.float32)))
""")

md(r"""
## A model that overfits

MNIST-1D (Greydanus, 2020) is a set of 40-sample signals, one per digit template, shifted,
scaled, sheared and noised. It is small but hard for an MLP: the MNIST-1D paper's MLP reaches
68% *with* 4,000 training signals. We give an MLP of 79,000 parameters (two hidden layers of
256) just 600 of them, train it for 100 epochs, and hold out 1,000 more training signals for
validation, which early stopping watches. The test set (1,000 signals) is only used for the
final score.
""")

code(r"""
m1d = load_mnist1d()
order = np.random.default_rng(0).permutation(len(m1d.x_train))
x_tr, y_tr = m1d.x_train[order[:600]], m1d.y_train[order[:600]]
x_val, y_val = m1d.x_train[order[600:1600]], m1d.y_train[order[600:1600]]
x_te, y_te = m1d.x_test, m1d.y_test
LENGTH, HIDDEN, EPOCHS, BACKEND = x_tr.shape[1], 256, 100, "numba"

def mlp(dropout=0.0, batch_norm=False, seed=0, dropout_layer=Dropout):
    # 40 -> 256 -> 256 -> 10, with batch norm after each hidden Linear and dropout after each ReLU.
    layers, d_in = [], LENGTH
    for i in range(2):
        layers.append(Linear(d_in, HIDDEN, seed=seed + i))
        if batch_norm:
            layers.append(BatchNorm1d(HIDDEN))
        layers.append(ReLU())
        if dropout:
            layers.append(dropout_layer(dropout, seed=seed + 10 + i))
        d_in = HIDDEN
    layers.append(Linear(HIDDEN, 10, seed=seed + 5))
    return Sequential(*layers, backend=BACKEND)

shift_and_stretch = Augment(rotation=0, scale=(0.9, 1.1), translate=0.1, seed=0, backend=BACKEND)
def augment(xb):
    # Signals are (N, 1, 1, L) images to the augmentation kernels: zoom and shift along L.
    return shift_and_stretch(xb.reshape(len(xb), 1, 1, LENGTH)).reshape(len(xb), LENGTH)

print(mlp(dropout=0.5, batch_norm=True))
""")

md(r"""
Seven runs, identical but for one regularizer each. Their strengths are typical values, tuned
only roughly on the validation set (a larger L1 strength, $10^{-3}$, brought training accuracy
down to 62% without raising test accuracy).
""")

code(r"""
RUNS = {
    "none": {},
    "L2 (3e-3)": dict(penalty=L2Penalty(3e-3)),
    "L1 (3e-4)": dict(penalty=L1Penalty(3e-4)),
    "dropout (0.5)": dict(model=dict(dropout=0.5)),
    "batch norm": dict(model=dict(batch_norm=True)),
    "early stopping": dict(on_epoch_end=EarlyStopping(patience=10, mode="max")),
    "augmentation": dict(transform=augment),
}
histories, models, final = {}, {}, {}
for name, options in RUNS.items():
    options = dict(options)
    model = mlp(**options.pop("model", {}))
    histories[name] = train(model, SoftmaxCrossEntropy(backend=BACKEND), x_tr, y_tr, epochs=EPOCHS,
                            batch_size=50, lr=0.05, x_test=x_val, y_test=y_val, progress=False, **options)
    models[name] = model     # train() leaves it in eval mode (early stopping: the best epoch's weights)
    final[name] = (accuracy(model, x_tr, y_tr), accuracy(model, x_te, y_te))
    print(f"{name:<15} epochs {len(histories[name].epoch):>3}   train {final[name][0]:.3f}   "
          f"test {final[name][1]:.3f}   gap {final[name][0] - final[name][1]:.3f}")
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
colors = dict(zip(RUNS, plt.cm.tab10.colors))
for ax, names in zip(axes, [["none", "L2 (3e-3)", "L1 (3e-4)", "dropout (0.5)"],
                            ["none", "batch norm", "early stopping", "augmentation"]]):
    for name in names:
        h = histories[name]
        ax.plot(h.epoch, h.train_accuracy, "--", color=colors[name], lw=0.9)
        ax.plot(h.epoch, h.test_accuracy, color=colors[name], label=name)
    ax.set(xlabel="epoch", title="validation (solid) and training (dashed) accuracy")
    ax.legend(fontsize=8)
axes[0].set_ylabel("accuracy")
plt.tight_layout()
plt.show()
""", ignore_output=True)

code(r"""
names = list(final)
train_acc = np.array([final[n][0] for n in names])
test_acc = np.array([final[n][1] for n in names])
fig, ax = plt.subplots(figsize=(9, 3.4))
pos = np.arange(len(names))
ax.bar(pos - 0.2, train_acc - test_acc, 0.4, label="gap: train - test accuracy", color="tab:red")
ax.bar(pos + 0.2, test_acc, 0.4, label="test accuracy", color="tab:blue")
ax.set_xticks(pos, names, fontsize=8)
ax.set(ylim=(0, 1), title="After training: the gap and the test accuracy, per regularizer")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
Reading the runs:

- Without regularization the MLP memorises its 600 signals (training accuracy near 100%)
  while test accuracy stays around 40%: the gap is the size of the whole problem.
- L2, L1 and dropout narrow the gap mostly by *lowering training accuracy*: they stop the
  memorising, but a fully connected network still has no better idea of what a digit signal
  is, so test accuracy barely moves.
- Early stopping restored the weights of its best validation epoch and stopped 10 epochs
  later: a smaller gap for two thirds of the compute, but here at a lower test accuracy too.
  Validation accuracy on 1,000 signals is noisy, and a patience of 10 stopped at a local best;
  early stopping is only as good as the score it watches.
- Augmentation is the one that adds information: every step sees new shifted and stretched
  signals, so it narrows the gap *and* raises test accuracy. The CNN of {doc}`02_cnn`, which
  builds shift invariance into its architecture, does far better on this dataset (with all
  4,000 training signals: 87.5% without augmentation, 95.6% with it).
- Batch norm is a regularizer only by accident (the batch's statistics add noise); here it
  still fits the training set completely, with the second-best test accuracy. Its main effect
  is on optimization, the subject of the section after next.
""")

md(r"""
## Dropout at inference

In evaluation mode dropout is the identity, and because training scaled kept units by
$1/(1-p)$ that is the right expectation. Two alternatives: average the predictions of many
*stochastic* forward passes (Monte Carlo dropout, Gal and Ghahramani 2016), which approximates
the average over thinned networks that the identity only approximates; and the classic bug,
dropout *without* the $1/(1-p)$ scale in training, which leaves the network at inference with
activations $1/(1-p)$ times larger than it ever saw.
""")

code(r"""
def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

def scores(probs, y):
    return (probs.argmax(axis=1) == y).mean(), -np.log(probs[np.arange(len(y)), y] + 1e-12).mean()

net = models["dropout (0.5)"]
results = {"eval mode (identity)": scores(softmax(net.eval().forward(x_te)), y_te)}
net.train()
results["one stochastic pass"] = scores(softmax(net.forward(x_te)), y_te)
results["MC average of 50 passes"] = scores(np.mean([softmax(net.forward(x_te)) for _ in range(50)], axis=0), y_te)
net.eval()

class ForgotTheScale(Dropout):
    # The bug: y = mask * x in training, with no 1 / (1 - p); eval mode is still the identity.
    def forward(self, x):
        y = super().forward(x)
        return y * np.float32(1 - self.p) if self.mask is not None else y
    def backward(self, dy):
        dx = super().backward(dy)
        return dx * np.float32(1 - self.p) if self.mask is not None else dx

buggy = mlp(dropout=0.5, dropout_layer=ForgotTheScale)
train(buggy, SoftmaxCrossEntropy(backend=BACKEND), x_tr, y_tr, epochs=EPOCHS, batch_size=50, lr=0.05,
      progress=False)
results["no 1/(1-p) in training, eval mode"] = scores(softmax(buggy.forward(x_te)), y_te)
for name, (acc, loss) in results.items():
    print(f"{name:<36} test accuracy {acc:.3f}   test cross-entropy {loss:.3f}")
""")

code(r"""
hidden = Sequential(*buggy.layers[:4], backend=BACKEND)   # up to the first dropout layer's output
in_training = float(np.mean(hidden.train().forward(x_te)))
at_inference = float(np.mean(hidden.eval().forward(x_te)))
print(f"without the scale, mean activation after the first dropout: {in_training:.3f} in training, "
      f"{at_inference:.3f} at inference ({at_inference / in_training:.2f} times)")
""")

md(r"""
A single stochastic pass is worse than the identity: it is one thinned network, not the
average. Averaging many passes costs 50 forward passes and lands close to the identity's
accuracy: with inverted dropout, the cheap rule is nearly as good. Forgetting the scale
doubles ($1/(1-p)$ with $p = 0.5$) every activation at inference; the next layers see inputs
they were never trained on, and the predictions suffer.
""")

md(r"""
## Batch normalization and the learning rate

Batch norm's main use is not regularization but optimization: with every layer's inputs
normalised, a step changes the next layer's input distribution less, and a much larger
learning rate is stable. Here a deeper MLP (four hidden layers of 64) on the digits, trained
for 8 epochs at learning rates from 0.01 to 3, without and with batch norm after each hidden
Linear:
""")

code(r"""
digits = load_digits(seed=0)
RATES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]

def deep_mlp(batch_norm, depth=4, width=64):
    layers, d_in = [], digits.x_train.shape[1]
    for i in range(depth):
        layers += [Linear(d_in, width, seed=i)] + ([BatchNorm1d(width)] if batch_norm else []) + [ReLU()]
        d_in = width
    return Sequential(*layers, Linear(width, 10, seed=9), backend=BACKEND)

sweep = {}
for batch_norm in (False, True):
    for lr in RATES:
        h = train(deep_mlp(batch_norm), SoftmaxCrossEntropy(backend=BACKEND), digits.x_train, digits.y_train,
                  epochs=8, batch_size=64, lr=lr, x_test=digits.x_test, y_test=digits.y_test, progress=False)
        sweep[batch_norm, lr] = (h.train_loss[-1], h.test_accuracy[-1])
print("learning rate      " + "".join(f"{lr:>8}" for lr in RATES))
for batch_norm in (False, True):
    print(f"{'with' if batch_norm else 'without'} batch norm" + " " * (6 if batch_norm else 3)
          + "".join(f"{sweep[batch_norm, lr][1]:>8.3f}" for lr in RATES))
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for batch_norm, color in ((False, "tab:gray"), (True, "tab:purple")):
    label = "with batch norm" if batch_norm else "without"
    axes[0].plot(RATES, [sweep[batch_norm, lr][0] for lr in RATES], "o-", color=color, label=label)
    axes[1].plot(RATES, [sweep[batch_norm, lr][1] for lr in RATES], "o-", color=color, label=label)
axes[0].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final training loss", title="Loss after 8 epochs")
axes[1].set(xscale="log", xlabel="learning rate", ylabel="test accuracy", title="Test accuracy after 8 epochs", ylim=(0, 1))
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
Without batch norm the deep MLP learns only in a narrow band of learning rates: below it the
signal fades through four layers and 8 epochs do almost nothing; above it the steps overshoot.
With batch norm every rate from 0.03 to 3 trains to over 90% (and 0.01 to 89%), and the best
result comes at a learning rate three times the best plain one.
""")

md(r"""
## Summary

- An L2 penalty adds $\lambda w$ to each weight's gradient (weight decay, for SGD), L1 adds
  $\lambda\, \mathrm{sign}(w)$; each is one fused in-place kernel. With Adam, L2 is rescaled
  per weight and is not AdamW's decoupled decay.
- Inverted dropout keeps units with probability $1-p$ and scales them by $1/(1-p)$, so
  inference is the identity; forgetting the scale breaks inference. Masks come from Philox, a
  counter-based generator, so NumPy, Numba and OpenCL drop the same units for the same seed.
- Batch norm normalises each channel by its batch statistics in training and by running ones
  (unbiased variance, momentum 0.1) at inference; its backward is a compact closed form, and
  two-pass statistics and $\epsilon$ keep it finite on constant and huge inputs.
- On an MLP that memorises 600 MNIST-1D signals, penalties and dropout narrow the train/test
  gap, mostly by lowering training accuracy; augmentation narrows it and raises test accuracy;
  early stopping keeps the best epoch; batch norm widens the range of usable learning rates.
""")

write("05_regularization.ipynb")

"""Writes book/03_rnn.ipynb from the cells below (then execute it with
`python book/_src/execute.py book/03_rnn.ipynb`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both.
"""
from chapter import code, md, write

md(r"""
# Recurrent networks and attention: learning from sequences

A sequence model reads one element at a time and carries what it has seen in a state. This
chapter builds the recurrent layers' training from scratch (unrolling the network in time and
backpropagating through it), measures why plain recurrent networks forget, and how gates and
clipping help, then trains three models on this 2-core CPU: a GRU that classifies MNIST-1D
signals, a character-level language model of the Book of Genesis, and a one-layer attention
model that solves a task a recurrent network of the same size finds hard. It ends with the
cost of attention: memory that grows as $T^2$, and the online softmax that removes it.

**You will learn to**

- unroll a recurrent network in time and derive backpropagation through time (BPTT), with
  truncation;
- measure vanishing and exploding gradients as the norm of the gradient reaching each time
  step, and see how LSTM and GRU gates and gradient clipping change it;
- train a sequence classifier, a language model that samples text at a chosen temperature,
  and an attention model, each from layers with a forward and a backward pass;
- count the memory of attention and measure the plain version against the tiled one.
""")

code(r"""
import inspect

import numpy as np
import matplotlib.pyplot as plt

import accel_edu
from accel_edu.backprop import SoftmaxCrossEntropy, gradient_check, train
from accel_edu.data import load_mnist1d
from accel_edu.optim import Adam, clip_grad_norm
from accel_edu.rnn import GRU, LSTM, RNN
from accel_edu.rnn.models import (AttentionReverser, CharLM, ClipGradNorm, RecurrentReverser,
                                  SequenceClassifier, parameter_count, reversal_task, train_tokens)
from accel_edu.rnn.text import CharVocabulary, char_windows, load_text

np.set_printoptions(precision=3, suppress=True)
BACKENDS = [name for name, a in accel_edu.available_backends().items() if a]
BACKENDS
""")

md(r"""
## Unrolling a recurrent network

A vanilla (Elman) recurrent layer reads inputs $x_1, \dots, x_T$ and keeps a hidden state,

$$
a_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}, \qquad h_t = \tanh(a_t), \qquad h_0 = 0 .
$$

*Unrolled*, it is a feed-forward network $T$ layers deep whose layers all share the same
weights: step $t$ takes $h_{t-1}$ and $x_t$ and gives $h_t$. A loss $L = \sum_t L_t(h_t)$
(or only $L_T$, for a classifier that reads to the end) is then differentiated exactly as in
the backpropagation chapter, through the unrolled graph. That is **backpropagation through
time** {cite:p}`werbos1990bptt`.

**BPTT derived.** Write $\delta_t = \partial L / \partial h_t$. The state $h_t$ reaches the
loss directly, through $L_t$, and through $h_{t+1}$, so

$$
\delta_t = \frac{\partial L_t}{\partial h_t} + W_{hh}^{\top}\, g_{t+1}, \qquad
g_t = \frac{\partial L}{\partial a_t} = (1 - h_t^2) \odot \delta_t, \qquad \delta_{T+1} \equiv 0,
$$

one walk backwards over $t = T, \dots, 1$, each step a cell backward and one GEMM. Because the
weights are shared, their gradients are sums over the steps, and each is one GEMM over all
$T \cdot N$ rows at the end:

$$
\frac{\partial L}{\partial W_{hh}} = \sum_t g_t\, h_{t-1}^{\top}, \qquad
\frac{\partial L}{\partial W_{ih}} = \sum_t g_t\, x_t^{\top}, \qquad
\frac{\partial L}{\partial b} = \sum_t g_t, \qquad
\frac{\partial L}{\partial x_t} = W_{ih}^{\top} g_t .
$$

The forward pass must keep every $h_t$ for the backward: memory grows with $T$.
*Truncated* BPTT (`bptt=k`) cuts the backward walk into chunks of $k$ steps and drops the
$W_{hh}^{\top} g_{t+1}$ term at each chunk boundary, as PyTorch users do by detaching the
state every $k$ steps: gradients flow back at most $k$ steps.

**Why gradients vanish or explode.** Unrolling the recursion, the gradient that $L_T$ sends
back to step $t$ is a product of $T - t$ Jacobians,

$$
\frac{\partial L_T}{\partial h_t} = \Big(\prod_{s=t+1}^{T} W_{hh}^{\top}\, \mathrm{diag}(1 - h_s^2)\Big)\,
\frac{\partial L_T}{\partial h_T}, \qquad
\Big\lVert \frac{\partial L_T}{\partial h_t} \Big\rVert \le \big(\lVert W_{hh}\rVert \cdot \max_s \lVert 1 - h_s^2 \rVert_\infty\big)^{T-t}
\Big\lVert \frac{\partial L_T}{\partial h_T} \Big\rVert .
$$

If the largest singular value of $W_{hh}$ (times the tanh slope, at most 1) is below 1, the
gradient shrinks geometrically with the distance $T - t$: it *vanishes*, and the network cannot
learn that an early input matters to a late output. If it is above 1, the product can *explode*
{cite:p}`bengio1994learning,pascanu2013difficulty`.

The layers of `accel_edu.rnn` implement exactly this: the input projection as one GEMM over
all steps, then a fused cell kernel per step; the backward is the walk above
(`_Recurrent.backward` in `accel_edu/rnn/layers.py`), each step a cell backward, $g_t$, and
one GEMM, $W_{hh}^{\top} g_t$. The cell backward on NumPy, the reference the Numba and
OpenCL kernels are tested against:
""")

code(r"""
from accel_edu.rnn import numpy_kernels
print(inspect.getsource(numpy_kernels.rnn_cell_backward))
""")

md(r"""
A numerical gradient check of a whole sequence (float64, 5 steps) on every backend confirms
the derivation: the gradient with respect to the inputs, and to each shared weight, matches
central differences.
""")

code(r"""
x = np.random.default_rng(0).standard_normal((5, 2, 3))          # (T, N, D), time-major
for backend in BACKENDS:
    result = gradient_check(RNN(3, 4, seed=1, backend=backend), x)
    print(f"{backend:>7}: largest relative error {max(result.errors.values()):.1e}  passed={result.passed}")
""")

md(r"""
## Vanishing and exploding gradients, measured

Take a vanilla RNN with $H = 32$ units, inputs of 32 features ($W_{ih} = 0.5 I$, zero biases),
and set $W_{hh} = \gamma Q$ with $Q$ a random orthogonal matrix, so every singular value of
$W_{hh}$ is exactly the *gain* $\gamma$. Run a batch of 16 random sequences of $T = 60$
steps, put a loss on the last step only, and measure the norm of the gradient that reaches
each input, $\lVert \partial L_T / \partial x_t \rVert = \lVert W_{ih}^{\top} g_t \rVert$,
for $t = 1 \dots 60$: how strongly the loss at the end can "see" step $t$.
""")

code(r"""
T, N, H = 60, 16, 32
rng = np.random.default_rng(0)
x_seq = rng.standard_normal((T, N, H))
g_last = rng.standard_normal((N, H))                        # dL/dh_T: the loss is on the last step
Q, _ = np.linalg.qr(rng.standard_normal((H, H)))            # a random orthogonal matrix


def gradient_norms(layer):
    "||dL_T/dx_t|| for t = 1..T, with the loss's gradient on h_T only."
    y = layer.forward(x_seq)
    dy = np.zeros_like(y)
    dy[-1] = g_last
    return np.linalg.norm(layer.backward(dy), axis=(1, 2))


def vanilla(gain):
    layer = RNN(H, H, seed=0, dtype=np.float64)
    layer.params.update(w_hh=gain * Q, w_ih=0.5 * np.eye(H), b_ih=np.zeros(H), b_hh=np.zeros(H))
    return layer


GAINS = [0.5, 1.0, 2.0, 3.0]
norms = {f"RNN, gain {gain}": gradient_norms(vanilla(gain)) for gain in GAINS}
for name, n in norms.items():
    print(f"{name:<15}  t=1: {n[0]:9.2e}   t=30: {n[29]:9.2e}   t=50: {n[49]:9.2e}   t=60: {n[59]:9.2e}")
""")

md(r"""
At gains 0.5 and 1 the gradient shrinks by orders of magnitude every few steps: from step 60
back to step 1 it falls below $10^{-6}$ of its size (at gain 1 the tanh slope, below 1,
does the shrinking). At gain 3 it grows instead, by about eight orders of magnitude: one
update computed from it would throw the weights far away. Gain 2 grows too, by about three:
the tanh units it drives into saturation damp part of the growth.
""")

md(r"""
### Gates: LSTM and GRU

The LSTM {cite:p}`hochreiter1997lstm` adds a *cell state* $c_t$ that is updated additively,
under gates $i, f, o \in (0, 1)^H$ computed from $x_t$ and $h_{t-1}$:

$$
c_t = f_t \odot c_{t-1} + i_t \odot \tanh(W_{g} [x_t, h_{t-1}] + b_g), \qquad h_t = o_t \odot \tanh(c_t),
\qquad \frac{\partial c_t}{\partial c_{t-1}} = \mathrm{diag}(f_t) \;(\text{along this path}).
$$

Along the cell path no weight matrix and no squashing slope multiply the gradient, only the
forget gate: where the network learns $f_t \approx 1$ the gradient passes unchanged over many
steps. The GRU {cite:p}`cho2014gru` does the same with one state, $h_t = (1 - z_t) \odot n_t + z_t
\odot h_{t-1}$, so $\partial h_t / \partial h_{t-1} \ni \mathrm{diag}(z_t)$.

At PyTorch's initialisation (every weight and bias uniform in $\pm 1/\sqrt{H}$) the gates sit
near $0.5$, so gradients still decay (measured below: by a factor of about 0.6 per step). The gates are learned: a bias
that opens them, here $+3$ on the LSTM's forget gate or the GRU's update gate ($\sigma(3) =
0.95$), shows what a trained gate can do to the same measurement.
""")

code(r"""
lstm, gru = LSTM(H, H, seed=0, dtype=np.float64), GRU(H, H, seed=0, dtype=np.float64)
norms["LSTM"], norms["GRU"] = gradient_norms(lstm), gradient_norms(gru)
lstm.params["b_ih"][H:2 * H] = 3.0          # gates i, f, g, o: rows H..2H are the forget gate
gru.params["b_ih"][H:2 * H] = 3.0           # gates r, z, n: rows H..2H are the update gate
norms["LSTM, forget bias 3"], norms["GRU, update bias 3"] = gradient_norms(lstm), gradient_norms(gru)

fig, ax = plt.subplots(figsize=(8, 4))
for name, n in norms.items():
    ax.semilogy(np.arange(1, T + 1), n, label=name, ls="-" if name.startswith("RNN") else "--")
ax.set(xlabel="time step t", ylabel=r"$\|\partial L_T / \partial x_t\|$",
       title="Gradient reaching each step from a loss on step 60")
ax.legend(fontsize=8, ncol=2)
plt.tight_layout()
plt.show()
for name in ("LSTM", "GRU", "LSTM, forget bias 3", "GRU, update bias 3"):
    print(f"{name:<20} t=1: {norms[name][0]:9.2e}   t=60: {norms[name][59]:9.2e}")
""")

md(r"""
**Clipping** bounds the explosion {cite:p}`pascanu2013difficulty`: if the global norm of all
the gradients exceeds a threshold, scale them all down to it. The direction of the update is
kept, only its length is limited. `accel_edu.optim.clip_grad_norm` does it with one
sum-of-squares kernel over every gradient and one in-place scale per gradient. Here is the
gain-3 network's weight gradient before and after clipping to norm 1:
""")

code(r"""
exploding = vanilla(3.0)
exploding.forward(x_seq)
dy = np.zeros((T, N, H))
dy[-1] = g_last
exploding.backward(dy)
before = {k: v.copy() for k, v in exploding.grads.items()}
norm = clip_grad_norm(exploding.parameters(), max_norm=1.0)
after = np.sqrt(sum(np.sum(g ** 2) for g in exploding.grads.values()))
cosine = sum(np.sum(before[k] * exploding.grads[k]) for k in before) / (norm * after)
print(f"norm before {norm:.3e}, after {after:.6f}; cosine between the two directions {cosine:.6f}")
""")

md(r"""
Clipping makes an exploding step harmless; it does nothing for a vanishing gradient, which
is why the trainers below use gated cells *and* clip.

## A GRU on MNIST-1D

MNIST-1D {cite:p}`greydanus2020mnist1d` (seen in the CNN chapter) has 4000 training and 1000
test signals of 40 samples each. Read as a sequence of 40 scalars, it is a test of memory:
the class is decided by the shape of the whole signal, and the model sees it one value at a
time. The MNIST-1D paper reports about 91% test accuracy for a GRU. Ours has $H = 32$ units
(3,690 parameters): a GRU over the 40 steps, its last state $h_{40}$ into a Linear layer, trained
for 15 epochs of batches of 100 with Adam (learning rate 0.02) and gradients clipped to norm 1.
""")

code(r"""
data = load_mnist1d()
# Numba cells with OpenBLAS GEMMs: the fastest configuration for these small shapes in two
# side-by-side runs on the (shared, loaded) 2-core machine this chapter was written on; the
# language-model section times one step of each.
classifier = SequenceClassifier(1, 32, 10, cell="gru", seed=0, backend="numba", gemm_backend="numpy")
clip = ClipGradNorm(1.0)              # backprop.train calls it after each backward, before the step
history = train(classifier, SoftmaxCrossEntropy(), data.x_train, data.y_train,
                x_test=data.x_test, y_test=data.y_test, epochs=15, batch_size=100,
                optimizer=Adam(classifier.parameters(), lr=0.02), penalty=clip, progress=False)
print(f"{parameter_count(classifier):,} parameters")
for epoch, loss, acc in zip(history.epoch, history.train_loss, history.test_accuracy):
    print(f"epoch {epoch:2d}  train loss {loss:.3f}  test accuracy {acc:.3f}")
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
axes[0].plot(history.epoch, history.train_loss, "o-")
axes[0].set(xlabel="epoch", ylabel="training loss", title="Loss")
axes[1].plot(history.epoch, history.train_accuracy, "o-", label="train")
axes[1].plot(history.epoch, history.test_accuracy, "o-", label="test")
axes[1].axhline(0.91, color="gray", ls=":", label="paper's GRU (~91%)")
axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
axes[1].legend(fontsize=8)
axes[2].semilogy(clip.norms, lw=0.6)
axes[2].axhline(1.0, color="gray", ls=":")
axes[2].set(xlabel="step", ylabel="gradient norm before clipping", title="Clipping at norm 1")
plt.tight_layout()
plt.show()
""")

md(r"""
The run above passes the paper's 91% in its last epochs (the printout is this notebook's
own run). The right panel shows how often clipping acted: every step whose norm
lies above the dotted line was scaled down to it.

## A character-level language model

A language model predicts the next symbol from those before it. Trained on characters, it
learns spelling, then words, then some grammar, and can be *sampled*: draw a character from
its prediction, feed it back, repeat. The text ships with `accel_edu`: the Book of Genesis in
the King James Version (1611, public domain), cut from Debian's `bible-kjv-text` package
(`accel_edu/rnn/texts/README.md` records how).
""")

code(r"""
text = load_text("genesis_kjv")
vocab = CharVocabulary(text)
ids = vocab.encode(text)
print(f"{len(text):,} characters, {len(vocab)} distinct: {''.join(vocab.chars)!r}")
print(text[:230])
""")

md(r"""
The model is Embedding(60, 32) -> LSTM(32, 128) -> Linear(128, 60) at every step (92,604
parameters). Each training step takes 32 random windows of 64 characters (time-major,
(64, 32)) and the 64 next characters of each as targets: softmax cross-entropy per step,
backpropagated through the 64 steps, Adam at 0.005, gradients clipped to norm 1, 1000 steps.
The loss is in nats per character; guessing uniformly among 60 characters would be
$\ln 60 = 4.09$.

Sampling at **temperature** $\tau$ draws from $\mathrm{softmax}(z / \tau)$: $\tau < 1$
sharpens the distribution towards the most likely character (as $\tau \to 0$ it becomes the
argmax, and the text repeats itself), $\tau > 1$ flattens it towards uniform noise.
`CharLM.sample(prompt, n, temperature, seed)` draws from a seeded generator, so the samples
below are reproducible. Every 250 steps the model writes 80 characters at $\tau = 0.5$ and
$\tau = 1$:
""")

code(r"""
lm = CharLM(vocab, 32, 128, cell="lstm", seed=0, backend="numba", gemm_backend="numpy")
print(f"{parameter_count(lm):,} parameters")


def show_samples(step, model, history):
    print(f"step {step}: loss {history['loss'][-1]:.3f} nats/char")
    for temperature in (0.5, 1.0):
        print(f"  tau={temperature}: {model.sample('And God', 80, temperature, seed=step)!r}")


lm_history = train_tokens(lm, lambda step: char_windows(ids, 64, 32, seed=0, step=step), 1000,
                          Adam(lm.parameters(), lr=0.005), max_norm=1.0, report_every=250,
                          on_report=show_samples, progress=False)
""")

code(r"""
for temperature in (0.2, 0.7, 1.0, 1.5):
    print(f"tau={temperature}:")
    print("  " + lm.sample("And it came to pass", 160, temperature, seed=1).replace("\n", "\n  "))
""")

md(r"""
**Which backend?** One training step of this model (forward, loss and backward over a
(64, 32) batch) on each backend, the median of 5 after a warm-up, side by side in one run.
The LSTM layer can also run its GEMMs on OpenBLAS while its fused cells stay on the
layer's backend (`gemm_backend="numpy"`): at these sizes a step is a few hundred small calls,
and the per-call cost decides. The figures are this machine's, measured when the notebook
ran, so they are not compared when the book is tested.
""")

code(r"""
import time

batch_tokens, batch_targets = char_windows(ids, 64, 32, seed=0, step=1)


def step_ms(backend, gemm_backend=None, repeats=5):
    model = CharLM(vocab, 32, 128, seed=0, backend=backend, gemm_backend=gemm_backend)
    loss = SoftmaxCrossEntropy(backend=backend)
    times = []
    for i in range(repeats + 1):                 # the first call warms up (compiles, builds)
        start = time.perf_counter()
        loss(model.forward(batch_tokens), model.rows(batch_targets))
        model.backward(loss.backward())
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times[1:]))


speeds = {(b, None): step_ms(b) for b in BACKENDS}
if "numba" in BACKENDS:
    speeds["numba", "numpy"] = step_ms("numba", "numpy")
reference = speeds["numpy", None]
for (backend, gemm), ms in speeds.items():
    name = backend + (" cells + OpenBLAS GEMMs" if gemm else "")
    print(f"{name:<30} {ms:7.1f} ms per step   {reference / ms:5.2f}x NumPy's speed")
""", ignore_output=True)

md(r"""
After a few hundred steps the model has learned the frequent words (*the*, *and*, *of*,
*God*, *LORD*), names, a capital at the start of each verse and the rhythm of one. At $\tau = 0.2$ it loops through
its most likely phrases; at $\tau = 1.5$ it invents spellings. More steps, a bigger LSTM
or two layers lower the loss further; this run is sized to take well under a minute.

## Attention against recurrence, on reversing a sequence

A recurrent network must squeeze everything it has read into $h_t$. For a task that needs
the first input at the last output, it must carry that input through every step. Reversing a
string of digits is such a task. **Attention** {cite:p}`vaswani2017attention` removes the
bottleneck: every output position computes a *query* $q_i$, compares it with a *key* $k_j$
of every input position, and takes a weighted mean of their *values* $v_j$:

$$
\mathrm{out}_i = \sum_j P_{ij}\, v_j, \qquad P_{ij} = \mathrm{softmax}_j\!\Big(\frac{q_i \cdot k_j}{\sqrt d}\Big),
\qquad q_i = W_q x_i,\; k_j = W_k x_j,\; v_j = W_v x_j .
$$

Our attention model embeds each digit and its position ($x_i = E_{\text{tok}}[\text{digit}_i]
+ E_{\text{pos}}[i]$, $d = 32$), applies one attention layer and a Linear layer per position
(4,138 parameters). The baseline is a GRU of about the same size ($H = 24$, 4,114
parameters) that reads the 10 digits and then answers during 10 more steps fed a blank token,
a fair setup for a recurrent model: it has seen everything before it must answer. Both train
on fresh random strings of 10 digits, 400 steps of 64 strings, Adam at 0.01, clipping at 1,
and are tested on 1000 strings they have never seen.
""")

code(r"""
LENGTH, STEPS = 10, 400
test_tokens, test_targets = reversal_task(1000, LENGTH, seed=10**6)
reversers = {"attention": AttentionReverser(10, LENGTH, 32, seed=0, backend="numba"),
             "GRU": RecurrentReverser(10, LENGTH, 24, seed=0, backend="numba", gemm_backend="numpy")}
reversal_histories = {}
for name, model in reversers.items():
    reversal_histories[name] = train_tokens(model, lambda step: reversal_task(64, LENGTH, seed=step), STEPS,
                                            Adam(model.parameters(), lr=0.01), max_norm=1.0,
                                            report_every=20, progress=False)
    correct = model.predict(test_tokens) == test_targets
    print(f"{name:>9}: {parameter_count(model):,} parameters; test digits right {correct.mean():.3f}, "
          f"whole strings right {correct.all(axis=1).mean():.3f}")
    print(f"{'':>11}digits right by output position: {correct.mean(axis=0).round(2)}")
""")

code(r"""
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2), gridspec_kw=dict(width_ratios=[1.6, 1, 1, 1]))
for name, h in reversal_histories.items():
    axes[0].semilogy(h["step"], h["loss"], label=name)
axes[0].set(xlabel="step", ylabel="training loss", title="Reversing 10 digits")
axes[0].legend()
maps = reversers["attention"].attention_map(test_tokens[:3])
for ax, tokens, attention in zip(axes[1:], test_tokens[:3], maps):
    ax.imshow(attention, cmap="viridis", vmin=0, vmax=1)
    ax.set(xticks=range(LENGTH), yticks=range(LENGTH), xlabel="input position j (key)",
           ylabel="output position i (query)", title="".join(map(str, tokens)))
    ax.tick_params(labelsize=6)
plt.tight_layout()
plt.show()
print("mean attention weight on the mirrored position j = 9 - i:",
      f"{maps[:, np.arange(LENGTH), LENGTH - 1 - np.arange(LENGTH)].mean():.3f}")
""")

md(r"""
The attention maps are the anti-diagonal: output position $i$ looks at input position
$9 - i$ and copies its digit. The model learned this within the first few dozen steps,
because the path from an input to any output is one step long. The GRU has the capacity in
principle (ten digits are 33 bits, its state 24 numbers) but must learn to store them and
retrieve them in reverse order, each answer $2i + 1$ steps after it read that digit. After the
same 400 steps the printout by position shows what it learned: the first answer, the digit it
read one step earlier, is almost always right; the answers that must be carried 5 to 15 steps
are right about a third of the time (chance is 10%); the last, the first digit it read, a
little more often.

## The cost of attention: memory as $T$ grows

Attention compares every query with every key: for a sequence of length $T$ the scores
$S = QK^{\top}/\sqrt d$ and probabilities $P$ are $T \times T$ per head. The *plain* version
stores $P$ (and, in the backward pass, $dS$), so its memory grows as $T^2$: at $T = 4096$,
one head in float32 holds two 64 MiB matrices, while $q$, $k$, $v$ themselves are 256 KiB each.

The *tiled* version never stores them. It walks over the keys in blocks and keeps, per query,
a running maximum $m$, a running sum $\ell$ and a running output $o$, rescaling them when the
maximum grows, the online softmax {cite:p}`milakov2018online`: for each new score $s_j$,

$$
m' = \max(m, s_j), \qquad \ell' = \ell\, e^{m - m'} + e^{s_j - m'}, \qquad
o' = o\, e^{m - m'} + e^{s_j - m'}\, v_j, \qquad \mathrm{out} = o / \ell .
$$

It saves only the logsumexp $m + \ln \ell$ per query, and the backward pass recomputes
$P_{ij} = e^{s_{ij} - \mathrm{lse}_i}$ block by block: FlashAttention's structure
{cite:p}`dao2022flashattention`. The result is the same numbers (up to rounding), with memory
$O(T d)$. Counted from the code, for one head with $d = e = 16$ in float32, the peak extra
memory of a forward and backward pass (outputs included) on Numba:
""")

code(r"""
from accel_edu.attention.memory import bytes_expected, measure_memory

LENGTHS = [256, 512, 1024, 2048, 4096]
print(f"{'T':>6} {'plain':>12} {'tiled':>12}")
for t in LENGTHS:
    print(f"{t:>6} {bytes_expected('plain', t) / 2**20:9.2f} MiB {bytes_expected('tiled', t) / 2**20:9.3f} MiB")
""")

md(r"""
Now measured: on Numba as the growth of the peak resident memory of a fresh process during
one forward and backward pass, on OpenCL by counting the bytes of every buffer the host code
allocates while it lives (`accel_edu/attention/memory.py` explains both). The measurement
depends on the machine and the allocator, so its printout is not compared when the book is
tested.
""")

code(r"""
records = [r for r in measure_memory(LENGTHS) if "skipped" not in r]
fig, ax = plt.subplots(figsize=(7, 4))
for backend, marker in (("numba", "o"), ("opencl", "s")):
    for variant, color in (("plain", "tab:red"), ("tiled", "tab:blue")):
        rows = [r for r in records if r["backend"] == backend and r["variant"] == variant]
        if rows:
            ax.loglog([r["T"] for r in rows], [r["measured_bytes"] / 2**20 for r in rows], marker,
                      color=color, label=f"{variant}, {backend} (measured)", alpha=0.7)
for variant, color in (("plain", "tab:red"), ("tiled", "tab:blue")):
    ax.loglog(LENGTHS, [bytes_expected(variant, t) / 2**20 for t in LENGTHS], "-", color=color,
              lw=1, label=f"{variant} (counted for Numba)")
ax.set(xlabel="sequence length T", ylabel="peak extra memory (MiB)",
       title="Attention forward + backward, one head, d = 16")
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()
for r in records:
    print(f"{r['backend']:>6} {r['variant']:>5} T={r['T']:>5}: measured {r['measured_bytes'] / 2**20:8.2f} MiB, "
          f"counted {r['expected_bytes'] / 2**20:8.2f} MiB")
""", ignore_output=True)

md(r"""
The plain variant's memory grows four times for every doubling of $T$, the tiled one's
twice. (Below about 1 MiB the Numba measurement reads under the count, and can read zero:
small arrays come from memory the process already holds, which its peak resident size does not
see; `memory.py` explains it. The OpenCL tiled code holds no transposed copies of $k$ and $v$,
so it needs less than the Numba count drawn here.) At $T = 4096$ the difference is a
factor of about 80, and it widens linearly with $T$. On a GPU the same structure also saves
time, because the $T \times T$ matrices never travel to and from the device's main memory
{cite:p}`dao2022flashattention`.

""")

md(r"""
## Speed against PyTorch, recorded

`accel-edu bench lstm` times the issue's reference layer, an LSTM with input 40, hidden 128,
40 steps and a batch of 64, forward and backward through time, on every backend and in
PyTorch (`torch.nn.LSTM`, whose CPU path is oneDNN's fused RNN) with the same two threads,
round-robin in one run. `benchmarks/lstm.py` records it on an idle machine; the figures
below are read from those records (`benchmarks/results/`), so they show that machine, not
the one building this page.
""")

code(r"""
import json
from pathlib import Path

import accel_edu

results = Path(accel_edu.__file__).parents[1] / "benchmarks" / "results"


def lstm_rows(path, input_grad=True):
    bench = json.loads(path.read_text())
    rows = [r for r in bench["records"] if r["kernel"] == "lstm" and r["input_grad"] == input_grad]
    return bench, rows


for kernels in ("Haswell", "SkylakeX"):
    path = sorted(results.glob(f"lstm-????-??-??-{kernels}.json"))[-1]
    bench, rows = lstm_rows(path)
    print(f"{path.name}: OpenBLAS {kernels} kernels, {bench['machine']['cores']} cores, "
          f"torch {bench['machine']['torch']}")
    for r in rows:
        print(f"  {r['backend']:<7} {r['variant']:<22} {r['median_s'] * 1e3:6.2f} ms   "
              f"x PyTorch {r['ratio_to_torch']:.2f}")
""")

md(r"""
Three things stand out. The fused Numba cells do a step's gate math in about 10 µs, where
NumPy's dozen passes over memory take over a hundred, so the cells are no longer where the
time goes; the GEMMs are. With our own Numba GEMM the layer is about 2.5 times slower than
PyTorch; with OpenBLAS doing the GEMMs (`gemm_backend="numpy"`, the cells staying on Numba)
the gap narrows to about 1.3 times. And which OpenBLAS kernels run matters as much as anything
we wrote: this machine's environment sets `OPENBLAS_CORETYPE=Haswell` (AVX2); with `SkylakeX`
(AVX-512) the same code draws level with PyTorch.

The row `fused sequence` is `LSTM(..., backend="numba", fused=True)`: the whole loop over time
in one compiled call each way, $W_{hh}$ packed once per call, each step's input projection and
$h_{t-1} W_{hh}^\top$ summed into one register tile with the cell applied while the tile is in
L1, and the batch split over the two threads in a single parallel region (a region costs about
100 µs to start here, too much to pay 80 times). On one thread it is the fastest of ours
(0.85 of PyTorch's speed in a run beside these records); on two threads its split of 64 rows
into two halves gains less than OpenBLAS's threads do, and `cells+OpenBLAS GEMM` stays ahead.
Where the time goes, per category, for the NumPy reference and the fastest configurations:
""")

code(r"""
path = sorted(results.glob("lstm-????-??-??-Haswell.json"))[-1]
breakdown = {(b["backend"], b["variant"]): b["seconds"] for b in json.loads(path.read_text())["breakdown"]}
shown = [("numpy", "reference"), ("numba", "numba"), ("numba", "fused sequence"), ("numba", "cells+OpenBLAS GEMM")]
parts = list(dict.fromkeys(k for key in shown for k in breakdown[key] if k != "total"))
fig, ax = plt.subplots(figsize=(8, 3.6))
left = np.zeros(len(shown))
for part, color in zip(parts, plt.cm.tab20.colors):   # 11 categories: tab10 would drop one
    widths = np.array([1e3 * breakdown[key].get(part, 0.0) for key in shown])
    ax.barh(range(len(shown)), widths, left=left, color=color, label=part)
    left += widths
ax.set_yticks(range(len(shown)), [f"{b} {v}" for b, v in shown])
ax.set(xlabel="ms per forward + backward (2 threads, every call timed)", title="LSTM 40 -> 128, T = 40, N = 64")
ax.legend(fontsize=7, ncol=3, loc="lower right")
plt.tight_layout()
plt.show()
""")

md(r"""
For the layer that calls OpenBLAS per step, the 80 small GEMMs inside the time loop are the
floor: each multiplies a (64, 128) state by the same (128, 512) weight, and OpenBLAS re-packs
that weight on every call, where oneDNN packs it once per sequence. The fused sequence removes
that cost, and what is left of it is the weight-gradient and input-gradient GEMMs, done once
over all steps, and how well two threads share 64 rows; the hardware chapter's GEMM ladder
measures how close our own GEMM gets to OpenBLAS.

Attention, from `accel-edu bench attention` (`benchmarks/attention.py`), forward and backward
at four heads of 64, against `torch.nn.functional.scaled_dot_product_attention` (the plain
versions are left out where they take seconds):
""")

code(r"""
path = sorted(results.glob("attention-????-??-??.json"))[-1]
records = json.loads(path.read_text())["records"]
print(path.name)
for causal in (False, True):
    print("causal" if causal else "not causal")
    for r in records:
        if r["causal"] == causal:
            print(f"  T={r['T']:>5}  {r['backend']:<7} {r['variant']:<10} {r['median_s'] * 1e3:8.2f} ms "
                  f"{r['gflops']:6.1f} GFLOP/s   x PyTorch {r['ratio_to_torch']:.2f}")
""")

md(r"""
Not causal, NumPy's reference (OpenBLAS matrix products around a softmax of the whole
matrix) is our fastest up to $T = 1024$, at 0.84-0.87 of PyTorch's speed: the $T \times T$
matrices still fit in this machine's caches, and OpenBLAS's kernels beat our Numba loops.
At $T = 2048$ they no longer fit, NumPy falls to 0.36 and the tiled Numba kernel, which never
leaves the cache, draws level with it. With the causal mask the tiled kernels skip every block
above the diagonal, while NumPy computes the whole matrix and masks it: the tiled Numba kernel
closes in at $T = 1024$ (0.53 against NumPy's 0.73) and is our fastest at $T = 2048$ (0.67
against 0.35). The plain Numba and OpenCL kernels, one query row per task with a dot product
per key, are 7 to 17 times slower than PyTorch throughout: they reuse nothing from registers
or cache, and they are the rung the ladder starts from. PyTorch stays ahead: the same work with better-vectorised
inner kernels, which is the hardware chapter's subject.

## Summary

- A recurrent layer unrolled in time is a deep network with shared weights. BPTT walks the
  steps backwards, $\delta_t = \partial L_t/\partial h_t + W_{hh}^{\top} g_{t+1}$, and sums
  each weight's gradient over the steps (one GEMM each). Truncation (`bptt=k`) limits the walk
  to $k$ steps.
- The gradient reaching step $t$ is a product of $T - t$ Jacobians: measured on a vanilla
  RNN it vanishes by over six orders of magnitude in 60 steps at gain $\le 1$ and explodes by
  about eight at gain 3. Gates give an additive path whose factor is the gate itself (an
  opened forget or update gate keeps it near 1); clipping the global norm bounds explosions
  without changing the update's direction.
- A 32-unit GRU reads MNIST-1D one sample at a time and reaches the paper's ~91% test
  accuracy in 15 epochs; a character-level LSTM learns the words of Genesis in 1000 steps
  and samples text whose temperature trades repetition against invention.
- One attention layer reverses 10 digits perfectly where a GRU of the same size struggles;
  its attention maps show the anti-diagonal it learned. Plain attention's memory grows as
  $T^2$; the online softmax (the tiled variant, FlashAttention's structure) makes it $O(T)$
  with the same result.

**Exercises.** `exercises/03_rnn.ipynb` asks you to write an LSTM cell's forward and backward,
BPTT with truncation, causal attention, and a fused Numba attention timed against naive loops;
`accel-edu grade` scores them (see {doc}`exercises_and_grading`).
""")

write("03_rnn.ipynb")

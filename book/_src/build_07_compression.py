"""Writes book/07_compression.ipynb from the cells below (then execute it with
`python book/_src/execute.py book/07_compression.ipynb`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both. Sections: quantization (a quantizer, the
int8 GEMM, PTQ, QAT), pruning, sparse kernels, distillation, one table of every technique.
Timing cells are output-ignored (the machine they run on is shared); recorded figures are read
from benchmarks/results/compression-*.json when one is there.
"""
from chapter import code, md, write

md(r"""
# Model compression: quantization, pruning, distillation

A trained network stores every weight as a 32-bit float and computes with them in float32.
Most of those bits, and many of the weights, carry no information the predictions need. This
chapter makes a model smaller three ways: it stores weights and activations as 8-bit integers
(a quarter of the memory, and integer arithmetic), it prunes the weights that matter least and
multiplies what is left in a sparse format, and it trains a small student from a large
teacher's outputs. Each comes with kernels written from scratch on three backends, and each is
measured: what it costs in accuracy, what it saves in bytes, and what it buys in speed on
this CPU.

**You will learn to**

- choose a quantizer's scale and zero point, symmetric or asymmetric, per tensor or per
  channel, and bound the error it makes;
- write an int8 GEMM that sums in int32, and see why int16 is not enough;
- define requantization exactly (float32 multiply, round half to even, clamp) so that NumPy,
  Numba and OpenCL give identical integers;
- quantize a trained model after training (PTQ), and train through the rounding with a
  straight-through estimator (QAT);
- prune by magnitude, weight by weight or whole neurons at a time, and fine-tune with the
  pruned weights held at zero;
- store a sparse matrix as CSR, multiply it on three backends, and find where it beats a dense
  product on this machine and where it does not;
- derive the distillation loss (and its $T^2$), and find out when a teacher helps a student.
""")

code(r"""
import inspect

import numpy as np
import matplotlib.pyplot as plt

import accel_edu
from accel_edu.backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy, accuracy, train
from accel_edu.compression import (asymmetric_qparams, kernels as K, model_nbytes, prepare_qat,
                                   quantization_error, quantize_model, symmetric_qparams)
from accel_edu.compression.numpy_kernels import int8_accumulate
from accel_edu.data import load_digits
from accel_edu.runtime import to_numpy

np.set_printoptions(precision=4, suppress=True)
BACKENDS = [name for name, a in accel_edu.available_backends().items() if a]
BACKENDS
""")

md(r"""
## An int8 quantizer

A quantizer maps a real number $x$ to one of the 256 integers $-128, \dots, 127$ and back:

$$
q = \operatorname{clamp}\!\left(\operatorname{rint}\!\left(\frac{x}{s}\right) + z,\ -128,\ 127\right),
\qquad \hat x = (q - z)\, s ,
$$

with a **scale** $s > 0$ (the step between neighbouring levels) and a **zero point** $z$ (the
integer that stands for $0.0$). Inside the range, $|x - \hat x| \le s/2$: rounding moves a value
by at most half a step. Outside it, the clamp cuts: the error grows without bound. So the
parameters trade the two kinds of error, and the standard choices ({cite:t}`jacob2018quantization`, the scheme behind TFLite's and PyTorch's int8) are:

- **symmetric**: $s = \max|x| / 127$, $z = 0$. No clamping at all, and $0.0$ is the integer 0.
  Used for weights, which centre on zero; the int8 GEMM below needs it for its second operand.
- **asymmetric**: the range $[\min(x, 0), \max(x, 0)]$ spread over all 256 levels,
  $s = (\mathrm{hi} - \mathrm{lo}) / 255$ and $z = \operatorname{clamp}(\operatorname{rint}(-128 - \mathrm{lo}/s))$.
  The range always holds $0$, so zero padding and a ReLU's zeros are exact. Used for
  activations: a ReLU's outputs are never negative, and a symmetric range would waste half its
  levels on values that never occur.

$\operatorname{rint}$ rounds to the nearest integer and a tie **to the even one**, as NumPy's
`np.rint` and OpenCL's `rint` do (Python's `round` too); $2.5 \to 2$, $3.5 \to 4$. That choice is
part of the definition: a backend that rounded ties away from zero would disagree on exactly
those values.
""")

code(r"""
scale, zero_point = np.array([0.5], np.float32), np.array([3], np.int32)
x = np.array([0.25, 0.75, 1.25, 1.75, -0.75, 100.0, -100.0], np.float32)   # x / s = .5, 1.5, 2.5, 3.5, -1.5, +-200
q = K.quantize_int8(x, scale, zero_point)
print("x / s        ", x / scale)
print("q            ", q)
print("dequantized  ", K.dequantize_int8(q, scale, zero_point))
""")

md(r"""
Each tie went to the even neighbour ($0.5 \to 0$, $1.5 \to 2$, $2.5 \to 2$, $3.5 \to 4$), then
the zero point 3 was added; $\pm 100$ lie far outside the $256 \times 0.5$ wide range and were
clamped to $127$ and $-128$, which read back as $62$ and $-65.5$.

### Per tensor or per channel

One scale for a whole weight matrix is set by its largest value. A row (an output channel)
whose weights are all small then uses only a few of the 256 levels. With one scale **per
output channel** every row uses its whole range. Here are the weights of the first layer of an
MLP trained on the digits, quantized both ways:
""")

code(r"""
digits = load_digits()
mlp = Sequential(Linear(64, 128, seed=1), ReLU(), Linear(128, 10, seed=2), backend="numpy")
train(mlp, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=15, lr=0.1, progress=False)
mlp.eval()
w = mlp.layers[0].params["w"]                          # (128, 64): one row per output channel

errors = {}
for per_channel in (False, True):
    qp = symmetric_qparams(w, per_channel=per_channel)
    w_hat = K.fake_quantize_forward(w, qp.scale, qp.zero_point)
    errors["per channel" if per_channel else "per tensor"] = np.abs(w_hat - w).mean(axis=1)
    print(f"{'per channel' if per_channel else 'per tensor ':<12} scales {qp.scale.shape}, "
          f"mean |w - w_hat| = {np.abs(w_hat - w).mean():.2e}")

order = np.argsort(np.abs(w).max(axis=1))
fig, ax = plt.subplots(figsize=(7, 3))
for name, err in errors.items():
    ax.plot(err[order], label=name)
ax.set_xlabel("output channel, by its max |w|")
ax.set_ylabel("mean |w - w_hat|")
ax.legend()
ax.set_title("Quantization error of each row of the first layer")
plt.tight_layout()
""")

md(r"""
Per tensor, every row has the same step ($\max|w| / 127$ over the whole matrix), so every row
has about the same absolute error, and for the rows with small weights that is a large
relative one. Per channel, the error follows each row's own range and halves on average.
The cost is one float per row, a few hundred bytes.

## One arithmetic, three backends

`numpy_kernels.py` defines the arithmetic to the bit; `numba_kernels.py` and `quantize.cl` do
the same steps in the same order: $1/s$ computed once per channel and multiplied (a multiply
is correctly rounded on every backend, while OpenCL allows a division 2.5 ulp of error),
`rint`, add the zero point, clamp. The OpenCL file says `#pragma OPENCL FP_CONTRACT OFF`,
because OpenCL C may otherwise fuse a multiply and an add into one FMA, rounding once where
NumPy rounds twice. So every backend gives the same integers, not merely close ones:
""")

code(r"""
rng = np.random.default_rng(0)
x = rng.standard_normal((16, 1000)).astype(np.float32)
qp = asymmetric_qparams(x, per_channel=True)
reference = K.quantize_int8(x, qp.scale, qp.zero_point, backend="numpy")
for backend in BACKENDS:
    q = to_numpy(K.quantize_int8(x, qp.scale, qp.zero_point, backend=backend))
    print(f"{backend:<7} identical to NumPy: {np.array_equal(q, reference)}")
from accel_edu.compression import numba_kernels
print(inspect.getsource(numba_kernels._round_clamp.py_func))
print(inspect.getsource(numba_kernels._quantize.py_func))
""")

md(r"""
## The int8 GEMM

A linear layer $y = x W^\top$ with $x \approx s_x (q_x - z_x)$ and $W \approx s_w q_w$
(symmetric, $z_w = 0$) becomes

$$
y_{ij} \approx s_x s_{w,j} \underbrace{\sum_k (q_{x,ik} - z_x)\, q_{w,jk}}_{\text{acc}_{ij},\ \text{integers}} .
$$

All the work is in the integer sum. With $z_w = 0$ the correction term $z_w \sum_k q_{x,ik}$
that an asymmetric weight would add to every output vanishes, which is why weights are
quantized symmetrically.

**Why int32.** Each product $(q_x - z_x) q_w$ can reach $255 \times 128 = 32{,}640$. An int16
accumulator holds at most $32{,}767$: three products of $127 \times 127$ already overflow it and
wrap around to a negative number:
""")

code(r"""
a = np.full((1, 3), 127, np.int8)
b = np.full((3, 1), 127, np.int8)
print("exact     ", 3 * 127 * 127)
print("int32 sum ", int8_accumulate(a, b, acc_dtype=np.int32)[0, 0])
print("int16 sum ", int8_accumulate(a, b, acc_dtype=np.int16)[0, 0], "  (wrapped around: 48387 - 65536)")
""")

md(r"""
An int32 sum is safe for $K \le 2^{31} / 32{,}640 = 65{,}793$ terms whatever the inputs; the
kernel's check refuses a longer $K$ rather than return a wrapped sum.

**Requantization.** To feed the next int8 layer, the int32 sums become int8 again, with the
output's own scale $s_y$ and zero point $z_y$:

$$
\text{out}_{ij} = \operatorname{clamp}\!\big(\operatorname{rint}(\mathrm{float32}(\text{acc}_{ij} + b_j) \cdot m_j) + z_y,\ -128,\ 127\big),
\qquad m_j = \frac{s_x s_{w,j}}{s_y},
$$

with the bias stored as int32 in the accumulator's scale, $b_j = \operatorname{rint}(\text{bias}_j / (s_x s_{w,j}))$.
This is FBGEMM's arithmetic (PyTorch's int8 path on x86): a float32 multiplier, rounded half
to even. gemmlowp and TFLite instead write $m_j$ as an integer times $2^{-n}$, so that a chip
without a floating-point unit can requantize; all three of our backends have one, and the
float version is the one that can be checked by eye. What matters is that it is one exact
recipe: each backend converts the int32 sum to float32 (round to nearest even), multiplies
once, `rint`s, adds, clamps. The first OpenCL kernel, eight rows of one output column per
work-item:
""")

code(r"""
from pathlib import Path
source = Path(inspect.getfile(numba_kernels)).with_name("int8_gemm.cl").read_text()
print(source.split("#pragma OPENCL FP_CONTRACT OFF")[1].split("/* Step 2")[0].strip())
""", hide=True)

code(r"""
rng = np.random.default_rng(1)
a = rng.integers(-128, 128, (37, 1500)).astype(np.int8)      # K = 1500: sums far past int16
b = rng.integers(-128, 128, (1500, 70)).astype(np.int8)
bias = rng.integers(-5000, 5000, 70).astype(np.int32)
multiplier = rng.uniform(1e-5, 1e-4, 70).astype(np.float32)  # per output channel

exact = (a.astype(np.int64) + 5) @ b.astype(np.int64) + bias   # int64: cannot overflow
for backend in BACKENDS:
    acc = to_numpy(K.int8_gemm(a, b, -5, bias, backend=backend))
    out = to_numpy(K.int8_gemm(a, b, -5, bias, multiplier, 3, backend=backend))
    want = K.int8_gemm(a, b, -5, bias, multiplier, 3, backend="numpy")
    print(f"{backend:<7} int32 sums exact: {np.array_equal(acc, exact)}   "
          f"int8 outputs identical to NumPy: {np.array_equal(out, want)}")
print("largest |sum|:", np.abs(exact).max(), " outputs span", want.min(), "to", want.max())
""")

md(r"""
### Is int8 faster here?

On paper int8 should win: four times as many values per SIMD register as float32, and a
quarter of the memory traffic. Whether it does depends on instructions. x86 CPUs with VNNI
(`vpdpbusd`) multiply 64 int8 pairs and add them into int32 in one instruction; without
it, each int8 must be widened to 32 bits first, and an integer multiply-add is then no cheaper
than a float32 one. Our kernels are plain loops: neither Numba nor PoCL turns them into VNNI.
The cell below times C = A B at M = N = K = 512 side by side: OpenBLAS's float32 GEMM, our
Numba float32 GEMM (chapter 1's ladder), and our int8 GEMM (int32 output) on Numba, in int32
loops and in float32 lanes (below), and on OpenCL.
""")

code(r"""
from accel_edu.compression.int8_bench import int8_vs_float32

for row in int8_vs_float32(size=512, repeat=3):
    print(f"{row['name']:<32} {row['median_s'] * 1e3:8.2f} ms  {row['gops']:6.1f} GOP/s  "
          f"{row['ratio_to_openblas']:.2f}x OpenBLAS")
""", ignore_output=True)

md(r"""
On this machine the answer is no, and the measurement says why. In the run recorded on the
idle machine (`benchmarks/results/compression-2026-12-02.json`, printed at the end of this
chapter) at $n = 1024$, OpenBLAS and our Numba float32 GEMM both ran at 177 GFLOP/s, and our
int8 GEMMs at 70 to 81 GOP/s: int8 at 0.4 to 0.46 times float32's speed (0.35 to 0.39 times
OpenBLAS at $n = 512$). The live figures above come from whatever else the machine is doing;
OpenBLAS's swing most with load (4 to 59 GFLOP/s while other jobs shared the cores). The int32 loop is
the float chapter's *row-streaming* loop (step 2 of its ladder) on widened integers, with no
register tile, and without VNNI nothing makes up for that.

The OpenCL kernel climbs a ladder of its own (`int8_gemm.cl`): one work-item per output
column (4 to 8 GOP/s here), then a tile of 8 rows by 16 columns of int32 sums in registers
per work-item (9 to 20), then the same tile **summed in float32** (12 to 46; these three
ranges were measured on a busy machine, and the recorded run gives the last step 77 GOP/s at
$n = 1024$). The last step is
exact, not an approximation: a product $(q_x - z_x) q_w$ is an integer of at most $32{,}640$,
a sum of 512 of them stays below $2^{24}$, and float32 holds every integer below $2^{24}$
exactly; so the kernel adds 512 steps of $k$ in float32, converts the block's sums to int32
and moves on, with the same bits as the integer tile. The Numba version of the same idea,
`int8_gemm_float_lanes`, converts the operands to float32 and calls chapter 1's float GEMM on
blocks of 512 columns of $A$: 35 to 78 GOP/s here, 1.3 to 2.3 times its int32 loops, at the
price of four bytes per operand. That it is faster is measured, not promised; the likely
reason is that the float units are this CPU's widest path (the hardware chapter's peak), while
a 32-bit integer vector multiply (`vpmulld`) is one of its slower instructions. On a CPU
without int8 instructions, the fastest exact int8 GEMM may well run on the float units.

Int8 pays on a CPU through libraries written for its instructions (FBGEMM, oneDNN) and, above
all, on accelerators whose int8 peak is twice their 16-bit one (H100, A100, MI300X: the
hardware chapter's table). What int8 gives everywhere is the memory: a quarter of the bytes
to store and to move.

## Post-training quantization

`quantize_model` turns a trained float model into an int8 one without training again
(static PTQ). It runs the model on a few hundred training rows (*calibration*), records each
Linear layer's input and output range, and replaces each Linear with a `QuantizedLinear`
(and each Conv2d with a `QuantizedConv2d`, the same GEMM over im2col's columns):
int8 weights per output channel, an int32 bias, the per-channel multipliers $m_j$. At
inference each layer quantizes its input, runs the int8 GEMM with requantization, and
dequantizes its int8 output for the float ReLU that follows.
""")

code(r"""
float_accuracy = accuracy(mlp, digits.x_test, digits.y_test)
rows = [("float32", float_accuracy, model_nbytes(mlp))]
for backend in BACKENDS:
    int8_model = quantize_model(mlp, digits.x_train[:256], backend=backend)
    rows.append((f"int8 on {backend}", accuracy(int8_model, digits.x_test, digits.y_test), model_nbytes(int8_model)))
print(f"{'model':<16} {'test accuracy':>13} {'bytes':>7}")
for name, acc, size in rows:
    print(f"{name:<16} {acc:13.4f} {size:7d}")
""")

md(r"""
The int8 model classifies the test digits as well as the float one, at 28% of its size (one
byte per weight, plus an int32 bias and a float32 multiplier per output channel), and all
three backends give the same predictions because every step in between is exact integer
arithmetic. A model this small, on inputs this simple, has room to spare; larger models
lose a little more, and the layers that lose most (often the first and the last) are then kept
in float.

## Quantization-aware training

When PTQ costs too much accuracy, the model can be trained *through* the rounding: each
forward pass uses fake-quantized weights and inputs, $\hat w = \operatorname{fq}(w) = (q(w) - z) s$
in float, so the loss sees the error int8 will make. But $\operatorname{rint}$ is a staircase:
its derivative is 0 almost everywhere, and no gradient would reach $w$. The
**straight-through estimator** {cite:p}`bengio2013estimating` takes the staircase's
derivative to be 1 inside the range and 0 where the clamp cuts:

$$
\frac{\partial \operatorname{fq}(x)}{\partial x} \approx
\begin{cases} 1 & -128 \le \operatorname{rint}(x/s) + z \le 127 \\ 0 & \text{otherwise.} \end{cases}
$$

`prepare_qat` swaps every Linear (and Conv2d) for its QAT twin with the same weights; the
float weights remain the master copy the optimizer updates. Here, three epochs of fine-tuning
and then the same PTQ step:
""")

code(r"""
x_demo = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0]], np.float32)
demo = symmetric_qparams(np.array([1.0], np.float32))            # range [-1, 1] in steps of 1/127
print("STE gradient of fq at", x_demo[0], ":",
      K.fake_quantize_backward(np.ones_like(x_demo), x_demo, demo.scale, demo.zero_point)[0])

qat = prepare_qat(mlp)
history = train(qat, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=3, lr=0.02,
                progress=False, x_test=digits.x_test, y_test=digits.y_test)
int8_after_qat = quantize_model(qat, digits.x_train[:256])
print("QAT test accuracy by epoch:", np.round(history.test_accuracy, 4))
print(f"after QAT, as int8: {accuracy(int8_after_qat, digits.x_test, digits.y_test):.4f}")
""")

md(r"""
The STE passes the gradient for $-0.5, 0, 0.5$ and cuts it for $\pm 3$, which the clamp
moved to $\pm 1$. On these digits PTQ lost nothing, so QAT has nothing to win back (it ends
one test image away, 0.9248 against 0.9276); it matters
for the models and bit widths where PTQ does lose accuracy (4 bits, or networks with
outlier activations), and it costs a training run.

""")

md(r"""
## Pruning

A trained network has many weights close to zero, and setting them to exactly zero changes
its outputs little. **Magnitude pruning** {cite:p}`han2015learning` removes the weights of
smallest $|w|$ and keeps a **mask** per weight (1 kept, 0 pruned), so that fine-tuning can then
train the survivors while the pruned ones stay at zero. Two choices define a pruning:

- **unstructured**, weight by weight: one threshold on $|w|$ for the whole model (*global*:
  a layer full of small weights loses more of them) or the same fraction in every layer
  (*per layer*);
- **structured**, whole output neurons (rows of a Linear's $w$, filters of a Conv2d) of
  smallest L1 norm $\sum_k |w_{jk}|$ or L2 norm $\sqrt{\sum_k w_{jk}^2}$, bias included. The last
  layer is kept whole: its outputs are the classes.

Global pruning of the digits MLP at 90% does not prune its two layers alike:
""")

code(r"""
from accel_edu.compression import (MaskedOptimizer, SparseLinear, apply_masks, channel_masks,
                                   magnitude_masks, sparsify, sparsity_report, CSRMatrix)
from accel_edu.compression.compare import accuracy_vs_sparsity, remove_pruned_neurons
import copy

for scope in ("global", "layer"):
    pruned = copy.deepcopy(mlp)
    apply_masks(pruned, magnitude_masks(pruned, 0.9, scope))
    report = sparsity_report(pruned)
    print(f"{scope:<6} zeros per layer {np.round(report['layers'], 3)}, overall {report['overall']:.3f}, "
          f"test accuracy {accuracy(pruned, digits.x_test, digits.y_test):.4f}")
""")

md(r"""
The first layer (64 inputs $\times$ 128 neurons) holds 87% of the weights and most of the small ones,
so a global threshold takes more there and spares the classifier layer, which has fewer
weights and needs them more. Now the whole curve: every kind of pruning at 50% to 98%,
measured on the test set straight after pruning, and again after two epochs of fine-tuning
with the masks held (`MaskedOptimizer` applies them after every SGD step). For the structured
kinds, the sparsity is the fraction of hidden neurons removed.
""")

code(r"""
SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
curves = {kind: accuracy_vs_sparsity(mlp, digits.x_train, digits.y_train, digits.x_test, digits.y_test,
                                     SPARSITIES, kind=kind, fine_tune_epochs=2, lr=0.05)
          for kind in ("global", "layer", "l1", "l2")}
print(f"float32, unpruned: {float_accuracy:.4f}")
print(f"{'sparsity':>8}  " + "  ".join(f"{k + ' / tuned':>15}" for k in curves))
for i, sparsity in enumerate(SPARSITIES):
    print(f"{sparsity:8.2f}  " + "  ".join(f"{c[i]['accuracy']:6.3f} / {c[i]['fine_tuned']:6.3f}" for c in curves.values()))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, kinds, title in ((axes[0], ("global", "layer"), "unstructured (weights)"),
                         (axes[1], ("l1", "l2"), "structured (hidden neurons)")):
    for kind, colour in zip(kinds, ("C0", "C1")):
        ax.plot(SPARSITIES, [r["accuracy"] for r in curves[kind]], "--o", color=colour, label=f"{kind}, pruned")
        ax.plot(SPARSITIES, [r["fine_tuned"] for r in curves[kind]], "-o", color=colour, label=f"{kind}, fine-tuned")
    ax.axhline(float_accuracy, color="grey", lw=0.8)
    ax.set_xlabel("sparsity")
    ax.set_title(title)
    ax.legend(fontsize=8)
axes[0].set_ylabel("test accuracy")
plt.tight_layout()
""")

md(r"""
Read the two panels together. Unstructured pruning keeps the accuracy to high sparsity,
because it removes only the weights that matter least anywhere in the model: straight after
global pruning the MLP still scores 0.889 at 90% sparsity. Per layer falls sooner (0.702 at
90%), because it forces the small classifier layer to lose as much as the large first one.
Two epochs of fine-tuning win back most of what pruning lost (0.922 at 90% for both, 0.891
and 0.788 at 95%), up to the point where too few weights remain to hold the function (about
0.6 at 98%). At 50% there is nothing to win back, and the two extra epochs moved the test
accuracy by a couple of images. Structured pruning removes whole neurons, good weights with
the bad, and falls much sooner: 0.39-0.41 at 90% of the neurons before fine-tuning, 0.84-0.87
after. Neither L1 nor L2 ranks the neurons consistently better here.

### Zeros in a dense matrix are not a speed-up

A pruned weight matrix stored densely still holds all its zeros, and a dense GEMM multiplies
by every one of them: $2MKN$ operations whatever $W$ holds. The cell below times the same
product with a dense matrix and with its 90%-pruned copy, stored densely:
""")

code(r"""
from accel_edu.bench.timing import interleaved_medians
from accel_edu.compression.sparsity_bench import random_sparse

rng = np.random.default_rng(0)
w_dense = rng.standard_normal((1024, 1024)).astype(np.float32)
w_zeros = random_sparse(1024, 1024, 0.9, seed=0)
x_batch = rng.standard_normal((1024, 64)).astype(np.float32)
times = interleaved_medians({"dense W": (lambda: w_dense @ x_batch, None),
                             "90% zeros, stored dense": (lambda: w_zeros @ x_batch, None)}, repeat=7)
for name, t in times.items():
    print(f"{name:<24} {t * 1e3:7.2f} ms")
""", ignore_output=True)

md(r"""
The two take the same time, up to the noise of a shared machine: OpenBLAS does not look at the
values it multiplies. The zeros save time only in a format that does not store them, and
memory only when the format's overhead is smaller than the zeros it drops. Structured pruning
needs no format at all: a hidden neuron whose row of $w_1$ is zero (bias too) outputs
$\operatorname{relu}(0) = 0$, so that row and the matching column of $w_2$ can be cut out,
leaving a smaller dense layer that is faster on any hardware:
""")

code(r"""
neurons = copy.deepcopy(mlp)
apply_masks(neurons, channel_masks(neurons, 0.5, "l1"))
smaller = remove_pruned_neurons(neurons)
print([layer.params["w"].shape for layer in smaller.layers if layer.params])
print("same outputs as the masked model:", np.allclose(smaller.forward(digits.x_test), neurons.forward(digits.x_test), atol=1e-5))
""")

md(r"""
## Sparse kernels: CSR

**Compressed sparse row** (CSR) stores an $M \times K$ matrix with $\mathrm{nnz}$ nonzeros as three
arrays: `data`, the nonzero values read row by row; `indices`, the column of each; and
`indptr`, $M + 1$ offsets, so that row $i$ is `data[indptr[i]:indptr[i+1]]`. A small example,
drawn:
""")

code(r"""
small = np.array([[5, 0, 0, 1, 0, 0],
                  [0, 0, 0, 0, 0, 0],
                  [0, 2, 0, 0, 3, 4],
                  [0, 0, 7, 0, 0, 0]], np.float32)
csr = CSRMatrix.from_dense(small)
print(csr)
print("indptr ", csr.indptr)
print("indices", csr.indices)
print("data   ", csr.data)

fig, ax = plt.subplots(figsize=(7, 3.2))
ax.imshow(small != 0, cmap="Blues", vmin=0, vmax=1.6)
for (i, j), v in np.ndenumerate(small):
    ax.text(j, i, f"{v:g}", ha="center", va="center", color="black" if v else "0.7")
for i in range(small.shape[0]):
    ax.text(6.0, i, f"row {i}: data[{csr.indptr[i]}:{csr.indptr[i + 1]}]", va="center", fontsize=9)
ax.set_xlim(-0.5, 9.5)
ax.set_xticks(range(6))
ax.set_yticks(range(4))
ax.set_title("stored: data = " + str(csr.data.astype(int).tolist()) + ",  indices = " + str(csr.indices.tolist()),
             fontsize=9)
plt.tight_layout()
""")

md(r"""
Row 1 is empty: `indptr[1] = indptr[2] = 2`. The product $y = Ax$ visits only the stored
values, $2\,\mathrm{nnz}$ operations in place of $2MK$, but each value brings a 4-byte index
and a **gather** $x[\text{indices}[p]]$ from wherever its column is, and rows of different
lengths give threads unequal work. In bytes, CSR costs 8 per stored float32 (value and index)
against 4 per entry dense: it is smaller only below 50% density.

The Numba kernels: SpMV walks a row's run of values; SpMM does the same, and for each stored
value adds a whole row of $B$ into a row of $C$, a contiguous loop the compiler vectorises:
""")

code(r"""
print(inspect.getsource(numba_kernels._csr_spmv.py_func))
print(inspect.getsource(numba_kernels._csr_spmm.py_func))
""")

md(r"""
The OpenCL SpMM (`csr.cl`) gives one work-item a row of $A$ and 16 columns of $B$: each stored
value and its index are loaded once for 16 multiply-adds kept in registers. All three backends
agree with the dense product:
""")

code(r"""
a_sparse = random_sparse(300, 200, 0.9, seed=2)
a_csr = CSRMatrix.from_dense(a_sparse)
x_vec = rng.standard_normal(200).astype(np.float32)
b_mat = rng.standard_normal((200, 37)).astype(np.float32)
for backend in BACKENDS:
    y = to_numpy(a_csr.matvec(x_vec, backend=backend))
    c = to_numpy(a_csr.matmul(b_mat, backend=backend))
    print(f"{backend:<7} SpMV max error {np.abs(y - a_sparse @ x_vec).max():.1e}   "
          f"SpMM max error {np.abs(c - a_sparse @ b_mat).max():.1e}")
""")

md(r"""
### Where does sparse beat dense here?

The cell below times, for $A$ of $1024 \times 1024$ at 50% to 99% sparsity times a dense
$B$ of $1024 \times 64$ (a batch of 64 inputs through a pruned layer): OpenBLAS's dense
product (zeros included), chapter 1's Numba dense GEMM, and our CSR SpMM on Numba and OpenCL.
These are live timings on a machine shared with other work, so they vary from run to run;
the recorded run below them is the one to read.
""")

code(r"""
from accel_edu.compression.sparsity_bench import spmm_vs_dense

live = spmm_vs_dense(1024, 1024, 64, sparsities=(0.5, 0.7, 0.8, 0.9, 0.95, 0.99), repeat=3,
                     min_seconds=0.02, settle=0.05)
LABELS = {"dense_s": "dense, OpenBLAS", "dense_numba_s": "dense, Numba GEMM",
          "numba_s": "CSR SpMM, Numba", "opencl_s": "CSR SpMM, OpenCL"}

def plot_spmm(rows, title):
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for key, label in LABELS.items():
        if key in rows[0]:
            ax.plot([r["sparsity"] for r in rows], [r[key] * 1e3 for r in rows], "-o", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("sparsity of A")
    ax.set_ylabel("ms per product")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    plt.tight_layout()

for r in live:
    print(f"sparsity {r['sparsity']:.2f}: dense OpenBLAS {r['dense_s'] * 1e3:6.2f} ms; " +
          ", ".join(f"{b} CSR x{r[b + '_speedup']:.2f}" for b in ("numba", "opencl") if b + "_speedup" in r))
plot_spmm(live, "live, (1024, 1024) x (1024, 64), shared machine: variable")
""", ignore_output=True)

code(r"""
import json
from pathlib import Path
RESULTS = Path(accel_edu.__file__).parents[1] / "benchmarks" / "results"
recorded = sorted(RESULTS.glob("compression-????-??-??*.json"))
if recorded:
    record = json.loads(recorded[-1].read_text())
    sp = record["spmm_vs_dense"]
    print(f"recorded: {recorded[-1].name}, ({sp['m']}, {sp['k']}) x ({sp['k']}, {sp['n']})")
    for r in sp["rows"]:
        print(f"  sparsity {r['sparsity']:.2f}: dense OpenBLAS {r['dense_s'] * 1e3:7.2f} ms; " +
              ", ".join(f"{b} CSR x{r[b + '_speedup']:.2f}" for b in ("numba", "opencl") if b + "_speedup" in r))
    plot_spmm(sp["rows"], f"recorded {recorded[-1].stem}")
    for size, rows in record["int8_vs_float32"].items():
        print(f"int8 GEMM, M = N = K = {size}: " + ", ".join(
            f"{r['name']} {r['ratio_to_openblas']:.2f}x OpenBLAS" for r in rows[1:]))
else:
    print("No compression benchmark is recorded in benchmarks/results yet. On an idle machine, "
          "`python benchmarks/compression.py` records one (compression-<date>.json: the int8 GEMM "
          "against float32 and this sparse-against-dense sweep at (2048, 2048) x (2048, 64)), "
          "and this cell then plots it.")
""", ignore_output=True)

md(r"""
What decides the crossing is arithmetic against efficiency. At density $d = 1 - \text{sparsity}$
the CSR product does a fraction $d$ of the dense one's work, but at a much lower rate: OpenBLAS
runs its GEMM near the machine's peak from register tiles fed by the caches, while each stored
value of CSR costs an index load and a gather from a row of $B$ that is not the next one. If
the sparse kernel runs at a fraction $e$ of the dense kernel's FLOP/s, sparse wins when
$d < e$. On an idle machine OpenBLAS's GEMM is fast, so $e$ is small and CSR needs high
sparsity to win: in the recorded run, OpenCL's CSR SpMM broke even with OpenBLAS at 70%
sparsity and Numba's between 80% and 90%, and at 99% they ran 14 and 11 times faster. Against a dense GEMM from the
same compiler (our Numba GEMM, which is slower than OpenBLAS) the crossing comes at lower
sparsity. While other jobs share the cores, OpenBLAS's threads collapse far more than ours, and
the live figures above flatter the sparse kernels: they are not a result. Pruned networks on
GPUs face the same arithmetic with a larger gap, which is why hardware support for a fixed
pattern (2 of every 4 weights zero, as on NVIDIA's Ampere and later) exists.

The layer itself: `sparsify` replaces each Linear of a pruned model with a `SparseLinear` that
stores its weight as CSR and runs the SpMM, with the same outputs as the masked dense model:
""")

code(r"""
pruned90 = copy.deepcopy(mlp)
masks90 = magnitude_masks(pruned90, 0.9, "global")
apply_masks(pruned90, masks90)
train(pruned90, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=2,
      optimizer=MaskedOptimizer(accel_edu.backprop.SGD(pruned90.parameters(), 0.05), pruned90, masks90),
      progress=False)
pruned90.eval()
for backend in BACKENDS:
    sparse_model = sparsify(pruned90).to(backend)
    same = np.allclose(to_numpy(sparse_model.forward(digits.x_test)), pruned90.forward(digits.x_test), atol=1e-4)
    print(f"{backend:<7} same outputs as the masked dense model: {same}")
print(sparse_model.layers[0], f"{model_nbytes(sparsify(pruned90))} bytes against {model_nbytes(pruned90)} dense")
""")

md(r"""
## Knowledge distillation

A small **student** network can learn from a trained **teacher** more than the labels tell it
{cite:p}`hinton2015distilling`: the teacher's output for an image of a 3 says not only "3" but
how much it resembles an 8 or a 5. Those small probabilities are nearly invisible in a
softmax, so both networks' logits are divided by a **temperature** $T > 1$ first:
$p^T = \operatorname{softmax}(z / T)$. For student logits $s$, teacher logits $t$ and a label $y$,

$$
L = \alpha\, T^2\, \mathrm{KL}\!\left(p_t^T \,\|\, p_s^T\right) + (1 - \alpha)\, \mathrm{CE}\!\left(\operatorname{softmax}(s), y\right).
$$

**Why $T^2$.** The gradient of $\mathrm{KL}(p_t^T \| p_s^T)$ with respect to the student's logits
is $\frac{1}{T}(p_s^T - p_t^T)$: softmax's gradient, times the $1/T$ of the chain rule. For
large $T$, $p^T \approx \frac{1}{C}\big(1 + (z - \bar z)/T\big)$, so $p_s^T - p_t^T \approx
\frac{1}{CT}(s - t)$ up to the row means, and the soft gradient shrinks like $1/T^2$. Multiplying by
$T^2$ keeps it on the scale of the hard term's at every temperature, so $\alpha$ means the
same whatever $T$ is. Measured on random logits:
""")

code(r"""
from accel_edu.compression import DistillationLoss

s_logits = rng.standard_normal((256, 10)).astype(np.float32)
t_logits = 3 * rng.standard_normal((256, 10)).astype(np.float32)
labels = rng.integers(0, 10, 256)
for T in (1, 2, 4, 8, 16):
    loss = DistillationLoss(temperature=T, alpha=1.0)
    loss(s_logits, t_logits, labels)
    grad = np.abs(loss.backward()).sum()
    print(f"T = {T:>2}: |gradient| with T^2 {grad:.4f},  without T^2 {grad / T ** 2:.6f}")
""")

md(r"""
With $T^2$ the gradient settles to a constant as $T$ grows; without it, it falls by 4x for
every doubling of $T$.

### Does it help?

The teacher is the 64-128-10 MLP trained above. First the setting where the students have
everything: all 1438 training labels, a 64-8-10 student (1/16 of the teacher's hidden units),
10 epochs, trained twice on the same batches, on the labels alone and by distillation:
""")

code(r"""
from accel_edu.compression.compare import distilled_vs_labels

def student(hidden, seed=3):
    return lambda: Sequential(Linear(64, hidden, seed=seed), ReLU(), Linear(hidden, 10, seed=seed + 1), backend="numpy")

print(f"teacher: {float_accuracy:.4f}")
for T, alpha in ((2, 0.5), (4, 0.9)):
    runs = distilled_vs_labels(mlp, student(8), digits.x_train, digits.y_train, digits.x_test, digits.y_test,
                               epochs=10, lr=0.3, temperature=T, alpha=alpha)
    print(f"64-8-10, all labels, T = {T}, alpha = {alpha}: labels only {runs['labels'].test_accuracy[-1]:.4f}, "
          f"distilled {runs['distilled'].test_accuracy[-1]:.4f}")
""")

md(r"""
No gain (one test image of 359 is 0.0028): with 1438 clean labels of an easy task, the labels
already say what the student can learn, and the teacher, itself only 93% right, adds its own
mistakes. Other settings we tried, in runs not kept in this notebook, said the same: with a
teacher trained for 40 epochs (0.942), a 64-8-10 student reached 0.897 on labels and 0.900,
0.897, 0.880 distilled at $T = 2, 4, 8$; a 64-4-10 student, a larger gap, 0.802 on labels and
0.819, 0.780, 0.716 distilled; with 300 labels, a 64-16-10 student lost with distillation
(0.900 against 0.922).

Distillation helped when the labels were few: the teacher, trained on all the data, then passes
on what the student's own labels cannot show. Here each student sees only the first 100
training images (4 to 14 per class), for 100 epochs; a 64-16-10 student, the same teacher, and
two initialisations of the student:
""")

code(r"""
few = 100
few_runs = {}
for seed in (3, 13):
    few_runs[seed] = distilled_vs_labels(mlp, student(16, seed), digits.x_train[:few], digits.y_train[:few],
                                         digits.x_test, digits.y_test, epochs=100, lr=0.3,
                                         temperature=4, alpha=0.9, seed=seed, return_models=True)
    print(f"student seed {seed}: labels only {few_runs[seed]['labels'].test_accuracy[-1]:.4f}, "
          f"distilled {few_runs[seed]['distilled'].test_accuracy[-1]:.4f}  (T = 4, alpha = 0.9, {few} labels)")

fig, ax = plt.subplots(figsize=(7, 3.5))
for seed, style in zip(few_runs, ("-", ":")):
    for kind, colour in (("labels", "C0"), ("distilled", "C1")):
        ax.plot(few_runs[seed][kind].epoch, few_runs[seed][kind].test_accuracy, style, color=colour,
                label=f"{kind}, seed {seed}")
ax.axhline(float_accuracy, color="grey", lw=0.8, label="teacher")
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_title(f"64-16-10 student, {few} training labels")
ax.legend(fontsize=8)
plt.tight_layout()
""")

md(r"""
Both students gain (0.852 to 0.869, 0.850 to 0.875), and the curves show the distilled ones
above the labels-only ones from about epoch 50 on, not only at the end (before that they
cross back and forth). With 100 images the
test accuracy moves a point or two from epoch to epoch, so one run's last epoch is a noisy
measure. The temperature: the same 100-label run, student seed 3, for $T = 1$ to $8$
($\alpha = 0.9$ throughout; $T = 1$ is the teacher's plain probabilities):
""")

code(r"""
for T in (1, 2, 4, 8):
    run = distilled_vs_labels(mlp, student(16), digits.x_train[:few], digits.y_train[:few], digits.x_test,
                              digits.y_test, epochs=100, lr=0.3, temperature=T, alpha=0.9, seed=3)
    print(f"T = {T}: distilled {run['distilled'].test_accuracy[-1]:.4f}  (labels only {run['labels'].test_accuracy[-1]:.4f})")
""")

md(r"""
Every temperature beat the labels alone (0.852) here, from 0.869 at $T = 4$ to 0.908 at
$T = 2$; given the epoch-to-epoch noise, this run ranks no temperature reliably above the others.
Even $T = 1$ helps: the teacher's probabilities on 100 images carry more than their 100 labels.

## Every technique, side by side

One table: the digits MLP as trained (float32), quantized after training and after QAT,
pruned by magnitude to 50% (stored dense, zeros and all) and to 90% (stored and run as CSR),
and with half its hidden neurons removed (a smaller dense model); and the 64-16-10 student of
the last section, trained on 100 labels alone and distilled from this MLP on the same 100
images (student seed 3). Every pruned model was
fine-tuned for two epochs with its masks. Bytes are what each model stores (`model_nbytes`);
the time is one forward pass over 256 test images, timed in turn with the others (interleaved
medians), each on the backend named. At this size a forward pass is a few small GEMMs, so
times are dominated by per-call overheads, and the machine is shared: read the times as
loaded and variable.
""")

code(r"""
from accel_edu.compression.compare import size_accuracy_speed

def fine_tuned(kind, sparsity):
    model = copy.deepcopy(mlp)
    masks = channel_masks(model, sparsity, kind) if kind == "l1" else magnitude_masks(model, sparsity, kind)
    apply_masks(model, masks)
    train(model, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=2, progress=False,
          optimizer=MaskedOptimizer(accel_edu.backprop.SGD(model.parameters(), 0.05), model, masks))
    return model.eval()

fast = "numba" if "numba" in BACKENDS else "numpy"
models = {
    "float32": mlp,
    "PTQ int8": quantize_model(mlp, digits.x_train[:256], backend=fast),
    "QAT int8": quantize_model(qat, digits.x_train[:256], backend=fast),
    "pruned 50%, dense": fine_tuned("global", 0.5),
    "pruned 90%, CSR": sparsify(pruned90).to(fast),
    "50% neurons removed": remove_pruned_neurons(fine_tuned("l1", 0.5)),
    "student, 100 labels": few_runs[3]["models"]["labels"],
    "student, distilled": few_runs[3]["models"]["distilled"],
}
table = size_accuracy_speed(models, digits.x_test, digits.y_test, batch=256, repeat=7)
print(f"{'model':<22} {'backend':<8} {'bytes':>7} {'of float32':>10} {'accuracy':>9}")
for row in table:
    print(f"{row['name']:<22} {row['backend']:<8} {row['bytes']:7d} {row['bytes'] / table[0]['bytes']:10.2f} "
          f"{row['accuracy']:9.4f}")
""")

code(r"""
print(f"{'model':<22} {'ms per 256 images':>18}   (loaded, shared machine: variable)")
for row in table:
    print(f"{row['name']:<22} {row['batch_ms']:18.3f}")
""", ignore_output=True)

md(r"""
Bytes and accuracy are exact and repeat on every run. PTQ and QAT keep the accuracy at 28% of
the bytes; 90% unstructured pruning stored as CSR keeps 0.922 at 23% (8 bytes per stored value
and an indptr, on 9.3% of the weights); removing half the hidden neurons keeps 0.916 at half
the bytes, with no special format. The times are another matter: on the shared machine they
are not a result. In two runs made while writing, one after the other, float32's forward pass
took 1.4 and 8.0 ms, the int8 models 2.4 and 1.2 ms, the halved model 0.7 and 8.2 ms: the
ranking turned over with the load, which lands hardest on OpenBLAS's threads (the float32,
pruned-dense and halved models run on NumPy). At this size a forward pass is a few GEMMs of
64 to 128 features, where per-call costs (and, for int8, quantizing every layer's input and
dequantizing its output) weigh as much as the products, so even an idle machine's times here
would say little about a large model; the int8 and sparse sections above measure the large
products, and `benchmarks/compression.py` records them on an idle machine.

The two students take an eighth of the teacher's bytes; on 100 labels the teacher's soft
outputs closed part of the gap to it (0.852 to 0.869 for this student; the other seed and the
temperatures above did better), at the price of a teacher to train first, on all the data.
""")

md(r"""
## Summary

- A quantizer is a scale and a zero point: $q = \operatorname{clamp}(\operatorname{rint}(x/s) + z)$.
  Symmetric ($s = \max|x|/127$, $z = 0$) for weights, asymmetric (min/max over 256 levels,
  holding 0) for activations; per output channel, the error of each row follows its own range.
- The int8 GEMM sums $(q_x - z_x) q_w$ in int32 (int16 overflows after three products) and
  requantizes with a float32 multiplier, rounded half to even, then clamped. Defined to the bit,
  it gives identical integers on NumPy, Numba and OpenCL. Here it is not faster than float32:
  without VNNI, widened int8 lanes do a float32's work. It is four times smaller.
- PTQ (calibrate, quantize per channel, int32 bias) kept the digits MLP's accuracy at 28% of
  its bytes; QAT trains through the rounding with the straight-through estimator when PTQ does not.
- Magnitude pruning keeps accuracy to high sparsity, more so globally than per layer and more
  so after fine-tuning with the masks held; structured pruning loses accuracy sooner but leaves a
  smaller dense model, faster anywhere.
- Zeros in a dense matrix cost as much as any other value. CSR skips them at the price of an
  index and a gather per value, and beats a dense GEMM only when the density is below the
  sparse kernel's efficiency relative to the dense one: high sparsity against OpenBLAS.
- Distillation trains a student on a teacher's softened outputs, $T^2$ keeping the soft
  gradient's scale. On the digits it did not help a student with all the labels, and helped
  clearly with 100 labels.

**Exercises.** `exercises/07_compression.ipynb` asks you to write quantize and dequantize, the
int8 GEMM, magnitude pruning and the distillation loss; `accel-edu grade` scores them (see
{doc}`exercises_and_grading`). The works cited are listed at the end of the {doc}`introduction <intro>`.
""")

write("07_compression.ipynb")

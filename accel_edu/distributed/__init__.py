"""Chapter 8, parallel and distributed training: data parallelism, allreduce, pipelines, costs.

Everything that talks to MPI takes an mpi4py communicator and runs inside a launched job;
nothing here imports mpi4py at import time, so ``import accel_edu`` never needs MPI. A
notebook (or a test) stays one process and launches jobs with :func:`run_mpi`:

>>> from accel_edu.distributed import run_mpi
>>> records = run_mpi("accel_edu.distributed.workers.allreduce_timing", n=2)  # doctest: +SKIP

- :mod:`.allreduce`      ring allreduce from point-to-point messages; MPI_Allreduce beside it
- :mod:`.timing`         the two timed side by side over message sizes
- :mod:`.data_parallel`  shard the batch, average the gradients, identical replicas
- :mod:`.schedule`       pipeline schedules (GPipe, 1F1B) as plain data, no MPI needed
- :mod:`.pipeline`       a Sequential split by layers over ranks, executed by a schedule
- :mod:`.cost_model`     alpha-beta model of allreduce: fit, predict scaling
- :mod:`.launch`         run_mpi: mpiexec as a subprocess with a time limit
- :mod:`.rank`           per-rank status, watchdog and the result line
- ``workers/``           the jobs run_mpi launches (``python -m accel_edu.distributed.workers.X``)
"""
import importlib

# Names load their module on first use (PEP 562): a job that only runs an allreduce on a
# few busy cores then never pays for importing the backprop chapter (and Numba) on every rank.
_EXPORTS = {
    "allreduce": ["chunk_bounds", "mpi_allreduce", "ring_allreduce"],
    "cost_model": ["allreduce_time", "data_parallel_speedup", "fit_alpha_beta", "predict_scaling"],
    "data_parallel": ["average_gradients", "broadcast_parameters", "data_parallel_train",
                      "flatten_gradients", "shard", "unflatten_gradients"],
    "launch": ["MPIRunError", "MPIUnavailable", "find_mpiexec", "mpiexec_command", "run_mpi"],
    "pipeline": ["PipelineRun", "measured_bubble", "run_pipeline", "split_sequential"],
    "schedule": ["Step", "bubble_fraction", "gpipe_orders", "ideal_bubble_fraction", "makespan",
                 "one_f_one_b_orders", "peak_activations", "pipeline_schedule", "timed_schedule"],
    "timing": ["time_allreduce"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)

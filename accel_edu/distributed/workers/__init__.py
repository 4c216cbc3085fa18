"""Jobs for :func:`accel_edu.distributed.run_mpi`: ``python -m accel_edu.distributed.workers.<name>``.

Each runs on every rank and ends with ``worker_main(main)``: rank 0 prints the result as JSON.

- ``allreduce_timing``  ring vs MPI_Allreduce over message sizes (records for the plot and the fit)
- ``data_parallel``     data-parallel SGD against one process on the full batch
- ``model_parallel``    a network split by layers over the ranks against the unsplit network
- ``pipeline_bubble``   the executed pipeline's idle fraction against (p - 1) / (m + p - 1)
"""

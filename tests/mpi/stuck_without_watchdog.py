"""A deadlocked job with no watchdog (test data for tests/test_distributed_launch.py, not a test).

It never calls accel_edu.distributed.rank's helpers, so only run_mpi's own time limit can
end it: the launcher must kill mpiexec and its ranks and say the ranks never reported.
"""
import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
if comm.Get_rank() == 1:
    comm.Recv(np.empty(1), source=0, tag=7)  # rank 0 never sends

"""A deliberately deadlocked job (test data for tests/test_distributed_launch.py, not a test).

Rank 1 waits for a message rank 0 never sends; rank 0 finishes. The launcher must time out,
kill the job, and say that rank 1 was stuck in its receive.
"""
import numpy as np

from accel_edu.distributed.rank import phase, worker_main


def main(comm, argv):
    if comm.Get_rank() == 1:
        phase("waiting for rank 0's message")
        comm.Recv(np.empty(1), source=0, tag=7)
    return {"rank 0": "done"}


if __name__ == "__main__":
    worker_main(main)

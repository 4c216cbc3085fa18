"""Ring allreduce on real ranks against MPI_Allreduce: awkward sizes, every dtype, bad input."""
import numpy as np
import pytest

from accel_edu.distributed import mpi_allreduce, ring_allreduce

# Sizes around the rank count: 0, 1, fewer elements than ranks, not divisible, large.
SIZES = [0, 1, 2, 3, 5, 7, 64, 1000, 4099]
DTYPES = [np.float32, np.float64, np.int32, np.int64]


def local_buffer(comm, n, dtype, shape=None):
    rng = np.random.default_rng([n, comm.Get_rank()])  # a different buffer on every rank
    x = rng.standard_normal(n) * 10 if np.dtype(dtype).kind == "f" else rng.integers(-1000, 1000, n)
    return x.astype(dtype).reshape(shape or (n,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_ring_matches_mpi_allreduce(comm, n, dtype):
    x = local_buffer(comm, n, dtype)
    ring, mpi = ring_allreduce(comm, x), mpi_allreduce(comm, x)
    expected = np.sum(comm.allgather(x), axis=0, dtype=dtype) if n else np.zeros(0, dtype)
    assert ring.dtype == np.dtype(dtype) and ring.shape == x.shape
    if np.dtype(dtype).kind == "f":
        tol = 1e-5 if dtype == np.float32 else 1e-12  # the ring adds in another order than MPI
        np.testing.assert_allclose(ring, mpi, rtol=tol, atol=tol * 10 * comm.Get_size())
        np.testing.assert_allclose(ring, expected, rtol=tol, atol=tol * 10 * comm.Get_size())
    else:
        np.testing.assert_array_equal(ring, mpi)
        np.testing.assert_array_equal(ring, expected)


@pytest.mark.parametrize("op", ["max", "min"])
def test_ring_max_and_min(comm, op):
    x = local_buffer(comm, 11, np.float32)
    np.testing.assert_array_equal(ring_allreduce(comm, x, op=op), mpi_allreduce(comm, x, op=op))


def test_shaped_non_contiguous_input_into_recvbuf(comm):
    x = local_buffer(comm, 48, np.float64, (6, 8))[:, ::2]  # a (6, 4) strided view
    out = np.empty((6, 4))
    result = ring_allreduce(comm, x, out)
    expected = mpi_allreduce(comm, np.ascontiguousarray(x))
    assert result is out
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_sizes_that_differ_between_ranks_raise_on_every_rank(comm):
    x = np.ones(3 + comm.Get_rank(), np.float32)
    with pytest.raises(ValueError, match="sendbuf must be the same on every rank"):
        ring_allreduce(comm, x)


def test_mismatched_recvbuf_raises(comm):
    with pytest.raises(ValueError, match="recvbuf must match sendbuf's shape"):
        ring_allreduce(comm, np.ones(4, np.float32), np.empty(5, np.float32))
    with pytest.raises(ValueError, match="dtype"):
        ring_allreduce(comm, np.ones(4, np.float32), np.empty(4, np.float64))

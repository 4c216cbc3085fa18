"""Data-parallel SGD on real ranks gives one process's parameters, and the replicas stay equal."""
import numpy as np
import pytest

from accel_edu.backprop import SoftmaxCrossEntropy, train
from accel_edu.distributed import average_gradients, data_parallel_train, shard
from accel_edu.distributed.workers.data_parallel import make_data, make_model


@pytest.mark.parametrize("dtype, allreduce, tol", [(np.float64, "ring", 1e-12), (np.float32, "mpi", 1e-5)])
def test_data_parallel_equals_one_process(comm, dtype, allreduce, tol):
    x, y = make_data(64 * comm.Get_size(), dtype)  # 4 batches of 16 per rank
    model = make_model(dtype)
    losses = data_parallel_train(model, SoftmaxCrossEntropy(), x, y, comm, epochs=2,
                                 batch_size=16 * comm.Get_size(), lr=0.2, allreduce=allreduce)
    replicas = comm.allgather(model.state_dict())
    alone = make_model(dtype)
    history = train(alone, SoftmaxCrossEntropy(), x, y, epochs=2, batch_size=16 * comm.Get_size(),
                    lr=0.2, progress=False)
    start = make_model(dtype).state_dict()
    for name, value in alone.state_dict().items():
        assert np.max(np.abs(value - start[name])) > 1e-3  # training moved the weights
        np.testing.assert_allclose(model.state_dict()[name], value, rtol=tol, atol=tol)
        for replica in replicas:
            np.testing.assert_array_equal(replica[name], model.state_dict()[name])
    # The per-step losses, averaged per epoch, are what one process recorded.
    steps = len(losses) // 2
    np.testing.assert_allclose([np.mean(losses[:steps]), np.mean(losses[steps:])],
                               history.train_loss, rtol=tol * 10)


def test_average_gradients_is_the_mean_over_ranks(comm):
    model = make_model(np.float64)
    x, y = make_data(8, np.float64, seed=comm.Get_rank())  # different data on every rank
    loss = SoftmaxCrossEntropy()
    loss(model.forward(x), y)
    model.backward(loss.backward())
    mine = {k: v.copy() for k, v in model.grads.items()}
    every = comm.allgather(mine)
    average_gradients(model, comm, "ring")
    for name in mine:
        np.testing.assert_allclose(model.grads[name], np.mean([g[name] for g in every], axis=0), rtol=1e-12)


def test_a_batch_that_does_not_split_raises(comm):
    x, y = make_data(10 * comm.Get_size() + 1, np.float32)
    with pytest.raises(ValueError, match="must be a multiple of the number of ranks"):
        shard(x, y, comm.Get_rank(), comm.Get_size())
    with pytest.raises(ValueError, match="batch_size .* must be a multiple of the number of ranks"):
        data_parallel_train(make_model(np.float32), SoftmaxCrossEntropy(), x, y, comm,
                            batch_size=2 * comm.Get_size() + 1)


@pytest.mark.parametrize("backend", ["opencl"])
def test_data_parallel_on_a_device_backend(comm, backend):
    # The gradients leave the device for the allreduce and come back (module._here): an upload
    # per step, counted like any other transfer. Numba keeps NumPy arrays, the path the tests
    # above take; run cold it would also compile every kernel on both ranks (14 s here).
    import accel_edu
    if not accel_edu.available_backends()[backend]:
        pytest.skip(f"{backend} is not available here")  # the same answer on every rank
    x, y = make_data(32 * comm.Get_size(), np.float32)
    model = make_model(np.float32, backend)
    data_parallel_train(model, SoftmaxCrossEntropy(backend=backend), x, y, comm, epochs=1,
                        batch_size=8 * comm.Get_size(), lr=0.2)
    alone = make_model(np.float32, backend)
    train(alone, SoftmaxCrossEntropy(backend=backend), x, y, epochs=1, batch_size=8 * comm.Get_size(),
          lr=0.2, progress=False)
    for name, value in alone.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value, rtol=1e-5, atol=1e-6)

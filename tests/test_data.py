"""Tests for accel_edu.data: offline datasets, IDX files, deterministic batches."""
from __future__ import annotations

import gzip
import inspect
import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from accel_edu import data
from accel_edu.data import (IDX_DTYPES, Dataset, batches, load_digits, load_idx_dataset,
                            load_mnist1d, num_batches, read_idx, stratified_split, write_idx)

SMALL = 200  # MNIST-1D samples for fast tests: about 0.1 s to generate


# ----------------------------------------------------------------------------- digits

def test_digits_shapes_range_and_split():
    ds = load_digits()
    assert isinstance(ds, Dataset) and ds.name == "digits" and ds.classes == tuple("0123456789")
    assert len(ds.x_train) + len(ds.x_test) == 1797
    assert abs(len(ds.x_test) - 0.2 * 1797) <= 5
    assert ds.x_train.shape[1:] == (64,) and ds.x_train.dtype == np.float32
    assert ds.y_train.dtype == np.int64 and ds.y_train.shape == (len(ds.x_train),)
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert set(np.unique(ds.y_test)) == set(range(10))
    assert "digits" in repr(ds)


def test_digits_split_is_stratified_and_disjoint():
    ds = load_digits(test_fraction=0.25)
    train, test = np.bincount(ds.y_train), np.bincount(ds.y_test)
    np.testing.assert_allclose(test / (train + test), 0.25, atol=0.01)
    # No scan is in both halves (the 1797 digits hold no exact duplicates across this split).
    rows = {r.tobytes() for r in ds.x_train}
    assert not any(r.tobytes() in rows for r in ds.x_test)


def test_digits_nchw_and_dtype():
    flat, img = load_digits(), load_digits(flatten=False, dtype=np.float64)
    assert img.x_train.shape == (len(flat.x_train), 1, 8, 8) and img.x_train.dtype == np.float64
    np.testing.assert_allclose(img.x_train.reshape(len(img.x_train), -1), flat.x_train, rtol=1e-6)


def test_digits_deterministic_by_seed():
    a, b, c = load_digits(seed=3), load_digits(seed=3), load_digits(seed=4)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_train, c.y_train)


@pytest.mark.parametrize("kwargs, word", [({"test_fraction": 0.0}, "test_fraction"),
                                          ({"test_fraction": 1.5}, "test_fraction"),
                                          ({"seed": -1}, "seed"),
                                          ({"dtype": np.int32}, "dtype")])
def test_digits_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        load_digits(**kwargs)


def test_stratified_split_partitions_indices():
    y = np.repeat(np.arange(3), [10, 20, 30])
    train, test = stratified_split(y, 0.2, seed=0)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(60))
    assert np.bincount(y[test]).tolist() == [2, 4, 6]


# ----------------------------------------------------------------------------- MNIST-1D

@pytest.fixture
def mnist1d_cache(tmp_path, monkeypatch):
    """An empty disk cache and an empty memory cache for each test."""
    monkeypatch.setenv("ACCEL_EDU_CACHE", str(tmp_path))
    data._mnist1d_arrays.cache_clear()
    yield tmp_path
    data._mnist1d_arrays.cache_clear()


def test_mnist1d_defaults_are_the_paper_standard_set():
    params = inspect.signature(load_mnist1d).parameters
    n, split = params["num_samples"].default, params["train_split"].default
    assert (int(n * split), n - int(n * split)) == (4000, 1000)


def test_mnist1d_shapes_and_normalisation(mnist1d_cache):
    ds = load_mnist1d(num_samples=SMALL)
    assert ds.name == "mnist1d" and len(ds.classes) == 10
    assert ds.x_train.shape == (160, 40) and ds.x_test.shape == (40, 40)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_test]))) == set(range(10))
    x = np.concatenate([ds.x_train, ds.x_test])
    assert abs(x.mean()) < 1e-5 and abs(x.std() - 1) < 1e-5  # make_dataset standardises
    cf = load_mnist1d(num_samples=SMALL, channels_first=True)
    assert cf.x_train.shape == (160, 1, 40)
    np.testing.assert_array_equal(cf.x_train[:, 0], ds.x_train)


def test_mnist1d_deterministic_without_any_cache(mnist1d_cache):
    a = load_mnist1d(num_samples=SMALL, seed=1, cache=False)
    data._mnist1d_arrays.cache_clear()
    b = load_mnist1d(num_samples=SMALL, seed=1, cache=False)
    c = load_mnist1d(num_samples=SMALL, seed=2, cache=False)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert not list(mnist1d_cache.iterdir())  # cache=False writes nothing


def test_mnist1d_leaves_global_rng_alone(mnist1d_cache):
    np.random.seed(123)
    random.seed(123)
    load_mnist1d(num_samples=SMALL, cache=False)
    after = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    assert after == (np.random.rand(), random.random())


def test_mnist1d_disk_cache_is_used_and_repaired(mnist1d_cache, monkeypatch):
    first = load_mnist1d(num_samples=SMALL)
    (path,) = (mnist1d_cache / "mnist1d").glob("*.npz")
    data._mnist1d_arrays.cache_clear()

    def no_generation(args):
        raise AssertionError("should have read the disk cache")
    monkeypatch.setattr(data, "_generate_mnist1d", no_generation)
    np.testing.assert_array_equal(load_mnist1d(num_samples=SMALL).x_train, first.x_train)

    monkeypatch.undo()
    monkeypatch.setenv("ACCEL_EDU_CACHE", str(mnist1d_cache))
    path.write_bytes(b"PK\x03\x04 not really a zip")  # a damaged cache file is regenerated
    data._mnist1d_arrays.cache_clear()
    np.testing.assert_array_equal(load_mnist1d(num_samples=SMALL).x_train, first.x_train)


def test_mnist1d_callers_cannot_corrupt_the_cache(mnist1d_cache):
    a = load_mnist1d(num_samples=SMALL, cache=False)
    a.x_train[:] = 0
    assert load_mnist1d(num_samples=SMALL, cache=False).x_train.any()


@pytest.mark.parametrize("kwargs, word", [({"num_samples": 205}, "multiple of 10"),
                                          ({"num_samples": 0}, "num_samples"),
                                          ({"num_samples": 100.0}, "num_samples"),
                                          ({"train_split": 1.0}, "train_split"),
                                          ({"num_samples": 10, "train_split": 0.05}, "empty"),
                                          ({"seed": 2**32}, "seed"),
                                          ({"dtype": np.int64}, "dtype")])
def test_mnist1d_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        load_mnist1d(cache=False, **kwargs)


@pytest.mark.slow
def test_mnist1d_standard_set(mnist1d_cache):
    ds = load_mnist1d(cache=False)
    assert ds.x_train.shape == (4000, 40) and ds.x_test.shape == (1000, 40)


# ----------------------------------------------------------------------------- IDX files

@settings(max_examples=60, deadline=None)
@given(array=st.sampled_from(list(IDX_DTYPES.values())).flatmap(lambda dt: hnp.arrays(
           dt.newbyteorder("="), hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))),
       suffix=st.sampled_from([".idx", ".idx.gz"]))
def test_idx_round_trip(tmp_path_factory, array, suffix):
    path = tmp_path_factory.getbasetemp() / f"round_trip{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.shape == array.shape and back.dtype == array.dtype
    assert back.tobytes() == array.tobytes()  # bitwise: NaN payloads and -0.0 survive
    assert back.flags.writeable


@pytest.mark.parametrize("code, dtype", sorted(IDX_DTYPES.items()))
def test_idx_bytes_match_the_spec(tmp_path, code, dtype):
    array = np.arange(6, dtype=dtype.newbyteorder("=")).reshape(2, 3)
    write_idx(tmp_path / "a.idx", array)
    raw = (tmp_path / "a.idx").read_bytes()
    assert raw[:12] == bytes([0, 0, code, 2]) + struct.pack(">II", 2, 3)
    assert raw[12:] == array.astype(dtype).tobytes()  # big-endian values


def test_idx_gzip_is_really_compressed_and_reproducible(tmp_path):
    array = np.zeros((100, 28, 28), np.uint8)
    write_idx(tmp_path / "a.idx.gz", array)
    raw = (tmp_path / "a.idx.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and len(raw) < array.nbytes // 10
    write_idx(tmp_path / "a.idx.gz", array)
    assert (tmp_path / "a.idx.gz").read_bytes() == raw


def test_idx_writes_noncontiguous_and_big_endian_input(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4).transpose(2, 0, 1)
    write_idx(tmp_path / "t.idx", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "t.idx"), array)
    write_idx(tmp_path / "b.idx", array.astype(">i2"))
    assert read_idx(tmp_path / "b.idx").dtype == np.int16


HEADER_1D_10 = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10)


@pytest.mark.parametrize("content, problem", [
    (b"", "truncated header"),
    (b"\x00\x00", "truncated header"),
    (bytes([0, 0, 0x08, 3]) + struct.pack(">II", 2, 2), "truncated header"),
    (bytes([1, 2, 0x08, 1]) + struct.pack(">I", 10) + bytes(10), "bad magic"),
    (bytes([0, 0, 0x0A, 1]) + struct.pack(">I", 10) + bytes(10), "unsupported dtype code 0x0A"),
    (bytes([0, 0, 0x08, 0]), "ndim is 0"),
    (HEADER_1D_10 + bytes(5), "truncated data"),
    (bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 3) + bytes(11), "truncated data"),
    (HEADER_1D_10 + bytes(11), "size mismatch"),
])
@pytest.mark.parametrize("suffix", [".idx", ".idx.gz"])
def test_idx_bad_files(tmp_path, content, problem, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(gzip.compress(content, mtime=0) if suffix.endswith(".gz") else content)
    with pytest.raises(ValueError, match=problem) as err:
        read_idx(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"plain bytes, not gzip", gzip.compress(HEADER_1D_10 + bytes(10), mtime=0)[:-12]],
                         ids=["not gzip", "truncated gzip"])  # mtime=0: the same id on every xdist worker
def test_idx_bad_gzip(tmp_path, content):
    path = tmp_path / "bad.idx.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="gzip") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_idx_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.idx")


@pytest.mark.parametrize("array, word", [(np.arange(3, dtype=np.int64), "int64"),
                                         (np.ones(3, bool), "bool"),
                                         (np.ones(3, np.float16), "float16"),
                                         (np.float32(1.0), "dimensions")])
def test_write_idx_refuses_what_idx_cannot_hold(tmp_path, array, word):
    with pytest.raises(ValueError, match=word):
        write_idx(tmp_path / "x.idx", array)
    assert not (tmp_path / "x.idx").exists()


def _write_fake_mnist(tmp_path, n, prefix="train"):
    rng = np.random.default_rng(n)
    images = rng.integers(0, 256, (n, 4, 5), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    write_idx(tmp_path / f"{prefix}-images.idx3-ubyte.gz", images)
    write_idx(tmp_path / f"{prefix}-labels.idx1-ubyte.gz", labels)
    return tmp_path / f"{prefix}-images.idx3-ubyte.gz", tmp_path / f"{prefix}-labels.idx1-ubyte.gz"


def test_load_idx_dataset_with_test_files(tmp_path):
    train, test = _write_fake_mnist(tmp_path, 50), _write_fake_mnist(tmp_path, 20, "test")
    ds = load_idx_dataset(*train, *test, name="fake-mnist")
    assert ds.x_train.shape == (50, 20) and ds.x_test.shape == (20, 20)
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    np.testing.assert_allclose(ds.x_train * 255, read_idx(train[0]).reshape(50, 20), atol=1e-4)
    assert ds.y_test.dtype == np.int64 and ds.classes == tuple("0123456789")
    assert load_idx_dataset(*train, *test, flatten=False).x_test.shape == (20, 1, 4, 5)


def test_load_idx_dataset_split_and_errors(tmp_path):
    train = _write_fake_mnist(tmp_path, 50)
    ds = load_idx_dataset(*train, test_fraction=0.2, seed=1)
    assert (len(ds.x_train), len(ds.x_test)) == (40, 10)
    with pytest.raises(ValueError, match="together"):
        load_idx_dataset(*train, train[0])
    write_idx(tmp_path / "short.idx", np.zeros(49, np.uint8))
    with pytest.raises(ValueError, match="50 images but 49 labels") as err:
        load_idx_dataset(train[0], tmp_path / "short.idx")
    assert "short.idx" in str(err.value)
    write_idx(tmp_path / "float.idx", np.zeros(50, np.float32))
    with pytest.raises(ValueError, match="labels must be 1-D integers"):
        load_idx_dataset(train[0], tmp_path / "float.idx")


# ----------------------------------------------------------------------------- batching

@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 60), batch_size=st.integers(1, 25), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 2**40), epoch=st.integers(0, 1000))
def test_batches_cover_every_sample_once(n, batch_size, shuffle, drop_last, seed, epoch):
    x, y = np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n)
    out = list(batches(x, y, batch_size, shuffle=shuffle, seed=seed, epoch=epoch, drop_last=drop_last))
    assert len(out) == num_batches(n, batch_size, drop_last)
    for xb, yb in out:
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)  # pairs stay together
    sizes = [len(yb) for _, yb in out]
    assert all(s == batch_size for s in sizes[:-1]) and all(0 < s <= batch_size for s in sizes)
    seen = np.concatenate([yb for _, yb in out]) if out else np.array([], int)
    assert len(np.unique(seen)) == len(seen)  # nothing twice
    if drop_last:
        assert len(seen) == n - n % batch_size
    else:
        assert sorted(seen.tolist()) == list(range(n))  # everything once
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


def _order(**kwargs):
    y = np.arange(100)
    return np.concatenate([yb for _, yb in batches(y, y, 7, **kwargs)])


def test_batches_order_depends_only_on_seed_and_epoch():
    np.testing.assert_array_equal(_order(seed=5, epoch=2), _order(seed=5, epoch=2))
    np.random.seed(0)  # the global generator plays no part
    np.testing.assert_array_equal(_order(seed=5, epoch=2), _order(seed=5, epoch=2))
    assert not np.array_equal(_order(seed=5, epoch=2), _order(seed=5, epoch=3))
    assert not np.array_equal(_order(seed=5, epoch=2), _order(seed=6, epoch=2))
    assert not np.array_equal(_order(seed=5, epoch=2), np.arange(100))


def test_batches_drop_last():
    y = np.arange(10)
    assert [len(yb) for _, yb in batches(y, y, 4, drop_last=True)] == [4, 4]
    assert [len(yb) for _, yb in batches(y, y, 4)] == [4, 4, 2]


@pytest.mark.parametrize("kwargs, word", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": -3}, "batch_size"),
    ({"batch_size": 2.0}, "batch_size"), ({"batch_size": True}, "batch_size"),
    ({"y": np.arange(9)}, "same length"), ({"x": np.float32(1)}, "sample axis"),
    ({"seed": -1}, "seed"), ({"epoch": -1}, "epoch"), ({"epoch": 1.5}, "epoch"),
])
def test_batches_bad_arguments_raise_at_the_call(kwargs, word):
    args = {"x": np.zeros((10, 3)), "y": np.arange(10), "batch_size": 4, **kwargs}
    with pytest.raises(ValueError, match=word):
        batches(**args)  # no next(): the check must not wait for iteration

"""Datasets that work offline, the IDX file format, and deterministic mini-batches.

Every dataset comes back as a :class:`Dataset` with float features and int64 labels:

>>> ds = load_digits()                          # 8x8 scans bundled with scikit-learn
>>> ds.x_train.shape, ds.y_train.shape
((1438, 64), (1438,))
>>> ds = load_mnist1d()                           # doctest: +SKIP
>>> xb, yb = next(batches(ds.x_train, ds.y_train, batch_size=32, epoch=0))
>>> xb.shape, yb.shape
((32, 64), (32,))

Nothing here touches the network: digits ship inside scikit-learn, MNIST-1D is generated
by ``mnist1d.data.make_dataset`` (never its downloading ``get_dataset``), and IDX files are
read from paths the caller names.
"""
from __future__ import annotations

import functools
import gzip
import math
import operator
import os
import random
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

DIGIT_CLASSES = tuple(str(d) for d in range(10))


@dataclass(frozen=True, eq=False)   # eq=False: == on arrays has no single truth value
class Dataset:
    """A labelled train/test split.

    x_train: (N_train, *sample_shape) float features;  y_train: (N_train,) int64 labels
    x_test:  (N_test, *sample_shape) float features;   y_test:  (N_test,) int64 labels
    classes: the class names; label ``i`` means ``classes[i]``
    name:    where the data came from, for titles and logs
    """
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    name: str

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: x_train {self.x_train.shape}, x_test {self.x_test.shape}, "
                f"{self.x_train.dtype}, {len(self.classes)} classes)")


# ----------------------------------------------------------------------------- argument checks

def _check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int >= minimum; bools and floats are refused, since 32.0 or True is a slip."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int >= {minimum}; got the bool {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an int >= {minimum}; got {type(value).__name__} {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value}")
    return value


def _check_fraction(name: str, value) -> float:
    if not isinstance(value, (int, float, np.floating)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number strictly between 0 and 1; got {value!r}")
    return float(value)


def _check_float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype such as np.float32; got {dtype}")
    return dtype


def _samples(x: np.ndarray, flatten: bool) -> np.ndarray:
    """(N, *sample_shape) -> (N, prod(sample_shape)) if flatten, else channels-first (N, 1, *sample_shape)."""
    return x.reshape(len(x), -1) if flatten else x[:, np.newaxis]


# ----------------------------------------------------------------------------- splitting

def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``test_fraction`` of every class, so both sides keep the class balance.

    y: (N,) integer labels.  Returns (train_idx, test_idx), int64 index arrays that together
    hold each of range(N) once, in a shuffled order fixed by ``seed``.
    """
    test_fraction = _check_fraction("test_fraction", test_fraction)
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = int(test_fraction * len(idx) + 0.5)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    # Shuffle once more so the classes are interleaved, not in blocks of one label.
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


# ----------------------------------------------------------------------------- digits

def load_digits(test_fraction: float = 0.2, seed: int = 0, flatten: bool = True,
                dtype=np.float32) -> Dataset:
    """scikit-learn's 1797 handwritten digits (UCI), 8x8 pixels scaled to [0, 1].

    Returns a Dataset with x of shape (N, 64) if ``flatten`` else (N, 1, 8, 8) (NCHW), and
    y in 0..9.  The split is stratified by class and depends only on ``seed``.
    """
    dtype = _check_float_dtype(dtype)
    from sklearn.datasets import load_digits as sklearn_digits  # slow import: only when used

    bunch = sklearn_digits()
    # Each pixel counts the set bits in a 4x4 block of the original 32x32 scan: 0..16.
    x = _samples(bunch.images / 16.0, flatten)
    y = bunch.target.astype(np.int64)
    train, test = stratified_split(y, test_fraction, seed)
    return Dataset(x[train].astype(dtype), y[train], x[test].astype(dtype), y[test],
                   DIGIT_CLASSES, "digits")


# ----------------------------------------------------------------------------- MNIST-1D

class _Mnist1dArgs(NamedTuple):
    num_samples: int
    train_split: float
    seed: int
    shuffle_seq: bool


_MNIST1D_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def cache_dir() -> Path:
    """Where generated data is kept: ``$ACCEL_EDU_CACHE`` if set, else ``~/.cache/accel_edu``."""
    return Path(os.environ.get("ACCEL_EDU_CACHE") or Path.home() / ".cache" / "accel_edu")


def load_mnist1d(seed: int = 42, num_samples: int = 5000, train_split: float = 0.8,
                 shuffle_seq: bool = False, channels_first: bool = False,
                 dtype=np.float32, cache: bool = True) -> Dataset:
    """MNIST-1D (Greydanus, 2020): ten 1-D templates, randomly padded, scaled, translated,
    sheared and noised into length-40 signals, standardised to mean 0 and std 1.

    The defaults (5000 samples, 80% train, seed 42) are ``mnist1d``'s own defaults: the
    paper's standard 4000 train / 1000 test set.  ``shuffle_seq`` applies one fixed
    permutation to the 40 positions (the paper's test of what convolutions depend on).

    Returns a Dataset with x of shape (N, 40), or (N, 1, 40) if ``channels_first``, and y in
    0..9.  Generating the standard set takes about 2 s, so the arrays are kept in memory and,
    if ``cache``, in an .npz file under :func:`cache_dir`.
    """
    dtype = _check_float_dtype(dtype)
    num_samples = _check_int("num_samples", num_samples, 10)
    if num_samples % 10:
        raise ValueError(f"num_samples must be a multiple of 10 (make_dataset draws num_samples // 10 "
                         f"signals per class, so {num_samples} would silently give "
                         f"{num_samples - num_samples % 10}); got {num_samples}")
    train_split = _check_fraction("train_split", train_split)
    if not 0 < int(num_samples * train_split) < num_samples:
        raise ValueError(f"train_split={train_split} leaves an empty train or test set "
                         f"for num_samples={num_samples}")
    # np.random.seed, which make_dataset calls, takes seeds below 2**32.
    seed = _check_int("seed", seed, 0)
    if seed >= 2**32:
        raise ValueError(f"seed must be below 2**32; got {seed}")
    args = _Mnist1dArgs(num_samples, train_split, seed, bool(shuffle_seq))
    x_train, y_train, x_test, y_test = _mnist1d_arrays(args, bool(cache))
    # astype copies, so a caller who edits the arrays never edits the cached ones.
    return Dataset(_samples(x_train, not channels_first).astype(dtype), y_train.astype(np.int64),
                   _samples(x_test, not channels_first).astype(dtype), y_test.astype(np.int64),
                   DIGIT_CLASSES, "mnist1d")


@functools.lru_cache(maxsize=8)
def _mnist1d_arrays(args: _Mnist1dArgs, use_disk: bool) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) as generated: float64 (N, 40) and int64 (N,), read-only."""
    path = cache_dir() / "mnist1d" / (
        f"mnist1d-{version('mnist1d')}-n{args.num_samples}-split{args.train_split}"
        f"-seed{args.seed}-shuffle{int(args.shuffle_seq)}.npz")
    arrays = _read_npz(path, args) if use_disk else None
    if arrays is None:
        arrays = _generate_mnist1d(args)
        if use_disk:
            _write_npz(path, arrays)
    for a in arrays:
        a.flags.writeable = False
    return arrays


def _generate_mnist1d(args: _Mnist1dArgs) -> tuple[np.ndarray, ...]:
    # Imported here: mnist1d pulls in matplotlib.pyplot and scipy (about 1 s), needless on a cache hit.
    from mnist1d.data import get_dataset_args, make_dataset

    mnist_args = get_dataset_args()  # the package defaults; we override only these four
    mnist_args.num_samples, mnist_args.train_split, mnist_args.seed, mnist_args.shuffle_seq = args
    # make_dataset reseeds NumPy's and Python's global generators; give the caller theirs back.
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(mnist_args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return data["x"], data["y"].astype(np.int64), data["x_test"], data["y_test"].astype(np.int64)


def _read_npz(path: Path, args: _Mnist1dArgs) -> tuple[np.ndarray, ...] | None:
    """The cached arrays, or None if the file is missing, damaged, or of the wrong size."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = tuple(f[name] for name in _MNIST1D_ARRAYS)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    x_train, y_train, x_test, y_test = arrays
    if (len(x_train) + len(x_test) != args.num_samples or x_train.ndim != 2
            or (len(x_train), len(x_test)) != (len(y_train), len(y_test))):
        return None
    return arrays


def _write_npz(path: Path, arrays: tuple[np.ndarray, ...]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **dict(zip(_MNIST1D_ARRAYS, arrays)))
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    except OSError as err:  # a read-only home must not stop anyone from training
        warnings.warn(f"could not cache MNIST-1D in {path}: {err}", stacklevel=3)


# ----------------------------------------------------------------------------- IDX files

# The IDX format (LeCun's MNIST files): magic = 0x00 0x00 <type code> <ndim>, then ndim
# big-endian uint32 sizes, then the values, big-endian, in C order.
IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_IDX_CODES = {dt.str[1:]: code for code, dt in IDX_DTYPES.items()}  # "u1" -> 0x08, any byte order


def _open(path, mode: str):
    """A file object for ``path``, gzip-compressed if the name ends in .gz."""
    if os.fspath(path).endswith(".gz"):
        return gzip.GzipFile(path, mode, mtime=0)  # mtime=0: the same array gives the same bytes
    return open(path, mode)


def _read_bytes(path) -> bytes:
    with _open(path, "rb") as f:
        try:
            return f.read()
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            raise ValueError(f"IDX file {os.fspath(path)!r}: not a valid gzip file ({err})") from None


def read_idx(path) -> np.ndarray:
    """Read an IDX file (``.gz`` is decompressed) into a native-byte-order array of its shape.

    Raises ValueError naming the file if the magic number, type code, header or data size is
    wrong, rather than returning an array that silently means something else.
    """
    raw = _read_bytes(path)

    def bad(problem: str) -> ValueError:
        return ValueError(f"IDX file {os.fspath(path)!r}: {problem}")

    if len(raw) < 4:
        raise bad(f"truncated header: {len(raw)} bytes, but the magic number alone takes 4")
    if raw[0] or raw[1]:
        raise bad(f"bad magic number 0x{raw[:4].hex()}: the first two bytes must be zero")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_DTYPES.items())
        raise bad(f"unsupported dtype code 0x{code:02X}; known codes are {known}")
    if ndim == 0:
        raise bad("ndim is 0; an IDX array needs at least one dimension")
    offset = 4 + 4 * ndim
    if len(raw) < offset:
        raise bad(f"truncated header: ndim is {ndim}, so the header takes {offset} bytes; "
                  f"the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    count = math.prod(shape)
    expected, found = count * IDX_DTYPES[code].itemsize, len(raw) - offset
    if found < expected:
        raise bad(f"truncated data: shape {shape} of {IDX_DTYPES[code].name} needs "
                  f"{expected} bytes, the file has {found}")
    if found > expected:
        raise bad(f"size mismatch: shape {shape} of {IDX_DTYPES[code].name} needs "
                  f"{expected} bytes, the file has {found - expected} more")
    big_endian = np.frombuffer(raw, IDX_DTYPES[code], count=count, offset=offset)
    # astype copies into native order: a writable array that Numba and OpenCL take as is.
    return big_endian.reshape(shape).astype(IDX_DTYPES[code].newbyteorder("="))


def write_idx(path, array) -> None:
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64; at least 1-D) as IDX.

    Other dtypes are refused, not cast: int64 labels, say, must be cast by the caller
    (``labels.astype(np.uint8)``) so that no value is changed behind their back.
    """
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.str[1:])
    if code is None:
        names = ", ".join(d.name for d in IDX_DTYPES.values())
        raise ValueError(f"array has dtype {array.dtype}, which IDX cannot store; use one of {names}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions for IDX; got shape {array.shape}")
    if max(array.shape) >= 2**32:
        raise ValueError(f"array dimensions must be below 2**32 for IDX; got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    with _open(path, "wb") as f:
        f.write(header)
        f.write(array.astype(IDX_DTYPES[code], copy=False).tobytes(order="C"))


def _read_idx_pair(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """images: (N, *sample_shape); labels: (N,) int64 >= 0; checked against each other."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    where = f"IDX files {os.fspath(images_path)!r} and {os.fspath(labels_path)!r}"
    if images.ndim < 2:
        raise ValueError(f"{where}: images must be at least 2-D (N, ...); got shape {images.shape}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{where}: labels must be 1-D integers; got shape {labels.shape} "
                         f"of {labels.dtype}")
    if len(images) != len(labels):
        raise ValueError(f"{where}: {len(images)} images but {len(labels)} labels")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{where}: labels must be >= 0; found {labels.min()}")
    return images, labels.astype(np.int64)


def load_idx_dataset(images_path, labels_path, test_images_path=None, test_labels_path=None, *,
                     test_fraction: float = 0.2, seed: int = 0, flatten: bool = True,
                     dtype=np.float32, name: str = "idx") -> Dataset:
    """A Dataset from IDX files, e.g. MNIST's ``train-images-idx3-ubyte.gz`` and friends.

    With test paths the files give the split; without, a stratified ``test_fraction`` of
    the first pair is held out (by ``seed``).  uint8 images are scaled to [0, 1]; other
    dtypes are kept as stored.  x is (N, prod(sample_shape)) if ``flatten``, else
    (N, 1, *sample_shape); classes are "0".."max label".
    """
    dtype = _check_float_dtype(dtype)
    if (test_images_path is None) != (test_labels_path is None):
        raise ValueError("test_images_path and test_labels_path must be given together")
    images, labels = _read_idx_pair(images_path, labels_path)
    if test_images_path is None:
        train, test = stratified_split(labels, test_fraction, seed)
        x_train, y_train, x_test, y_test = images[train], labels[train], images[test], labels[test]
    else:
        x_train, y_train = images, labels
        x_test, y_test = _read_idx_pair(test_images_path, test_labels_path)
        if x_test.shape[1:] != x_train.shape[1:]:
            raise ValueError(f"test images have sample shape {x_test.shape[1:]}, "
                             f"train images {x_train.shape[1:]}")

    def features(x: np.ndarray) -> np.ndarray:
        x = _samples(x, flatten).astype(dtype)
        return x / dtype.type(255) if images.dtype == np.uint8 else x

    num_classes = int(max(y_train.max(initial=-1), y_test.max(initial=-1))) + 1
    return Dataset(features(x_train), y_train, features(x_test), y_test,
                   tuple(str(i) for i in range(num_classes)), name)


# ----------------------------------------------------------------------------- batching

def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """How many batches :func:`batches` yields for ``n`` samples (for progress bars)."""
    n, batch_size = _check_int("n", n, 0), _check_int("batch_size", batch_size, 1)
    return n // batch_size if drop_last else -(-n // batch_size)


def batches(x, y, batch_size: int, shuffle: bool = True, seed: int = 0, epoch: int = 0,
            drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches (xb, yb) covering each sample once: xb (B, *x.shape[1:]), yb (B, *y.shape[1:]).

    B is ``batch_size`` except for a smaller last batch, which ``drop_last`` leaves out.
    The shuffled order depends only on (seed, epoch), so a run can be repeated, or resumed
    at any epoch, without carrying generator state.  Arguments are checked here, at the
    call, not at the first ``next``.  Unshuffled batches are views into x and y.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"x and y must be arrays with a sample axis; got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}")
    batch_size = _check_int("batch_size", batch_size, 1)
    seed, epoch = _check_int("seed", seed, 0), _check_int("epoch", epoch, 0)
    order = np.random.default_rng([seed, epoch]).permutation(len(x)) if shuffle else None
    return _batches(x, y, batch_size, order, drop_last)


def _batches(x, y, batch_size, order, drop_last):
    stop = len(x) - len(x) % batch_size if drop_last else len(x)
    for start in range(0, stop, batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]

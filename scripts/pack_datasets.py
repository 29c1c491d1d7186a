"""Convert CrossSim's dataset files into the compact copies shipped in mcvar/data/datasets/.

Run once from the repository root (outputs are committed; rerunning rewrites identical bytes):

    python scripts/pack_datasets.py --source CROSSSIM_DATA [--out mcvar/data/datasets]

``--source`` (default: the environment variable ``MCVAR_CROSSSIM_DATA``) is a local copy of the
data of Sandia's CrossSim data repository (github.com/sandialabs/cross-sim-data, commit
2ebec1f27cf1c7c05c7a779b42e16036a765023f): a folder holding CrossSim's ``LICENSE`` and
``datasets/`` with ``small_digits/image_digit_small.{train,test}``,
``iris/bezdekIris.{train,test}`` and ``file_types/cyber.test.gz`` (CSV: features, then the label).

Each ``<name>.npz`` holds ``x_train``, ``x_test`` as exact decimals (unsigned integer mantissa
arrays plus ``x_*_decimals`` uint8 arrays: value = mantissa / 10**decimals, bit-identical to
parsing the source text), ``y_train``, ``y_test`` (uint8 labels 0..n_classes-1) and, for
file_types, ``train_rows`` / ``test_rows`` (0-based rows of the source file). Every invariant
below is checked before anything is written; CrossSim's LICENSE is copied alongside.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's mcvar, not an installed one

from mcvar.datasets import (  # noqa: E402
    _INFO,
    _POW10,
    FILE_TYPES_SPLIT_SEED,
    FILE_TYPES_TRAIN_FRACTION,
    stratified_split,
)

# name -> (train file, test file or None, n_features, n_train rows, n_test rows, n_classes)
SOURCES = {
    "digits": ("small_digits/image_digit_small.train", "small_digits/image_digit_small.test",
               64, 3823, 1797, 10),
    "iris": ("iris/bezdekIris.train", "iris/bezdekIris.test", 4, 120, 30, 3),
    "file_types": ("file_types/cyber.test.gz", None, 256, 900, 0, 9),
}


def read_rows(path: Path) -> np.ndarray:
    """CSV text (gzip if ``.gz``) -> (rows, columns) array of stripped value strings."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as file:
        rows = [[token.strip() for token in line.split(",")] for line in file if line.strip()]
    if len({len(row) for row in rows}) != 1:
        raise ValueError(f"{path}: rows have differing column counts")
    return np.array(rows)


def encode_decimals(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value strings -> (mantissa, decimals), float(token) == mantissa / 10**decimals exactly."""
    mantissa = np.empty(tokens.shape, dtype=np.uint64)
    decimals = np.empty(tokens.shape, dtype=np.uint8)
    for index, token in np.ndenumerate(tokens):
        sign, digits, exponent = Decimal(token).as_tuple()
        if sign or not isinstance(exponent, int) or not -len(_POW10) < exponent <= 0:
            raise ValueError(f"value {token!r} is not a non-negative decimal mcvar can store")
        mantissa[index] = int("".join(map(str, digits)))
        decimals[index] = -exponent
    for dtype in (np.uint8, np.uint16, np.uint32):
        if mantissa.max() <= np.iinfo(dtype).max:
            mantissa = mantissa.astype(dtype)
            break
    decoded = mantissa / _POW10[decimals]
    if not np.array_equal(decoded, tokens.astype(np.float64)):
        raise ValueError("decimal encoding does not reproduce the parsed values exactly")
    return mantissa, decimals


def labels_of(tokens: np.ndarray, n_classes: int, where: str) -> np.ndarray:
    """Label column -> uint8 labels, which must be exactly the integers 0..n_classes-1."""
    values = tokens.astype(np.float64)
    labels = values.astype(np.int64)
    if not np.array_equal(labels, values) or set(labels.tolist()) != set(range(n_classes)):
        raise ValueError(f"{where}: labels must be the integers 0..{n_classes - 1}; "
                         f"got {sorted(set(values.tolist()))}")
    return labels.astype(np.uint8)


def pack(name: str, source: Path) -> dict[str, np.ndarray]:
    """Read, split (file_types), validate and encode one dataset."""
    train_file, test_file, n_features, n_train, n_test, n_classes = SOURCES[name]
    splits = {"train": read_rows(source / train_file)}
    if test_file:
        splits["test"] = read_rows(source / test_file)
    for split, n_rows in (("train", n_train), ("test", n_test)):
        if split in splits and splits[split].shape != (n_rows, n_features + 1):
            raise ValueError(f"{name} {split}: expected {n_rows} rows of {n_features} features "
                             f"+ label; got {splits[split].shape}")
    arrays = {}
    if name == "file_types":  # only one file: split it here
        rows = splits.pop("train")
        labels = labels_of(rows[:, -1], n_classes, name)
        train_rows, test_rows = stratified_split(labels, FILE_TYPES_TRAIN_FRACTION,
                                                 FILE_TYPES_SPLIT_SEED)
        splits = {"train": rows[train_rows], "test": rows[test_rows]}
        arrays["train_rows"] = train_rows.astype(np.uint16)
        arrays["test_rows"] = test_rows.astype(np.uint16)
    for split, rows in splits.items():
        arrays[f"x_{split}"], arrays[f"x_{split}_decimals"] = encode_decimals(rows[:, :-1])
        arrays[f"y_{split}"] = labels_of(rows[:, -1], n_classes, f"{name} {split}")
    check_content(name, arrays)
    return arrays


def require(condition: bool, message: str) -> None:
    """Stop packing with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ValueError(message)


def check_content(name: str, arrays: dict[str, np.ndarray]) -> None:
    """Dataset-specific facts that pin the files down (values, class names, versions)."""
    x = np.concatenate([arrays["x_train"] / _POW10[arrays["x_train_decimals"]],
                        arrays["x_test"] / _POW10[arrays["x_test_decimals"]]])
    y = np.concatenate([arrays["y_train"], arrays["y_test"]])
    require(len(_INFO[name]["classes"]) == y.max() + 1, f"{name}: class names do not match labels")
    if name == "digits":  # UCI: integers 0..16; class counts of UCI's training file
        require(np.array_equal(x, np.round(x)) and x.min() == 0 and x.max() == 16,
                "digits: features must be the integers 0..16")
        require(np.bincount(arrays["y_train"]).tolist()
                == [376, 389, 380, 389, 387, 376, 377, 387, 380, 382],
                "digits: training class counts differ from UCI's optdigits.tra")
    if name == "iris":  # 50 per class; label 0 is setosa (petals < 2 cm); Bezdek's corrections
        require(np.bincount(y).tolist() == [50, 50, 50], "iris: expected 50 rows per class")
        require(x[y == 0, 2].max() < 2.0 < x[y != 0, 2].min(),
                "iris: label 0 must be setosa (the only class with petals shorter than 2 cm)")
        require(x[y == 2, 2].mean() > x[y == 1, 2].mean(),
                "iris: label 2 must be virginica (longer petals than versicolor)")
        for row in ((4.9, 3.1, 1.5, 0.1), (4.9, 3.1, 1.5, 0.2), (4.9, 3.6, 1.4, 0.1)):
            require((x == row).all(axis=1).sum() == 1,
                    f"iris: row {row} must occur once, as in bezdekIris (UCI iris.data differs)")
    if name == "file_types":  # 100 per class; the stored rows partition the source file
        require(np.bincount(y).tolist() == [100] * 9, "file_types: expected 100 rows per class")
        require(x.min() >= 0, "file_types: features must be non-negative")
        rows = np.concatenate([arrays["train_rows"], arrays["test_rows"]])
        require(np.array_equal(np.sort(rows), np.arange(900)),
                "file_types: train_rows and test_rows must partition rows 0..899")


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed with fixed zip timestamps, so reruns give identical bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = os.environ.get("MCVAR_CROSSSIM_DATA")
    parser.add_argument("--source", type=Path, default=Path(data) if data else None,
                        required=not data,
                        help="CrossSim data folder holding LICENSE and datasets/ "
                             "(default: $MCVAR_CROSSSIM_DATA)")
    parser.add_argument("--out", type=Path, default=ROOT / "mcvar/data/datasets")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        arrays = pack(name, args.source / "datasets")
        path = args.out / f"{name}.npz"
        write_npz(path, arrays)
        shapes = ", ".join(f"{key} {value.shape} {value.dtype}" for key, value in arrays.items()
                           if not key.endswith("decimals"))
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.1f} KiB; {shapes}")
    shutil.copyfile(args.source / "LICENSE", args.out / "LICENSE-CrossSim")


if __name__ == "__main__":
    main()

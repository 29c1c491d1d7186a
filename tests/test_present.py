"""What people read: `mcvar show` (80 columns, csv/markdown/json), `mcvar plot` (panels from
the result's contents, file types), help texts and the compile message. Built on a result
made here (no kernels run), shaped like the quickstart's: the float64 twin and two devices."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from mcvar.cli import main
from mcvar.results import add_summaries
from mcvar.variables import annotate

DESIGNS = ["analog_reram", "digital_reram", "sram"]


def fake_result(labels=("float64", "ENODe", "TaOx"), trials=4, epochs=3, accuracy=None):
    """A training result with cost along the sweep dimension ``device_kind``."""
    n = len(labels)
    rng = np.random.default_rng(7)
    if accuracy is None:
        accuracy = np.clip(0.9 - 0.05 * np.arange(n)[:, None, None]
                           + 0.02 * rng.standard_normal((n, trials, epochs)), 0, 1)
    energy = np.tile([6.9e-8, 1.9e-5, 3.0e-5], (n, 1))
    ds = xr.Dataset(
        {"test_accuracy": (("device_kind", "trial", "epoch"), np.asarray(accuracy, float)),
         "training_energy_per_example": (("device_kind", "design"), energy),
         "training_time_per_example": (("device_kind", "design"), energy / 30),
         "kernel_energy": (("device_kind", "design", "kernel"),
                           np.tile([[1.3e-8] * 3, [2.1e-6] * 3, [3.6e-6] * 3], (n, 1, 1))),
         "kernel_latency": (("device_kind", "design", "kernel"),
                            np.tile([[3.8e-7] * 3, [1.8e-4] * 3, [4.1e-6] * 3], (n, 1, 1)))},
        coords={"device_kind": list(labels), "trial": np.arange(trials),
                "epoch": np.arange(1, epochs + 1), "design": DESIGNS,
                "kernel": ["vmm", "mvm", "opu"],
                "training_backend": ("device_kind", ["numeric"] + ["crossbar"] * (n - 1))})
    ds.device_kind.attrs["long_name"] = "sweep point of the zipped parameters training.backend"
    ds.training_backend.attrs["long_name"] = "training backend (swept parameter training.backend)"
    ds.attrs.update(scenario_name="fake", scenario_description="a result made by the test")
    return add_summaries(annotate(ds, ["device_kind"]))


@pytest.fixture
def result_file(tmp_path):
    path = tmp_path / "fake.nc"
    fake_result().to_netcdf(path)
    return path


def invoke(*args, columns=80):
    return CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": str(columns)},
                              catch_exceptions=False)


def test_show_fits_80_columns_and_keeps_cells_whole(result_file):
    out = invoke("show", result_file).output
    assert max(map(len, out.splitlines())) <= 80
    rows = [line for line in out.splitlines() if line.startswith(("float64", "ENODe", "TaOx"))]
    assert len(rows) == 3  # one line per sweep point: nothing wrapped inside a cell
    assert all("[" in r and "]" in r for r in rows)


def test_show_switches_to_blocks_when_the_table_is_too_wide(tmp_path):
    path = tmp_path / "wide.nc"
    fake_result(labels=("float64", "a very long configuration label indeed")).to_netcdf(path)
    out = invoke("show", path, columns=60).output
    assert max(map(len, out.splitlines())) <= 60
    assert "device_kind = a very long configuration label indeed" in out
    assert "  accuracy [95% CI]" in out


def test_float64_twin_shows_no_analog_cost(result_file):
    rows = json.loads(invoke("show", result_file, "--format", "json").output)["rows"]
    twin, enode = rows[0], rows[1]
    assert twin["device_kind"] == "float64" and twin["energy"] is None and twin["time"] is None
    assert enode["energy"] == pytest.approx(6.9e-8)
    table = invoke("show", result_file).output
    assert "–" in next(line for line in table.splitlines() if line.startswith("float64"))


def test_show_csv_markdown_json_agree(result_file):
    data = json.loads(invoke("show", result_file, "--format", "json").output)
    rows = list(csv.DictReader(io.StringIO(invoke("show", result_file, "--format", "csv").output)))
    assert [r["device_kind"] for r in rows] == ["float64", "ENODe", "TaOx"]
    for r, j in zip(rows, data["rows"]):
        assert float(r["accuracy"]) == pytest.approx(j["accuracy"])
        assert 0 <= j["ci_low"] <= j["accuracy"] <= j["ci_high"] <= 1
    assert "energy [J]" in rows[0]
    md = invoke("show", result_file, "--format", "markdown").output.splitlines()
    assert md[0].startswith("| device_kind |") and md[1].startswith("|---|")
    assert sum(line.startswith("| ") for line in md) == 4


@pytest.mark.parametrize("trials", [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0], [0.0, 1.0]])
def test_show_accuracy_intervals_stay_in_unit_interval(tmp_path, trials):
    acc = np.asarray(trials, float)[None, :, None] * np.ones((2, 1, 1))
    path = tmp_path / "edge.nc"
    fake_result(labels=("float64", "x"), trials=len(trials), epochs=1,
                accuracy=acc).to_netcdf(path)
    for row in json.loads(invoke("show", path, "--format", "json").output)["rows"]:
        if len(trials) == 1:
            assert row["ci_low"] is None and row["ci_high"] is None
        else:
            assert 0 <= row["ci_low"] <= row["accuracy"] <= row["ci_high"] <= 1


def test_stored_accuracy_interval_is_bounded_and_says_its_method():
    ds = fake_result(trials=2, accuracy=np.array([0.02, 0.4])[None, :, None]
                     * np.ones((3, 1, 3)))
    assert float(ds.test_accuracy_ci_low.min()) >= 0
    assert "logit" in ds.test_accuracy_ci_low.attrs["cell_methods"]


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"),
                                           (".svg", b"<?xml")])
def test_plot_writes_the_type_of_the_suffix_with_the_panels_the_result_has(result_file,
                                                                          tmp_path, suffix,
                                                                          magic):
    figure = tmp_path / f"fig{suffix}"
    done = invoke("plot", result_file, "-o", figure)
    assert done.exit_code == 0, done.output
    assert figure.read_bytes()[:len(magic)] == magic
    assert "final, curves, energy, kernel_energy, kernel_latency" in done.output


def test_plot_panels_follow_the_contents():
    from mcvar.plot import panels

    ds = fake_result(epochs=1)
    assert panels(ds) == ["final", "energy", "kernel_energy", "kernel_latency"]
    assert panels(ds.drop_vars(["training_energy_per_example", "kernel_energy"])) == ["final"]


def test_plot_rejects_unknown_suffix(result_file, tmp_path):
    done = invoke("plot", result_file, "-o", tmp_path / "fig.jpg")
    assert done.exit_code != 0 and ".png, .pdf, .svg" in done.output


def test_plot_labels_come_from_long_name_and_units():
    from mcvar.plot import label

    var = xr.DataArray([1.0], dims="x", attrs={
        "long_name": "per-device read noise std: fraction of range (swept parameter d.r)",
        "units": "1"})
    assert label(var) == "per-device read noise std"
    var.attrs.update(long_name="training energy per example (vmm + mvm)", units="J")
    assert label(var) == "training energy per example [J]"


def test_help_lines_are_not_cut():
    out = invoke("--help").output
    assert "Reproduce the Marinella et al. (2018) study; write a report." in out
    assert max(map(len, out.splitlines())) <= 80
    assert "energy" in " ".join(invoke("plot", "--help").output.split())


def test_compile_message_says_what_and_how_long(monkeypatch, tmp_path):
    from mcvar import accelerate

    monkeypatch.setattr(accelerate.numba.config, "CACHE_DIR", str(tmp_path))
    assert not accelerate.cache_is_warm()
    cold = accelerate.compile_message()
    assert "first run" in cold and "1-3 min" in cold and str(tmp_path) in cold
    where = accelerate.cache_location()
    (tmp_path / where[len(str(tmp_path)) + 1:]).mkdir(parents=True)
    (tmp_path / where[len(str(tmp_path)) + 1:] / "x.nbi").write_bytes(b"")
    assert accelerate.cache_is_warm()
    assert accelerate.compile_message().startswith("loading compiled kernels from")
    monkeypatch.setattr(accelerate, "CACHE", False)
    assert "MCVAR_NUMBA_CACHE=0" in accelerate.compile_message()

"""The mcvar command line: help, validate, run (tiny, resume), show, plot, error exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from mcvar.cli import EXIT_INPUT, main, summary_rows

ROOT = Path(__file__).parent.parent
SCENARIO = """
name = "clitest"
seed = 2
trials = 3
[tile]
rows = 6
cols = 4
[device]
read_noise = 0.02
[kernels]
reads = 10
updates = 5
[training]
hidden = [4]
epochs = 2
train_examples = 20
test_examples = 20
[cost]
[sweep]
periphery.adc_bits = [4, 8]
"""


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "clitest.toml"
    path.write_text(SCENARIO)
    return path


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_run_options_reach_the_run(scenario, tmp_path, monkeypatch):
    """Each option of ``run`` has its effect on the scenario or on run_scenario's arguments."""
    from mcvar import execute

    calls = []
    monkeypatch.setattr(execute, "run_scenario", lambda sc, output, **kw: calls.append(
        (sc, output, kw)))
    result = invoke("run", scenario, "-o", tmp_path / "o.nc", "--run-dir", tmp_path / "d",
                    "--set", "device.read_noise=0.05", "--trials", "7", "--scheduler",
                    "synchronous", "--workers", "3", "--fresh", "--quiet")
    assert result.exit_code == 0, result.output
    (sc, output, kw), = calls
    assert sc.trials == 7 and sc.configurations[0].device.read_noise == 0.05
    assert output == str(tmp_path / "o.nc") and kw["run_dir"] == str(tmp_path / "d")
    assert (kw["scheduler"], kw["workers"], kw["fresh"], kw["progress"]) == (
        "synchronous", 3, True, False)
    calls.clear()
    monkeypatch.chdir(tmp_path)
    assert invoke("run", scenario, "--tiny", "--quiet").exit_code == 0
    (sc, output, kw), = calls
    assert sc.trials == 2 and output == "clitest-tiny.nc"
    assert kw["run_dir"] == execute.default_run_dir("clitest-tiny.nc") and not kw["fresh"]


def test_validate_options_change_what_is_validated(scenario):
    text = " ".join(invoke("validate", scenario, "--trials", "7").output.split())
    assert "2 sweep point(s) x 7 trial(s)" in text
    text = " ".join(invoke("validate", scenario, "--tiny").output.split())
    assert "2 sweep point(s) x 2 trial(s)" in text


@pytest.mark.parametrize("args, option", [
    (("run", "S", "--trials", "0"), "--trials"),
    (("run", "S", "--workers", "0"), "--workers"),
    (("run", "S", "--cluster", "lsf"), "--cluster"),
    (("run", "S", "--jobs", "x"), "--jobs"),
    (("validate", "S", "--trials", "many"), "--trials"),
    (("plot", "S"), "--output"),
    (("study", "--out", "D", "--epochs", "0"), "--epochs"),
    (("study", "--out", "D", "--train-examples", "-1"), "--train-examples"),
    (("study",), "--out"),
])
def test_bad_option_values_exit_2_naming_the_option(scenario, args, option):
    result = invoke(*(scenario if a == "S" else a for a in args))
    assert result.exit_code == 2
    assert option in result.output and "Traceback" not in result.output


def test_help_does_not_import_the_engine():
    code = ("import sys; from mcvar.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numba', 'xarray', 'dask', 'matplotlib') if m in sys.modules]\n"
            "assert not heavy, heavy")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    done = subprocess.run([sys.executable, "-m", "mcvar", "--version"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("mcvar ")


def test_validate_prints_the_sweep(scenario):
    result = invoke("validate", scenario, "--set", "sweep.device.dw_min=[0.001, 0.002]")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "4 sweep point(s) x 3 trial(s)" in text and "periphery_adc_bits" in text
    assert "device_dw_min" in text and "valid" in text


@pytest.mark.parametrize("extra, message", [
    (("--set", "device.read_noise=-1"), "device.read_noise: got -1.0, allowed range [0, inf)"),
    (("--set", "devic.read_noise=1"), "devic: unknown key"),
    (("--set", "sweep.periphery.adc_bits=[]"), "sweep.periphery.adc_bits: empty list"),
    (("--set", "tile.rows=\"many\""), "tile.rows: got 'many'"),
])
def test_bad_scenario_exits_2_with_one_line(scenario, extra, message):
    for command in ("validate", "run"):
        result = invoke(command, scenario, *extra)
        assert result.exit_code == EXIT_INPUT
        assert message in result.output and str(scenario) in result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_bad_toml_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("trials = = 3\n")
    result = invoke("validate", bad)
    assert result.exit_code == EXIT_INPUT and "invalid TOML" in result.output


def test_run_show_plot_and_resume(scenario, tmp_path):
    out = tmp_path / "res.nc"
    result = invoke("run", scenario, "-o", out, "--scheduler", "synchronous", "--trials", "2")
    assert result.exit_code == 0, result.output
    assert out.exists() and (tmp_path / "res.run" / "scenario.toml").exists()
    assert "test accuracy after epoch 2" in " ".join(result.output.split())

    ds = xr.load_dataset(out)
    header, rows = summary_rows(ds)
    assert header[:2] == ["periphery_adc_bits", "trials"] and len(rows) == 2
    assert [r[0] for r in rows] == ["4", "8"] and {r[1] for r in rows} == {"2"}
    assert "energy/example" in header and rows[0][-2].endswith("J")

    shown = invoke("show", out)
    assert shown.exit_code == 0 and "clitest" in shown.output
    assert "NRMSE" in " ".join(shown.output.split())
    shown_dir = invoke("show", tmp_path / "res.run")  # a run directory works too
    assert shown_dir.exit_code == 0

    figure = tmp_path / "fig.png"
    plotted = invoke("plot", out, "-o", figure)
    assert plotted.exit_code == 0 and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "final, curves, energy, nrmse, histogram" in plotted.output

    again = invoke("run", scenario, "-o", out, "--scheduler", "synchronous", "--trials", "2")
    assert again.exit_code == 0 and "resuming" in again.output
    changed = invoke("run", scenario, "-o", out, "--scheduler", "synchronous", "--trials", "3")
    assert changed.exit_code == EXIT_INPUT and "--fresh" in changed.output


def test_tiny_run_gets_its_own_output(scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", scenario, "--tiny", "--scheduler", "synchronous", "--quiet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "clitest-tiny.nc").exists()
    assert xr.load_dataset(tmp_path / "clitest-tiny.nc").sizes["trial"] == 2


def test_scheduler_and_cluster_exclude_each_other(scenario):
    result = invoke("run", scenario, "--scheduler", "synchronous", "--cluster", "slurm")
    assert result.exit_code == 2 and "not both" in result.output


def _one_line_exit_2(result, *words):
    assert result.exit_code == EXIT_INPUT, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert all(w in result.output for w in words), result.output


@pytest.mark.parametrize("content", [b"", b"\x89HDF\r\n\x1a\n" + bytes(range(200)),
                                     b"name = 'x'\n"], ids=["empty", "corrupt", "toml"])
def test_show_on_what_is_no_result_exits_2_with_one_line(tmp_path, content):
    path = tmp_path / "r.nc"
    path.write_bytes(content)
    for command in (("show", path), ("plot", path, "-o", tmp_path / "f.png")):
        _one_line_exit_2(invoke(*command), str(path), "not a result file of mcvar")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc"]


def test_binary_scenario_exits_2_with_one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(os.urandom(64) + b"\xff")
    for command in ("validate", "run"):
        _one_line_exit_2(invoke(command, path), str(path), "not a text file")


def test_output_that_cannot_be_written_exits_2_and_writes_nothing(scenario, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    _one_line_exit_2(invoke("run", scenario, "-o", blocker / "sub" / "r.nc"),
                     f"{blocker}: is a file, not a folder")
    _one_line_exit_2(invoke("run", scenario, "--run-dir", blocker / "r.run", "-o",
                            tmp_path / "r.nc"), f"{blocker}: is a file, not a folder")
    _one_line_exit_2(invoke("run", scenario, "-o", "/proc/mcvar/r.nc"), "/proc/mcvar")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clitest.toml", "file"]


def test_tiny_does_not_hide_a_bad_value(scenario):
    for command in ("validate", "run"):
        _one_line_exit_2(invoke(command, scenario, "--tiny", "--set", "trials=1000000000000"),
                         "trials: got 1000000000000, allowed range [1, 1e+09]")


def test_validate_summarises_a_long_sweep_list(scenario):
    values = ", ".join(map(str, range(1, 25)))
    result = invoke("validate", scenario, "--set", f"sweep.pulsing.bl=[{values}]")
    assert result.exit_code == 0, result.output
    assert "1, 2, 3, 4, 5, 6, ..., 19" in result.output and "values)" in result.output
    assert "12, 13" not in result.output and len(result.output.splitlines()) < 20

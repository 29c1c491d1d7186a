"""The study's MNIST experiment: its scenario (CrossSim's recipe), the input scaling it uses,
and scripts/mnist_accuracy.py (a tiny run on the real data: skips locally without MNIST, fails
in CI, as in test_mnist.py)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import seeded

from mcvar.datasets import standardize, standardize_global
from mcvar.scenario import load
from mcvar.training import Training

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "mnist_accuracy.py"
SCENARIO = ROOT / "scenarios" / "study_mnist.toml"
KEYS = {"config", "trials", "epochs", "mean", "ci_low", "ci_high", "min", "max", "s_per_epoch",
        "examples_per_s"}


def load_script():
    spec = importlib.util.spec_from_file_location("mnist_accuracy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = load_script()


def require_mnist():
    from mcvar.mnist import store

    try:
        store.load_arrays()
    except store.MnistNotFound as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must have MNIST: {error}")
        pytest.skip(f"MNIST not fetched: python -m mcvar data fetch mnist ({error})")


def test_standardize_global_uses_one_mean_and_std_of_the_training_set():
    rng = seeded(1)
    x_train = rng.random((50, 6)) * np.array([1, 2, 3, 4, 5, 0])  # last feature constant 0
    x_test = rng.random((7, 6))
    a, b = standardize_global(x_train, x_test)
    assert a.mean() == pytest.approx(0, abs=1e-12) and a.std() == pytest.approx(0.5)
    scale = 0.5 / x_train.std()
    np.testing.assert_allclose(b, (x_test - x_train.mean()) * scale, rtol=1e-12)
    # relative scale of features kept (per-feature scaling would equalise them)
    np.testing.assert_allclose(a.std(axis=0), x_train.std(axis=0) * scale, rtol=1e-12)
    assert not np.allclose(standardize(x_train, x_test)[0].std(axis=0)[:5], a.std(axis=0)[:5])
    zeros, _ = standardize_global(np.ones((3, 2)), np.ones((1, 2)))
    assert np.all(zeros == 0)
    with pytest.raises(ValueError):
        standardize_global(x_train, x_test[:, :3])


def test_input_scaling_defaults_to_per_feature():
    assert Training().input_scaling == "per_feature"


def test_scenario_is_the_crosssim_mnist_recipe():
    sc = load(SCENARIO)
    labels = list(sc.axes[0].labels)
    carries = ["TaOx + carry (exact)", "TaOx + carry (v2.0 open-loop)",
               "TaOx + carry (calibrated reset)"]
    assert labels == ["float64", "ideal device", "ENODe", "TaOx", *carries]
    configs = dict(zip(labels, sc.configurations))
    for c in configs.values():
        t = c.training
        assert (t.dataset, t.hidden, t.input_scaling) == ("mnist", (300,), "global")
        assert (t.epochs, t.train_examples, t.test_examples) == (20, 0, 0)
    # CrossSim v2.0's MNIST rates: numeric 0.01, one table 0.0025, several devices 0.001
    assert {k: c.training.lr for k, c in configs.items()} == {
        "float64": 0.01, "ideal device": 0.01, "ENODe": 0.0025, "TaOx": 0.001,
        **{k: 0.001 for k in carries}}
    for c in configs.values():  # 1.5 x CrossSim's MNIST baselines 0.218, 1.05
        assert c.training.weight_ranges == pytest.approx((0.327, 1.575))
    assert configs["float64"].training.backend == "numeric"
    assert [c.training.carry_digits for c in configs.values()] == [1, 1, 1, 1, 3, 3, 3]
    assert [(c.training.carry_write, c.training.carry_reset) for c in configs.values()][4:] == [
        ("exact", "exact"), ("open_loop", "blind"), ("open_loop", "calibrated")]


def test_config_selection_keeps_the_chosen_points_in_order():
    sc = load(SCENARIO, script.select_overrides(["taox_carry_exact", "numeric"]))
    assert list(sc.axes[0].labels) == ["float64", "TaOx + carry (exact)"]
    assert [c.training.backend for c in sc.configurations] == ["numeric", "crossbar"]
    assert [c.training.carry_digits for c in sc.configurations] == [1, 3]
    with pytest.raises(ValueError, match="unknown configuration"):
        script.select_overrides(["taox", "nope"])


def test_tiny_run_writes_one_row_per_config(tmp_path):
    require_mnist()
    out = tmp_path / "rows.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--configs", "numeric", "ideal",
                          "--tiny", "--scheduler", "synchronous", "--json", str(out)],
                         capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rows = json.loads(out.read_text())
    assert [r["config"] for r in rows] == ["numeric", "ideal"]
    for r in rows:
        assert KEYS <= set(r)
        assert (r["trials"], r["epochs"], r["train_examples"], r["test_examples"]) == (2, 1, 40, 40)
        assert 0 <= r["min"] <= r["mean"] <= r["max"] <= 1
        assert 0.0 <= r["ci_low"] <= r["mean"] <= r["ci_high"] <= 1.0  # logit t interval
        assert math.isfinite(r["s_per_epoch"]) and r["s_per_epoch"] > 0
        assert r["examples_per_s"] == pytest.approx(40 / r["s_per_epoch"])
    assert "examples_per_s" not in run.stdout and "ex/s" in run.stdout


def test_study_adds_the_mnist_part_only_when_asked():
    from mcvar.study.plan import MNIST_SIZES, QUICK, study_scenarios

    assert "mnist" not in study_scenarios()
    default = study_scenarios(mnist=True)["mnist"]
    t = default.configurations[0].training
    assert (default.trials, t.epochs, t.train_examples) == (
        MNIST_SIZES["trials"], MNIST_SIZES["training.epochs"],
        MNIST_SIZES["training.train_examples"])
    quick = study_scenarios(mnist=True, quick=True, epochs=3)["mnist"]
    t = quick.configurations[0].training
    assert (quick.trials, t.epochs, t.train_examples, t.test_examples) == (
        QUICK["trials"], 3, QUICK["training.train_examples"], QUICK["training.test_examples"])


def test_cli_study_passes_mnist(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import mcvar.study
    from mcvar.cli import main

    calls = []
    monkeypatch.setattr(mcvar.study, "reproduce_study", lambda out, **kw: calls.append(kw))
    for args, want in ((["--mnist"], True), ([], False)):
        result = CliRunner().invoke(main, ["study", "--out", str(tmp_path), *args])
        assert result.exit_code == 0, result.output
        assert calls.pop()["mnist"] is want


def test_mnist_section_reports_every_configuration_with_its_sizes():
    require_mnist()
    from mcvar.execute import run_scenario
    from mcvar.study.report import MNIST_HEADING, mnist_section

    sc = load(SCENARIO, script.select_overrides(["numeric", "taox"]), tiny=True)
    ds = run_scenario(sc, scheduler="synchronous")
    text = mnist_section(sc, ds)
    assert text.startswith(MNIST_HEADING)
    flat = " ".join(text.split())
    assert "2 trials, 1 epoch(s) of 40 training examples, 40 test examples" in flat
    assert "not yet comparable" in flat
    lines = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()
             if line.startswith("| ")}
    assert set(lines) == {"configuration", "---", "float64", "TaOx"}
    assert "~98% (MNIST)" in lines["float64"] and "77-80% (MNIST)" in lines["TaOx"]
    final = ds.test_accuracy.isel(epoch=-1).sel(device_kind="TaOx").values.mean()
    assert f"{100 * final:.1f}%" in lines["TaOx"] and "| 0.001 |" in lines["TaOx"]

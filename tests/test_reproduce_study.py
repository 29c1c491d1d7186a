"""The study reproduction: threshold, paired-loss, Pareto and carry-energy arithmetic against
hand and NumPy references; the quick study end to end (every section, figure and result file,
the study's headline numbers next to ours, read back from the results); resume; sizes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from scipy import stats as sps

from mcvar import workloads
from mcvar.cli import main
from mcvar.cost import network_costs
from mcvar.cost.reference import compare
from mcvar.study import reproduce_study
from mcvar.study.analysis import DROP, crossing, paired_drop, pareto_front, tolerance
from mcvar.study.plan import PARTS, QUICK, WALL_TIMES, estimate_seconds, study_scenarios
from mcvar.study.report import FIGURES, HEADINGS

from conftest import seeded


# ----------------------------------------------------------------------------- arithmetic

def test_crossing_interpolates_linearly_between_samples():
    x, y = [0.0, 1.0, 3.0], [0.0, 0.004, 0.024]
    assert crossing(x, y, 0.01) == pytest.approx(1.0 + 2.0 * 0.006 / 0.02)
    assert crossing(x, y, 0.0) == 0.0  # reached at the first sample
    assert crossing(x, y, 0.03) is None  # never reached
    assert crossing([0.0, 1.0, 2.0], [0.0, np.nan, 0.02], 0.01) is None  # NaN never bridges
    with pytest.raises(ValueError, match="increasing"):
        crossing([0.0, 0.0], [0.0, 1.0], 0.5)


def test_paired_drop_is_the_t_interval_of_per_trial_differences():
    a = seeded(1).uniform(0.8, 0.95, (4, 7))
    mean, low, high = paired_drop(a)
    d = a[0] - a
    half = sps.t.ppf(0.975, 6) * d.std(axis=1, ddof=1) / np.sqrt(7)
    np.testing.assert_allclose(mean, d.mean(axis=1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(low, d.mean(axis=1) - half, rtol=0, atol=1e-15)
    np.testing.assert_allclose(high, d.mean(axis=1) + half, rtol=0, atol=1e-15)
    assert mean[0] == low[0] == high[0] == 0.0
    a[2, 3] = np.nan  # a trial missing anywhere leaves every point
    assert paired_drop(a)[0][1] == pytest.approx((a[0] - a[1])[np.arange(7) != 3].mean())


def test_tolerance_finds_the_threshold_despite_large_trial_to_trial_spread():
    # accuracy falls 0.1 per unit of x; trials differ by up to 20 points, a common offset
    # that pairing removes: the mean loss reaches 1 point exactly at x = 0.1
    x = np.array([0.0, 0.05, 0.2, 0.4])
    offsets = seeded(2).uniform(-0.1, 0.1, 8)
    noise = seeded(3).normal(0.0, 1e-4, (4, 8))
    acc = 0.9 - 0.1 * x[:, None] + offsets[None, :] + noise
    tol = tolerance(x, acc)
    assert tol.drop == DROP and tol.reference == 0.0 and tol.x_max == 0.4
    assert tol.value == pytest.approx(0.1, abs=2e-3)
    assert tol.low <= tol.value <= tol.high
    assert tol.high - tol.low < 0.01
    assert tol.describe().startswith("0.1")
    flat = tolerance(x, 0.9 + offsets[None, :] + noise)
    assert flat.value is None and "not reached up to 0.4" in flat.describe()
    with pytest.raises(ValueError, match="drop"):
        tolerance(x, acc, drop=1.5)


def test_pareto_front_keeps_only_undominated_points():
    energy = [1.0, 1.0, 2.0, 3.0, 0.5]
    accuracy = [0.80, 0.90, 0.95, 0.94, 0.5]
    assert pareto_front(energy, accuracy).tolist() == [False, True, True, False, True]


def test_scenario_prices_carry_digits_on_analog_reram_only():
    """The digits scenario's cost task prices TaOx + carry's three digits (network_costs with
    carry) on analog ReRAM, and plain TaOx like any one-device network; digital designs
    compute exactly and get no carry digits."""
    scenario = study_scenarios()["digits"]
    labels = list(scenario.axes[0].labels)
    plain = scenario.configurations[labels.index("TaOx")]
    carry = scenario.configurations[labels.index("TaOx + carry (exact)")]
    tech = carry.cost.technology_for(carry.tile, carry.periphery)
    t = carry.training
    for config, digits in ((plain, 1), (carry, t.carry_digits)):
        run = workloads.run_cost(config)
        for design in ("analog_reram", "digital_reram"):
            k = digits if design == "analog_reram" else 1
            want = network_costs((64, 36, 10), tech, design=design, carry_digits=k,
                                 carry_every=t.carry_every)
            for name in ("training_energy_per_example", "carry_readout_energy_per_example",
                         "total_tiles"):
                assert float(run[name].sel(design=design)) == pytest.approx(float(want[name]),
                                                                            rel=1e-12)
    cost = workloads.run_cost(carry).sel(design="analog_reram")
    assert float(cost.carry_readout_energy_per_example) > 0 and int(cost.total_tiles) == 6


# ----------------------------------------------------------------------------- sizes

def test_quick_and_overrides_size_every_training_scenario_only():
    quick = study_scenarios(quick=True, epochs=3)
    assert [p.key for p in PARTS] == list(quick)
    for part in PARTS:
        sc = quick[part.key]
        if not part.trains:
            assert sc.configurations[0].training is None and "training" not in sc.tables
            continue
        assert sc.trials == QUICK["trials"]
        for config in sc.configurations:
            assert config.training.epochs == 3
            assert config.training.train_examples == QUICK["training.train_examples"]
    default = study_scenarios(trials=3, train_examples=0)
    assert default["digits"].trials == 3 and default["cost"].trials == 1
    assert default["digits"].configurations[0].training.train_examples == 0
    with pytest.raises(ValueError, match="trials"):
        study_scenarios(trials=0)


def test_estimate_grows_linearly_with_trials_and_epochs():
    one = study_scenarios(trials=2, epochs=2)["read_noise"]
    two = study_scenarios(trials=4, epochs=2)["read_noise"]
    four = study_scenarios(trials=4, epochs=4)["read_noise"]
    overhead = [0.5 * len(s.tasks()) for s in (one, two, four)]
    work = [estimate_seconds(s) - o for s, o in zip((one, two, four), overhead)]
    assert work[1] == pytest.approx(2 * work[0]) and work[2] == pytest.approx(4 * work[0])


# ----------------------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def quick_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    lines = []
    path = reproduce_study(out, quick=True, scheduler="synchronous", progress=False,
                           log=lines.append)
    return out, path, lines


def test_quick_study_writes_every_section_figure_and_result(quick_study):
    out, path, lines = quick_study
    assert path == out / "report.md"
    text = path.read_text()
    positions = [text.index(h) for h in HEADINGS]
    assert positions == sorted(positions)  # every section, in order
    for figure in FIGURES.values():
        png = out / figure
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert f"]({figure})" in text  # and the report shows it
    scenarios = study_scenarios(quick=True)
    for sc in scenarios.values():
        ds = xr.open_dataset(out / "results" / f"{sc.name}.nc")
        assert ds.attrs["scenario_name"] == sc.name and ds.attrs["missing_tasks"] == ""
        ds.close()
        assert f"`results/{sc.name}.nc`" in text
    assert lines[0].startswith("study plan (quick mode):") and "tasks" in lines[0]
    assert "Quick mode" in text


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {start}"))


def test_report_puts_the_study_headline_numbers_next_to_ours_from_the_results(quick_study):
    out, path, _ = quick_study
    text = path.read_text()
    cost = xr.load_dataset(out / "results" / "study_cost.nc")
    rows = {r["quantity"]: r for r in compare(cost.sel(size="1024", periphery_adc_bits=8))}
    for name, key, study in (("latency ratio digital ReRAM", "latency_ratio_digital_reram", 540),
                             ("energy ratio digital ReRAM", "energy_ratio_digital_reram", 270),
                             ("latency ratio SRAM", "latency_ratio_sram", 34),
                             ("energy ratio SRAM", "energy_ratio_sram", 430)):
        assert _row(text, name).endswith(f"| {study}x | {rows[key]['mcvar']:.0f}x |")
    ours = rows["energy_per_mac_analog"]["mcvar"] * 1e15
    assert re.search(rf"\| ~11 fJ \| {ours:.3g} fJ \|", _row(text, "analog ReRAM energy per MAC"))
    digits = xr.load_dataset(out / "results" / "study_digits.nc")
    for label, study in (("TaOx", "77-80% (MNIST)"), ("TaOx + carry (exact)", "~97% (MNIST)"),
                         ("TaOx + carry (v2.0 open-loop)", "~97% (MNIST)"),
                         ("float64", "~98% (MNIST)")):
        final = digits.test_accuracy.sel(device_kind=label).isel(epoch=-1).values
        row = next(line for line in text.split("**digits 64-36-10**")[1].splitlines()
                   if line.startswith(f"| {label} |"))
        assert row.startswith(f"| {label} | {study} | {100 * final.mean():.1f}% |")
    assert "tolerable below ~5% of the range" in _row(text, "read noise costing")
    assert "tolerable below ~0.4% of the range" in _row(text, "write noise costing")


def test_rerun_resumes_from_the_results_and_keeps_the_wall_time(quick_study, monkeypatch):
    out, path, _ = quick_study
    spent = json.loads((out / "results" / WALL_TIMES).read_text())

    def no_work(*args, **kwargs):
        raise AssertionError("a finished task ran again")

    monkeypatch.setattr(workloads, "run_trials", no_work)
    monkeypatch.setattr(workloads, "run_cost", no_work)
    reproduce_study(out, quick=True, scheduler="synchronous", progress=False, log=lambda s: None)
    again = json.loads((out / "results" / WALL_TIMES).read_text())
    assert set(again) == set(spent) and all(again[k] >= spent[k] for k in spent)


def test_cli_study_passes_its_options_to_the_study(tmp_path, monkeypatch):
    import mcvar.study

    calls = []
    monkeypatch.setattr(mcvar.study, "reproduce_study", lambda out, **kw: calls.append((out, kw)))
    args = ["study", "--out", str(tmp_path), "--quick", "--trials", "3", "--epochs", "2",
            "--train-examples", "0", "--scheduler", "synchronous", "--workers", "2", "--fresh",
            "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (out, kw), = calls
    assert out == str(tmp_path)
    assert {k: kw[k] for k in ("quick", "trials", "epochs", "train_examples", "scheduler",
                               "workers", "fresh", "progress")} == dict(
        quick=True, trials=3, epochs=2, train_examples=0, scheduler="synchronous", workers=2,
        fresh=True, progress=False)
    calls.clear()
    assert CliRunner().invoke(main, ["study", "--out", str(tmp_path)]).exit_code == 0
    (_, kw), = calls
    assert (kw["quick"], kw["trials"], kw["fresh"], kw["progress"]) == (False, None, False, True)
    bad = CliRunner().invoke(main, ["study", "--out", str(tmp_path), "--trials", "0"])
    assert bad.exit_code == 2 and "--trials" in bad.output and not calls[1:]

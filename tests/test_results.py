"""Results: every shipped scenario runs (tiny) to a self-describing dataset; workloads agree
with direct engine calls; pieces combine by coordinates; netCDF round trip."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mcvar import results, stats, workloads
from mcvar.cost import KERNELS, kernel_costs, network_costs
from mcvar.execute import run_scenario
from mcvar.formatting import si
from mcvar.montecarlo import random_weights, read_errors, update_errors
from mcvar.results import PIECES, open_results, write_netcdf
from mcvar.scenario import load, loads
from mcvar.tile import Tile
from mcvar.variables import VARIABLES, annotate, summarized, summary_names

ROOT = Path(__file__).parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))

#: what each workload documents in a result
DOCUMENTED = {
    "kernels": ["error_mean", "error_std", "error_rms", "error_max_abs", "error_nrmse",
                "signal_rms", "gain", "error_histogram", "operations", "kernel_wall_time",
                "error_nrmse_mean", "error_nrmse_std", "error_nrmse_ci_low",
                "error_nrmse_ci_high", "error_nrmse_quantile"],
    "training": ["test_accuracy", "train_accuracy", "train_loss", "training_pulses",
                 "epoch_wall_time", "test_accuracy_mean", "test_accuracy_std",
                 "test_accuracy_ci_low", "test_accuracy_ci_high", "test_accuracy_quantile"],
    "cost": ["energy", "latency", "area", "kernel_energy", "kernel_latency", "tile_area",
             "step_energy", "step_latency", "energy_per_mac"],
}
ATTRIBUTES = ["Conventions", "mcvar_version", "scenario", "seed", "created", "host", "history",
              "scenario_name", "trials", "sweep_seeds"]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_runs_tiny_to_a_documented_dataset(path, tmp_path):
    scenario = load(path, tiny=True)
    ds = run_scenario(scenario, tmp_path / "r.nc", scheduler="synchronous")
    for workload in scenario.workloads:
        for name in DOCUMENTED[workload]:
            assert name in ds, f"{path.stem}: {name} missing"
    if "training" in scenario.workloads and "cost" in scenario.workloads:
        assert "training_energy_per_example" in ds
    if scenario.configurations[0].kernels and scenario.configurations[0].kernels.updates:
        assert "update_pulses" in ds
    for dim in scenario.dims:
        assert ds.sizes[dim] == scenario.shape[scenario.dims.index(dim)]
    if "kernel" in ds.dims:  # the cost model's order, whatever the workloads measured
        assert list(ds.kernel.values) == [k for k in KERNELS if k in ds.kernel.values]
    if "trial" in ds.dims:
        assert ds.sizes["trial"] == scenario.trials
    for name, var in ds.variables.items():
        assert var.attrs.get("long_name"), f"{name} has no long_name"
        if var.dtype.kind in "fiu":
            assert "units" in var.attrs, f"{name} has no units"
    for name in summarized():
        for stat, target in summary_names(name).items():
            if name in ds:
                assert ds[target].attrs["cell_methods"].startswith("trial: ")
    for attr in ATTRIBUTES:
        assert attr in ds.attrs, attr
    assert loads(ds.attrs["scenario"]).configurations == scenario.configurations
    assert ds.attrs["seed"] == scenario.seed and ds.attrs["missing_tasks"] == ""
    # the trial data are complete and finite where defined
    if "test_accuracy" in ds:
        assert ds.test_accuracy.notnull().all()
    if "error_histogram" in ds:  # the cost model's kernel list may be longer: NaN there
        measured = list(scenario.configurations[0].kernels.kernels)
        assert ds.error_histogram.sel(kernel=measured).notnull().all()
    if "test_accuracy" in ds:
        assert ((ds.test_accuracy >= 0) & (ds.test_accuracy <= 1)).all()
    # netCDF round trip keeps every value and attribute
    back = open_results(tmp_path / "r.nc")
    xr.testing.assert_identical(back.load(), ds)
    assert back.attrs == ds.attrs
    back.close()


SMALL = """
name = "small"
seed = 4
trials = 4
trials_per_task = 3
[tile]
rows = 7
cols = 5
[device]
model = "soft_bounds"
dw_min = 0.01
dw_min_std = 0.3
dw_min_dtod = 0.1
read_noise = 0.02
[periphery]
adc_bits = 6
dac_bits = 5
out_bound = "calibrated"
[kernels]
reads = 30
updates = 12
bins = 40
[cost]
designs = ["analog_reram", "sram"]
[sweep.zip.pair]
device.w_max = [0.8, 1.2]
pulsing.rule = ["stochastic", "deterministic"]
"""


@pytest.fixture(scope="module")
def small():
    scenario = loads(SMALL, source="small.toml")
    return scenario, run_scenario(scenario, scheduler="synchronous")


def test_kernel_workload_matches_direct_engine_calls(small):
    scenario, ds = small
    config = scenario.configuration((1,))
    k = config.kernels
    tile = Tile(config.tile, config.device, config.periphery, config.pulsing, seed=4, trial=3)
    tile.program(random_weights(tile, k.weight_fraction))
    gen = np.random.default_rng(np.random.SeedSequence([4, 3, workloads._CALIBRATION_TAG]))
    tile.calibrate_adc(gen.uniform(-1, 1, (workloads.CALIBRATION_INPUTS, 7)), False)
    tile.calibrate_adc(gen.uniform(-1, 1, (workloads.CALIBRATION_INPUTS, 5)), True)
    direct = {"vmm": read_errors(tile, 30, edges=k.edges("vmm")),
              "mvm": read_errors(tile, 30, transpose=True, edges=k.edges("mvm")),
              "opu": update_errors(tile, 12, lr=k.lr, d_std=k.d_std, edges=k.edges("opu"))}
    point = ds.sel(pair=1, trial=3)
    for kernel, s in direct.items():
        p = point.sel(kernel=kernel)
        assert float(p.error_rms) == s.rms and float(p.error_mean) == s.mean
        assert float(p.gain) == s.slope and float(p.error_nrmse) == s.nrmse
        np.testing.assert_array_equal(p.error_histogram.values, s.counts)
    np.testing.assert_array_equal(point.update_pulses.values, direct["opu"].pulses)


def test_histograms_count_every_error(small):
    _, ds = small
    total = ds.error_histogram.sum("bin")
    expected = {"vmm": 30 * 5, "mvm": 30 * 7, "opu": 12 * 7 * 5}
    for kernel, n in expected.items():
        assert (total.sel(kernel=kernel) == n).all()
        assert float(ds.operations.sel(kernel=kernel).isel(pair=0)) == (12 if kernel == "opu"
                                                                        else 30)
    centers = ds.error_bin_center.sel(kernel="opu").values
    width = float(ds.error_bin_width.sel(kernel="opu"))
    assert np.allclose(np.diff(centers), width) and math.isclose(centers[0], -0.05 + width / 2)


def test_cost_matches_the_cost_model_for_the_points_tile_and_bits(small):
    scenario, ds = small
    tech = scenario.configurations[0].cost.technology_for(scenario.configurations[0].tile,
                                                          scenario.configurations[0].periphery)
    assert (tech.rows, tech.cols, tech.input_bits, tech.adc_bits) == (7, 5, 5, 6)
    ref = kernel_costs(tech, designs=("analog_reram", "sram"))
    for name in ("energy", "latency", "area", "step_energy", "energy_per_mac"):
        np.testing.assert_array_equal(ds[name].isel(pair=0).values, ref[name].values)
        np.testing.assert_array_equal(ds[name].isel(pair=1).values, ref[name].values)


def test_network_cost_matches_the_cost_model():
    config = workloads.Configuration(seed=0, training=workloads.Training(hidden=(20,),
                                                                        train_examples=500),
                                     cost=workloads.Cost(designs=("digital_reram",)))
    ds = workloads.run_cost(config)
    tech = config.cost.technology_for(config.tile, config.periphery)
    ref = network_costs((64, 20, 10), tech, design="digital_reram", examples_per_epoch=500)
    for name in workloads.NETWORK_TOTALS:
        assert float(ds[name].sel(design="digital_reram")) == float(ref[name])


def test_summaries_are_the_statistics_over_trials(small):
    _, ds = small
    s = stats.summarize(ds.error_rms)
    for stat, target in summary_names("error_rms").items():
        xr.testing.assert_allclose(ds[target].variable, s[stat].transpose(*ds[target].dims)
                                   .variable, rtol=1e-12)
    assert ds.error_rms_mean.attrs["cell_methods"] == "trial: mean"
    assert "95% Student-t" in ds.error_rms_ci_low.attrs["cell_methods"]
    assert ds.error_rms_mean.attrs["units"] == "1"
    assert list(ds["quantile"].values) == list(stats.QUANTILES)


def test_calibrated_adc_reads_more_finely_than_worst_case(small):
    scenario, ds = small
    worst = run_scenario(loads(SMALL.replace('out_bound = "calibrated"', ""), source="w.toml"),
                         scheduler="synchronous")
    ratio = worst.error_rms_mean.sel(kernel="vmm") / ds.error_rms_mean.sel(kernel="vmm")
    assert (ratio > 1.5).all()


def test_pieces_combine_by_coordinates_and_missing_ones_are_nan(small, tmp_path):
    scenario, ds = small
    run_scenario(scenario, tmp_path / "r.nc", scheduler="synchronous")
    pieces = tmp_path / "r.run" / PIECES
    one = xr.load_dataset(pieces / "p00001_t000000-000002.nc")
    assert one.sizes["pair"] == 1 and list(one.trial.values) == [0, 1, 2]
    assert one.device_w_max.item() == 1.2 and one.attrs["mcvar_task"] == "p00001_t000000-000002"
    (pieces / "p00001_t000000-000002.nc").unlink()
    (pieces / "p00000_cost.nc").unlink()
    partial = open_results(tmp_path / "r.run")
    assert partial.attrs["missing_tasks"] == "p00000_cost p00001_t000000-000002"
    assert partial.error_rms.sel(pair=1, trial=[0, 1, 2]).isnull().all()
    assert partial.energy.sel(pair=0).isnull().all() and partial.energy.sel(pair=1).notnull().all()
    kept = dict(pair=[0], trial=[0, 1, 2, 3])
    xr.testing.assert_identical(partial.error_rms.sel(kept), ds.error_rms.sel(kept))
    assert int(partial.error_rms_mean.notnull().sum()) == ds.error_rms_mean.size  # from trial 3


def test_registry_rejects_unknown_or_misshapen_variables():
    ds = xr.Dataset({"mystery": ("trial", [1.0])})
    with pytest.raises(KeyError, match="mystery"):
        annotate(ds)
    with pytest.raises(KeyError, match="error_rms"):
        annotate(xr.Dataset({"error_rms": ("trial", [1.0])}))
    assert all(v.long_name for v in VARIABLES.values())


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    path = write_netcdf(xr.Dataset({"a": ("x", np.arange(1000.0))}), tmp_path / "sub" / "a.nc")
    assert path.exists() and [p.name for p in path.parent.iterdir()] == ["a.nc"]
    assert xr.load_dataset(path).a.encoding["zlib"]
    results.write_text("x = 1\n", tmp_path / "s.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml", "sub"]


def test_public_api_is_importable_lazily():
    import mcvar
    from mcvar import execute, scenario

    assert mcvar.open_results is open_results and mcvar.run_scenario is execute.run_scenario
    assert mcvar.load_scenario is scenario.load and mcvar.ScenarioError is scenario.ScenarioError
    assert set(mcvar.__all__) <= set(dir(mcvar))
    with pytest.raises(AttributeError):
        mcvar.no_such_thing  # noqa: B018


def test_opening_a_result_file_imports_no_engine(small, tmp_path):
    """Reading results needs neither the scenario nor the workloads nor the kernels (nor
    Numba); a run directory, which is assembled from its scenario, does import the scenario."""
    scenario, ds = small
    path = tmp_path / "r.nc"
    run_scenario(scenario, path, scheduler="synchronous")
    code = ("import sys; from mcvar.results import open_results\n"
            "ds = open_results(sys.argv[1]); assert 'error_rms' in ds\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('mcvar', 'numba')))))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert "mcvar.results" in loaded
    engine = [m for m in loaded if m.startswith(("mcvar.scenario", "mcvar.workloads",
                                                 "mcvar.kernels", "mcvar.tile", "numba"))]
    assert not engine, engine
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.run")], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "mcvar.scenario" in done.stdout.split()


@pytest.mark.parametrize("value, unit, text", [
    (1.234e-9, "J", "1.23 nJ"), (-2.5e-12, "s", "-2.5 ps"), (999.4, "W", "999 W"),
    (1000.0, "W", "1 kW"), (3e7, "Hz", "30 MHz"), (2e-18, "J", "0.002 fJ"),
    (0.0, "J", "0 J"), (float("inf"), "J", "inf J"), (float("nan"), "s", "nan s"),
    (np.float32(4e-6), "m", "4 µm")])
def test_si_formats_with_prefixes(value, unit, text):
    assert si(value, unit) == text

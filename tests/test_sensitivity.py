"""Tests of global sensitivity: the estimators on a function with known indices, the
parameter space mapping, the [sensitivity] table and a tiny end-to-end analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcvar.sensitivity import Parameter, Sensitivity, estimate

A, B = 7.0, 0.1  # the Ishigami function's usual constants


def ishigami(x: np.ndarray) -> np.ndarray:
    """Ishigami and Homma (1990) on [-pi, pi]^3."""
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices() -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices (Sobol' and Levitan 1999)."""
    v1 = 0.5 * (1 + B * math.pi ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = B ** 2 * math.pi ** 8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / var, np.array([v1 + v13, v2, v13]) / var


def _space(n: int, method: str, **kw) -> Sensitivity:
    params = tuple(Parameter(f"x.x{i}", -math.pi, math.pi) for i in range(3))
    return Sensitivity(params, method=method, samples=n, **kw)


def test_sobol_recovers_the_ishigami_indices_within_its_intervals():
    sens = _space(1024, "sobol", seed=3, resamples=500)
    unit = sens.unit_sample()
    assert unit.shape == (1024 * 5, 3) and sens.evaluations == 1024 * 5
    x = np.array([[p.value(u) for p, u in zip(sens.parameters, row)] for row in unit])
    out = estimate("sobol", sens.problem, unit, ishigami(x), resamples=500, confidence=0.95,
                   seed=3)
    s1, st = ishigami_indices()
    # analytic values: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert np.all(np.abs(out["S1"] - s1) <= out["S1_conf"]), (out["S1"], out["S1_conf"])
    assert np.all(np.abs(out["ST"] - st) <= out["ST_conf"]), (out["ST"], out["ST_conf"])
    assert np.all(out["S1_conf"] < 0.1) and np.all(out["ST_conf"] < 0.1)  # informative


def test_morris_ranks_the_ishigami_parameters_and_finds_the_interaction():
    sens = _space(64, "morris", seed=5)
    unit = sens.unit_sample()
    x = np.array([[p.value(u) for p, u in zip(sens.parameters, row)] for row in unit])
    out = estimate("morris", sens.problem, unit, ishigami(x), resamples=200, confidence=0.95,
                   seed=5, levels=sens.levels)
    assert unit.shape == (64 * 4, 3)
    # x2 acts alone (sigma well below mu_star); x3 acts only through x1 (mu near 0)
    assert np.all(out["mu_star"] > 0) and out["mu_star"][1] > out["mu_star"][2]
    assert abs(out["mu"][2]) < 0.5 * out["mu_star"][2]


def test_parameter_values_cover_the_declared_space_evenly():
    u = (np.arange(1000) + 0.5) / 1000
    bits = Parameter("periphery.adc_bits", 4, 8, integer=True)
    counts = np.bincount([bits.value(v) for v in u])[4:]
    np.testing.assert_array_equal(counts, [200] * 5)
    assert bits.value(1.0) == 8 and bits.value(0.0) == 4
    table = Parameter("device.table", choices=("TaOx", "ENODe"))
    assert [table.value(v) for v in (0.0, 0.49, 0.5, 1.0)] == ["TaOx", "TaOx", "ENODe", "ENODe"]
    noise = Parameter("device.read_noise", 0.0, 0.1)
    assert noise.value(0.25) == pytest.approx(0.025)


def test_constant_and_missing_outputs():
    sens = _space(8, "sobol")
    unit = sens.unit_sample()
    flat = estimate("sobol", sens.problem, unit, np.ones(len(unit)), resamples=10,
                    confidence=0.95, seed=0)
    assert np.all(np.isnan(flat["S1"]))
    y = np.ones(len(unit))
    y[3] = np.nan
    with pytest.raises(ValueError, match="1 of 40 model evaluations are missing"):
        estimate("sobol", sens.problem, unit, y, resamples=10, confidence=0.95, seed=0)


# --- the [sensitivity] table of a scenario ------------------------------------------------

SCENARIO = """
name = "sens"
seed = 3
[device]
model = "lookup"
[training]
dataset = "digits"
epochs = 1
[cost]
designs = ["analog_reram"]
[sensitivity]
samples = 4
seed = 2
[sensitivity.parameters]
"device.read_noise" = [0.0, 0.05]
"periphery.adc_bits" = [4, 8]
"device.table" = ["TaOx", "ENODe"]
[sweep]
training.lr = [0.02, 0.05]
"""


def test_the_sample_is_a_zipped_sweep_and_the_resolved_toml_loads_back():
    from mcvar.scenario import loads
    from mcvar.scenario.analyses import analyses_of

    sc = loads(SCENARIO)
    assert sc.dims == ("training_lr", "sample") and sc.shape == (2, 4 * (3 + 2))
    sens = analyses_of(sc)["sensitivity"]
    values = sens.values()
    first = sc.configurations[:20]  # training_lr = 0.02, the sample in order
    assert [c.device.read_noise for c in first] == pytest.approx(values["device.read_noise"])
    assert [c.periphery.adc_bits for c in first] == values["periphery.adc_bits"]
    assert [c.device.table for c in first] == values["device.table"]
    assert set(values["periphery.adc_bits"]) <= set(range(4, 9))
    again = loads(sc.to_toml())
    assert again.to_toml() == sc.to_toml() and again.configurations == sc.configurations
    assert loads(SCENARIO, tiny=True).shape == (2, 2 * 5)  # --tiny: 2 base samples


@pytest.mark.parametrize("change, message", [
    ('method = "fast"', "sensitivity.method: got \"fast\", allowed: sobol, morris"),
    ("samples = 6", "sensitivity.samples: got 6, allowed: a power of 2"),
    ("colour = 1", "sensitivity.colour: unknown key"),
    ('outputs = ["loss"]', "sensitivity.outputs"),
])
def test_bad_sensitivity_settings_name_the_key(change, message):
    from mcvar.scenario import ScenarioError, loads

    text = SCENARIO.replace("samples = 4", change + ("\nsamples = 4" if "samples" not in change
                                                     else ""))
    with pytest.raises(ScenarioError, match=message):
        loads(text, source="f.toml")


@pytest.mark.parametrize("spec, message", [
    ('"device.read_noise" = [0.05, 0.0]', "low < high"),
    ('"device.read_noise" = [0.0, -1.0]', r"device.read_noise\[1\]"),
    ('"device.colour" = [0, 1]', "colour"),
    ('"device.read_noise" = [0.01]', "expected \\[low, high\\]"),
])
def test_bad_parameter_spaces_name_the_parameter(spec, message):
    from mcvar.scenario import ScenarioError, loads

    text = SCENARIO.replace('"device.read_noise" = [0.0, 0.05]', spec)
    with pytest.raises(ScenarioError, match=message):
        loads(text, source="f.toml")


def test_a_sample_group_that_is_not_the_sample_is_refused():
    from mcvar.scenario import ScenarioError, loads

    text = SCENARIO + "[sweep.zip.sample]\ndevice.read_noise = [0.01]\n"
    with pytest.raises(ScenarioError, match="sweep.zip.sample: set by \\[sensitivity\\]"):
        loads(text, source="f.toml")


def test_analyze_a_result_apportions_a_known_linear_model():
    """A synthetic result whose accuracy is 0.9 - 2 read_noise (+ a little adc_bits) and
    whose energy depends on adc_bits only: the indices must say so, per sweep point."""
    import xarray as xr

    from mcvar.scenario import loads
    from mcvar.scenario.analyses import analyses_of
    from mcvar.sensitivity import analyze, table

    sc = loads(SCENARIO.replace("samples = 4", "samples = 256"))
    sens = analyses_of(sc)["sensitivity"]
    v = sens.values()
    noise, bits = np.array(v["device.read_noise"]), np.array(v["periphery.adc_bits"])
    acc = 0.9 - 2 * noise + 0.001 * bits
    energy = 1e-9 * 2.0 ** bits
    n = acc.size
    ds = xr.Dataset(
        {"test_accuracy": (("training_lr", "sample", "trial", "epoch"),
                           np.broadcast_to(acc[None, :, None, None], (2, n, 2, 1))),
         "training_energy_per_example": (("training_lr", "sample", "design"),
                                         np.broadcast_to(energy[None, :, None], (2, n, 1)))},
        coords={"training_lr": [0.05, 0.02], "sample": np.arange(n), "design": ["analog_reram"],
                "device_read_noise": ("sample", noise)})
    out = analyze(ds, sens)
    assert out.S1.dims == ("output", "parameter", "training_lr")
    s1 = out.S1.sel(training_lr=0.02)
    acc_s1 = s1.sel(output="final_accuracy")
    assert float(acc_s1.sel(parameter="device.read_noise")) > 0.8
    assert abs(float(acc_s1.sel(parameter="device.table"))) < 0.05
    st_energy = out.ST.sel(output="training_energy_per_example", training_lr=0.05)
    assert float(st_energy.sel(parameter="periphery.adc_bits")) > 0.9
    assert abs(float(st_energy.sel(parameter="device.read_noise"))) < 1e-9
    assert list(out.training_lr.values) == [0.05, 0.02]  # the result's order, not sorted
    assert out.S1.attrs["units"] == "1" and "first-order" in out.S1.attrs["long_name"]
    assert out.final_accuracy.attrs["units"] == "1"
    assert table(out).count("\n") == 1 + 2 * 2 * 3


def test_outputs_need_their_workloads():
    from mcvar.scenario import ScenarioError, loads

    with pytest.raises(ScenarioError, match=r"sensitivity.outputs: training_energy_per_example "
                                            r"needs \[cost\]"):
        loads(SCENARIO.replace('[cost]\ndesigns = ["analog_reram"]\n', ""), source="f.toml")
    with pytest.raises(ScenarioError, match=r"yield: needs a \[training\] workload"):
        loads('[cost]\n[yield]\ntarget = 0.9\n', source="f.toml")

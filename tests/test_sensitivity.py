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

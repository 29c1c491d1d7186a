"""Statistics over trials: against NumPy/SciPy, NaN handling, and the interval's coverage."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats as sps

from mcvar.stats import QUANTILES, summarize, t_interval


@pytest.mark.parametrize("n", [2, 3, 10, 200])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_t_interval_matches_scipy(n, confidence):
    mean, std = 0.7, 0.13
    low, high = t_interval(mean, std, n, confidence)
    ref = sps.t.interval(confidence, n - 1, loc=mean, scale=std / np.sqrt(n))
    assert (low, high) == pytest.approx(ref, rel=1e-12)


def test_t_interval_nan_below_two_samples():
    low, high = t_interval(np.array([1.0, 2.0]), np.array([0.1, 0.1]), np.array([1, 0]))
    assert np.all(np.isnan(low)) and np.all(np.isnan(high))


def test_summarize_matches_numpy_and_skips_nan():
    gen = np.random.default_rng(np.random.SeedSequence(3))
    data = gen.normal(size=(4, 9))
    data[1, [2, 5]] = np.nan  # two missing trials at one point
    data[3, :] = np.nan  # a point with no finished trial
    data[2, 1:] = np.nan  # a point with one trial
    da = xr.DataArray(data, dims=("point", "trial"))
    s = summarize(da)
    for p in range(3):
        x = data[p][~np.isnan(data[p])]
        assert int(s["count"][p]) == x.size
        assert float(s["mean"][p]) == pytest.approx(x.mean(), rel=1e-12)
        assert np.allclose(s["quantiles"].isel(point=p), np.quantile(x, QUANTILES), rtol=1e-12)
        if x.size >= 2:
            assert float(s["std"][p]) == pytest.approx(x.std(ddof=1), rel=1e-12)
            lo, hi = sps.t.interval(0.95, x.size - 1, loc=x.mean(), scale=sps.sem(x))
            assert float(s["ci_low"][p]) == pytest.approx(lo, rel=1e-12)
            assert float(s["ci_high"][p]) == pytest.approx(hi, rel=1e-12)
    assert np.isnan(float(s["std"][2])) and np.isnan(float(s["ci_low"][2]))
    assert int(s["count"][3]) == 0 and np.isnan(float(s["mean"][3]))
    assert s["quantiles"].dims == ("quantile", "point")


def test_interval_covers_the_true_mean_at_its_confidence():
    # 4000 experiments of 8 normal trials: coverage 0.95 within 4 binomial standard errors
    reps, n, conf = 4000, 8, 0.95
    gen = np.random.default_rng(np.random.SeedSequence(2024))
    da = xr.DataArray(gen.normal(1.5, 2.0, size=(reps, n)), dims=("experiment", "trial"))
    s = summarize(da, confidence=conf)
    covered = float(((s.ci_low <= 1.5) & (s.ci_high >= 1.5)).mean())
    assert abs(covered - conf) < 4 * np.sqrt(conf * (1 - conf) / reps)
    # a 50% interval covers about half as often: the confidence level is really used
    half = summarize(da, confidence=0.5)
    covered = float(((half.ci_low <= 1.5) & (half.ci_high >= 1.5)).mean())
    assert abs(covered - 0.5) < 4 * np.sqrt(0.25 / reps)


@pytest.mark.parametrize("kwargs, message", [
    (dict(dim="epoch"), "dim = 'epoch'"),
    (dict(confidence=1.0), "confidence = 1.0"),
    (dict(quantiles=[0.5, 1.5]), "quantiles"),
    (dict(quantiles=[]), "quantiles"),
])
def test_summarize_rejects_bad_arguments(kwargs, message):
    da = xr.DataArray(np.ones((2, 3)), dims=("point", "trial"), name="x")
    with pytest.raises(ValueError, match=message):
        summarize(da, **kwargs)


# ----------------------------------------------------------------------------- proportions

@pytest.mark.parametrize("trials", [
    [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.5], [0.3],  # all equal, at the bounds, one trial
    [0.0, 1.0], [0.0, 0.0, 0.05], [1.0, 1.0, 0.98], [0.1, 0.9],  # wide, near the bounds
    [0.0213, 0.2963 - 0.0213],  # the issue's --tiny case: the t interval leaves [0, 1] here
])
def test_accuracy_interval_stays_in_unit_interval_and_contains_mean(trials):
    values = xr.DataArray(np.array(trials)[None], dims=("point", "trial"))
    s = summarize(values, proportion=True)
    mean, low, high = (float(s[k][0]) for k in ("mean", "ci_low", "ci_high"))
    if len(trials) < 2:
        assert np.isnan(low) and np.isnan(high)
        return
    assert 0.0 <= low <= mean <= high <= 1.0
    if len(set(trials)) == 1:  # no spread over trials: the point interval
        assert low == high == mean
    else:
        assert low < mean < high or mean in (0.0, 1.0)


def test_accuracy_interval_is_the_t_interval_away_from_the_bounds():
    from mcvar.stats import proportion_interval, t_interval

    low, high = proportion_interval(0.6, 0.004, 8)
    t_low, t_high = t_interval(0.6, 0.004, 8)
    assert low == pytest.approx(t_low, abs=1e-5) and high == pytest.approx(t_high, abs=1e-5)
    # near a bound it is asymmetric: shorter towards the bound
    low, high = proportion_interval(0.97, 0.02, 4)
    assert 0.97 - low > high - 0.97 and high < 1


def test_plain_t_interval_leaves_unit_interval_but_accuracy_does_not():
    values = xr.DataArray([[0.02, 0.4]], dims=("point", "trial"))
    assert float(summarize(values).ci_low[0]) < 0
    assert float(summarize(values, proportion=True).ci_low[0]) > 0


def test_proportion_interval_rejects_means_outside_unit_interval():
    from mcvar.stats import proportion_interval

    with pytest.raises(ValueError, match="proportion"):
        proportion_interval(1.2, 0.1, 3)

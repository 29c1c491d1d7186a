"""Tests of chip yield: the exact binomial interval, the trials a width needs, yields of a
result, the Pareto front and adaptive trial counts through the resumable execution."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.stats import binom

from mcvar.yields import YieldSpec, chip_yield, clopper_pearson, pareto_front, trials_needed


def test_clopper_pearson_closed_forms_at_the_edges():
    low, high = clopper_pearson(0, 10)
    assert low == 0 and high == pytest.approx(1 - 0.025 ** (1 / 10))
    low, high = clopper_pearson(10, 10)
    assert high == 1 and low == pytest.approx(0.025 ** (1 / 10))
    low, high = clopper_pearson(np.array([3, 5]), np.array([10, 10]), 0.9)
    assert np.all(low < [0.3, 0.5]) and np.all(high > [0.3, 0.5])


@pytest.mark.parametrize("n, p", [(20, 0.9), (50, 0.5), (13, 0.97)])
def test_clopper_pearson_covers_at_least_the_confidence_exactly(n, p):
    """Exact coverage: the binomial probability of every k whose interval holds p."""
    k = np.arange(n + 1)
    low, high = clopper_pearson(k, np.full(n + 1, n), 0.95)
    coverage = binom.pmf(k, n, p)[(low <= p) & (p <= high)].sum()
    assert coverage >= 0.95


def test_trials_needed_is_the_smallest_count_that_fits():
    for p, width in ((0.5, 0.1), (0.9, 0.1), (1.0, 0.25), (0.95, 0.05)):
        n = trials_needed(width, p)
        low, high = clopper_pearson(round(p * n), n)
        assert high - low <= width
        low, high = clopper_pearson(round(p * (n - 1)), n - 1)
        assert high - low > width
    assert 385 <= trials_needed(0.1, 0.5) <= 420  # the normal approximation needs 385
    with pytest.raises(ValueError, match="width"):
        trials_needed(0.0)


def test_chip_yield_of_a_result_leaves_unfinished_trials_out():
    acc = np.array([[0.95, 0.91, 0.80, np.nan], [0.99, 0.97, 0.96, 0.92]])
    ds = xr.Dataset(
        {"test_accuracy": (("kind", "trial", "epoch"), np.stack([acc * 0.5, acc], -1)),
         "training_energy_per_example": (("kind", "design"), [[2e-9], [1e-9]])},
        coords={"kind": ["a", "b"], "design": ["analog_reram"]})
    out = chip_yield(ds, YieldSpec(target=0.9, width=0.5))
    np.testing.assert_array_equal(out.chips, [3, 4])
    np.testing.assert_array_equal(out.chips_meeting_target, [2, 4])
    np.testing.assert_allclose(out.chip_yield, [2 / 3, 1.0])
    low, high = clopper_pearson(2, 3)
    assert float(out.chip_yield_low[0]) == pytest.approx(low)
    assert float(out.chip_yield_high[0]) == pytest.approx(high)
    assert out.energy_per_example.attrs["units"] == "J"
    assert int(out.trials_for_width[1]) == trials_needed(0.5, 1.0)


def test_pareto_front_keeps_the_points_nothing_beats():
    energy = [1.0, 2.0, 3.0, 1.5, np.nan, 2.0]
    score = [0.5, 0.9, 0.8, 0.5, 1.0, 0.9]
    np.testing.assert_array_equal(pareto_front(energy, score),
                                  [True, True, False, False, False, True])


SCENARIO = """
name = "adaptive"
seed = 5
trials = 4
trials_per_task = 2
[device]
model = "lookup"
[training]
dataset = "digits"
hidden = [4]
epochs = 1
train_examples = 20
test_examples = 20
[cost]
designs = ["analog_reram"]
[yield]
target = 0.5
adaptive = true
width = WIDTH
[sweep]
device.read_noise = [0.0, 0.02]
"""


@pytest.mark.parametrize("width, blocks", [(0.99, 1), (0.6, 2)])
def test_adaptive_runs_add_blocks_until_the_interval_is_narrow(tmp_path, width, blocks):
    """Two chips give an interval at most 0.84 wide (0 or 2 of 2; 0.90 at 1 of 2), four at
    most 0.81: a width of 0.99 stops after one block, 0.6 runs every block."""
    from mcvar.analyses import run_adaptive, write_analyses
    from mcvar.scenario import loads

    sc = loads(SCENARIO.replace("WIDTH", str(width)))
    out = tmp_path / "a.nc"
    ds = run_adaptive(sc, out, scheduler="synchronous")
    done = ds.test_accuracy.isel(epoch=-1).notnull().sum("trial").values
    np.testing.assert_array_equal(done, [2 * blocks] * 2)
    missing = [] if blocks == 2 else ["p00000_t000002-000003", "p00001_t000002-000003"]
    assert ds.attrs["missing_tasks"].split() == missing
    pieces = sorted(p.name for p in (tmp_path / "a.run" / "pieces").iterdir())
    assert len(pieces) == 2 * (1 + blocks) and out.exists()
    again = run_adaptive(sc, out, scheduler="synchronous")  # resumes: nothing left to do
    xr.testing.assert_identical(again.test_accuracy, ds.test_accuracy)
    written = [p.name for p in write_analyses(sc, ds, out)]
    assert written == ["a.yield.nc", "a.yield.md", "a.yield.png"]

"""Periodic carry: CrossSim's per-digit periods, carry writes and low-digit resets, worked by hand.

A 2-digit network of one 6 x 4 block (offset mapping, one device per weight) on a linear
device whose down steps are ``1 - a`` of its up steps: an open-loop step of a request ``r``
moves a weight by ``r`` upward and by ``(1 - a) r`` downward, exactly (no step noise, the
'continuous' aggregated rule), so every carry mode has a closed-form result.
"""

from __future__ import annotations

import numpy as np
import pytest

from mcvar.devices import Device
from mcvar.kernels import mlp
from mcvar.network import CrossbarNetwork
from mcvar.params import ParameterError
from mcvar.periphery import Periphery
from mcvar.tile import Pulsing, TileSpec
from mcvar.training import Training, carry_periods

A = 0.2  # down steps are (1 - A) of up steps
LINEAR = Device(model="linear", dw_min=0.001, up_down=A)
AGGREGATED = Pulsing(rule="continuous", aggregate=True, n_max=1 << 20)
SPEC = TileSpec(rows=6, cols=4, mapping="offset")
BASE = 4.0
#: low-digit weights: |w| > 0.5 (the threshold x bound 1) carry, the others stay
LOW = np.array([[0.8, -0.7, 0.3, -0.2],
                [0.55, -0.9, 0.0, 0.45],
                [-0.51, 0.6, -0.49, 0.1],
                [0.7, 0.2, -0.6, 0.52],
                [-0.3, -0.8, 0.9, 0.05],
                [0.65, -0.55, 0.25, -0.75]])
CARRIED = np.abs(LOW) > 0.5


def network(**carry) -> CrossbarNetwork:
    training = Training(hidden=(), carry_digits=2, carry_base=BASE, carry_threshold=0.5,
                        **carry)
    high = np.linspace(-0.4, 0.4, 24).reshape(6, 4)  # the full-scale digit's weights
    net = CrossbarNetwork(training, SPEC, LINEAR, Periphery(), AGGREGATED, (5, 4), [high],
                          seed=3, trial=0)
    net.tiles[0].program(LOW)
    return net


def carried(**carry):
    """Low and high digit weights before and after one carry of pair 0."""
    net = network(**carry)
    low, high = net.tiles
    before = low.weights(), high.weights()
    mlp._carry(net.layout, net.states, net.carry, 1, np.zeros(2))
    return before, (low.weights(), high.weights())


def test_exact_write_and_exact_reset():
    """Write-verify both: the carried cells' low digit is 0 and the high digit gained
    w / base; the others are untouched; the network's weight (low / base + high) is kept."""
    (low0, high0), (low1, high1) = carried(carry_write="exact", carry_reset="exact")
    np.testing.assert_allclose(low1, np.where(CARRIED, 0.0, LOW), atol=1e-12)
    np.testing.assert_allclose(high1, high0 + np.where(CARRIED, LOW / BASE, 0.0), atol=1e-12)
    np.testing.assert_allclose(low1 / BASE + high1, low0 / BASE + high0, atol=1e-12)


def test_open_loop_write_and_blind_reset():
    """One open-loop step each (CrossSim v2.0): the high digit gains w / base going up and
    (1 - a) w / base going down; the blind reset leaves a w on cells it moved down (w > 0)
    and 0 on cells it moved up."""
    (low0, high0), (low1, high1) = carried(carry_write="open_loop", carry_reset="blind")
    gain = np.where(LOW > 0, 1.0, 1.0 - A) * LOW / BASE
    np.testing.assert_allclose(high1, high0 + np.where(CARRIED, gain, 0.0), atol=1e-12)
    residual = np.where(LOW > 0, A * LOW, 0.0)
    np.testing.assert_allclose(low1, np.where(CARRIED, residual, LOW), atol=1e-12)


def test_exact_write_with_blind_reset_and_open_loop_write_with_exact_reset():
    """The two choices are independent (CrossSim's exact_carries and zero_reset)."""
    (_, high0), (low1, high1) = carried(carry_write="exact", carry_reset="blind")
    np.testing.assert_allclose(high1, high0 + np.where(CARRIED, LOW / BASE, 0.0), atol=1e-12)
    np.testing.assert_allclose(low1, np.where(CARRIED, np.where(LOW > 0, A * LOW, 0.0), LOW),
                               atol=1e-12)
    (_, high0), (low1, high1) = carried(carry_write="open_loop", carry_reset="exact")
    np.testing.assert_allclose(low1, np.where(CARRIED, 0.0, LOW), atol=1e-12)
    gain = np.where(LOW > 0, 1.0, 1.0 - A) * LOW / BASE
    np.testing.assert_allclose(high1, high0 + np.where(CARRIED, gain, 0.0), atol=1e-12)


def test_calibrated_reset_needs_a_measured_table():
    with pytest.raises(ParameterError, match="training.carry_reset"):
        network(carry_reset="calibrated")


def lookup_reset_residuals(reset: str) -> np.ndarray:
    """Low-digit weights left on carried cells after one reset of TaOx cells holding +-0.7."""
    spec = TileSpec(rows=64, cols=64)
    training = Training(hidden=(), carry_digits=2, carry_base=BASE, carry_threshold=0.5,
                        carry_reset=reset)
    device = Device(model="lookup", table="TaOx")
    net = CrossbarNetwork(training, spec, device, Periphery(), AGGREGATED, (63, 64),
                          [np.zeros((64, 64))], seed=5, trial=0)
    sign = np.where(np.arange(64 * 64).reshape(64, 64) % 2 == 0, 1.0, -1.0)
    net.tiles[0].program(0.7 * sign)
    mlp._carry(net.layout, net.states, net.carry, 1, np.zeros(2))
    return net.tiles[0].weights()


def test_calibrated_reset_is_unbiased_where_the_blind_one_is_not():
    """TaOx's measured steps differ from the table's mean step at most conductances, so a
    blind reset of +-0.7 leaves a systematic residual; the calibrated reset sizes each step
    from the mean step at the cell's conductance, so its mean residual is only the c2c
    noise's (2048 cells per sign: standard error std / 45). Measured (seed 5): blind mean
    residual -0.49 (from +0.7) and +0.50 (from -0.7), it overshoots; calibrated +0.011 and
    +0.001; the c2c spread is 0.43 and 0.34 (one step of ~0.7 through the table's noise)."""
    blind, calibrated = lookup_reset_residuals("blind"), lookup_reset_residuals("calibrated")
    sign = np.where(np.arange(64 * 64).reshape(64, 64) % 2 == 0, 1.0, -1.0)
    for s in (1.0, -1.0):
        cal = calibrated[sign == s]
        assert abs(cal.mean()) < 3 * cal.std() / np.sqrt(cal.size) + 0.01
        assert abs(blind[sign == s].mean()) > 5 * abs(cal.mean()) + 0.02


@pytest.mark.parametrize("every, digits, pairs", [
    (10, 3, [10, 1]),  # an integer: every pair, lowest first, every 10 examples
    ((10, 100), 3, [100, 10]),  # CrossSim's default: lowest pair every 100, next every 1000
    ((7,), 2, [7]),
    (5, 1, []),
])
def test_carry_periods_lowest_pair_first(every, digits, pairs):
    training = Training(carry_digits=digits, carry_every=every)
    assert carry_periods(training).tolist() == pairs


def carry_events(every, digits: int, examples: int) -> list[int]:
    """Digit pairs that carry after each of ``examples`` training examples."""
    net = CrossbarNetwork(Training(hidden=(), carry_digits=digits, carry_every=every), SPEC,
                          LINEAR, Periphery(), AGGREGATED, (5, 4), [np.zeros((6, 4))], seed=0,
                          trial=0)
    return [mlp._carry_levels(net.carry) for _ in range(examples)]


def test_hierarchical_counters_by_hand():
    """carry_every = [2, 3] (3 digits): pair 0 carries every 3 examples (3, 6, 9, 12), pair 1
    at every 2nd of those (6, 12): CrossSim's counters."""
    levels = carry_events((2, 3), 3, 13)
    assert [n + 1 for n, lv in enumerate(levels) if lv >= 1] == [3, 6, 9, 12]
    assert [n + 1 for n, lv in enumerate(levels) if lv >= 2] == [6, 12]


def test_crosssim_default_periods():
    """[10, 100]: the lowest digit carries every 100 examples, the middle one every 1000."""
    levels = np.array(carry_events((10, 100), 3, 3000))
    assert np.flatnonzero(levels >= 1).tolist() == list(range(99, 3000, 100))
    assert np.flatnonzero(levels >= 2).tolist() == [999, 1999, 2999]


def test_integer_period_carries_every_pair_together():
    """An integer N: both pairs carry every N examples (mcvar's earlier schedule)."""
    levels = carry_events(4, 3, 12)
    assert levels == [0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]


@pytest.mark.parametrize("changes, key", [
    (dict(carry_digits=3, carry_every=(10,)), "training.carry_every"),
    (dict(carry_digits=3, carry_every=(10, 0)), "training.carry_every"),
    (dict(carry_every=0), "training.carry_every"),
    (dict(carry_write="verify"), "training.carry_write"),
    (dict(carry_write="pulses"), "training.carry_write"),
    (dict(carry_reset="soft"), "training.carry_reset"),
])
def test_bad_carry_settings_name_the_key(changes, key):
    with pytest.raises(ParameterError, match=key):
        Training(**changes)

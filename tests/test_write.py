"""Write kernel: pulse-count rules against the NumPy twin, push-pull pairs, pulse counters,
aggregated vs pulse-by-pulse updates, CrossSim write noise (docs/updates.md)."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from conftest import seeded
from scipy import stats

from mcvar.devices import Device
from mcvar.kernels import rng
from mcvar.streams import Stream
from mcvar.tile import Pulsing, Tile, TileSpec

pytestmark = pytest.mark.usefixtures("one_thread")

DW_MIN = 0.001  # weight units per device pulse (w range 2): 1000 pulses from bound to bound


def linear_tile(rule, mapping="balanced", rows=16, cols=12, seed=1, n_max=31, bl=31,
                aggregate=False, **device):
    dev = Device(model="linear", dw_min=DW_MIN, **device)
    return Tile(TileSpec(rows, cols, mapping), dev,
                pulsing=Pulsing(rule=rule, n_max=n_max, bl=bl, aggregate=aggregate), seed=seed)


def pulses_per_unit(tile, lr):
    """c = lr / (weight change of one pulse): a pulse moves a pair's weight by 2 dw_min wb /
    (w_max - w_min) (both devices move), an offset-mapped device's by the same amount."""
    dev = tile.device
    return lr / (2 * tile.spec.weight_bound * dev.dw_min / (dev.w_max - dev.w_min))


def applied_pulses(tile, G0):
    """Pulses per cell and plane, read back from the linear device's constant step."""
    return np.abs(tile.G - G0) / tile.cells.step_up


def inputs(rows, cols, seed, scale=1.0):
    r = seeded(seed, rows, cols)
    return scale * r.standard_normal(rows), scale * r.standard_normal(cols)


def test_deterministic_rule_and_push_pull():
    """n = min(rint(c |x d|), n_max) on both devices of a pair; plane 0 moves in the sign of
    x d, plane 1 opposite; the pulse counter adds n up and n down per cell."""
    tile = linear_tile("deterministic")
    x, d = inputs(16, 12, 1)
    lr = 0.012
    G0 = tile.G.copy()
    counts = tile.update(x, d, lr)
    want = ref.pulses_deterministic(pulses_per_unit(tile, lr) * np.abs(np.outer(x, d)), 31)
    assert want.max() == 31 and 0 < np.mean(want == 31) < 0.5  # clipping is exercised
    n = applied_pulses(tile, G0)
    np.testing.assert_allclose(n[0], want, atol=1e-6)
    np.testing.assert_allclose(n[1], want, atol=1e-6)
    sign = np.sign(np.outer(x, d))
    assert np.all(np.sign(tile.G[0] - G0[0])[want > 0] == sign[want > 0])
    assert np.all(np.sign(tile.G[1] - G0[1])[want > 0] == -sign[want > 0])
    assert np.array_equal(counts, [want.sum(), want.sum()])
    assert np.array_equal(tile.pulses, counts)


def test_offset_mapping_moves_one_device():
    tile = linear_tile("deterministic", mapping="offset")
    x, d = inputs(16, 12, 2)
    G0 = tile.G.copy()
    counts = tile.update(x, d, 0.01)
    want = ref.pulses_deterministic(pulses_per_unit(tile, 0.01) * np.abs(np.outer(x, d)), 31)
    moved = np.sign(np.outer(x, d)) * want * tile.cells.step_up[0]
    np.testing.assert_allclose(tile.G[0] - G0[0], moved, rtol=1e-9, atol=1e-18)
    up = np.outer(x, d) > 0
    assert np.array_equal(counts, [want[up].sum(), want[~up].sum()])
    # the weight moved by lr x d to within half a pulse (rounding) where not clipped
    dW = tile.weights()
    step = 2 * DW_MIN / 2.0
    ok = want < 31
    assert np.all(np.abs(dW - 0.01 * np.outer(x, d))[ok] <= step / 2 + 1e-12)


def stochastic_uniforms(tile, op):
    """The rounding uniforms: row i, cell j is lane j of the row's quads (elements
    i * quads + q) of operation ``op`` of the pulse stream (write.py, _update_rows)."""
    R, C = tile.spec.rows, tile.spec.cols
    quads = (C + 3) // 4
    return rng.uniforms(int(tile.keys[Stream.UPDATE_PULSES]), (R * quads * 4,), op).reshape(R, 4 * quads)[:, :C]


def test_stochastic_rule_matches_reference_and_is_unbiased():
    """Stochastic rounding: exact against the twin with the kernel's uniforms; values in
    {floor, ceil}; the mean of n - c|x d| over 64 x 64 cells within 5 SE of 0."""
    tile = linear_tile("stochastic", rows=64, cols=64, n_max=1000)
    x, d = inputs(64, 64, 3)
    lr = 0.004
    G0 = tile.G.copy()
    tile.update(x, d, lr)
    v = pulses_per_unit(tile, lr) * np.abs(np.outer(x, d))
    n = applied_pulses(tile, G0)[0]
    np.testing.assert_allclose(n, ref.pulses_stochastic(v, stochastic_uniforms(tile, 0), 1000),
                               atol=1e-6)
    n = np.rint(n)
    assert np.all((n == np.floor(v)) | (n == np.ceil(v)))
    frac = v - np.floor(v)
    assert abs((n - v).mean()) < 5 * np.sqrt((frac * (1 - frac)).sum()) / v.size
    assert np.mean(n == np.ceil(v)) > 0.2  # both roundings occur


def pulse_train_uniforms(tile, op, bl):
    """Bit t of row i: lane t % 4 of draw t // 4 at element i; columns at elements R + j."""
    R, C = tile.spec.rows, tile.spec.cols
    key = tile.keys[Stream.UPDATE_PULSES]

    def table(n, elem0):
        return np.array([[rng.uniform4(key, elem0 + i, op, t // 4)[t % 4] for t in range(bl)]
                         for i in range(n)])

    return table(R, 0), table(C, R)


def test_pulse_train_matches_reference_with_same_bits():
    tile = linear_tile("pulse_train", bl=31)
    x, d = inputs(16, 12, 4)
    x[0] = 50.0  # a row firing on every bit: p = min(|x| A, 1) = 1
    lr = 0.01
    G0 = tile.G.copy()
    tile.update(x, d, lr)
    u_rows, u_cols = pulse_train_uniforms(tile, 0, 31)
    want = ref.pulses_train(x, d, pulses_per_unit(tile, lr), 31, u_rows, u_cols)
    np.testing.assert_allclose(applied_pulses(tile, G0)[0], want, atol=1e-6)
    assert want.max() <= 31 and want[0].max() > 0


def test_pulse_train_counts_are_binomial():
    """Per cell, the coincidence count over 300 updates is Binomial(BL, p q),
    p = min(|x| A, 1), q = min(|d| A, 1), A = sqrt(c / BL): mean BL p q and variance
    BL p q (1 - p q), each within 5 SE for every cell."""
    bl, lr, n_up = 16, 0.01, 300
    tile = linear_tile("pulse_train", rows=4, cols=3, bl=bl)
    x = np.array([0.2, 0.5, 1.0, 3.0])
    d = np.array([0.3, 0.8, 2.0])
    c = pulses_per_unit(tile, lr)
    a = np.sqrt(c / bl)
    pq = np.outer(np.minimum(np.abs(x) * a, 1), np.minimum(np.abs(d) * a, 1))
    n = np.empty((n_up, 4, 3))
    for u in range(n_up):  # alternate the sign so the cells stay far from their bounds
        G0 = tile.G.copy()
        tile.update(x, d if u % 2 == 0 else -d, lr)
        n[u] = np.rint(applied_pulses(tile, G0)[0])
    mean, var = bl * pq, bl * pq * (1 - pq)
    assert np.all(np.abs(n.mean(0) - mean) <= 5 * np.sqrt(var / n_up))
    mu4 = var * (1 + 3 * (bl - 2) * pq * (1 - pq))  # binomial 4th central moment
    assert np.all(np.abs(n.var(0) - var) <= 5 * np.sqrt((mu4 - var**2) / n_up))
    assert np.all(n <= bl)


def test_implicit_rule_matches_reference():
    tile = linear_tile("implicit", bl=31)
    x, d = inputs(16, 12, 5)
    x[1] = 40.0  # saturated row
    lr = 0.02
    G0 = tile.G.copy()
    tile.update(x, d, lr)
    want = ref.pulses_implicit(x, d, pulses_per_unit(tile, lr), 31)
    np.testing.assert_allclose(applied_pulses(tile, G0)[0], want, atol=1e-6)
    assert want.max() <= 31 and np.any(want[1] > 0)


def test_continuous_rule_applies_real_pulse_counts():
    """'continuous' with aggregation: k = min(c |x d|, n_max), a real number, moves a linear
    device by exactly k steps."""
    tile = linear_tile("continuous", aggregate=True, n_max=20)
    x, d = inputs(16, 12, 6)
    lr = 0.01
    G0 = tile.G.copy()
    counts = tile.update(x, d, lr)
    k = np.minimum(pulses_per_unit(tile, lr) * np.abs(np.outer(x, d)), 20)
    np.testing.assert_allclose(applied_pulses(tile, G0)[0], k, rtol=1e-9)
    assert np.any(k == 20) and np.any(k % 1 > 0.1)
    assert counts.sum() == pytest.approx(2 * k.sum(), rel=1e-12)


# ------------------------------------------------------------------------------------------
# aggregated vs pulse-by-pulse


def test_aggregated_linear_update_is_exact_in_distribution():
    """Linear device, k = 9 noisy pulses (dw_min_std = 0.3): one by one and aggregated give
    the same law N(k D, k (s D)^2): both KS p > 0.01 against it, and against each other."""
    k, s = 9, 0.3
    finals = []
    for aggregate, seed in ((False, 1), (True, 2)):
        tile = linear_tile("deterministic", rows=48, cols=48, seed=seed, aggregate=aggregate,
                           dw_min_std=s)
        G0 = tile.G.copy()
        lr = k / pulses_per_unit(tile, 1.0)
        tile.update(np.ones(48), np.ones(48), lr)
        D = tile.cells.step_up[0, 0, 0]
        z = ((tile.G[0] - G0[0]) / D - k) / (np.sqrt(k) * s)
        assert stats.kstest(z.ravel(), "norm").pvalue > 0.01
        finals.append(z.ravel())
    assert stats.ks_2samp(*finals).pvalue > 0.01


def test_aggregated_soft_bounds_is_a_first_order_approximation():
    """Soft bounds, k pulses from G0 without noise: pulse by pulse gives the geometric
    g_hi - (g_hi - G0)(1 - a)^k, aggregated k a (g_hi - G0), a = D / (g_hi - G(0)). The
    aggregated step overshoots by (g_hi - G0)((1 - a)^k - 1 + k a) <= k (k - 1) a^2 / 2
    (g_hi - G0): exact for k = 1, close for k a << 1 (here 1.5 % of the step at k = 4)."""
    dev = Device(model="soft_bounds", dw_min=0.01)
    for k in (1, 4, 12):
        G = []
        for aggregate in (False, True):
            pulsing = Pulsing(rule="deterministic", aggregate=aggregate)
            tile = Tile(TileSpec(2, 2), dev, pulsing=pulsing)
            lr = k * 2 * 0.01 / 2.0
            tile.update(np.ones(2), np.ones(2), lr)
            G.append(tile.G[0, 0, 0])
        g_hi, g0 = tile.cells.g_hi[0, 0, 0], tile.inst.g_zero
        a = tile.cells.step_up[0, 0, 0] / (g_hi - g0)
        assert G[0] == pytest.approx(g_hi - (g_hi - g0) * (1 - a) ** k, rel=1e-12)
        assert G[1] == pytest.approx(g0 + k * a * (g_hi - g0), rel=1e-12)
        overshoot = G[1] - G[0]
        predicted = (g_hi - g0) * ((1 - a) ** k - 1 + k * a)
        assert overshoot == pytest.approx(predicted, rel=1e-6, abs=1e-20)
        assert overshoot <= k * (k - 1) / 2 * a**2 * (g_hi - g0) + 1e-20
        if k == 4:
            assert overshoot / (G[0] - g0) < 0.02


# ------------------------------------------------------------------------------------------
# CrossSim per-update write noise


@pytest.mark.parametrize("model", ["independent", "proportional", "inverse"])
def test_crosssim_write_noise_variance(model):
    """After k = 9 pulses on identical cells, G - (G0 + k D) has std
    sigma_wn sqrt(|dG| (g_max - g_min)), times G / range (proportional) or range / G
    (inverse), G the state before the noise: within 5 SE over 2 x 48 x 48 cells, KS p > 0.01."""
    k, s_wn = 9, 0.02
    tile = linear_tile("deterministic", rows=48, cols=48, write_noise=s_wn, write_noise_model=model)
    G0 = tile.G.copy()
    tile.update(np.ones(48), np.ones(48), k / pulses_per_unit(tile, 1.0))
    D = tile.cells.step_up
    sign = np.where(np.arange(2)[:, None, None] == 0, 1.0, -1.0)
    clean = G0 + sign * k * D
    g_range = tile.inst.g_range
    sd = s_wn * np.sqrt(k * D * g_range)
    if model == "proportional":
        sd = sd * clean / g_range
    elif model == "inverse":
        sd = sd * g_range / clean
    z = ((tile.G - clean) / sd).ravel()
    n = z.size
    assert abs(z.mean()) < 5 / np.sqrt(n) and abs(z.std() - 1) < 5 / np.sqrt(2 * n)
    assert stats.kstest(z, "norm").pvalue > 0.01

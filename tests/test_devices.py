"""Device models: d2d draws (docs/devices.md), pulse-response curves against the NumPy twin and
their closed forms, bounds, stuck cells, c2c noise, and parameter validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference as ref
from conftest import seeded
from scipy import stats

from mcvar.devices import MODELS, Device, draw_cells, resolve
from mcvar.kernels import rng
from mcvar.periphery import Periphery
from mcvar.streams import Stream
from mcvar.tile import Pulsing, Tile, TileSpec

pytestmark = pytest.mark.usefixtures("one_thread")

D2D = dict(w_max_dtod=0.1, w_min_dtod=0.15, dw_min_dtod=0.2, up_down=0.1, up_down_dtod=0.05,
           nonlinearity_dtod=0.1, gamma_up_dtod=0.1, gamma_down_dtod=0.1)
MODEL_PARAMS = {
    "linear": {},
    "linear_step": dict(gamma_up=0.6, gamma_down=0.3),
    "soft_bounds": {},
    "exponential": dict(nu_up=2.0, nu_down=1.0),
    "crosssim_asymmetric": dict(nonlinearity=2.0),
    "crosssim_symmetric": dict(nonlinearity=2.0),
}
XI_OPS = dict(w_max=0, w_min=1, dw_min=2, up_down=3, gamma_up=4, gamma_down=5, nonlinearity=6)


def reference_cells(tile):
    """Section 4b's per-cell parameters from the very normals draw_cells uses (stream D2D,
    one operation per parameter family)."""
    key = rng.stream_key(tile.seed, tile.trial, tile.index, Stream.D2D)
    xi = {name: rng.normals(key, tile.G.shape, op) for name, op in XI_OPS.items()}
    return ref.cells_from_normals(tile.device, xi, tile.inst.g_zero, tile.inst.siemens_per_weight)


def one_pulse_lr(tile):
    """Learning rate giving exactly one pulse per unit |x d| (deterministic rule)."""
    return 2 * tile.spec.weight_bound * tile.inst.dw_siemens / tile.inst.g_range


def weight_units(tile, G):
    return (G - tile.inst.g_zero) / tile.inst.siemens_per_weight


def siemens(tile, w):
    return tile.inst.g_zero + w * tile.inst.siemens_per_weight


# ------------------------------------------------------------------------------------------
# d2d parameters


@pytest.mark.parametrize("model", list(MODEL_PARAMS))
def test_cell_bounds_follow_section_4b(model):
    dev = Device(model=model, dw_min=0.02, **D2D, **MODEL_PARAMS[model])
    tile = Tile(TileSpec(6, 5), dev, seed=7)
    cells = reference_cells(tile)
    tol = 1e-12 * tile.inst.g_range
    np.testing.assert_allclose(tile.cells.g_hi, siemens(tile, cells.b_max), rtol=0, atol=tol)
    np.testing.assert_allclose(tile.cells.g_lo, siemens(tile, cells.b_min), rtol=0, atol=tol)
    assert np.any(tile.cells.g_lo == 0.0)  # a lower bound below G = 0 is raised to 0


def test_d2d_relative_spreads():
    """Moments over 2 x 64 x 64 cells, each within 5 standard errors: bounds spread by
    w_max_dtod / w_min_dtod, steps by sqrt(dw_min_dtod^2 + up_down_dtod^2) around
    dw_min (1 - up_down) down and dw_min up, up/down covariance dw_min_dtod^2 - up_down_dtod^2."""
    dev = Device(model="linear", dw_min=0.01, w_max=0.8, w_min=-0.6, w_max_dtod=0.1,
                 w_min_dtod=0.05, dw_min_dtod=0.2, up_down=0.3, up_down_dtod=0.1)
    tile = Tile(TileSpec(64, 64), dev, seed=1)
    n = tile.G.size
    b_max = weight_units(tile, tile.cells.g_hi).ravel()
    b_min = weight_units(tile, tile.cells.g_lo).ravel()
    up = tile.cells.step_up.ravel() / (0.01 * tile.inst.siemens_per_weight)
    down = tile.cells.step_down.ravel() / (0.01 * tile.inst.siemens_per_weight)

    def check_mean_std(v, mean, sd):
        assert abs(v.mean() - mean) < 5 * sd / np.sqrt(n)
        assert abs(v.std() - sd) < 5 * sd / np.sqrt(2 * n)

    check_mean_std(b_max, 0.8, 0.8 * 0.1)
    check_mean_std(b_min, -0.6, 0.6 * 0.05)
    s = math.hypot(0.2, 0.1)
    check_mean_std(up, 1.0, s)
    check_mean_std(down, 0.7, s)
    cov = np.cov(up, down)[0, 1]
    assert abs(cov - (0.2**2 - 0.1**2)) < 5 * s * s * np.sqrt(2 / n)


def test_stuck_fractions_and_stuck_cells_never_move():
    """Stuck-on/off fractions within 5 binomial sd; stuck cells sit at their bound through
    programming and 20 noisy updates (every model), free cells move."""
    for model in list(MODEL_PARAMS) + ["lookup"]:
        extra = {} if model == "lookup" else dict(dw_min_std=0.3, **MODEL_PARAMS[model])
        dev = Device(model=model, p_stuck_on=0.1, p_stuck_off=0.05, **extra)
        tile = Tile(TileSpec(32, 32), dev, Periphery(), Pulsing(rule="stochastic"), seed=3)
        st = tile.cells.stuck
        n = st.size
        for value, p in ((1, 0.1), (-1, 0.05)):
            assert abs((st == value).sum() - n * p) < 5 * np.sqrt(n * p * (1 - p))
        tile.program(0.3 * (2 * seeded(1).random((32, 32)) - 1))
        G0 = tile.G.copy()
        r = seeded(2)
        lr = 4 * 2 * tile.inst.dw_siemens / tile.inst.g_range  # ~4 pulses per unit x d
        for _ in range(20):
            tile.update(r.normal(size=32), r.normal(size=32), lr)
        assert np.array_equal(tile.G[st == 1], tile.cells.g_hi[st == 1])
        assert np.array_equal(tile.G[st == -1], tile.cells.g_lo[st == -1])
        assert np.mean(tile.G[st == 0] != G0[st == 0]) > 0.9


# ------------------------------------------------------------------------------------------
# pulse-response curves (G against pulse number, up then down)


@pytest.mark.parametrize("model", list(MODEL_PARAMS))
def test_pulse_response_matches_reference(model):
    """70 up pulses then 140 down pulses, one per update, with d2d on every parameter: each
    cell's conductance follows the reference model in weight units (docs/devices.md, mapped to
    siemens) to 1e-9 of the range, reaches both bounds and stays inside them."""
    dev = Device(model=model, dw_min=0.04, **D2D, **MODEL_PARAMS[model])
    tile = Tile(TileSpec(4, 3), dev, pulsing=Pulsing(rule="deterministic"), seed=5)
    cells = reference_cells(tile)
    w = weight_units(tile, tile.G)
    lr = one_pulse_lr(tile)
    plane_up = np.zeros(tile.G.shape, bool)
    plane_up[0] = True
    tol = 1e-9 * tile.inst.g_range
    span = tile.cells.g_hi - tile.cells.g_lo
    for step in range(210):
        sign = 1.0 if step < 70 else -1.0
        tile.update(np.ones(4), np.full(3, sign), lr)
        w = ref.pulse(model, dev, cells, w, plane_up if sign > 0 else ~plane_up)
        np.testing.assert_allclose(tile.G, siemens(tile, w), rtol=0, atol=tol)
        assert np.all(tile.G >= tile.cells.g_lo) and np.all(tile.G <= tile.cells.g_hi)
        if step == 69:  # after the up phase plane 0 is near its upper bound
            assert np.all(tile.G[0] > tile.cells.g_hi[0] - 0.3 * span[0])
    assert np.all(tile.G[0] < tile.cells.g_lo[0] + 0.3 * span[0])


def fresh_tile(model, rows=1, cols=1, **params):
    dev = Device(model=model, **{**MODEL_PARAMS.get(model, {}), **params})
    return Tile(TileSpec(rows, cols), dev, pulsing=Pulsing(rule="deterministic"))


def pulse_curve(tile, signs):
    """G of plane 0 of cell (0, 0) after each pulse of ``signs`` (+1 up, -1 down)."""
    lr = one_pulse_lr(tile)
    out = []
    for s in signs:
        tile.update(np.ones(tile.spec.rows), np.full(tile.spec.cols, float(s)), lr)
        out.append(tile.G[0, 0, 0])
    return np.array(out)


def test_linear_constant_steps_and_hard_bounds():
    """ConstantStep: every step is dw_min (up) or dw_min (1 - up_down) (down) until the hard
    bound, which is reached exactly."""
    tile = fresh_tile("linear", dw_min=0.05, up_down=0.2)
    g0 = tile.G[0, 0, 0]
    up = np.diff(np.concatenate([[g0], pulse_curve(tile, [1] * 30)]))
    D = 0.05 * tile.inst.siemens_per_weight
    np.testing.assert_allclose(up[:20], D, rtol=1e-9)
    assert tile.G[0, 0, 0] == tile.cells.g_hi[0, 0, 0]
    down = -np.diff(pulse_curve(tile, [-1] * 60))
    np.testing.assert_allclose(down[:39], 0.8 * D, rtol=1e-9)
    assert tile.G[0, 0, 0] == tile.cells.g_lo[0, 0, 0]


def test_soft_bounds_approach_bounds_geometrically():
    """SoftBounds from w = 0: G_n = g_hi - (g_hi - G_0)(1 - D / (g_hi - G(0)))^n (closed form),
    then down from there: G_n = g_lo + (G_top - g_lo)(1 - D / (G(0) - g_lo))^n."""
    tile = fresh_tile("soft_bounds", dw_min=0.03)
    g_hi, g_lo, g0 = tile.cells.g_hi[0, 0, 0], tile.cells.g_lo[0, 0, 0], tile.inst.g_zero
    D = 0.03 * tile.inst.siemens_per_weight
    n = np.arange(1, 201)
    up = pulse_curve(tile, [1] * 200)
    np.testing.assert_allclose(up, g_hi - (g_hi - g0) * (1 - D / (g_hi - g0)) ** n, rtol=1e-12)
    down = pulse_curve(tile, [-1] * 200)
    expected = g_lo + (up[-1] - g_lo) * (1 - D / (g0 - g_lo)) ** n
    np.testing.assert_allclose(down, expected, rtol=1e-10)


def test_linear_step_slope():
    """LinearStep: the step is affine in w, D (1 - gamma w / w_max) up, with slope
    -D gamma / w_max (fit residual ~ rounding)."""
    tile = fresh_tile("linear_step", dw_min=0.02, gamma_up=0.6)
    G = np.concatenate([[tile.G[0, 0, 0]], pulse_curve(tile, [1] * 40)])  # before the bound
    w = weight_units(tile, G)
    slope, intercept = np.polyfit(w[:-1], np.diff(w), 1)
    assert slope == pytest.approx(-0.02 * 0.6 / 1.0, rel=1e-8)
    assert intercept == pytest.approx(0.02, rel=1e-8)


def test_exponential_step_ratio():
    """Exponential: successive up steps shrink by exp(-nu_up D / (g_hi - g_lo)), down steps by
    exp(-nu_down D / (g_hi - g_lo)), both constant along the curve."""
    tile = fresh_tile("exponential", dw_min=0.02, nu_up=3.0, nu_down=1.5)
    G = np.concatenate([[tile.G[0, 0, 0]], pulse_curve(tile, [1] * 40)])
    span = tile.cells.g_hi[0, 0, 0] - tile.cells.g_lo[0, 0, 0]
    D = 0.02 * tile.inst.siemens_per_weight
    # step ratio dG_{n+1}/dG_n = exp(-nu dG_n / span): along the curve, log ratio / dG_n = -nu/span
    steps = np.diff(G)
    np.testing.assert_allclose(np.log(steps[1:] / steps[:-1]) / steps[:-1], -3.0 / span, rtol=1e-6)
    first = D * np.exp(-3.0 * (G[0] - tile.cells.g_lo[0, 0, 0]) / span)
    assert steps[0] == pytest.approx(first, rel=1e-12)
    G = np.concatenate([[G[-1]], pulse_curve(tile, [-1] * 40)])
    steps = -np.diff(G)
    np.testing.assert_allclose(np.log(steps[1:] / steps[:-1]) / steps[:-1], -1.5 / span, rtol=1e-6)


def test_crosssim_symmetric_up_down_returns_and_spans_range():
    """CrossSim's symmetric form: an up pulse followed by a down pulse returns to the start
    (to rounding) from anywhere; R / D pulses carry a cell from one bound to the other."""
    tile = fresh_tile("crosssim_symmetric", rows=4, cols=4, dw_min=0.02, nonlinearity=3.0)
    r = seeded(3)
    tile.G[...] = tile.inst.g_min + (0.1 + 0.8 * r.random(tile.G.shape)) * tile.inst.g_range
    start = tile.G.copy()
    lr = one_pulse_lr(tile)
    tile.update(np.ones(4), np.ones(4), lr)
    assert np.max(np.abs(tile.G - start)) > 0.1 * 0.02 * tile.inst.siemens_per_weight
    tile.update(np.ones(4), -np.ones(4), lr)
    np.testing.assert_allclose(tile.G, start, rtol=0, atol=1e-12 * tile.inst.g_range)
    tile.G[...] = tile.cells.g_lo
    curve = pulse_curve(tile, [1] * 100)  # R / D = 2 / 0.02
    g_hi = tile.cells.g_hi[0, 0, 0]
    assert curve[98] < g_hi - 0.001 * tile.inst.g_range
    assert curve[99] == pytest.approx(g_hi, rel=1e-9)


def test_crosssim_asymmetric_decays_to_fixed_point():
    """CrossSim's asymmetric form under alternating up/down pulses converges, from either
    bound, to the fixed point w* = ((1 - c)(w0 + w_min) + w_max - w0) / (2 - c),
    c = 1 - exp(-a D / R), which is within c R of the midpoint: the weight decay of docs/devices.md."""
    a, dw = 2.0, 0.05
    tile = fresh_tile("crosssim_asymmetric", cols=2, dw_min=dw, nonlinearity=a)
    tile.G[:, :, 0] = tile.cells.g_hi[:, :, 0]
    tile.G[:, :, 1] = tile.cells.g_lo[:, :, 1]
    lr = one_pulse_lr(tile)
    dist = []
    for _ in range(300):  # (1 - c)^600 ~ 1e-13: converged
        tile.update(np.ones(1), np.ones(2), lr)
        tile.update(np.ones(1), -np.ones(2), lr)
        dist.append(tile.G[0, 0].copy())
    R = 2.0
    c = 1 - np.exp(-a * dw / R)
    w0 = R / (1 - np.exp(-a))
    w_star = ((1 - c) * (w0 - 1.0) + 1.0 - w0) / (2 - c)
    w = weight_units(tile, tile.G[0, 0])
    np.testing.assert_allclose(w, w_star, rtol=0, atol=1e-9)
    assert abs(w_star) < c * R
    gap = np.abs(weight_units(tile, np.array(dist)) - w_star)
    assert np.all(np.diff(gap[:100], axis=0) < 0)  # monotone decay to the fixed point


# ------------------------------------------------------------------------------------------
# cycle-to-cycle noise of a pulse


def test_pulse_c2c_noise_is_relative_to_the_step():
    """dw_min_std: one pulse changes G by D (1 + s xi): over 2 x 64 x 64 cells with d2d steps,
    (dG / D_cell - 1) / s is N(0, 1) (KS p > 0.01, mean and variance within 5 SE)."""
    dev = Device(model="linear", dw_min=0.01, dw_min_std=0.3, dw_min_dtod=0.2)
    tile = Tile(TileSpec(64, 64), dev, pulsing=Pulsing(rule="deterministic"), seed=8)
    G0 = tile.G.copy()
    tile.update(np.ones(64), np.ones(64), one_pulse_lr(tile))
    step = np.abs(tile.G - G0)
    D = np.where(np.arange(2)[:, None, None] == 0, tile.cells.step_up, tile.cells.step_down)
    z = ((step / D - 1) / 0.3).ravel()
    n = z.size
    assert abs(z.mean()) < 5 / np.sqrt(n) and abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert stats.kstest(z, "norm").pvalue > 0.01


@pytest.mark.parametrize("model", ["soft_bounds", "exponential", "crosssim_symmetric"])
def test_noisy_pulses_match_reference_in_distribution(model):
    """Six noisy pulses (up, up, up, down, up, up) of identical cells: final G over 2 x 48 x 48
    cells against the reference driven by NumPy normals, two-sample KS p > 0.01, means
    within 5 SE."""
    dev = Device(model=model, dw_min=0.05, dw_min_std=0.4, **MODEL_PARAMS[model])
    tile = Tile(TileSpec(48, 48), dev, pulsing=Pulsing(rule="deterministic"), seed=12)
    xi = {name: np.zeros(tile.G.shape) for name in XI_OPS}
    cells = ref.cells_from_normals(dev, xi, tile.inst.g_zero, tile.inst.siemens_per_weight)
    w = weight_units(tile, tile.G)
    plane_up = np.zeros(tile.G.shape, bool)
    plane_up[0] = True
    r = seeded(13)
    for sign in (1, 1, 1, -1, 1, 1):
        tile.update(np.ones(48), np.full(48, float(sign)), one_pulse_lr(tile))
        w = ref.pulse(model, dev, cells, w, plane_up if sign > 0 else ~plane_up,
                      r.standard_normal(tile.G.shape))
    got, want = weight_units(tile, tile.G[0]).ravel(), w[0].ravel()
    assert stats.ks_2samp(got, want).pvalue > 0.01
    assert abs(got.mean() - want.mean()) < 5 * np.sqrt(2 * want.var() / want.size)


# ------------------------------------------------------------------------------------------
# bad parameters


@pytest.mark.parametrize("make, match", [
    (lambda: Device(read_noise=-0.1), r"device\.read_noise.*\[0, inf\)"),
    (lambda: Device(dw_min_std=-1.0), r"device\.dw_min_std.*\[0, inf\)"),
    (lambda: Device(write_noise=-0.1), r"device\.write_noise.*\[0, inf\)"),
    (lambda: Device(program_noise=-0.1), r"device\.program_noise.*\[0, inf\)"),
    (lambda: Device(w_max_dtod=-0.1), r"device\.w_max_dtod.*\[0, inf\)"),
    (lambda: Periphery(out_noise=-0.1), r"periphery\.out_noise.*\[0, inf\)"),
    (lambda: Device(read_noise=float("inf")), r"device\.read_noise.*\[0, inf\)"),
    (lambda: Device(dw_min=float("inf")), r"device\.dw_min.*\(0, inf\)"),
    (lambda: Device(g_max=float("inf")), r"device\.g_max.*\(0, inf\)"),
    (lambda: Device(w_min=-float("inf")), r"device\.w_min.*\(-inf, 0\)"),
    (lambda: Periphery(inp_bound=float("inf")), r"periphery\.inp_bound.*\(0, inf\)"),
    (lambda: TileSpec(weight_bound=float("inf")), r"tile\.weight_bound.*\(0, inf\)"),
    (lambda: Device(read_noise=float("nan")), r"device\.read_noise.*NaN.*\[0, inf\)"),
    (lambda: Device(g_min=2e-5, g_max=1e-5), r"device\.g_min.*below g_max"),
    (lambda: Device(g_min=1e-5, g_max=1e-5), r"device\.g_min.*below g_max"),
    (lambda: resolve(Device(g_min=2e-4)), r"device\.g_min.*below g_max"),
    (lambda: Periphery(dac_bits=-1), r"periphery\.dac_bits.*0 .*\[2, 24\]"),
    (lambda: Periphery(dac_bits=1), r"periphery\.dac_bits.*0 .*\[2, 24\]"),
    (lambda: Periphery(adc_bits=1), r"periphery\.adc_bits.*0 .*\[2, 24\]"),
    (lambda: Periphery(adc_bits=25), r"periphery\.adc_bits.*0 .*\[2, 24\]"),
    (lambda: Device(model="memristor"), r"device\.model.*one of 'linear'"),
    (lambda: Device(p_stuck_on=0.6, p_stuck_off=0.5), r"device\.p_stuck_on.*<= 1"),
    (lambda: Device(p_stuck_on=1.5), r"device\.p_stuck_on.*\[0, 1\]"),
    (lambda: Pulsing(rule="continuous"), r"pulsing\.rule.*aggregate"),
    (lambda: Pulsing(rule="bursts"), r"pulsing\.rule.*one of"),
    (lambda: Pulsing(bl=65), r"pulsing\.bl.*\[1, 64\]"),
    (lambda: TileSpec(rows=0), r"tile\.rows.*\[1, 16384\]"),
    (lambda: Device(up_down=1.5), r"device\.up_down.*\[-1, 1\]"),
    (lambda: Device(table_window="median"), r"device\.table_window.*'intersection', 'global'"),
    (lambda: Device(table_mean="bins"), r"device\.table_mean.*'window', 'table'"),
    (lambda: Device(table_clip="none"), r"device\.table_clip.*'device', 'global'"),
    (lambda: Device(table_freeze=1), r"device\.table_freeze.*got 1 of type int"),
    (lambda: Periphery(out_bound=-1.0), r"periphery\.out_bound.*\(0, inf\)"),
    (lambda: Periphery(out_bound="auto"), r"periphery\.out_bound.*worst_case"),
])
def test_bad_parameters_raise_value_error_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_every_model_name_is_accepted_and_resolves():
    for model in MODELS:
        inst = resolve(Device(model=model))
        assert 0 <= inst.g_min < inst.g_max and inst.dw_siemens > 0


def test_draw_cells_depends_only_on_its_coordinates():
    inst = resolve(Device(**D2D))
    a = draw_cells(inst, (2, 5, 4), 1, 2, 3)
    b = draw_cells(inst, (2, 5, 4), 1, 2, 3)
    c = draw_cells(inst, (2, 5, 4), 1, 2, 4)
    for x, y, z in zip(a, b, c):
        assert np.array_equal(x, y)
    assert not np.array_equal(a.g_hi, c.g_hi)

"""Tile: weight mapping, programming, per-device vs output-referred read noise, ADC range,
write-noise offsets, lookup-table cells."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from conftest import make_tile, seeded
from scipy import stats

from mcvar.devices import Device, check_finite
from mcvar.kernels.finite import all_finite
from mcvar.kernels import rng
from mcvar.lookup import load_table_set
from mcvar.periphery import Periphery
from mcvar.streams import Stream
from mcvar.tile import Pulsing, Tile, TileSpec

pytestmark = pytest.mark.usefixtures("one_thread")


def _seed_with_key(stream, high):
    """First seed whose key of ``stream`` is >= 2**63 (``high``) or below."""
    return next(s for s in range(100) if (rng.stream_key(s, 0, 0, stream) >= 2**63) == high)


@pytest.mark.parametrize("transpose", [False, True])
def test_read_works_for_keys_on_both_sides_of_2_63(transpose):
    """Stream keys are 64-bit: a key >= 2**63 must read as well as a smaller one, in either
    order (a Python int key made Numba pick the int64 specialisation and overflow)."""
    stream = Stream.READ_BACKWARD if transpose else Stream.READ_FORWARD
    k_in = 6 if transpose else 8
    X = np.linspace(-1, 1, 3 * k_in).reshape(3, k_in)
    for high in (False, True, False):
        tile = make_tile(seed=_seed_with_key(stream, high))
        W = tile.weights()
        np.testing.assert_allclose(tile.read(X, transpose=transpose), X @ (W.T if transpose else W),
                                   atol=1e-12)
        tile.read(X, transpose=transpose, exact_noise=True)


# ------------------------------------------------------------------------------------------
# per-device vs output-referred read noise (docs/reads.md, 'Read noise')

READ_CASES = [("balanced", "analog", False), ("balanced", "analog", True),
              ("balanced", "digital", False), ("balanced", "digital", True),
              ("offset", "analog", False), ("offset", "digital", False),
              ("offset", "analog", True)]  # transposed offset reads subtract in the array


@pytest.mark.parametrize("model", ["additive", "multiplicative"])
@pytest.mark.parametrize("mapping, subtraction, transpose", READ_CASES)
def test_exact_and_output_referred_read_noise_agree(mapping, subtraction, transpose, model):
    """Tile.read(exact_noise=True) (every device's noise drawn) and Tile.read (one normal per
    output) give the same distribution: 3000 reads of one input, two-sample KS on output 0
    p > 0.01; means and the whole output covariance (correlations through the shared
    reference column included) within 5 standard errors of their difference."""
    n = 3000
    device = Device(read_noise=0.06, read_noise_model=model)
    tile = make_tile(mapping, device=device,
                     periphery=Periphery(out_noise=0.02, subtraction=subtraction), seed=11)
    k_in = tile.spec.cols if transpose else tile.spec.rows
    x = np.linspace(-0.9, 1.0, k_in)
    X = np.tile(x, (n, 1))
    fast = tile.read(X, transpose=transpose)
    exact = tile.read(X, transpose=transpose, exact_noise=True)
    assert stats.ks_2samp(fast[:, 0], exact[:, 0]).pvalue > 0.01
    c_fast, c_exact = np.cov(fast.T), np.cov(exact.T)
    c = 0.5 * (c_fast + c_exact)
    var = np.diag(c)
    se_cov = np.sqrt(2 * (np.outer(var, var) + c**2) / n)
    assert np.all(np.abs(c_fast - c_exact) < 5 * se_cov)
    assert np.all(np.abs(fast.mean(0) - exact.mean(0)) < 5 * np.sqrt(2 * var / n))
    assert np.all(np.sqrt(var) > 0.01)  # the noise is really there


# ------------------------------------------------------------------------------------------
# weight mapping and programming (docs/devices.md, 'Mapping')


@pytest.mark.parametrize("mapping", ["balanced", "offset"])
def test_program_then_weights_roundtrip_and_clip(mapping):
    tile = Tile(TileSpec(8, 6, mapping, weight_bound=0.7), Device(), Periphery(inp_bound=2.0))
    W = 0.7 * (2 * seeded(4).random((8, 6)) - 1)
    tile.program(W, noise=False)
    np.testing.assert_allclose(tile.weights(), W, rtol=0, atol=1e-12)
    X = 2.0 * (2 * seeded(5).random((4, 8)) - 1)  # reads come out in weight x input units
    np.testing.assert_allclose(tile.read(X), X @ W, rtol=0, atol=1e-12)
    Xt = X[:, :6]
    np.testing.assert_allclose(tile.read(Xt, transpose=True), Xt @ W.T, rtol=0, atol=1e-12)
    # the mapping equations of docs/devices.md
    g_range = tile.inst.g_range
    if mapping == "balanced":
        expected = (tile.G[0] - tile.G[1]) / g_range * 0.7
    else:
        assert np.allclose(tile.g_ref, 0.5 * (tile.inst.g_min + tile.inst.g_max))
        expected = (tile.G[0] - tile.g_ref[:, None]) / g_range * 2 * 0.7
    np.testing.assert_allclose(expected, W, rtol=0, atol=1e-12)
    assert np.all((tile.G >= tile.inst.g_min - 1e-18) & (tile.G <= tile.inst.g_max + 1e-18))
    tile.program(np.sign(W) * 1.5, noise=False)  # beyond the full swing: clipped to +-wb
    np.testing.assert_allclose(tile.weights(), np.sign(W) * 0.7, rtol=1e-12)


def test_program_noise_std():
    """Programming error std = program_noise (g_max - g_min) per device (64x64 pairs: within
    5 SE of the std, KS p > 0.01), fresh at each call, none with noise=False."""
    tile = Tile(TileSpec(64, 64), Device(program_noise=0.02), seed=2)
    tile.program(np.zeros((64, 64)))
    e1 = (tile.G - tile.inst.g_zero).ravel() / tile.inst.g_range
    tile.program(np.zeros((64, 64)))
    e2 = (tile.G - tile.inst.g_zero).ravel() / tile.inst.g_range
    n = e1.size
    assert abs(e1.std() / 0.02 - 1) < 5 / np.sqrt(2 * n)
    assert stats.kstest(e1 / 0.02, "norm").pvalue > 0.01
    assert abs(np.corrcoef(e1, e2)[0, 1]) < 5 / np.sqrt(n)
    tile.program(np.zeros((64, 64)), noise=False)
    assert np.all(tile.G == tile.inst.g_zero)


# ------------------------------------------------------------------------------------------
# ADC range (docs/reads.md, 'ADC')


@pytest.mark.parametrize("mapping, subtraction, transpose", READ_CASES)
def test_worst_case_adc_bound_is_tight(mapping, subtraction, transpose):
    """'worst_case' = every input at full scale on full-swing weights: such reads are not
    clipped, and the bound is exactly the largest conversion current [I_u]."""
    per = Periphery(out_bound="worst_case", subtraction=subtraction, inp_bound=0.5)
    tile = Tile(TileSpec(8, 6, mapping), Device(), per)
    k_in = 6 if transpose else 8
    g_max, g_min = tile.inst.g_max, tile.inst.g_min
    digital = subtraction == "digital" and not (mapping == "offset" and transpose)
    if digital:  # each device plane / the reference column is converted on its own
        swing = g_max
    else:
        swing = (g_max - g_min) * (1.0 if mapping == "balanced" else 0.5)
    assert tile.read_config(transpose).out_bound == pytest.approx(k_in * swing / (g_max - g_min),
                                                                  rel=1e-12)
    for sign in (1.0, -1.0):
        W = np.full((8, 6), sign)
        tile.program(W, noise=False)
        X = np.full((2, k_in), 0.5)
        np.testing.assert_allclose(tile.read(X, transpose=transpose),
                                   X @ (W.T if transpose else W), rtol=1e-12)


def test_adc_worst_case_covers_d2d_bounds():
    """With d2d bounds the worst case uses the extreme cells: a full-swing read stays unclipped."""
    device = Device(w_max_dtod=0.2, w_min_dtod=0.2)
    tile = Tile(TileSpec(8, 6), device, Periphery(), seed=3)
    tile.G[0] = tile.cells.g_hi[0]
    tile.G[1] = tile.cells.g_lo[1]
    tile.mark_written()
    X = np.ones((1, 8))
    np.testing.assert_allclose(tile.read(X), X @ tile.weights(), rtol=1e-12)


@pytest.mark.parametrize("mapping, subtraction", [("balanced", "analog"), ("balanced", "digital"),
                                                  ("offset", "analog"), ("offset", "digital")])
def test_calibrate_adc_percentile(mapping, subtraction):
    """calibrate_adc = the 90th percentile of |noise-free conversion currents| (reference
    currents), so 10 % of those conversions clip; reads before calibration are refused."""
    per = Periphery(out_bound="calibrated", calibration_percentile=90.0, subtraction=subtraction,
                    noise_management="none")
    tile = make_tile(mapping, periphery=per, seed=6)
    X = 2 * seeded(8).random((400, 8)) - 1
    with pytest.raises(ValueError, match="calibrate"):
        tile.read(X)
    bound = tile.calibrate_adc(X)
    g = (tile.G + tile.offset) / tile.inst.g_range
    if mapping == "balanced" and subtraction == "digital":
        currents = np.concatenate([X @ g[0], X @ g[1]], axis=1)
    elif mapping == "balanced":
        currents = X @ (g[0] - g[1])
    else:
        cols, ref_col = X @ g[0], X @ (tile.g_ref / tile.inst.g_range)
        currents = (np.concatenate([cols, ref_col[:, None]], axis=1) if subtraction == "digital"
                    else cols - ref_col[:, None])
    assert bound == pytest.approx(np.percentile(np.abs(currents), 90.0), rel=1e-12)
    assert abs(np.mean(np.abs(currents) > bound) - 0.10) < 1.5 / currents.size
    Y = tile.read(X)
    expected = ref.read(X, tile.G, tile.g_ref, tile.inst.g_range, transpose=False,
                        subtraction=subtraction, out_bound=bound)
    np.testing.assert_allclose(Y, expected, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------------
# aihwkit write noise: read-visible offsets (docs/updates.md, write_noise_std)


def test_write_noise_std_is_a_read_visible_offset():
    """Each update redraws, for every pulsed cell, an offset of std write_noise_std * dw_min
    (in siemens) that reads see and the device state does not; unpulsed cells keep theirs."""
    device = Device(model="linear", write_noise_std=3.0, dw_min=0.002)
    tile = Tile(TileSpec(32, 32), device, pulsing=Pulsing(rule="deterministic"), seed=4)
    lr = 2 * tile.inst.dw_siemens / tile.inst.g_range  # one pulse per unit x d
    x, d = np.ones(32), np.ones(32)
    tile.update(x, d, lr)
    sd = 3.0 * tile.inst.dw_siemens
    assert abs(tile.offset.std() / sd - 1) < 5 / np.sqrt(2 * tile.offset.size)
    assert stats.kstest(tile.offset.ravel() / sd, "norm").pvalue > 0.01
    np.testing.assert_allclose(tile.G[0] - tile.inst.g_zero, tile.inst.dw_siemens, rtol=1e-9)
    X = 2 * seeded(5).random((10, 32)) - 1
    visible = ref.read(X, tile.G + tile.offset, tile.g_ref, tile.inst.g_range, transpose=False,
                       subtraction="analog")
    np.testing.assert_allclose(tile.read(X), visible, rtol=0, atol=1e-12)
    assert np.max(np.abs(tile.read(X) - X @ tile.weights())) > 1e-3  # weights() has no offset
    before = tile.offset.copy()
    x[:4] = 0.0  # rows 0..3 get no pulses
    tile.update(x, d, lr)
    assert np.array_equal(tile.offset[:, :4], before[:, :4])
    redrawn, old = tile.offset[:, 4:].ravel(), before[:, 4:].ravel()
    assert abs(np.corrcoef(redrawn, old)[0, 1]) < 5 / np.sqrt(redrawn.size)


# ------------------------------------------------------------------------------------------
# lookup-table cells (docs/devices.md, 'Lookup tables')


def test_lookup_d2d_assignment_uses_every_device():
    """Cells are assigned measured devices uniformly: all 8 TaOx devices occur, chi-square
    p > 0.01 over 2 x 16 x 12 cells; each cell's bounds are its device's measured range."""
    tile = Tile(TileSpec(16, 12), Device(model="lookup", table="TaOx"), seed=9)
    dev_idx = tile.cells.lut_dev.ravel()
    counts = np.bincount(dev_idx, minlength=8)
    assert counts.size == 8 and np.all(counts > 0)
    assert stats.chisquare(counts).pvalue > 0.01
    tables = tile.inst.tables
    assert np.array_equal(tile.cells.g_lo.ravel(), tables.g_range[dev_idx, 0])
    assert np.array_equal(tile.cells.g_hi.ravel(), tables.g_range[dev_idx, 1])


@pytest.mark.parametrize("chosen", [(1, 6), (3,)])
def test_lookup_cells_follow_their_assigned_device(chosen):
    """One pulse per cell (deterministic rule, pulse by pulse): each cell's change is its own
    device's table sampled at its own uniform (np.interp twin), up on plane 0, down on plane 1."""
    device = Device(model="lookup", table="TaOx", table_devices=chosen)
    tile = Tile(TileSpec(8, 6), device, pulsing=Pulsing(rule="deterministic"), seed=2)
    full = load_table_set("TaOx")
    assert set(np.unique(tile.cells.lut_dev)) == set(range(len(chosen)))
    G0 = tile.G.copy()
    lr = 2 * tile.inst.dw_siemens / tile.inst.g_range
    d = np.where(np.arange(6) % 2 == 0, 1.0, -1.0)
    tile.update(np.ones(8), d, lr)
    key = tile.keys[Stream.UPDATE_NOISE]
    P, R, C = tile.G.shape
    for p, i, j in np.ndindex(P, R, C):
        up = (d[j] > 0) == (p == 0)
        s = 0 if up else 1
        dev = chosen[tile.cells.lut_dev[p, i, j]]
        u = rng.uniform4(key, (p * R + i) * C + j, 0, 0)[0]
        table = full.g_bins[dev, s], full.u_points[dev, s], full.dg[dev, s]
        step = ref.lut_step(*table, G0[p, i, j], u)
        expected = np.clip(G0[p, i, j] + step, tile.cells.g_lo[p, i, j], tile.cells.g_hi[p, i, j])
        assert tile.G[p, i, j] == pytest.approx(expected, rel=1e-12, abs=1e-18)


def test_program_replaces_write_noise_offsets():
    """Programming writes every cell anew: offsets left by earlier updates' write noise must
    not survive it (reads after program(W) see W, up to the programming error)."""
    device = Device(model="linear", write_noise_std=5.0, dw_min=0.01)
    tile = Tile(TileSpec(8, 6), device, pulsing=Pulsing(rule="deterministic"), seed=1)
    tile.update(np.ones(8), np.ones(6), 0.05)
    assert np.any(tile.offset != 0)
    W = 0.5 * (2 * seeded(3).random((8, 6)) - 1)
    tile.program(W, noise=False)
    X = 2 * seeded(4).random((5, 8)) - 1
    np.testing.assert_allclose(tile.read(X), X @ W, rtol=0, atol=1e-12)


def test_calibrate_adc_rejects_bad_inputs():
    tile = make_tile(periphery=Periphery(out_bound="calibrated"))
    with pytest.raises(ValueError, match=r"shape \(3, 5\), expected \(batch, 8\)"):
        tile.calibrate_adc(np.ones((3, 5)))
    X = np.ones((3, 8))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tile.calibrate_adc(X)
    with pytest.raises(ValueError, match="calibrate"):  # nothing was set by the failed calls
        tile.read(np.ones(8))


def test_all_finite_flags_every_non_finite_value():
    """The compiled check used before reads and updates: NaN and +-inf anywhere, any shape."""
    X = 1e308 * np.random.default_rng(0).uniform(-1.0, 1.0, (13, 7))
    assert all_finite(X) and all_finite(np.zeros((0, 3)))
    assert all_finite(np.array([5e-324, -0.0, np.finfo(float).max]))
    for bad in (np.nan, np.inf, -np.inf):
        for pos in (0, 45, X.size - 1):
            Y = X.copy()
            Y.flat[pos] = bad
            assert not all_finite(Y)
    with pytest.raises(ValueError, match="v contains NaN"):  # non-contiguous: NumPy's check
        check_finite("v", np.where(np.eye(4, dtype=bool), np.nan, 1.0)[:, ::2])


def test_tile_inputs_are_validated():
    tile = make_tile()
    bad = np.ones(8)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="read input.*NaN"):
        tile.read(bad)
    with pytest.raises(ValueError, match=r"shape \(2, 6\), expected \(batch, 8\)"):
        tile.read(np.ones((2, 6)))
    with pytest.raises(ValueError, match=r"shape \(2, 8\), expected \(batch, 6\)"):
        tile.read(np.ones((2, 8)), transpose=True)
    with pytest.raises(ValueError, match="update x.*NaN"):
        tile.update(bad, np.ones(6), 0.1)
    with pytest.raises(ValueError, match="update d.*NaN"):
        tile.update(np.ones(8), np.full(6, np.inf), 0.1)
    with pytest.raises(ValueError, match=r"expected \(8,\), \(6,\)"):
        tile.update(np.ones(6), np.ones(8), 0.1)
    for lr in (-0.1, np.nan, np.inf):
        with pytest.raises(ValueError, match=r"lr.*\[0, inf\)"):
            tile.update(np.ones(8), np.ones(6), lr)
    with pytest.raises(ValueError, match=r"W has shape \(6, 8\), expected \(8, 6\)"):
        tile.program(np.zeros((6, 8)))
    with pytest.raises(ValueError, match="W contains NaN"):
        tile.program(np.full((8, 6), np.nan))
    with pytest.raises(ValueError, match="seed, trial and tile"):
        Tile(TileSpec(8, 6), seed=-1)

"""Read kernels against the NumPy twin: exact without noise, exact with the same normals,
and in distribution with fresh ones (docs/devices.md, docs/reads.md)."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from conftest import make_tile, seeded
from scipy import stats

from mcvar.devices import Device
from mcvar.kernels import read as rk
from mcvar.kernels import rng
from mcvar.periphery import Periphery
from mcvar.streams import Stream

pytestmark = pytest.mark.usefixtures("one_thread")

COMBOS = [(m, s, t) for m in ("balanced", "offset") for s in ("analog", "digital")
          for t in (False, True)]
IDEAL = Periphery()
QUANTISED = Periphery(dac_bits=4, adc_bits=6, inp_bound=0.8, out_bound=0.5)
ATOL = 1e-12  # outputs are O(1): only float rounding may differ (summation order, scaling)


def tile_for(mapping, subtraction, periphery=IDEAL, device=None, seed=3):
    return make_tile(mapping, device=device, periphery=periphery.replace(subtraction=subtraction),
                     seed=seed)


def reference_read(tile, X, transpose, out_bound=None, adc_bits=None, **noise):
    per = tile.periphery
    adc_bits = per.adc_bits if adc_bits is None else adc_bits
    if out_bound is None:
        out_bound = tile.read_config(transpose).out_bound
    return ref.read(X, tile.G + tile.offset, tile.g_ref, tile.inst.g_range, transpose=transpose,
                    subtraction=per.subtraction, inp_bound=per.inp_bound, dac_bits=per.dac_bits,
                    adc_bits=adc_bits, out_bound=out_bound,
                    weight_bound=tile.spec.weight_bound,
                    abs_max=per.noise_management == "abs_max", **noise)


def n_out(tile, transpose):
    return tile.spec.rows if transpose else tile.spec.cols


def conversion_normals(tile, transpose, B, op0=0):
    """The normals the kernel adds at each conversion: vector b uses operation op0 + b of the
    read stream, element q * N + n for conversion (q, n) (read.py's module docstring)."""
    cfg = tile.read_config(transpose)
    Q, _, N = rk.read_shape(tile.planes, tile.spec.rows, tile.spec.cols, cfg.digital, transpose)
    stream = Stream.READ_BACKWARD if transpose else Stream.READ_FORWARD
    key = rng.stream_key(tile.seed, tile.trial, tile.index, stream)
    z = np.zeros((B, 2, n_out(tile, transpose) + 1))
    for b in range(B):
        z[b, :Q, :N] = rng.normals(key, (Q * N,), op0 + b).reshape(Q, N)
    return z


def inputs(tile, transpose, B, seed=0, scale=1.0):
    k = tile.spec.cols if transpose else tile.spec.rows
    return scale * (2 * seeded(seed, k).random((B, k)) - 1)


def test_quantize_matches_reference():
    v = np.concatenate([seeded(1).uniform(-2, 2, 2000), np.linspace(-1.5, 1.5, 3001)])
    for bits in (0, 2, 3, 5, 8):
        lev = float(2 ** (bits - 1) - 1) if bits else 0.0
        got = np.array([rk.quantize(x, 1.0, lev) for x in v])
        np.testing.assert_allclose(got, ref.quantize(v, 1.0, bits), rtol=0, atol=1e-15)
        if bits:
            assert np.unique(got).size == 2 * lev + 1  # every level reached, no others


@pytest.mark.parametrize("periphery", [IDEAL, QUANTISED], ids=["ideal", "quantised"])
@pytest.mark.parametrize("mapping, subtraction, transpose", COMBOS)
def test_noise_free_read_matches_reference(mapping, subtraction, transpose, periphery):
    tile = tile_for(mapping, subtraction, periphery)
    X = inputs(tile, transpose, 20)
    Y = tile.read(X, transpose=transpose)
    np.testing.assert_allclose(Y, reference_read(tile, X, transpose), rtol=0, atol=ATOL)
    if periphery is IDEAL:  # ideal periphery: the read is the exact product with the weights
        W = tile.weights()
        np.testing.assert_allclose(Y, X @ (W.T if transpose else W), rtol=0, atol=ATOL)
    else:  # the quantised case exercises output clipping and many levels
        full_scale = tile.read_config(transpose).out_scale * periphery.out_bound
        unclipped = reference_read(tile, X, transpose, out_bound=np.inf, adc_bits=0)
        assert np.max(np.abs(unclipped)) > 1.2 * full_scale  # clipping matters here
        assert np.unique(np.round(Y / (full_scale / 31), 6)).size > 10


@pytest.mark.parametrize("periphery", [IDEAL, QUANTISED], ids=["ideal", "quantised"])
@pytest.mark.parametrize("mapping, subtraction, transpose", COMBOS)
def test_output_noise_matches_reference_with_same_normals(mapping, subtraction, transpose,
                                                          periphery):
    """Output noise enters at every conversion, before the ADC, with the documented draws."""
    tile = tile_for(mapping, subtraction, periphery.replace(out_noise=0.05))
    X = inputs(tile, transpose, 12, seed=1)
    Y = tile.read(X, transpose=transpose)
    z = conversion_normals(tile, transpose, 12)
    expected = reference_read(tile, X, transpose, out_noise=0.05, out_z=z)
    np.testing.assert_allclose(Y, expected, rtol=0, atol=ATOL)
    assert not np.allclose(Y, reference_read(tile, X, transpose), atol=1e-3)  # noise is on


def device_normals(tile, transpose, B, op0=0):
    """The kernel's per-device normals: draw 1 of the read operation, elements in the order
    (plane, row, col) then the reference conductances (read.py, _perturb)."""
    stream = Stream.READ_BACKWARD if transpose else Stream.READ_FORWARD
    key = np.uint64(rng.stream_key(tile.seed, tile.trial, tile.index, stream))
    n = tile.G.size + tile.g_ref.size
    z = np.empty((B, n + 1))
    for b in range(B):
        for p in range((n + 1) // 2):
            z[b, 2 * p], z[b, 2 * p + 1] = rng.normal2(key, p, op0 + b, 1)
    return z[:, : tile.G.size].reshape((B,) + tile.G.shape), z[:, tile.G.size: n]


def device_sd(tile, model, sigma):
    """Per-device read-noise std [S] (docs/reads.md): sigma (g_max - g_min) or sigma G."""
    G, g_ref = tile.G + tile.offset, tile.g_ref
    if model == "additive":
        s = sigma * tile.inst.g_range
        return np.full(G.shape, s), np.full(g_ref.shape, s)
    return sigma * G, sigma * g_ref


@pytest.mark.parametrize("model", ["additive", "multiplicative"])
@pytest.mark.parametrize("mapping, subtraction, transpose", COMBOS)
def test_per_device_path_matches_reference_with_same_normals(mapping, subtraction, transpose,
                                                             model):
    """read_exact_batch = the reference read of perturbed conductances, output noise and ADC."""
    device = Device(read_noise=0.04, read_noise_model=model)
    per = QUANTISED.replace(out_noise=0.03, adc_bits=10, out_bound="worst_case")
    tile = tile_for(mapping, subtraction, per, device)
    X = inputs(tile, transpose, 6, seed=2)
    Y = tile.read(X, transpose=transpose, exact_noise=True)
    zG, zr = device_normals(tile, transpose, 6)
    sd_G, sd_r = device_sd(tile, model, 0.04)
    expected = reference_read(tile, X, transpose, out_noise=0.03,
                              out_z=conversion_normals(tile, transpose, 6),
                              dG=sd_G * zG, dg_ref=sd_r * zr)
    np.testing.assert_allclose(Y, expected, rtol=0, atol=ATOL)


def reference_moments(tile, x, transpose, model, sigma, out_noise):
    """Mean and covariance of one noisy read of ``x`` from the reference, by linearity: each
    device's and each conversion's noise moves the outputs along a fixed direction."""
    mean = reference_read(tile, x[None], transpose)[0]
    sd_G, sd_r = device_sd(tile, model, sigma)
    cov = np.zeros((mean.size, mean.size))
    unit = tile.inst.g_range
    for idx in np.ndindex(tile.G.shape):
        dG = np.zeros((1,) + tile.G.shape)
        dG[(0,) + idx] = unit
        col = (reference_read(tile, x[None], transpose, dG=dG)[0] - mean) / unit * sd_G[idx]
        cov += np.outer(col, col)
    if tile.planes == 1:
        for i in range(tile.g_ref.size):
            dr = np.zeros((1, tile.g_ref.size))
            dr[0, i] = unit
            col = (reference_read(tile, x[None], transpose, dg_ref=dr)[0] - mean) / unit * sd_r[i]
            cov += np.outer(col, col)
    for idx in np.ndindex(2, n_out(tile, transpose) + 1):
        z = np.zeros((1, 2, n_out(tile, transpose) + 1))
        z[(0,) + idx] = 1.0
        col = reference_read(tile, x[None], transpose, out_noise=out_noise, out_z=z)[0] - mean
        cov += np.outer(col, col)
    return mean, cov


@pytest.mark.parametrize("model", ["additive", "multiplicative"])
@pytest.mark.parametrize("mapping, subtraction, transpose", COMBOS)
def test_output_referred_noise_matches_reference_distribution(mapping, subtraction, transpose,
                                                              model):
    """Fast path (one normal per output) vs the per-device model: whitened with the
    reference's exact mean and covariance (correlations through the shared reference column
    included), 2000 reads give iid N(0, 1): per-output mean within 5 SE, variance within
    5 SE, pooled KS p > 0.01."""
    sigma, out_noise, n = 0.05, 0.02, 2000
    device = Device(read_noise=sigma, read_noise_model=model)
    tile = tile_for(mapping, subtraction, IDEAL.replace(out_noise=out_noise), device, seed=5)
    x = inputs(tile, transpose, 1, seed=3)[0]
    Y = tile.read(np.tile(x, (n, 1)), transpose=transpose)
    mean, cov = reference_moments(tile, x, transpose, model, sigma, out_noise)
    e = np.linalg.solve(np.linalg.cholesky(cov), (Y - mean).T).T
    assert np.all(np.abs(e.mean(axis=0)) < 5 / np.sqrt(n))
    assert np.all(np.abs(e.var(axis=0) - 1) < 5 * np.sqrt(2 / n))
    corr = np.corrcoef(e.T)[np.triu_indices(e.shape[1], 1)]
    assert np.all(np.abs(corr) < 5 / np.sqrt(n))  # no correlation left after whitening
    assert stats.kstest(e.ravel(), "norm").pvalue > 0.01


@pytest.mark.parametrize("mapping, subtraction, transpose", COMBOS)
def test_read_one_equals_read_batch(mapping, subtraction, transpose):
    """The serial single-vector kernel gives bitwise the batch kernel's rows (same ops)."""
    device = Device(read_noise=0.03, read_noise_model="multiplicative")
    tile = tile_for(mapping, subtraction, QUANTISED.replace(out_noise=0.02), device)
    X = inputs(tile, transpose, 19, seed=4)  # not a multiple of the kernel's block of 8
    Y = tile.read(X, transpose=transpose)
    M, S2, s2c, cfg = tile.reads(transpose)
    key = rng.stream_key(tile.seed, tile.trial, tile.index,
                         Stream.READ_BACKWARD if transpose else Stream.READ_FORWARD)
    for b in range(X.shape[0]):
        y = np.empty(Y.shape[1])
        rk.read_one(X[b], M, S2, s2c, cfg, np.uint64(key), b, y)
        assert np.array_equal(y, Y[b])

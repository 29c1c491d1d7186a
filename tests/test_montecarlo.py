"""Monte Carlo error statistics of reads and updates against NumPy loops over Tile calls."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_tile
from scipy import stats

from mcvar import montecarlo as mc
from mcvar.devices import Device
from mcvar.kernels import errors, rng
from mcvar.periphery import Periphery
from mcvar.streams import Stream
from mcvar.tile import Pulsing, Tile, TileSpec

pytestmark = pytest.mark.usefixtures("one_thread")


def numpy_statistics(err, exact, noisy, edges):
    """The statistics ErrorStatistics documents, computed directly."""
    hist = np.histogram(np.clip(err, edges[0], np.nextafter(edges[-1], -np.inf)), edges)[0]
    return dict(mean=err.mean(), std=err.std(), max_abs=np.abs(err).max(),
                signal_rms=np.sqrt(np.mean(exact**2)),
                slope=np.sum(noisy * exact) / np.sum(exact**2), counts=hist, samples=err.size)


def assert_statistics(got, want):
    for name in ("mean", "std", "max_abs", "signal_rms", "slope"):
        assert getattr(got, name) == pytest.approx(want[name], rel=1e-9, abs=1e-15), name
    assert got.samples == want["samples"]
    assert np.abs(got.counts - want["counts"]).sum() <= 2  # bin edges: float rounding only


@pytest.mark.parametrize("transpose", [False, True])
def test_read_errors_equal_numpy_over_tile_reads(transpose):
    """read_errors = reads of the trial's WORKLOAD inputs (op (start // batch) * 4 + 1 forward,
    + 2 transposed) through Tile.read, statistics computed in NumPy; batches split the work."""
    per = Periphery(out_noise=0.05, adc_bits=6, dac_bits=5)
    device = Device(read_noise=0.03)
    a = make_tile(device=device, periphery=per, seed=4)
    b = make_tile(device=device, periphery=per, seed=4)
    got = mc.read_errors(a, 50, transpose=transpose, batch=16)
    key = rng.stream_key(4, 0, 0, Stream.WORKLOAD)
    k_in = 6 if transpose else 8
    W = b.weights()
    errs, exact, noisy = [], [], []
    for start in range(0, 50, 16):
        op = (start // 16) * 4 + 1 + transpose
        X = 2 * rng.uniforms(key, (min(16, 50 - start), k_in), op) - 1
        Y = b.read(X, transpose=transpose)
        ex = X @ (W.T if transpose else W)
        errs.append(Y - ex)
        exact.append(ex)
        noisy.append(Y)
    want = numpy_statistics(*(np.concatenate(v) for v in (errs, exact, noisy)), mc.READ_EDGES)
    assert_statistics(got, want)
    assert got.operations == 50 and got.std > 0.01


def test_read_error_of_ideal_tile_is_rounding():
    got = mc.read_errors(make_tile(seed=2), 2000)
    assert got.max_abs < 1e-12 and got.slope == pytest.approx(1.0, abs=1e-12)
    assert got.signal_rms > 0.1


@pytest.mark.parametrize("mapping, subtraction, conversions", [
    ("balanced", "analog", 1), ("balanced", "digital", 2), ("offset", "analog", 1)])
def test_read_error_with_output_noise_only(mapping, subtraction, conversions):
    """Only output noise: error std = out_noise x out_scale x sqrt(conversions per output)
    (weight x input units; a pair subtracted after the ADC is converted twice), within
    5 SE counting one sample per read (conservative for correlated outputs)."""
    tile = make_tile(mapping, periphery=Periphery(out_noise=0.04, subtraction=subtraction,
                                                  noise_management="none"), seed=5)
    n = 3000
    got = mc.read_errors(tile, n)
    want = 0.04 * tile.read_config().out_scale * np.sqrt(conversions)
    assert abs(got.std / want - 1) < 5 / np.sqrt(2 * n)
    assert abs(got.mean) < 5 * want / np.sqrt(n)


def test_update_errors_ideal_linear_deterministic_within_half_a_step():
    """Ideal linear device, deterministic rounding, no clipping: every achieved update is
    within half a pulse step of lr x d (weight units), and unbiased."""
    device = Device(model="linear", dw_min=0.002)
    tile = Tile(TileSpec(16, 12), device, pulsing=Pulsing(rule="deterministic", n_max=1000))
    got = mc.update_errors(tile, 200, lr=0.02, d_std=0.2)
    half_step = 0.5 * 2 * 0.002 / 2.0
    assert got.max_abs <= half_step * (1 + 1e-9)
    assert got.max_abs > 0.9 * half_step  # the bound is reached, not vacuous
    assert abs(got.mean) < 5 * got.std / np.sqrt(got.samples)
    assert got.slope == pytest.approx(1.0, abs=0.02)


def synthetic_inputs(tile, op, d_std):
    """x_i ~ U(-1, 1) (uniform element i of operation op) and d ~ N(0, d_std^2) (normal pairs,
    draw 1) from the trial's UPDATE_INPUTS stream (sequence.py)."""
    key = rng.stream_key(tile.seed, tile.trial, tile.index, Stream.UPDATE_INPUTS)
    x = 2 * rng.uniforms(key, (tile.spec.rows,), op) - 1
    C = tile.spec.cols
    d = np.array([rng.normal2(np.uint64(key), j // 2, op, 1)[j % 2] for j in range(C)])
    return x, d_std * d


@pytest.mark.parametrize("mapping, rule", [("balanced", "stochastic"), ("offset", "pulse_train"),
                                           ("balanced", "implicit")])
def test_update_errors_equal_a_loop_of_tile_updates(mapping, rule):
    """update_errors (the parallel sequence kernel) leaves bitwise the conductances of the same
    updates applied one by one through Tile.update, and its statistics equal NumPy's."""
    device = Device(model="soft_bounds", dw_min=0.01, dw_min_std=0.2, write_noise=0.01,
                    dw_min_dtod=0.1, w_max_dtod=0.1)
    pulsing = Pulsing(rule=rule, bl=15)
    a = Tile(TileSpec(20, 7, mapping), device, pulsing=pulsing, seed=3)  # 20 rows: 3 row blocks
    b = Tile(TileSpec(20, 7, mapping), device, pulsing=pulsing, seed=3)
    lr, d_std, n = 0.05, 0.3, 40
    got = mc.update_errors(a, n, lr=lr, d_std=d_std)
    errs, req, ach = [], [], []
    for u in range(n):
        x, d = synthetic_inputs(b, u, d_std)
        W0 = b.weights()
        b.update(x, d, lr)
        requested = lr * np.outer(x, d)
        achieved = b.weights() - W0
        errs.append(achieved - requested)
        req.append(requested)
        ach.append(achieved)
    assert np.array_equal(a.G, b.G)
    assert np.array_equal(a.pulses, b.pulses)
    want = numpy_statistics(*(np.concatenate(v).ravel() for v in (errs, req, ach)), mc.UPDATE_EDGES)
    assert_statistics(got, want)
    assert got.pulses.sum() > 0


def test_random_weights_uniform_and_reproducible():
    tile = make_tile(rows=64, cols=64, seed=7)
    W = mc.random_weights(tile, 0.4)
    assert np.array_equal(W, mc.random_weights(tile, 0.4))
    assert np.all(np.abs(W) <= 0.4)
    assert stats.kstest(W.ravel(), "uniform", args=(-0.4, 0.8)).pvalue > 0.01


def test_bad_arguments():
    tile = make_tile()
    with pytest.raises(ValueError, match=r"n_reads.*\[1, inf\)"):
        mc.read_errors(tile, 0)
    with pytest.raises(ValueError, match=r"n_updates.*\[1, inf\)"):
        mc.update_errors(tile, 0, lr=0.1)
    with pytest.raises(ValueError, match=r"d_std.*\(0, inf\)"):
        mc.update_errors(tile, 5, lr=0.1, d_std=0.0)
    with pytest.raises(ValueError, match=r"d_std.*\(0, inf\)"):
        mc.update_errors(tile, 5, lr=0.1, d_std=float("inf"))
    with pytest.raises(ValueError, match=r"lr.*\[0, inf\)"):
        mc.update_errors(tile, 5, lr=float("nan"))
    for edges in ([0.0, 1.0, 3.0], [1.0, 0.0], [0.5], [[0.0, 1.0]], [0.0, np.nan, 2.0]):
        with pytest.raises(ValueError, match=r"edges.*uniformly spaced"):
            mc.read_errors(tile, 5, edges=edges)
        with pytest.raises(ValueError, match=r"edges.*uniformly spaced"):
            mc.update_errors(tile, 5, lr=0.1, edges=edges)


def read_error_pass(Y, X, W, edges):
    """errors.add_read_errors over the batches of Y, X (batch, B, ...): (hist, stats)."""
    hist, stats = np.zeros(edges.size - 1), np.zeros(errors.N_STATS)
    for b in range(Y.shape[0]):
        errors.add_read_errors(Y[b], X[b], W, edges[0], (edges.size - 1) / np.ptp(edges),
                               hist, stats)
    return hist, stats


def test_read_error_pass_against_numpy():
    """errors.add_read_errors (exact products summed in k order, one pass) against NumPy's
    product and statistics over two batches: sums to 1e-12, the histogram bin for bin (no
    value on an edge; errors beyond the edges in the end bins)."""
    gen = np.random.default_rng(11)
    X, W = gen.uniform(-1, 1, (2, 50, 9)), gen.uniform(-1, 1, (9, 7))
    Y = X @ W + gen.normal(0, 0.3, (2, 50, 7))
    edges = np.linspace(-0.5, 0.5, 41)
    hist, stats = read_error_pass(Y, X, W, edges)
    exact = X @ W
    err = Y - exact
    assert stats[errors.COUNT] == err.size
    for index, value in ((errors.SUM, err.sum()), (errors.SUM2, np.sum(err**2)),
                         (errors.WANT2, np.sum(exact**2)), (errors.GOT_WANT, np.sum(Y * exact)),
                         (errors.GOT2, np.sum(Y**2)), (errors.MAXABS, np.abs(err).max())):
        assert stats[index] == pytest.approx(value, rel=1e-12), index
    want = np.histogram(np.clip(err, edges[0], np.nextafter(edges[-1], -np.inf)), edges)[0]
    assert np.array_equal(hist, want) and want[0] > 1 and want[-1] > 1


def test_huge_errors_fall_in_the_end_bins():
    """An error of +-1e300 is counted in the end bin (binned in floating point: no integer
    overflow) and is the largest error."""
    X, W = np.ones((1, 2, 3)), np.ones((3, 4))
    Y = np.full((1, 2, 4), 3.0)
    Y[0, 0, 1], Y[0, 1, 2] = 1e300, -1e300
    hist, stats = read_error_pass(Y, X, W, np.linspace(-1.0, 1.0, 11))
    assert hist.tolist() == [1, 0, 0, 0, 0, 6, 0, 0, 0, 1]
    assert stats[errors.MAXABS] == 1e300

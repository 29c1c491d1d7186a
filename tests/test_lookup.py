"""Measured lookup-table model: parser, table sets, packaged data and sampling kernels."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import mcvar.lookup as lookup_module
from mcvar.accelerate import jit
from mcvar.devices import Device, resolve
from mcvar.kernels import lut
from mcvar.kernels.rng import stream_key, uniforms
from mcvar.lookup import (
    LookupTableSet,
    load_table_set,
    packaged_path,
    read_crosssim_table,
    read_table_set,
    save_table_set,
    table_set_from_crosssim,
)
from mcvar.tile import Pulsing, Tile, TileSpec

HEADER = "1st Row = Gbins, 2nd Row = CDF Points, 3rd row onward =  dG matrix (rows= CDF, columns = Gbins)"
GOOD = f"""{HEADER}
1.0e-05,\t2.0e-05,\t4.0e-05
0.0, 0.25, 1.0

-1.0e-06,\t0.0e+00,\t-2.0e-06
1.0e-06,\t2.0e-06,\t0.0e+00
5.0e-06,\t3.0e-06,\t1.0e-06,
"""
GOOD_G = np.array([1e-5, 2e-5, 4e-5])
GOOD_U = np.array([0.0, 0.25, 1.0])
GOOD_DG = np.array([[-1e-6, 0.0, -2e-6], [1e-6, 2e-6, 0.0], [5e-6, 3e-6, 1e-6]])


# ------------------------------------------------------------------------------------------
# Slow twins (plain NumPy)


def ref_step(g_bins, u_points, dg, d, s, G, u):
    """Interpolate the columns in u with np.interp, then the result in G (np.interp only uses
    the two columns around G, so only those are computed)."""
    gb = g_bins[d, s]
    i = min(max(np.searchsorted(gb, G, side="right") - 1, 0), gb.size - 2)
    col = [np.interp(u, u_points[d, s], dg[d, s, :, k]) for k in (i, i + 1)]
    return np.interp(G, gb[i : i + 2], col)


def ref_column(g_bins, dg, d, s, G):
    """dG at every CDF point for conductance G (np.interp in G of each table row)."""
    return np.array([np.interp(G, g_bins[d, s], row) for row in dg[d, s]])


def pushforward_cdf(x, up, col, strict=False):
    """Exact P(f(U) <= x) (``strict``: P(f(U) < x)) for U ~ U(0, 1) and f the piecewise-linear
    map up -> col; flat segments of f are atoms."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    a, b, du = col[:-1], col[1:], np.diff(up)
    out = np.empty(x.shape)
    for start in range(0, x.size, 1000):
        xs = x[start : start + 1000, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            rising = np.clip((xs - a) / (b - a), 0.0, 1.0)
            falling = 1.0 - np.clip((a - xs) / (a - b), 0.0, 1.0)
        atom = (a < xs) if strict else (a <= xs)
        frac = np.where(b > a, rising, np.where(b < a, falling, atom))
        out[start : start + 1000] = frac @ du
    return out


def ks_pvalue(samples, up, col):
    """Kolmogorov-Smirnov p-value of ``samples`` against the push-forward law of ``col``.

    D = sup |F_n - F| evaluated on both sides of every sample, so atoms are handled; the
    continuous Kolmogorov distribution then gives a conservative p-value.
    """
    x = np.sort(samples)
    n = x.size
    values, first, counts = np.unique(x, return_index=True, return_counts=True)
    below, at_or_below = first / n, (first + counts) / n
    d = max(
        np.max(np.abs(at_or_below - pushforward_cdf(values, up, col))),
        np.max(np.abs(below - pushforward_cdf(values, up, col, strict=True))),
    )
    return stats.kstwo.sf(d, n)


def pushforward_moments(up, col):
    """Exact mean and variance of f(U) for the piecewise-linear f."""
    a, b, du = col[:-1], col[1:], np.diff(up)
    mean = np.sum(du * (a + b) / 2)
    second = np.sum(du * (a * a + a * b + b * b) / 3)
    return mean, second - mean * mean


@jit
def _evaluate(g_bins, u_points, quantiles, mu, dev, direction, G, k, u, step, mean, aggregate):
    for n in range(G.size):
        step[n] = lut.lut_step(g_bins, u_points, quantiles, mu, dev[n], direction[n], G[n], u[n])
        mean[n] = lut.lut_mean(g_bins, mu, dev[n], direction[n], G[n])
        aggregate[n] = lut.lut_aggregate(
            g_bins, u_points, quantiles, mu, dev[n], direction[n], G[n], k[n], u[n]
        )


def evaluate(s, dev, direction, G, u, k=1.0):
    """lut_step, lut_mean and lut_aggregate called from a jitted loop, inputs broadcast."""
    dev, direction, G, u, k = np.broadcast_arrays(dev, direction, G, u, k)
    dev, direction = dev.astype(np.int64), direction.astype(np.int64)
    G, u, k = (np.ascontiguousarray(x, dtype=np.float64) for x in (G, u, k))
    out = np.empty((3, G.size))
    _evaluate(
        s.g_bins,
        s.u_points,
        s.quantiles,
        s.mu,
        np.ascontiguousarray(dev),
        np.ascontiguousarray(direction),
        G,
        k,
        u,
        out[0],
        out[1],
        out[2],
    )
    return out


def draws(n, stream):
    return uniforms(stream_key(20240607, 0, 0, stream), (n,))


def _write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------
# Parser


@pytest.mark.parametrize("name", ["t.txt", "t.csv.gz"])
def test_parser_reads_commas_tabs_blank_lines_and_gzip(tmp_path, name):
    g, u, dg = read_crosssim_table(_write(tmp_path / name, GOOD))
    assert np.array_equal(g, GOOD_G) and np.array_equal(u, GOOD_U) and np.array_equal(dg, GOOD_DG)
    assert g.dtype == u.dtype == dg.dtype == np.float64


def test_parser_reads_whitespace_separated(tmp_path):
    text = GOOD.replace(",", " ")
    g, u, dg = read_crosssim_table(_write(tmp_path / "t.txt", text))
    assert np.array_equal(dg, GOOD_DG) and np.array_equal(u, GOOD_U)


BAD = {
    "wrong header": (GOOD.replace("Gbins", "bins"), r"line 1: expected CrossSim's header"),
    "missing header": (GOOD.replace(HEADER + "\n", ""), r"line 1: expected CrossSim's header"),
    "non-numeric": (
        GOOD.replace("2.0e-06,", "2.0e-O6,"),
        r"line 6, entry 2: expected a number, found '2.0e-O6'",
    ),
    "empty entry": (
        GOOD.replace("2.0e-06,", ","),
        r"line 6, entry 2: expected a number, found an empty entry",
    ),
    "nan": (
        GOOD.replace("3.0e-06", "nan"),
        r"line 7, entry 2: expected a finite number, found 'nan'",
    ),
    "inf": (GOOD.replace("4.0e-05", "inf"), r"line 2, entry 3: expected a finite number"),
    "ragged row": (
        GOOD.replace("0.0e+00\n", "0.0e+00, 1e-6\n"),
        r"line 6: expected 3 dG entries \[S\].*found 4",
    ),
    "short row": (GOOD.replace(",\t0.0e+00\n", "\n"), r"line 6: expected 3 dG entries"),
    "missing row": (
        GOOD.replace("1.0e-06,\t2.0e-06,\t0.0e+00\n", ""),
        r"expected 3 dG rows .* found 2",
    ),
    "extra row": (GOOD + "1e-6, 1e-6, 1e-6\n", r"expected 3 dG rows .* found 4"),
    "G not increasing": (
        GOOD.replace("4.0e-05", "2.0e-05"),
        r"line 2: G bins \[S\] must be strictly increasing; entry 3",
    ),
    "G negative": (GOOD.replace("1.0e-05,", "-1.0e-05,"), r"line 2: G bins \[S\] must be >= 0"),
    "CDF not increasing": (
        GOOD.replace("0.0, 0.25, 1.0", "0.0, 0.25, 0.25, 1.0"),
        r"line 3: CDF points \[1\] must be strictly increasing",
    ),
    "CDF above 1": (
        GOOD.replace("0.0, 0.25, 1.0", "0.0, 0.25, 1.2"),
        r"line 3: CDF points \[1\] must run from exactly 0 to exactly 1",
    ),
    "CDF below 0": (
        GOOD.replace("0.0, 0.25, 1.0", "-0.1, 0.25, 1.0"),
        r"line 3: CDF points \[1\] must run from exactly 0",
    ),
    "single G bin": (f"{HEADER}\n1e-5\n0, 1\n1e-6\n2e-6\n", r"line 2: expected >= 2 G bins"),
    "too short": (f"{HEADER}\n1e-5, 2e-5\n", r"found only 2 non-blank line"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_parser_rejects_malformed_files(tmp_path, kind):
    text, message = BAD[kind]
    path = _write(tmp_path / "bad_table.txt", text)
    with pytest.raises(ValueError, match=message) as err:
        read_crosssim_table(path)
    assert "bad_table.txt" in str(err.value)


def test_parser_rejects_binary_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"\x89PNG\xff\xfe")
    with pytest.raises(ValueError, match="not a readable text lookup table"):
        read_crosssim_table(path)


# ------------------------------------------------------------------------------------------
# Table sets from CrossSim folders, validation, packaged form


def _device(folder: Path, scale_up=1.0, scale_down=1.0, g_shift=0.0) -> Path:
    folder.mkdir(parents=True)
    g = GOOD_G + g_shift
    up, down = scale_up * (GOOD_DG + 2e-6), -scale_down * (GOOD_DG + 2e-6)[::-1]
    for stem, dg in (("dG_increasing", up), ("dG_decreasing", down)):
        rows = [", ".join(repr(float(v)) for v in r) for r in (g, GOOD_U, *dg)]
        (folder / f"{stem}.txt").write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    return folder


def test_set_from_single_device_folder(tmp_path):
    s = table_set_from_crosssim(_device(tmp_path / "dev"))
    assert (s.name, s.device_names, s.n_devices, s.n_bins, s.n_cdf_points) == (
        "dev",
        ("dev",),
        1,
        3,
        3,
    )
    assert (
        s.g_bins.shape == (1, 2, 3) and s.u_points.shape == (1, 2, 3) and s.dg.shape == (1, 2, 3, 3)
    )
    assert np.array_equal(s.dg[0, 1], -(GOOD_DG + 2e-6)[::-1])
    mu = np.trapezoid(s.dg, s.u_points[..., None], axis=2)
    np.testing.assert_allclose(s.mu, mu, rtol=1e-14, atol=0)
    assert s.ave[0, 0] > 0 > s.ave[0, 1]


def test_set_from_device_subfolders_sorted(tmp_path):
    _device(tmp_path / "set" / "b", g_shift=5e-6)
    _device(tmp_path / "set" / "a")
    s = table_set_from_crosssim(tmp_path / "set", name="mine")
    assert s.name == "mine" and s.device_names == ("a", "b")
    assert np.array_equal(s.g_bins[1, 0], GOOD_G + 5e-6)
    np.testing.assert_allclose(s.g_range, [[1e-5, 4e-5], [1.5e-5, 4.5e-5]], rtol=1e-15)


def test_set_rejects_mismatched_grids(tmp_path):
    _device(tmp_path / "set" / "a")
    b = _device(tmp_path / "set" / "b")
    text = (b / "dG_decreasing.txt").read_text().splitlines()
    text[1] += ", 5e-05"
    text[3:] = [line + ", 0" for line in text[3:]]
    (b / "dG_decreasing.txt").write_text("\n".join(text))
    with pytest.raises(ValueError, match=r"'b' decreasing has K=4 G bins.*one \(K, M\)"):
        table_set_from_crosssim(tmp_path / "set")


def test_set_rejects_bad_folders(tmp_path):
    with pytest.raises(ValueError, match="directory: .* is not a folder"):
        table_set_from_crosssim(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds neither a dG_increasing"):
        table_set_from_crosssim(tmp_path / "empty")
    d = _device(tmp_path / "half")
    (d / "dG_decreasing.txt").unlink()
    with pytest.raises(ValueError, match="lacks its dG_decreasing"):
        table_set_from_crosssim(d)


def test_set_rejects_swapped_directions(tmp_path):
    d = _device(tmp_path / "dev")
    inc, dec = d / "dG_increasing.txt", d / "dG_decreasing.txt"
    text = inc.read_text()
    inc.write_text(dec.read_text())
    dec.write_text(text)
    with pytest.raises(ValueError, match=r"increasing\]: mean step .* ave > 0"):
        table_set_from_crosssim(d)


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (-0.1, 0.9), (0.1, 1.2), (0.9, 0.1), (0.1,)])
def test_set_rejects_bad_window_fractions(tmp_path, fractions):
    with pytest.raises(
        ValueError, match=r"window_fractions: expected \(lo, hi\) with 0 <= lo < hi <= 1"
    ):
        table_set_from_crosssim(_device(tmp_path / "dev"), window_fractions=fractions)


def test_set_rejects_bad_arrays():
    s = load_table_set("ENODe")
    base = dict(name="x", device_names=("a",), g_bins=s.g_bins, u_points=s.u_points, dg=s.dg)
    with pytest.raises(ValueError, match=r"dg: expected shape \(D, 2, M, K\)"):
        LookupTableSet(**{**base, "dg": s.dg[..., :-1]})
    with pytest.raises(ValueError, match=r"g_bins: expected shape"):
        LookupTableSet(**{**base, "g_bins": s.g_bins[:, :1]})
    bad = s.dg.copy()
    bad[0, 0, 3, 4] = np.nan
    with pytest.raises(ValueError, match="dg: every entry must be finite"):
        LookupTableSet(**{**base, "dg": bad})
    flipped = s.g_bins[..., ::-1]
    with pytest.raises(
        ValueError, match=r"g_bins\[device 'a', increasing\] \[S\] must be strictly increasing"
    ):
        LookupTableSet(**{**base, "g_bins": flipped})
    with pytest.raises(ValueError, match="device_names"):
        LookupTableSet(**{**base, "device_names": ("a", "b")})


def test_disjoint_devices_have_no_common_window(tmp_path):
    _device(tmp_path / "set" / "a")
    _device(tmp_path / "set" / "b", g_shift=1e-4)
    with pytest.raises(ValueError, match="usable windows .* do not overlap"):
        table_set_from_crosssim(tmp_path / "set")


def test_save_read_roundtrip_is_float32_exact_and_reproducible(tmp_path):
    _device(tmp_path / "set" / "a")
    _device(tmp_path / "set" / "b", scale_up=1.0 / 3.0, g_shift=3e-6)
    s = table_set_from_crosssim(tmp_path / "set")
    save_table_set(s, tmp_path / "one.npz")
    save_table_set(s, tmp_path / "two.npz")
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    r = read_table_set(tmp_path / "one.npz", window_fractions=(0.2, 0.7))
    assert r.device_names == s.device_names and r.window_fractions == (0.2, 0.7)
    assert np.array_equal(r.g_bins, s.g_bins) and np.array_equal(r.u_points, s.u_points)
    assert np.array_equal(r.dg, s.dg.astype(np.float32).astype(np.float64))
    assert r.dg.dtype == np.float64 and r.dg.flags.c_contiguous and not r.dg.flags.writeable


# ------------------------------------------------------------------------------------------
# Packaged sets


@pytest.mark.parametrize(
    "name, n_dev, n_bins, n_cdf", [("TaOx", 8, 501, 501), ("ENODe", 1, 48, 122)]
)
def test_packaged_sets(name, n_dev, n_bins, n_cdf):
    s = load_table_set(name)
    assert load_table_set(name.lower()) is s  # cached, case-insensitive
    assert (s.n_devices, s.n_bins, s.n_cdf_points) == (n_dev, n_bins, n_cdf)
    shapes = dict(
        g_bins=(n_dev, 2, n_bins),
        u_points=(n_dev, 2, n_cdf),
        dg=(n_dev, 2, n_cdf, n_bins),
        mu=(n_dev, 2, n_bins),
        ave=(n_dev, 2),
        g_range=(n_dev, 2),
        window=(n_dev, 2),
    )
    for key, shape in shapes.items():
        a = getattr(s, key)
        assert a.shape == shape and a.dtype == np.float64 and a.flags.c_contiguous, key
        assert np.isfinite(a).all()
    assert "Sandia National Laboratories, CrossSim" in s.source and "2ebec1f27cf1c7c0" in s.source
    assert "BSD-3-Clause" in s.license
    licence = (packaged_path(name).parent / "LICENSE").read_text()
    assert "BSD 3-Clause" in licence and "Sandia" in licence
    # mean step: trapezoid over u (NumPy), up > 0 > down over the usable window
    np.testing.assert_allclose(
        s.mu, np.trapezoid(s.dg, s.u_points[..., None], axis=2), rtol=1e-12, atol=1e-20
    )
    assert (s.ave[:, 0] > 0).all() and (s.ave[:, 1] < 0).all()
    # window = fractions of the measured range, inside it; nominal window inside every window
    lo, hi = s.g_range[:, 0], s.g_range[:, 1]
    np.testing.assert_allclose(
        s.window, np.stack([lo + 0.1 * (hi - lo), lo + 0.9 * (hi - lo)], 1), rtol=1e-15
    )
    assert (lo < s.window[:, 0]).all() and (s.window[:, 1] < hi).all()
    g_lo, g_hi = s.nominal_window
    assert g_lo < g_hi and (s.window[:, 0] <= g_lo).all() and (g_hi <= s.window[:, 1]).all()


def test_packaged_ave_is_mean_of_mu_over_window():
    s = load_table_set("TaOx")
    for d in (0, 5):
        for direction in (0, 1):
            g = np.linspace(*s.window[d], 200_001)
            brute = np.interp(g, s.g_bins[d, direction], s.mu[d, direction]).mean()
            assert abs(s.ave[d, direction] - brute) <= 1e-5 * abs(brute)


def test_unknown_set_name():
    with pytest.raises(
        ValueError,
        match=r"name: unknown lookup-table set 'HfOx'; packaged sets are \['TaOx', 'ENODe'\]",
    ):
        load_table_set("HfOx")


# ------------------------------------------------------------------------------------------
# Kernels against the NumPy twin


@pytest.mark.parametrize("name", ["TaOx", "ENODe"])
def test_lut_step_and_mean_equal_numpy_interp(name):
    s = load_table_set(name)
    rng = np.random.default_rng(np.random.SeedSequence([7, len(name)]))
    n = 400
    dev = rng.integers(0, s.n_devices, n)
    direction = rng.integers(0, 2, n)
    lo, hi = s.g_range[dev, 0], s.g_range[dev, 1]
    G = rng.uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))  # includes clamped ends
    u = rng.uniform(0.0, 1.0, n)
    G[:20] = s.g_bins[dev[:20], direction[:20], rng.integers(0, s.n_bins, 20)]  # on bins
    G[20:24] = s.g_bins[dev[20:24], direction[20:24], [0, -1, 0, -1]]
    u[24:44] = s.u_points[dev[24:44], direction[24:44], rng.integers(0, s.n_cdf_points, 20)]
    u[44:46] = [0.0, 1.0]
    step, mean, _ = evaluate(s, dev, direction, G, u)
    for j in range(n):
        d, r = dev[j], direction[j]
        assert step[j] == ref_step(s.g_bins, s.u_points, s.dg, d, r, G[j], u[j]), j
        assert mean[j] == np.interp(G[j], s.g_bins[d, r], s.mu[d, r]), j


def test_lut_step_propagates_nan():
    s = load_table_set("ENODe")
    assert np.isnan(evaluate(s, 0, 0, np.nan, 0.5, 3.0)).all()


def _column(s, d, direction, monotone):
    """A bin inside device d's window whose column is (not) monotone in u."""
    inside = (s.g_bins[d, direction] > s.window[d, 0]) & (s.g_bins[d, direction] < s.window[d, 1])
    rising = (np.diff(s.dg[d, direction], axis=0) >= 0).all(axis=0)
    return int(np.flatnonzero(inside & (rising == monotone))[0])


@pytest.mark.parametrize(
    "d, direction, monotone", [(2, 0, True), (2, 1, True), (1, 0, False), (3, 1, False)]
)
def test_sampling_reproduces_table_distribution_at_bin(d, direction, monotone):
    """Draws at a bin centre follow the table: KS against the exact push-forward CDF of the
    piecewise-linear quantile map (atoms at the clipped tails included; p > 1e-3 at this fixed
    seed), mean within 5 standard errors of mu, and the CDF at the table's quantiles within 5
    binomial sigmas. A column 40 bins away must be rejected (p < 1e-6): the test can fail."""
    s = load_table_set("TaOx")
    k = _column(s, d, direction, monotone)
    up, col = s.u_points[d, direction], s.dg[d, direction, :, k]
    n = 20_000
    out = evaluate(s, d, direction, s.g_bins[d, direction, k], draws(n, 10 * d + direction))[0]

    assert ks_pvalue(out, up, col) > 1e-3
    assert ks_pvalue(out, up, s.dg[d, direction, :, k + 40]) < 1e-6
    mean, var = pushforward_moments(up, col)
    assert mean == pytest.approx(s.mu[d, direction, k], rel=1e-12)
    assert abs(out.mean() - mean) < 5 * np.sqrt(var / n)
    if monotone:  # the table's rows are the quantiles: P(dG <= dg[m]) = u_m off the flat tails
        m = np.arange(50, 451, 25)
        assert np.all(np.diff(col)[m - 1] > 0) and np.all(np.diff(col)[m] > 0)
        frac = (out[:, None] <= col[m]).mean(axis=0)
        assert np.all(np.abs(frac - up[m]) < 5 * np.sqrt(up[m] * (1 - up[m]) / n))


def test_enode_sampling_matches_cdf_with_atoms():
    """ENODe's steps are quantised (flat quantile segments = atoms): compare the empirical CDF
    with the exact push-forward CDF at every distinct table value and between them (5 sigmas)."""
    s = load_table_set("ENODe")
    n = 40_000
    for direction in (0, 1):
        k = 20
        up, col = s.u_points[0, direction], s.dg[0, direction, :, k]
        out = evaluate(s, 0, direction, s.g_bins[0, direction, k], draws(n, 100 + direction))[0]
        levels = np.unique(col)
        x = np.concatenate([levels, (levels[1:] + levels[:-1]) / 2])
        exact = pushforward_cdf(x, up, col)
        frac = (out[:, None] <= x).mean(axis=0)
        assert np.all(np.abs(frac - exact) <= 5 * np.sqrt(exact * (1 - exact) / n) + 1e-12)
        mean, var = pushforward_moments(up, col)
        assert abs(out.mean() - s.mu[0, direction, k]) < 5 * np.sqrt(var / n)


def test_mean_between_bins_is_interpolated_mu():
    s = load_table_set("TaOx")
    d, direction, k = 4, 0, 200
    G = 0.3 * s.g_bins[d, direction, k] + 0.7 * s.g_bins[d, direction, k + 1]
    n = 40_000
    out, mu, _ = evaluate(s, d, direction, G, draws(n, 7))
    mean, var = pushforward_moments(
        s.u_points[d, direction], ref_column(s.g_bins, s.dg, d, direction, G)
    )
    assert mu[0] == pytest.approx(mean, rel=1e-12)
    assert abs(out.mean() - mean) < 5 * np.sqrt(var / n)


# ------------------------------------------------------------------------------------------
# Aggregated update


def test_aggregate_k1_is_step_and_k0_is_zero():
    s = load_table_set("TaOx")
    rng = np.random.default_rng(np.random.SeedSequence([11]))
    n = 1000
    dev, direction = rng.integers(0, 8, n), rng.integers(0, 2, n)
    G, u = rng.uniform(s.g_range[dev, 0], s.g_range[dev, 1]), rng.uniform(0.0, 1.0, n)
    step, _, one = evaluate(s, dev, direction, G, u, 1.0)
    assert np.array_equal(one, step)
    assert (evaluate(s, dev, direction, G, u, 0.0)[2] == 0.0).all()


@pytest.mark.parametrize("k", [4.0, 16.0, 2.5])
@pytest.mark.parametrize("name, d, direction", [("TaOx", 0, 0), ("TaOx", 6, 1), ("ENODe", 0, 1)])
def test_aggregate_mean_scales_as_k_and_variance_as_k(name, d, direction, k):
    """Mean k*mu(G) within 5 standard errors; variance k*Var[dG] within 5 standard errors of
    the sample variance (estimated from the fourth central moment)."""
    s = load_table_set(name)
    G = float(np.mean(s.nominal_window))
    _, var1 = pushforward_moments(
        s.u_points[d, direction], ref_column(s.g_bins, s.dg, d, direction, G)
    )
    n = 40_000
    _, mean, out = evaluate(s, d, direction, G, draws(n, 200 + int(4 * k)), k)
    mu = mean[0]
    assert abs(out.mean() - k * mu) < 5 * np.sqrt(k * var1 / n)
    centred = out - out.mean()
    se_var = np.sqrt((np.mean(centred**4) - np.var(out) ** 2) / n)
    assert abs(np.var(out) - k * var1) < 5 * se_var


def test_prefetch_emits_a_prefetch_and_changes_nothing():
    """prefetch compiles to a prefetch instruction and has no effect on the values read."""
    from numba import njit

    from mcvar.kernels.prefetch import prefetch

    @njit
    def gather(q, idx):
        for t in range(idx.size):
            prefetch(q, (1, 0, idx[t], 2))
        return np.array([q[1, 0, idx[t], 2] for t in range(idx.size)])

    q = np.random.default_rng(0).random((2, 2, 300, 5)).astype(np.float32)
    idx = np.random.default_rng(1).integers(0, 300, 50)
    assert np.array_equal(gather(q, idx), q[1, 0, idx, 2])
    asm = next(iter(gather.inspect_asm().values()))
    assert "prefetch" in asm


# ------------------------------------------------------------------------------------------
# CrossSim v2.0's multi-device options (Device.table_window, table_mean, table_clip,
# table_freeze; docs/devices.md, section 7) on a hand-worked synthetic set

US = 1e-6


def synthetic_set(noise=0.0) -> LookupTableSet:
    """Two devices, each table's quantiles ``mu -+ noise`` [S] at CDF points 0 and 1, mean
    steps (uS): device a, G bins 10, 70, 90 uS: up 4, 4, 0, down -1; device b, G bins 30, 80,
    130 uS: up 2, down -2.

    By hand (uS): usable windows (10 % .. 90 %) a 18 .. 82, b 40 .. 120, intersection 40 .. 82;
    global range 10 .. 130, global window 22 .. 118. Mean up step of a over its window
    (18 .. 70 at 4, then 4 -> 1.6 on 70 .. 82): (208 + 33.6) / 64 = 3.775; over its whole table
    (10 .. 70 at 4, 70 .. 90 from 4 to 0): (240 + 40) / 80 = 3.5; every other mean is its
    constant step."""
    g = np.array([[10.0, 70.0, 90.0], [30.0, 80.0, 130.0]]) * US
    mu_up = np.array([[4.0, 4.0, 0.0], [2.0, 2.0, 2.0]]) * US
    mu_down = np.array([[-1.0, -1.0, -1.0], [-2.0, -2.0, -2.0]]) * US
    mu = np.stack([mu_up, mu_down], axis=1)  # (D, 2, K)
    dg = np.stack([mu - noise, mu + noise], axis=2)  # (D, 2, M, K)
    u = np.broadcast_to([0.0, 1.0], (2, 2, 2))
    return LookupTableSet("synthetic", ("a", "b"), np.stack([g, g], axis=1), u, dg)


def test_global_window_and_whole_table_mean_by_hand():
    s = synthetic_set()
    assert s.nominal_window == pytest.approx((40 * US, 82 * US), rel=1e-14)
    assert s.global_range == (10 * US, 130 * US)
    assert s.global_window == pytest.approx((22 * US, 118 * US), rel=1e-14)
    np.testing.assert_allclose(s.ave, [[3.775 * US, -US], [2 * US, -2 * US]], rtol=1e-14)
    np.testing.assert_allclose(s.ave_table, [[3.5 * US, -US], [2 * US, -2 * US]], rtol=1e-14)


def test_packaged_taox_global_window_and_subsets():
    """TaOx's eight devices span 5.43 .. 150.28 uS together (10 % .. 90 %: 19.91 .. 135.79 uS,
    against the intersection 28.63 .. 92.95 uS); its whole-table means are the brute-force
    means of mu over each table's G bins. CrossSim's TaOx_medium_set and TaOx_small_set are
    device numbers of TaOx_all/1..41, whose first eight mcvar ships (indices 0..7)."""
    s = load_table_set("TaOx")
    assert s.global_range == pytest.approx((5.4284e-6, 150.2796e-6), rel=1e-4)
    assert s.global_window == pytest.approx((19.913e-6, 135.794e-6), rel=1e-4)
    assert s.nominal_window == pytest.approx((28.633e-6, 92.952e-6), rel=1e-4)
    for d, direction in ((1, 0), (6, 1)):
        g = np.linspace(s.g_bins[d, direction, 0], s.g_bins[d, direction, -1], 200_001)
        brute = np.interp(g, s.g_bins[d, direction], s.mu[d, direction]).mean()
        assert abs(s.ave_table[d, direction] - brute) <= 1e-5 * abs(brute)
    medium = [0, 2, 4, 6, 7, 9, 10, 11, 12, 13, 15, 18, 20, 21, 23, 24, 27, 30, 33, 35, 36, 37,
              39, 40]
    shipped = [i for i in medium if i < s.n_devices]
    assert shipped == [0, 2, 4, 6, 7]
    inst = resolve(Device(model="lookup", table_devices=tuple(shipped)))
    assert inst.tables.device_names == ("device_01", "device_03", "device_05", "device_07",
                                        "device_08")


@pytest.fixture
def synthetic(monkeypatch):
    """Devices with table = "TaOx" get :func:`synthetic_set` (noise 0.5 uS) instead."""
    s = synthetic_set(noise=0.5 * US)
    monkeypatch.setattr(lookup_module, "load_table_set", lambda name: s)
    return s


def test_defaults_are_mcvars_window_and_mean(synthetic):
    device = Device(model="lookup")
    assert (device.table_window, device.table_mean, device.table_clip, device.table_freeze) == (
        "intersection", "window", "device", False)
    tile = Tile(TileSpec(4, 3), device, seed=3)
    assert (tile.inst.g_min, tile.inst.g_max) == synthetic.nominal_window
    assert tile.inst.dw_siemens == pytest.approx((3.775 + 1 + 2 + 2) / 4 * US, rel=1e-14)
    dev = tile.cells.lut_dev
    assert np.array_equal(tile.cells.g_lo, synthetic.g_range[dev, 0])
    assert np.array_equal(tile.cells.g_hi, synthetic.g_range[dev, 1])
    assert not tile.update_config(0.1).freeze


@pytest.mark.parametrize("window, mean, g0, g_range, ave_a", [
    ("intersection", "window", 61.0, 42.0, 3.775),  # mcvar's defaults
    ("global", "table", 70.0, 96.0, 3.5),  # CrossSim v2.0
    ("intersection", "table", 61.0, 42.0, 3.5),
])
def test_aggregated_update_by_hand(monkeypatch, window, mean, g0, g_range, ave_a):
    """Noise-free tables, one aggregated update of lr x d = 0.01 per cell on a balanced pair:
    the requested change per device is 0.01 g_range / 2 and becomes k = change / ave
    pulse-equivalents of mean step mu(G0): device a's up cells (mu = 4 uS at G0) move by
    change x 4 / ave_a, every other cell by exactly the change (mu = ave)."""
    monkeypatch.setattr(lookup_module, "load_table_set", lambda name: synthetic_set())
    device = Device(model="lookup", table_window=window, table_mean=mean)
    tile = Tile(TileSpec(4, 3), device, pulsing=Pulsing(rule="continuous", aggregate=True),
                seed=3)
    assert tile.inst.g_zero == pytest.approx(g0 * US, rel=1e-14)
    assert tile.inst.g_range == pytest.approx(g_range * US, rel=1e-14)
    dev = tile.cells.lut_dev
    assert set(np.unique(dev)) == {0, 1}
    tile.update(np.ones(4), np.ones(3), 0.01)
    change = 0.01 * g_range / 2 * US
    up = g0 * US + change * np.where(dev[0] == 0, 4.0 / ave_a, 1.0)
    np.testing.assert_allclose(tile.G[0], up, rtol=1e-9)  # (float32 quantiles: 6e-8)
    np.testing.assert_allclose(tile.G[1], g0 * US - change, rtol=1e-9)


def test_global_clip_is_the_range_of_all_devices(monkeypatch):
    """Bounds 10 .. 130 uS for every cell; a device-a cell (measured up to 90 uS) at 89.9 uS
    driven up by k = 21 / 3.775 pulse-equivalents of mu = 0.02 uS (noise-free) passes 90 uS,
    and stops there when clipped to its own device's range."""
    monkeypatch.setattr(lookup_module, "load_table_set", lambda name: synthetic_set())
    for clip in ("global", "device"):
        tile = Tile(TileSpec(4, 3), Device(model="lookup", table_clip=clip), seed=3,
                    pulsing=Pulsing(rule="continuous", aggregate=True, n_max=1000))
        if clip == "global":
            assert (tile.cells.g_lo == 10 * US).all() and (tile.cells.g_hi == 130 * US).all()
        a = tuple(np.argwhere(tile.cells.lut_dev == 0)[0])
        tile.G[a] = 89.9 * US
        tile.mark_written()
        tile.update(np.ones(4), np.ones(3) if a[0] == 0 else -np.ones(3), 1.0)
        expected = 89.9 + 21 / 3.775 * 0.02 if clip == "global" else 90.0
        assert tile.G[a] == pytest.approx(expected * US, rel=1e-9)


@pytest.mark.parametrize("pulsing", [Pulsing(rule="continuous", aggregate=True),
                                     Pulsing(rule="deterministic")])
def test_frozen_cells_never_move_again(synthetic, pulsing):
    """With table_freeze, a cell outside the used window [40, 82] uS when an update starts
    never moves again, while its neighbours inside keep moving; a cell exactly at the edge is
    still updated. Without freezing the same cells move."""
    lo, hi = synthetic.nominal_window
    for freeze in (True, False):
        tile = Tile(TileSpec(4, 3), Device(model="lookup", table_freeze=freeze),
                    pulsing=pulsing, seed=5)
        tile.G[0, 0, 0] = 83 * US  # above the window
        tile.G[0, 0, 1] = hi  # at its upper edge
        tile.G[1, 1, 1] = 39 * US  # below it
        tile.mark_written()
        lr = 2 * tile.inst.dw_siemens / tile.inst.g_range  # one nominal pulse per update
        history = [tile.G.copy()]
        for _ in range(20):  # plane 0 up, plane 1 down
            tile.update(np.ones(4), np.ones(3), lr)
            history.append(tile.G.copy())
        H = np.array(history)
        moved = H[1:] != H[:-1]  # (update, P, R, C)
        if not freeze:
            assert moved[0].all()
            continue
        outside = (H[:-1] < lo) | (H[:-1] > hi)  # at the start of each update
        assert not moved[outside].any()
        assert moved[~outside].all()
        assert not moved[:, 0, 0, 0].any() and not moved[:, 1, 1, 1].any()
        assert moved[0, 0, 0, 1] and not moved[1:, 0, 0, 1].any()
        # cells left the window during the run while others still moved
        assert (~outside[0] & outside[-1]).sum() >= 5
        assert any((outside[t] & ~outside[0]).any() and moved[t].sum() >= 5 for t in range(20))


def test_whole_table_mean_must_have_the_step_direction(monkeypatch):
    """Device a's up table: mean step > 0 over its usable window, < 0 over the whole table
    (mu = -40 uS at 10 uS): 'window' resolves, 'table' names the setting."""
    g = np.array([10.0, 20.0, 90.0]) * US
    mu = np.array([[-40.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]) * US
    s = LookupTableSet("odd", ("a",), np.stack([g, g])[None], np.broadcast_to([0.0, 1.0],
                       (1, 2, 2)), np.stack([mu, mu], axis=1)[None])
    assert s.ave[0, 0] > 0 > s.ave_table[0, 0]
    monkeypatch.setattr(lookup_module, "load_table_set", lambda name: s)
    assert resolve(Device(model="lookup")).dw_siemens > 0
    with pytest.raises(ValueError, match=r"device\.table_mean: 'table': device 'a'.*increasing"):
        resolve(Device(model="lookup", table_mean="table"))


def test_window_must_lie_in_the_measured_range(synthetic):
    with pytest.raises(ValueError, match=r"device\.g_min.*every measured device's range "
                                         r"\[3e-05, 9e-05\]"):
        resolve(Device(model="lookup", g_max=100 * US))
    assert resolve(Device(model="lookup", table_window="global", g_max=100 * US)).g_max == 100 * US
    with pytest.raises(ValueError, match=r"device\.g_min.*global range \[1e-05, 0\.00013\]"):
        resolve(Device(model="lookup", table_window="global", g_min=5 * US))

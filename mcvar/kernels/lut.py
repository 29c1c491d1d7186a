"""Per-pulse sampling from measured lookup tables (inverse-CDF, bilinear in (u, G)).

Arrays come from :class:`mcvar.lookup.LookupTableSet` (float64, C-contiguous): ``g_bins``
(D, 2, K) [S], ``u_points`` (D, 2, M) [1], ``quantiles`` (D, 2, K, M) [S] (the table ``dg``
with each G bin's quantiles contiguous, float32: random draws at one G then touch one or two
cache lines instead of M rows apart), ``mu`` (D, 2, K) [S];
``dev`` picks the measured device, ``direction`` 0 = increasing (SET), 1 = decreasing (RESET).

Interpolation follows ``numpy.interp`` exactly, on both axes: ``slope * (x - x_j) + y_j`` with
``slope = (y_{j+1} - y_j) / (x_{j+1} - x_j)`` on the interval ``x_j <= x < x_{j+1}``, and the end
values outside the grid (G below / above the bins is clamped to the end bins). So ``lut_step``
equals interpolating every column in ``u`` with ``np.interp`` and then the result in ``G``. A
NaN conductance gives NaN.

Bins are found by a guess from uniform spacing, corrected by stepping to the right interval: one
step at most on TaOx's grids (uniform to 6e-6 relative) and ENODe's G bins; a few on ENODe's
CDF points (refined at both tails); scripts/bench_lookup.py compares it with a binary search.
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit
from .prefetch import prefetch


@jit(inline="always")
def interval(grid, dev, direction, x):
    """Interval of sorted ``grid[dev, direction]`` holding ``x``: j with grid[j] <= x < grid[j + 1],
    0 <= j <= n-2; -1 below the grid, n - 1 at or above its last point, 0 for NaN.

    Arrays are indexed in place, never sliced: a view per call costs reference counting that
    dominated the run time of the update loops.
    """
    n = grid.shape[2]
    a, b = np.uint64(dev), np.uint64(direction)  # (unsigned: no negative-index wraparound)
    lo = grid[a, b, 0]
    hi = grid[a, b, n - 1]
    if x >= lo:
        if x >= hi:
            return n - 1
        j = int((x - lo) * ((n - 1) / (hi - lo)))
        if j > n - 2:
            j = n - 2
        while x < grid[a, b, np.uint64(j)]:
            j -= 1
        while x >= grid[a, b, np.uint64(j + 1)]:
            j += 1
        return j
    if x < lo:
        return -1
    return 0


@jit(inline="always")
def _lerp(x, x0, x1, y0, y1):
    """``numpy.interp``'s formula on one interval."""
    slope = (y1 - y0) / (x1 - x0)
    return slope * (x - x0) + y0


@jit(inline="always")
def corners(quantiles, dev, direction, i, m):
    """The four table values around G interval ``i`` and CDF interval ``m`` (float32):
    ``q[i, m], q[i, m+1], q[i+1, m], q[i+1, m+1]``, indices clamped to the table.

    Loading them apart from the arithmetic (:func:`sample_at`) lets a loop over many cells
    keep many cache misses in flight: the table (D x 2 x K x M float32) may not fit in the
    core's caches.
    """
    n, n_cdf = quantiles.shape[2], quantiles.shape[3]
    k0, k1 = np.uint64(min(max(i, 0), n - 1)), np.uint64(min(max(i + 1, 0), n - 1))
    m0, m1 = np.uint64(min(max(m, 0), n_cdf - 1)), np.uint64(min(max(m + 1, 0), n_cdf - 1))
    a, b = np.uint64(dev), np.uint64(direction)  # (unsigned: no negative-index wraparound)
    return (quantiles[a, b, k0, m0], quantiles[a, b, k0, m1],
            quantiles[a, b, k1, m0], quantiles[a, b, k1, m1])


@jit(inline="always")
def prefetch_corners(quantiles, dev, direction, i, m):
    """Start loading the cache lines of :func:`corners` (the rows of G intervals ``i`` and
    ``i + 1`` at CDF interval ``m``) without waiting for them."""
    n, n_cdf = quantiles.shape[2], quantiles.shape[3]
    m0 = min(max(m, 0), n_cdf - 1)
    prefetch(quantiles, (dev, direction, min(max(i, 0), n - 1), m0))
    prefetch(quantiles, (dev, direction, min(max(i + 1, 0), n - 1), m0))


@jit(inline="always")
def grid_at(g_bins, u_points, mu, dev, direction, i, m):
    """``(u_m, u_m+1, G_i, G_i+1, mu_i, mu_i+1)`` [1, 1, S, S, S, S]: the grid values around G
    interval ``i`` and CDF interval ``m`` for :func:`sample_at`, indices clamped to the grids.

    Straight-line code: an inlined function that takes arrays and branches gets a reference
    count increment and decrement per array and call (an atomic each), and a loop over
    cells paid three of each per cell. So :func:`sample_at` takes these values instead.
    """
    n, n_cdf = g_bins.shape[2], u_points.shape[2]
    a, b = np.uint64(dev), np.uint64(direction)  # (unsigned: no negative-index wraparound)
    m0, k0 = np.uint64(min(max(m, 0), n_cdf - 2)), np.uint64(min(max(i, 0), n - 2))
    return (u_points[a, b, m0], u_points[a, b, m0 + 1], g_bins[a, b, k0], g_bins[a, b, k0 + 1],
            mu[a, b, k0], mu[a, b, k0 + 1])


@jit(inline="always")
def sample_at(G, u, i, m, n, n_cdf, grid, qa, qb, qc, qd):
    """``(step, mean)`` [S]: one pulse's sampled change (:func:`lut_step`) and the mean change
    (:func:`lut_mean`) at ``G`` for ``u``, from the G interval ``i`` of ``n`` bins, the CDF
    interval ``m`` of ``n_cdf`` points, their :func:`grid_at` values ``grid`` and
    :func:`corners` ``qa .. qd``. Bilinear: first in ``u`` on both G bins, then in G.
    """
    u0, u1, g0, g1, mu0, mu1 = grid
    if m < 0 or m >= n_cdf - 1:  # u beyond the CDF grid: the end quantiles
        a, b = qa, qc
    else:
        a, b = _lerp(u, u0, u1, qa, qb), _lerp(u, u0, u1, qc, qd)
    if i < 0:  # G below the bins: the first bin
        return a, mu0
    if i >= n - 1:  # G at or above the last bin: the last bin (the clamped grid's mu_i+1)
        return a, mu1
    return _lerp(G, g0, g1, a, b), _lerp(G, g0, g1, mu0, mu1)


@jit(inline="always")
def _sample(g_bins, u_points, quantiles, mu, dev, direction, G, u, i):
    """:func:`sample_at` for one cell whose G interval ``i`` is known."""
    m = interval(u_points, dev, direction, u)
    qa, qb, qc, qd = corners(quantiles, dev, direction, i, m)
    return sample_at(G, u, i, m, g_bins.shape[2], u_points.shape[2],
                     grid_at(g_bins, u_points, mu, dev, direction, i, m), qa, qb, qc, qd)


@jit(inline="always")
def _mean_at(g_bins, mu, dev, direction, G, i):
    """:func:`lut_mean` with the G interval ``i`` already found."""
    n = g_bins.shape[2]
    if i < 0:
        return mu[dev, direction, 0]
    if i >= n - 1:
        return mu[dev, direction, n - 1]
    return _lerp(G, g_bins[dev, direction, i], g_bins[dev, direction, i + 1],
                 mu[dev, direction, i], mu[dev, direction, i + 1])


@jit(inline="always")
def lut_step(g_bins, u_points, quantiles, mu, dev, direction, G, u):
    """One pulse's conductance change [S] at present conductance ``G`` [S] for ``u`` in (0, 1)."""
    return _sample(g_bins, u_points, quantiles, mu, dev, direction, G, u,
                   interval(g_bins, dev, direction, G))[0]


@jit(inline="always")
def lut_mean(g_bins, mu, dev, direction, G):
    """Mean one-pulse change mu(G) [S] at conductance ``G`` [S] (linear in G, clamped)."""
    return _mean_at(g_bins, mu, dev, direction, G, interval(g_bins, dev, direction, G))


@jit(inline="always")
def lut_aggregate(g_bins, u_points, quantiles, mu, dev, direction, G, k, u):
    """CrossSim's aggregated update of ``k`` >= 0 pulse-equivalents [S] at conductance ``G`` [S]:

    ``k mu(G) + sqrt(k) (dG(u, G) - mu(G))``, evaluated as ``sqrt(k) dG + (k - sqrt(k)) mu`` so
    that ``k = 1`` gives exactly :func:`lut_step` and ``k = 0`` exactly 0. Mean ``k mu(G)``,
    variance ``k Var[dG]``: exact in distribution for k = 1 only; for other k the rule keeps the
    one-pulse shape and scales the noise like a sum of k independent pulses at fixed G.
    """
    step, mean = _sample(g_bins, u_points, quantiles, mu, dev, direction, G, u,
                         interval(g_bins, dev, direction, G))
    return aggregate_of(step, mean, k)


@jit(inline="always")
def lut_aggregate_calibrated(g_bins, u_points, quantiles, mu, dev, direction, G, k, u, dw,
                             k_max):
    """:func:`lut_aggregate` of ``k`` requested steps of ``dw`` [S] (:func:`calibrated_count`
    pulse-equivalents), so the expected change is the requested ``k dw``."""
    step, mean = _sample(g_bins, u_points, quantiles, mu, dev, direction, G, u,
                         interval(g_bins, dev, direction, G))
    return aggregate_of(step, mean, calibrated_count(mean, k, dw, k_max))


@jit(inline="always")
def aggregate_of(step, mean, k):
    """``sqrt(k) step + (k - sqrt(k)) mean`` [S]: :func:`lut_aggregate` from one pulse's
    sampled ``step`` and the mean step at the same G."""
    r = math.sqrt(k)
    return r * step + (k - r) * mean


@jit(inline="always")
def calibrated_count(mean, k, dw, k_max):
    """Pulse-equivalents of ``k`` requested steps of ``dw`` [S] where the mean step is ``mean``
    [S]: ``k dw / |mean|`` (``|mean|`` floored at ``1e-3 dw``, at most ``k_max``), a
    read-before-write calibrated update."""
    return min(k * dw / max(abs(mean), 1e-3 * dw), k_max)

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
CDF points (refined at both tails). Faster than a binary search here (scripts/bench_lookup.py).
"""

from __future__ import annotations

import math

from ..accelerate import jit


@jit(inline="always")
def _interval(grid, dev, direction, x):
    """Interval of sorted ``grid[dev, direction]`` holding ``x``: j with grid[j] <= x < grid[j + 1],
    0 <= j <= n-2; -1 below the grid, n - 1 at or above its last point, 0 for NaN.

    Arrays are indexed in place, never sliced: a view per call costs reference counting that
    dominated the run time of the update loops.
    """
    n = grid.shape[2]
    lo = grid[dev, direction, 0]
    hi = grid[dev, direction, n - 1]
    if x >= lo:
        if x >= hi:
            return n - 1
        j = int((x - lo) * ((n - 1) / (hi - lo)))
        if j > n - 2:
            j = n - 2
        while x < grid[dev, direction, j]:
            j -= 1
        while x >= grid[dev, direction, j + 1]:
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
def _at_u(quantiles, u_points, dev, direction, m, u, k):
    """Bin ``k``'s quantile function at ``u`` (on CDF interval ``m``)."""
    n = u_points.shape[2]
    if m < 0:
        return quantiles[dev, direction, k, 0]
    if m >= n - 1:
        return quantiles[dev, direction, k, n - 1]
    return _lerp(u, u_points[dev, direction, m], u_points[dev, direction, m + 1],
                 quantiles[dev, direction, k, m], quantiles[dev, direction, k, m + 1])


@jit(inline="always")
def _step_at(g_bins, u_points, quantiles, dev, direction, G, u, i):
    """:func:`lut_step` with the G interval ``i`` already found."""
    m = _interval(u_points, dev, direction, u)
    n = g_bins.shape[2]
    if i < 0:
        return _at_u(quantiles, u_points, dev, direction, m, u, 0)
    if i >= n - 1:
        return _at_u(quantiles, u_points, dev, direction, m, u, n - 1)
    a = _at_u(quantiles, u_points, dev, direction, m, u, i)
    b = _at_u(quantiles, u_points, dev, direction, m, u, i + 1)
    return _lerp(G, g_bins[dev, direction, i], g_bins[dev, direction, i + 1], a, b)


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
def lut_step(g_bins, u_points, quantiles, dev, direction, G, u):
    """One pulse's conductance change [S] at present conductance ``G`` [S] for ``u`` in (0, 1)."""
    return _step_at(g_bins, u_points, quantiles, dev, direction, G, u,
                    _interval(g_bins, dev, direction, G))


@jit(inline="always")
def lut_mean(g_bins, mu, dev, direction, G):
    """Mean one-pulse change mu(G) [S] at conductance ``G`` [S] (linear in G, clamped)."""
    return _mean_at(g_bins, mu, dev, direction, G, _interval(g_bins, dev, direction, G))


@jit(inline="always")
def lut_aggregate(g_bins, u_points, quantiles, mu, dev, direction, G, k, u):
    """CrossSim's aggregated update of ``k`` >= 0 pulse-equivalents [S] at conductance ``G`` [S]:

    ``k mu(G) + sqrt(k) (dG(u, G) - mu(G))``, evaluated as ``sqrt(k) dG + (k - sqrt(k)) mu`` so
    that ``k = 1`` gives exactly :func:`lut_step` and ``k = 0`` exactly 0. Mean ``k mu(G)``,
    variance ``k Var[dG]``: exact in distribution for k = 1 only; for other k the rule keeps the
    one-pulse shape and scales the noise like a sum of k independent pulses at fixed G.
    """
    return _aggregate_at(g_bins, u_points, quantiles, mu, dev, direction, G, k, u,
                         _interval(g_bins, dev, direction, G))


@jit(inline="always")
def lut_aggregate_calibrated(g_bins, u_points, quantiles, mu, dev, direction, G, k, u, dw,
                             k_max):
    """:func:`lut_aggregate` of ``k`` requested steps of ``dw`` [S]: ``k dw / |mu(G)|``
    pulse-equivalents (``|mu|`` floored at ``1e-3 dw``, at most ``k_max``), so the expected
    change is the requested ``k dw`` (a read-before-write calibrated update)."""
    i = _interval(g_bins, dev, direction, G)
    m = abs(_mean_at(g_bins, mu, dev, direction, G, i))
    k = min(k * dw / max(m, 1e-3 * dw), k_max)
    return _aggregate_at(g_bins, u_points, quantiles, mu, dev, direction, G, k, u, i)


@jit(inline="always")
def _aggregate_at(g_bins, u_points, quantiles, mu, dev, direction, G, k, u, i):
    """:func:`lut_aggregate` with the G interval ``i`` already found."""
    r = math.sqrt(k)
    return (r * _step_at(g_bins, u_points, quantiles, dev, direction, G, u, i)
            + (k - r) * _mean_at(g_bins, mu, dev, direction, G, i))

"""Per-pulse sampling from measured lookup tables (inverse-CDF, bilinear in (u, G)).

Arrays come from :class:`mcvar.lookup.LookupTableSet` (float64, C-contiguous): ``g_bins``
(D, 2, K) [S], ``u_points`` (D, 2, M) [1], ``dg`` (D, 2, M, K) [S], ``mu`` (D, 2, K) [S];
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


@jit
def _interval(grid, x):
    """Interval of sorted ``grid`` holding ``x``: j with grid[j] <= x < grid[j + 1], 0 <= j <= n-2;
    -1 below the grid, n - 1 at or above its last point, 0 for NaN."""
    n = grid.shape[0]
    lo = grid[0]
    hi = grid[n - 1]
    if x >= lo:
        if x >= hi:
            return n - 1
        j = int((x - lo) * ((n - 1) / (hi - lo)))
        if j > n - 2:
            j = n - 2
        while x < grid[j]:
            j -= 1
        while x >= grid[j + 1]:
            j += 1
        return j
    if x < lo:
        return -1
    return 0


@jit
def _lerp(x, x0, x1, y0, y1):
    """``numpy.interp``'s formula on one interval."""
    slope = (y1 - y0) / (x1 - x0)
    return slope * (x - x0) + y0


@jit
def _column_at(table, up, m, u, k):
    """Column ``k`` of ``table`` (M, K) interpolated in ``u`` on interval ``m`` of ``up``."""
    if m < 0:
        return table[0, k]
    if m >= up.shape[0] - 1:
        return table[up.shape[0] - 1, k]
    return _lerp(u, up[m], up[m + 1], table[m, k], table[m + 1, k])


@jit
def lut_step(g_bins, u_points, dg, dev, direction, G, u):
    """One pulse's conductance change [S] at present conductance ``G`` [S] for ``u`` in (0, 1)."""
    gb = g_bins[dev, direction]
    up = u_points[dev, direction]
    table = dg[dev, direction]
    m = _interval(up, u)
    i = _interval(gb, G)
    if i < 0:
        return _column_at(table, up, m, u, 0)
    if i >= gb.shape[0] - 1:
        return _column_at(table, up, m, u, gb.shape[0] - 1)
    a = _column_at(table, up, m, u, i)
    b = _column_at(table, up, m, u, i + 1)
    return _lerp(G, gb[i], gb[i + 1], a, b)


@jit
def lut_mean(g_bins, mu, dev, direction, G):
    """Mean one-pulse change mu(G) [S] at conductance ``G`` [S] (linear in G, clamped)."""
    gb = g_bins[dev, direction]
    row = mu[dev, direction]
    i = _interval(gb, G)
    if i < 0:
        return row[0]
    if i >= gb.shape[0] - 1:
        return row[gb.shape[0] - 1]
    return _lerp(G, gb[i], gb[i + 1], row[i], row[i + 1])


@jit
def lut_aggregate(g_bins, u_points, dg, mu, dev, direction, G, k, u):
    """CrossSim's aggregated update of ``k`` >= 0 pulse-equivalents [S] at conductance ``G`` [S]:

    ``k mu(G) + sqrt(k) (dG(u, G) - mu(G))``, evaluated as ``sqrt(k) dG + (k - sqrt(k)) mu`` so
    that ``k = 1`` gives exactly :func:`lut_step` and ``k = 0`` exactly 0. Mean ``k mu(G)``,
    variance ``k Var[dG]``: exact in distribution for k = 1 only; for other k the rule keeps the
    one-pulse shape and scales the noise like a sum of k independent pulses at fixed G.
    """
    r = math.sqrt(k)
    s = lut_step(g_bins, u_points, dg, dev, direction, G, u)
    return r * s + (k - r) * lut_mean(g_bins, mu, dev, direction, G)

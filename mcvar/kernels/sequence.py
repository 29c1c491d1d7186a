"""Long sequences of rank-1 updates with running error statistics (Monte Carlo workloads).

Millions of updates of a small tile would be dominated by Python call overhead, so the
loop, the synthetic inputs and the statistics live in one compiled function. Every cell's
trajectory depends only on its own state and the (counter-based) inputs, so the sequence
runs in parallel over fixed blocks of rows, each block through all updates; block results
are combined in block order, so the numbers do not depend on the thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ..accelerate import jit
from .errors import (COUNT, GOT2, GOT_WANT, MAXABS, N_STATS, SUM, SUM2, WANT2, add_error,
                     bin_of)
from .rng import fill_uniform_at, normal_of, normal_words
from .state import UPDATE, UPDATE_PULSES
from .write import _row_bits, _update_rows, flat_state, row_scratch, state_of

ROW_BLOCK = 8  #: rows per parallel block (fixed: results must not depend on threads)
N_SUB = 4  #: interleaved sub-histograms (consecutive errors often share a bin: a chain)


@jit
def synthetic_rows(key, op, r0, x):
    """Row inputs ``x_i`` ~ U(-1, 1) of update ``op`` for rows ``r0 ..`` into ``x``: row i is
    lane ``i % 4`` of ``uniform4(key, i // 4, op, 0)``; ``r0`` a multiple of 4."""
    fill_uniform_at(key, r0 // 4, op, x)
    for i in range(x.size):
        x[i] = 2.0 * x[i] - 1.0


@jit
def synthetic_d(key, op, d, d_std, w0, w1):
    """Column errors ``d`` ~ N(0, d_std^2) of update ``op`` into ``d`` (C,); ``d[j]`` is normal
    ``j % 2`` of ``normal2(key, j // 2, op, 1)``. ``w0``, ``w1``: scratch (>= (C + 1) // 2,)."""
    C = d.shape[0]
    normal_words(key, 0, (C + 1) // 2, op, 1, w0, w1)
    for j in range(C):
        q = j >> 1
        d[j] = d_std * normal_of(w1[q] if j & 1 else w0[q], j & 1, key, q, op, 1)


@jit
def update_sequence(tile, cfg, n_updates, input_key, d_std, lr, lo, inv_width, hist, stats,
                    counts):
    """Apply ``n_updates`` synthetic rank-1 updates to ``tile`` (a TileState); accumulate
    achieved-vs-requested errors.

    The updates use operations ``op0 ..`` of the update streams, ``op0 = tile.ops[UPDATE]``,
    which advances by ``n_updates``. Update ``u`` (operation ``op0 + u``) has ``x_i`` ~ U(-1, 1) and ``d_j`` ~ N(0, d_std^2)
    from ``input_key``; requested ``lr x_i d_j``; achieved = change of the cell's weight
    [weight units]. ``stats`` (N_STATS,) running sums (:mod:`.errors`); ``hist`` (bins,)
    counts of the error in uniform bins from ``lo``, ``inv_width`` bins per weight unit
    (values beyond the ends in the end bins); ``counts`` (2,) pulses (up, down).
    """
    op0 = tile.ops[UPDATE]
    tile.ops[UPDATE] = op0 + n_updates
    _sequence_blocks(*flat_state(tile), cfg, op0, n_updates, input_key, d_std, lr, lo,
                     inv_width, hist, stats, counts)


@jit(parallel=True)
def _sequence_blocks(G, offset, g_ref, g_lo, g_hi, step_up, step_down, c_up, c_down, a_up,
                     a_down, stuck, lut_dev, lut_scale, g_bins, u_points, quantiles, mu, k_scale,
                     keys, ops, scalars, cfg, op0, n_updates, input_key, d_std, lr, lo,
                     inv_width, hist, stats, counts):
    """The parallel part of :func:`update_sequence`, over fixed blocks of rows. (The state
    comes as its arrays, :func:`mcvar.kernels.write.flat_state`: a parallel function cannot
    take a tuple of arrays.)"""
    P, R, C = G.shape
    key_pulses = keys[UPDATE_PULSES]
    weight_per_siemens = scalars.weight_per_siemens
    nb = hist.shape[0]
    n_blocks = (R + ROW_BLOCK - 1) // ROW_BLOCK
    block_stats = np.zeros((n_blocks, N_STATS))
    block_hist = np.zeros((n_blocks, N_SUB, nb), np.int64)
    row_counts = np.zeros((R, 2))
    train = cfg.rule == 2
    for blk in prange(n_blocks):
        part = state_of(G, offset, g_ref, g_lo, g_hi, step_up, step_down, c_up, c_down, a_up,
                        a_down, stuck, lut_dev, lut_scale, g_bins, u_points, quantiles, mu,
                        k_scale, keys, ops, scalars)
        r0 = blk * ROW_BLOCK
        r1 = min(r0 + ROW_BLOCK, R)
        x = np.zeros(R)
        d = np.empty(C)
        rbits = np.zeros(R, np.uint64)
        cbits = np.zeros(C, np.uint64)
        before = np.empty((P, r1 - r0, C))
        scratch = row_scratch(P, C, cfg)
        w0 = np.empty((C + 1) // 2, np.uint64)
        w1 = np.empty_like(w0)
        no_req = np.empty((0, 0))  # (rank-1 updates: no per-cell request)
        h = block_hist[blk]
        amp = math.sqrt(cfg.pulses_per_unit / cfg.bl)
        total = total2 = req2 = cross = ach2 = maxabs = 0.0
        for u in range(n_updates):
            op = op0 + u
            synthetic_rows(input_key, op, r0, x[r0:r1])
            synthetic_d(input_key, op, d, d_std, w0, w1)
            if train:
                _row_bits(x[r0:r1], amp, cfg.bl, key_pulses, op, r0, rbits[r0:r1])
                _row_bits(d, amp, cfg.bl, key_pulses, op, R, cbits)
            for p in range(P):  # (plain loops: the 3-D slice assignment took 3x as long)
                for i in range(r0, r1):
                    for j in range(C):
                        before[p, i - r0, j] = G[p, i, j]
            _update_rows(r0, r1, part, x, d, no_req, cfg, op, rbits, cbits, row_counts, scratch)
            for i in range(r0, r1):
                lx = lr * x[i]
                for j in range(C):
                    ach = G[0, i, j] - before[0, i - r0, j]
                    if P == 2:
                        ach -= G[1, i, j] - before[1, i - r0, j]
                    ach *= weight_per_siemens
                    req = lx * d[j]
                    total, total2, req2, cross, ach2, maxabs = add_error(
                        ach, req, total, total2, req2, cross, ach2, maxabs)
                    h[j % N_SUB, bin_of(ach - req, lo, inv_width, nb)] += 1
        block_stats[blk, COUNT] = n_updates * (r1 - r0) * C
        block_stats[blk, SUM] = total
        block_stats[blk, SUM2] = total2
        block_stats[blk, WANT2] = req2
        block_stats[blk, GOT_WANT] = cross
        block_stats[blk, GOT2] = ach2
        block_stats[blk, MAXABS] = maxabs
    for blk in range(n_blocks):
        for s in range(N_STATS - 1):
            stats[s] += block_stats[blk, s]
        stats[MAXABS] = max(stats[MAXABS], block_stats[blk, MAXABS])
        for sub in range(N_SUB):
            for b in range(nb):
                hist[b] += block_hist[blk, sub, b]
    for i in range(R):
        counts[0] += row_counts[i, 0]
        counts[1] += row_counts[i, 1]

"""Parallel outer-product update through pulsed device models (../shared/MODEL.md section 4).

One call applies the rank-1 update ``dW = lr * outer(x, d)`` to a tile: pulse counts per cell
from ``x`` (rows) and ``d`` (cols) by one of the rules below, then each pulse changes the
cell's conductance through its device model with cycle-to-cycle noise, clipped to the cell's
bounds after every pulse. A balanced pair moves push-pull: plane 0 in the update's direction,
plane 1 opposite. Stuck cells receive pulses but never move.

Pulse rules (``c = lr / dw_pulse`` pulses per unit ``x d``):

=================  ===================================================================
``deterministic``  ``n = min(rint(c |x d|), n_max)``
``stochastic``     floor of ``c |x d|`` plus a Bernoulli draw of the fraction; ``<= n_max``
``pulse_train``    row/column bit streams of length ``BL``, bit probabilities
                   ``min(|x| A, 1)``, ``min(|d| A, 1)``, ``A = sqrt(c / BL)``; ``n`` = coincidences
``implicit``       aihwkit's deterministic implicit pulsing ``rint(BL min(|d|A,1) min(|x|A,1))``
``continuous``     ``k = min(c |x d|, n_max)`` real (aggregated update only)
=================  ===================================================================

With ``aggregate`` the ``k`` pulses of a cell are applied in one step: ``k dG1 + sqrt(k) dG1 s xi``
for step models (exact in distribution for ``linear`` away from the bounds, an approximation for
state-dependent models) and CrossSim's ``k mu(G) + sqrt(k) e(u, G)`` for lookup tables.

Random draws (all counter-based, element = cell index ``(p*R + i)*C + j``): rounding
uniforms and pulse-train bits from ``keys[0]``; pulse noise / table draws from ``keys[1]``
(draw = pulse number); per-update write noise from ``keys[2]``. Results do not depend on
the number of threads.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import prange

from ..accelerate import jit
from .lut import (aggregate_of, calibrated_count, corners, grid_at, interval, lut_step,
                  prefetch_corners, sample_at)
from .rng import (fill_words, gather_words, normal_at, normal_of, uniform4, uniform_at,
                  uniform_of, uniform_of_word)

RULES = ("deterministic", "stochastic", "pulse_train", "implicit", "continuous")
RULE_CODE = {name: code for code, name in enumerate(RULES)}
(LINEAR, LINEAR_STEP, SOFT_BOUNDS, EXPONENTIAL, CROSSSIM_ASYM, CROSSSIM_SYM, LOOKUP) = range(7)
WN_INDEPENDENT, WN_PROPORTIONAL, WN_INVERSE = range(3)
#: rows whose rounding uniforms are drawn in one pass (one row's few Philox blocks alone run
#: mostly in the scalar remainder of the vectorised loop)
FILL_ROWS = 8

UpdateConfig = namedtuple("UpdateConfig", [
    "model",  # int: device model code (MODELS order in mcvar.devices)
    "rule",  # int: pulse rule code (RULES order)
    "bl",  # int: bit-stream length BL (pulse_train, implicit), 1..64
    "n_max",  # float: most pulses per cell per update
    "aggregate",  # bool: apply a cell's pulses in one aggregated step
    "pulses_per_unit",  # float: c = lr / dw_pulse, pulses per unit of x*d
    "dw_min_std",  # float: c2c std of each pulse's step, relative
    "write_noise",  # float: CrossSim per-update write noise sigma_wn
    "write_noise_model",  # int: WN_INDEPENDENT / WN_PROPORTIONAL / WN_INVERSE
    "write_offset_std",  # float: aihwkit write_noise_std * dw_min, in siemens
    "g_range",  # float: nominal g_max - g_min [S]
    "calibrated",  # bool: lookup aggregate steps scaled by the mean step at the present G
    "dw_nominal",  # float: nominal step of one pulse [S] (what pulses_per_unit assumes)
    "g_zero",  # float: conductance at zero weight [S] (the soft-bounds anchor)
])


@jit(inline="always")
def step_response(model, up, G, D, c, a_up, a_down):
    """Deterministic conductance change [S] of one pulse (signed) for the step models.

    ``D``: the cell's step [S] in this direction; ``c``: its coefficient in this direction;
    ``a_up``, ``a_down``: its anchors (meaning per model in mcvar.devices.draw_cells).
    Written with selects on ``up``, not branches: the direction of neighbouring cells is
    random, and a mispredicted branch per cell cost more than the arithmetic.
    """
    sgn = 1.0 if up else -1.0
    anchor = a_up if up else a_down
    if model == LINEAR:
        return sgn * D
    if model == LINEAR_STEP or model == SOFT_BOUNDS:
        return (sgn * D) * (1.0 - c * (G - anchor))
    if model == EXPONENTIAL:  # down: -D exp(-c (a_down - G))
        return (sgn * D) * math.exp(-c * (sgn * (G - anchor)))
    if model == CROSSSIM_ASYM:
        return (anchor - G) * c
    # CROSSSIM_SYM: A = a_up, B = a_down, c = exp(-2 a delta) with signed delta
    return a_up / (1.0 + c * (a_up / (G - a_down) - 1.0)) - G + a_down


@jit
def _row_bits(values, prob_scale, bl, key, op, elem0, out):
    """Stochastic bit streams: ``out[i]`` has each of ``bl`` bits set w.p. min(|v| scale, 1)."""
    for i in range(values.shape[0]):
        p = min(abs(values[i]) * prob_scale, 1.0)
        bits = np.uint64(0)
        if p > 0.0:
            for q in range((bl + 3) // 4):
                u = uniform4(key, elem0 + i, op, q)
                for lane in range(4):
                    t = 4 * q + lane
                    if t < bl and u[lane] < p:
                        bits |= np.uint64(1) << np.uint64(t)
        out[i] = bits


@jit(inline="always")
def _popcount(v):
    n = 0
    while v:
        v &= v - np.uint64(1)
        n += 1
    return n


@jit(inline="always")
def _lookup_cell(g_bins, u_points, quantiles, mu, dev, up, k, g, g_lo, g_hi, scale, key, op,
                 cell, w0, w1):
    """``k`` pulses of a lookup-table cell, one by one, each scaled by the cell's d2d ``scale``;
    new G [S]. ``w0``, ``w1``: the cell's draw-0 random words (its first four uniforms).
    Aggregated updates go through :func:`_lookup_row`."""
    direction = 0 if up else 1
    for t in range(int(k)):
        u = uniform_of(w0, w1, t) if t < 4 else uniform_at(key, cell, op, t // 4, t % 4)
        dg = lut_step(g_bins, u_points, quantiles, mu, dev, direction, g, u)
        g = min(max(g + scale * dg, g_lo), g_hi)
    return g


@jit
def _aggregated_steps(model, up, k, g, g_lo, g_hi, D, c, a_up, a_down, s, key, op, cell, w0):
    """``k`` pulses of a step-model cell in one step, ``k dG1 + sqrt(k) dG1 s xi``; new G [S].
    (A call: inlined, its square root was hoisted into every pulse-by-pulse update.)"""
    dg1 = step_response(model, up, g, D, c, a_up, a_down)
    dg = k * dg1
    if s > 0.0:
        dg += math.sqrt(k) * dg1 * s * normal_of(w0, 0, key, cell, op, 0)
    return min(max(g + dg, g_lo), g_hi)


@jit(inline="always")
def _step_cell(model, up, k, g, g_lo, g_hi, D, c, a_up, a_down, s, aggregate, key, op, cell,
               w0, w1):
    """``k`` pulses of a step-model cell, one by one or aggregated; new G [S].

    ``w0``, ``w1``: the cell's draw-0 random words (the normals of its first two pulses).
    """
    if aggregate:
        return _aggregated_steps(model, up, k, g, g_lo, g_hi, D, c, a_up, a_down, s, key, op,
                                 cell, w0)
    for t in range(int(k)):
        dg = step_response(model, up, g, D, c, a_up, a_down)
        if s > 0.0:
            if t < 2:
                z = normal_of(w0 if t == 0 else w1, t, key, cell, op, 0)
            else:
                z = normal_at(key, cell, op, t // 2, t % 2)
            dg *= 1.0 + s * z
        g = min(max(g + dg, g_lo), g_hi)
    return g


@jit(inline="always")
def _write_noise_sd(cfg, g, g_before):
    """Std [S] of CrossSim's per-update write noise after a change ``g - g_before``."""
    sd = cfg.write_noise * math.sqrt(abs(g - g_before) * cfg.g_range)
    if cfg.write_noise_model == WN_PROPORTIONAL:
        sd *= g / cfg.g_range
    elif cfg.write_noise_model == WN_INVERSE:
        sd *= cfg.g_range / max(g, 1e-30)
    return sd


@jit
def row_scratch(P, C, cfg):
    """Work arrays of :func:`_update_rows` for ``P`` planes of ``C`` columns (reusable):
    float rows (size, pulses), the rounding words of ``FILL_ROWS`` rows, pulsed columns,
    random-number lanes (stream key, element) and their words, and for aggregated
    lookup-table updates the per-cell entries of a row (ints, floats, corners)."""
    width = 4 * ((C + 3) // 4)
    cells = P * C if cfg.model == LOOKUP and cfg.aggregate else 0
    return (np.empty((2, width)), np.empty(FILL_ROWS * width, np.uint32),
            np.empty(C, np.int64), np.empty((2, 2 * P * C), np.uint64),
            np.empty((2, 2 * P * C), np.uint64), np.empty((6, cells), np.int64),
            np.empty((2, cells)), np.empty((4, cells), np.float32))


@jit(inline="always")
def _write_noise(g, g0, lo, hi, cfg, key, op, cell, ww0):
    """A cell's new conductance ``g`` [S] (it was ``g0``) plus CrossSim's write noise, clipped
    to ``[lo, hi]``. ``ww0``: the cell's first draw-0 word of stream ``key``."""
    if cfg.write_noise > 0.0:
        z0 = normal_of(ww0, 0, key, cell, op, 0)
        g = min(max(g + _write_noise_sd(cfg, g, g0) * z0, lo), hi)
    return g


@jit(inline="always")
def _write_offset(cfg, key, op, cell, ww1):
    """aihwkit's read-visible write-noise offset [S] of a pulsed cell (``write_noise_std``).
    ``ww1``: the cell's second draw-0 word of stream ``key``. (Offsets are stored by the
    caller: an array passed into an inlined function is reference counted per cell.)"""
    return cfg.write_offset_std * normal_of(ww1, 1, key, cell, op, 0)


@jit
def _lookup_row(i, n, pulsed, k_row, xi, d, req, per_cell, G, offset, g_lo, g_hi, step_up,
                step_down, stuck, lut_dev, g_bins, u_points, quantiles, mu, k_scale, cfg, key,
                op, words, ient, fent, qent):
    """Aggregated lookup-table update of the ``n`` pulsed cells of row ``i``.

    A cell's ``k`` nominal pulses become ``k_s = k * k_scale[dev, s]`` steps of its device's
    own window average in direction s (CrossSim's ``k = dw / ave_s``), or with
    ``cfg.calibrated`` ``k dw_nominal / |mu_s(G)|``: the mean step at the present G, so the
    expected change is what was asked (a read-before-write calibrated update); the change is
    :func:`mcvar.kernels.lut.lut_aggregate` of ``k_s`` times the cell's d2d scale, with the
    cell's first uniform (draw 0).

    Three passes over the row's cells: each cell's table intervals; the table corners of all
    of them (independent loads, so many cache misses are in flight: TaOx's table is 16 MB);
    then the arithmetic. ``words``: the cells' draw-0 random words (plane p's pulse words at
    ``p n + m``, its write-noise words at ``(P + p) n + m``, see :func:`_update_rows`);
    ``ient``, ``fent``, ``qent``: scratch."""
    P, R, C = G.shape
    e = 0
    for m in range(n):
        j = np.uint64(pulsed[m])  # (unsigned indices: no negative-index wraparound)
        sign = req[i, j] if per_cell else xi * d[j]
        for p in range(P):
            up = (sign > 0.0) == (p == 0)
            direction = 0 if up else 1
            if stuck[p, i, j] != 0:
                continue
            dev = lut_dev[p, i, j]
            g0 = G[p, i, j]
            u = uniform_of(words[0, p * n + m], words[1, p * n + m], 0)
            ient[0, e] = p
            ient[1, e] = m
            ient[2, e] = dev
            ient[3, e] = direction
            gi = interval(g_bins, dev, direction, g0)
            ui = interval(u_points, dev, direction, u)
            prefetch_corners(quantiles, dev, direction, gi, ui)
            ient[4, e] = gi
            ient[5, e] = ui
            fent[0, e] = g0
            fent[1, e] = u
            e += 1
    for c in range(e):
        qa, qb, qc, qd = corners(quantiles, ient[2, c], ient[3, c], ient[4, c], ient[5, c])
        qent[0, c] = qa
        qent[1, c] = qb
        qent[2, c] = qc
        qent[3, c] = qd
    for c in range(e):
        p = ient[0, c]
        m = ient[1, c]
        dev = ient[2, c]
        direction = ient[3, c]
        gi = ient[4, c]
        ui = ient[5, c]
        j = np.uint64(pulsed[m])
        g0 = fent[0, c]
        u = fent[1, c]
        step, mean = sample_at(g0, u, gi, ui, g_bins.shape[2], u_points.shape[2],
                               grid_at(g_bins, u_points, mu, dev, direction, gi, ui),
                               qent[0, c], qent[1, c], qent[2, c], qent[3, c])
        if cfg.calibrated:
            k = calibrated_count(mean, k_row[j], cfg.dw_nominal, cfg.n_max)
        else:
            k = k_row[j] * k_scale[dev, direction]
        scale = step_up[p, i, j] if direction == 0 else step_down[p, i, j]
        lo = g_lo[p, i, j]
        hi = g_hi[p, i, j]
        g = min(max(g0 + scale * aggregate_of(step, mean, k), lo), hi)
        cell = (p * R + i) * C + pulsed[m]
        w = (P + p) * n + m
        g = _write_noise(g, g0, lo, hi, cfg, key, op, cell, words[0, w])
        if cfg.write_offset_std > 0.0:
            offset[p, i, j] = _write_offset(cfg, key, op, cell, words[1, w])
        G[p, i, j] = g


@jit
def _update_rows(r0, r1, G, offset, g_lo, g_hi, step_up, step_down, c_up, c_down, a_up,
                 a_down, stuck, lut_dev, g_bins, u_points, dg_table, mu, k_scale, x, d, req, cfg,
                 keys, op, rbits, cbits, row_counts, fscr, rwords, pulsed, lanes, words, ient,
                 fent, qent):
    """Update rows ``r0 .. r1-1``; pulses applied per row into ``row_counts`` (R, 2).

    ``fscr`` .. ``qent``: work arrays from :func:`row_scratch`.

    The requested change of cell (i, j) per unit learning rate is ``x_i d_j`` (rank-1), or
    ``req[i, j]`` when ``req`` is not empty (per-cell programming: bit-stream rules then
    fall back to stochastic rounding).

    Per row: the pulse counts first, listing the pulsed columns; then the draw-0 random
    words of every pulsed cell of every plane and stream in one vectorised pass
    (:func:`gather_words`, the same numbers as drawing them one by one: plane p's pulse words
    at ``p n + m``, then its write-noise words at ``(P' + p) n + m``, ``P'`` = P when there
    are pulse words, else 0); then the pulses.
    Arrays come as separate arguments (no tuple unpacking in the loop: that would cost
    reference counting per cell).
    """
    P, R, C = G.shape
    model, aggregate, s = cfg.model, cfg.aggregate, cfg.dw_min_std
    noisy_write = cfg.write_noise > 0.0 or cfg.write_offset_std > 0.0
    pulse_words = model == LOOKUP or s > 0.0
    per_cell = req.shape[0] > 0
    rule = 1 if per_cell and (cfg.rule == 2 or cfg.rule == 3) else cfg.rule
    quads = (C + 3) // 4
    per_unit, n_max = cfg.pulses_per_unit, cfg.n_max
    amp = math.sqrt(per_unit / cfg.bl)  # bit probability per unit |x| or |d| ('implicit')
    width = 4 * quads
    size, k_row = fscr[0], fscr[1]
    for i in range(r0, r1):
        if rule == 1 and (i - r0) % FILL_ROWS == 0:  # rounding words of the next rows, four
            # cells per Philox block (rows' blocks are consecutive elements)
            fill_words(keys[0], i * quads, op, rwords[:min(FILL_ROWS, r1 - i) * width])
        u0 = (i - r0) % FILL_ROWS * width
        xi = 0.0 if per_cell else x[i]
        for j in range(C):
            size[j] = abs(req[i, j]) if per_cell else abs(xi * d[j])
        # pulse counts k_row (real for 'continuous'), zero for a zero request: one branch-free
        # loop per rule, so the compiler vectorises it (written here, not in an inlined
        # helper: its branch over the rules made every row count references to six arrays)
        if rule == 2:
            for j in range(C):
                k_row[j] = float(_popcount(rbits[i] & cbits[j]))
        elif rule == 3:
            xa = min(abs(xi) * amp, 1.0)
            for j in range(C):
                k_row[j] = float(np.rint(cfg.bl * min(abs(d[j]) * amp, 1.0) * xa))
        elif rule == 0:
            for j in range(C):
                k_row[j] = min(np.rint(per_unit * size[j]), n_max)
        elif rule == 1:
            for j in range(C):
                v = per_unit * size[j]
                fl = np.floor(v)  # (math.floor returns an int: a float-int-float round trip)
                k_row[j] = min(fl + 1.0 if uniform_of_word(rwords[u0 + j]) < v - fl else fl,
                               n_max)
        else:
            for j in range(C):
                k_row[j] = min(per_unit * size[j], n_max)
        n = 0
        for j in range(C):
            pulsed[n] = j
            n += 1 if k_row[j] > 0.0 else 0
        n_lanes = 0
        for stream in range(1, 3):  # keys[1]: pulse noise, keys[2]: write noise
            if pulse_words if stream == 1 else noisy_write:
                for p in range(P):
                    base = (p * R + i) * C
                    for m in range(n):
                        lanes[0, n_lanes] = keys[stream]
                        lanes[1, n_lanes] = base + pulsed[m]
                        n_lanes += 1
        gather_words(lanes, n_lanes, op, 0, words)
        w_write = P * n if pulse_words else 0
        n_up, n_down = row_counts[i, 0], row_counts[i, 1]  # (locals: no store-load chain)
        for m in range(n):  # a pair's two planes move opposite ways: k pulses each way
            k = k_row[pulsed[m]]
            positive = (req[i, pulsed[m]] if per_cell else xi * d[pulsed[m]]) > 0.0
            if P == 2 or positive:
                n_up += k
            if P == 2 or not positive:
                n_down += k
        row_counts[i, 0], row_counts[i, 1] = n_up, n_down
        if model == LOOKUP and aggregate:  # (a call per row: inlined, it slowed the step models)
            _lookup_row(i, n, pulsed, k_row, xi, d, req, per_cell, G, offset, g_lo, g_hi, step_up,
                        step_down, stuck, lut_dev, g_bins, u_points, dg_table, mu, k_scale, cfg,
                        keys[2], op, words, ient, fent, qent)
            continue
        for p in range(P):  # (plane outermost: the cell index is then the only one that varies)
            for m in range(n):
                j = np.uint64(pulsed[m])  # (unsigned: no negative-index wraparound)
                if stuck[p, i, j] != 0:
                    continue
                k = k_row[j]
                up = ((req[i, j] if per_cell else xi * d[j]) > 0.0) == (p == 0)
                cell = (p * R + i) * C + pulsed[m]
                g0 = G[p, i, j]
                lo, hi = g_lo[p, i, j], g_hi[p, i, j]
                if model == LOOKUP:  # step arrays hold the d2d scale of the measured steps
                    g = _lookup_cell(g_bins, u_points, dg_table, mu, lut_dev[p, i, j], up, k, g0,
                                     lo, hi, step_up[p, i, j] if up else step_down[p, i, j], keys[1],
                                     op, cell, words[0, p * n + m], words[1, p * n + m])
                else:  # (both directions' parameters loaded, then selected: no branch)
                    d_up, d_down = step_up[p, i, j], step_down[p, i, j]
                    if model == SOFT_BOUNDS:  # c = 1 / (bound - g_zero), anchor g_zero, from
                        # the bounds already loaded (draw_cells stores no coefficients for it:
                        # a 256x256 tile's parameters stream from memory)
                        c = 1.0 / ((hi if up else lo) - cfg.g_zero)
                        anchor_up = anchor_down = cfg.g_zero
                    else:
                        cu, cd = c_up[p, i, j], c_down[p, i, j]
                        c = cu if up else cd
                        anchor_up, anchor_down = a_up[p, i, j], a_down[p, i, j]
                    g = _step_cell(model, up, k, g0, lo, hi, d_up if up else d_down, c,
                                   anchor_up, anchor_down, s, aggregate, keys[1], op, cell,
                                   words[0, p * n + m], words[1, p * n + m])
                w = w_write + p * n + m
                g = _write_noise(g, g0, lo, hi, cfg, keys[2], op, cell, words[0, w])
                if cfg.write_offset_std > 0.0:
                    offset[p, i, j] = _write_offset(cfg, keys[2], op, cell, words[1, w])
                G[p, i, j] = g


@jit
def _bits(x, d, cfg, keys, op):
    R, C = x.shape[0], d.shape[0]
    rbits = np.zeros(R, np.uint64)
    cbits = np.zeros(C, np.uint64)
    if cfg.rule == 2:
        a = math.sqrt(cfg.pulses_per_unit / cfg.bl)
        _row_bits(x, a, cfg.bl, keys[0], op, 0, rbits)
        _row_bits(d, a, cfg.bl, keys[0], op, R, cbits)
    return rbits, cbits


@jit
def _sum_counts(row_counts, counts):
    for i in range(row_counts.shape[0]):
        counts[0] += row_counts[i, 0]
        counts[1] += row_counts[i, 1]


@jit
def update_one(G, offset, cp, lut, x, d, cfg, keys, op, counts):
    """Serial :func:`update_rank1` (for loops over many small updates); adds to ``counts``."""
    R = G.shape[1]
    rbits, cbits = _bits(x, d, cfg, keys, op)
    row_counts = np.zeros((R, 2))
    P, C = G.shape[0], G.shape[2]
    fscr, rwords, pulsed, lanes, words, ient, fent, qent = row_scratch(P, C, cfg)
    _update_rows(0, R, G, offset, cp.g_lo, cp.g_hi, cp.step_up, cp.step_down, cp.c_up,
                 cp.c_down, cp.a_up, cp.a_down, cp.stuck, cp.lut_dev, lut[0], lut[1], lut[2],
                 lut[3], lut[4], x, d, np.empty((0, 0)), cfg, keys, op, rbits, cbits, row_counts,
                 fscr, rwords, pulsed, lanes, words, ient, fent, qent)
    _sum_counts(row_counts, counts)


@jit(parallel=True)
def update_rank1(G, offset, cp, lut, x, d, cfg, keys, op, counts, shares):
    """Apply ``lr * outer(x, d)`` to planes ``G`` (P, R, C) in place; operation index ``op``.

    ``offset`` (P, R, C): read-visible write-noise offsets (aihwkit ``write_noise_std``).
    ``cp``: CellParams; ``lut``: (g_bins, u_points, quantiles, mu, k_scale) lookup arrays
    (dummies if unused; ``k_scale`` (D, 2) = nominal step / the device's window average).
    ``counts`` (2,) accumulates the device pulses applied (up, down), real for 'continuous'.
    Rows are independent: ``shares`` contiguous shares of them run in parallel, best one per
    Numba thread (fixed blocks of 8 rows left a thread idle a third of the time on a 65-row
    tile: 9 blocks split 5 : 4). The result is identical to :func:`update_one` for any
    ``shares`` >= 1. (The count is an argument: ``numba.get_num_threads`` inside compiled
    code keeps the function and its callers out of the on-disk cache.)
    """
    R = G.shape[1]
    rbits, cbits = _bits(x, d, cfg, keys, op)
    row_counts = np.zeros((R, 2))
    g_lo, g_hi, step_up, step_down, c_up, c_down, a_up, a_down, stuck, lut_dev = cp
    g_bins, u_points, dg_table, mu, k_scale = lut
    P, C = G.shape[0], G.shape[2]
    shares = min(shares, R)
    for share in prange(shares):
        r0, r1 = share * R // shares, (share + 1) * R // shares
        fscr, rwords, pulsed, lanes, words, ient, fent, qent = row_scratch(P, C, cfg)
        _update_rows(r0, r1, G, offset, g_lo, g_hi, step_up, step_down,
                     c_up, c_down, a_up, a_down, stuck, lut_dev, g_bins, u_points, dg_table, mu,
                     k_scale, x, d, np.empty((0, 0)), cfg, keys, op, rbits, cbits, row_counts,
                     fscr, rwords, pulsed, lanes, words, ient, fent, qent)
    _sum_counts(row_counts, counts)


@jit
def update_cells(G, offset, cp, lut, req, cfg, keys, op, counts):
    """Program per-cell changes ``lr * req`` (R, C) by pulses (e.g. periodic carry); serial.

    Same device physics as :func:`update_one`; bit-stream rules use stochastic rounding.
    """
    R, C = G.shape[1], G.shape[2]
    row_counts = np.zeros((R, 2))
    empty = np.zeros(0)
    bits = np.zeros(max(R, C), np.uint64)
    fscr, rwords, pulsed, lanes, words, ient, fent, qent = row_scratch(G.shape[0], C, cfg)
    _update_rows(0, R, G, offset, cp.g_lo, cp.g_hi, cp.step_up, cp.step_down, cp.c_up,
                 cp.c_down, cp.a_up, cp.a_down, cp.stuck, cp.lut_dev, lut[0], lut[1], lut[2],
                 lut[3], lut[4], empty, empty, req, cfg, keys, op, bits, bits, row_counts,
                 fscr, rwords, pulsed, lanes, words, ient, fent, qent)
    _sum_counts(row_counts, counts)

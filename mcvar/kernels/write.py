"""Parallel outer-product update through pulsed device models (docs/updates.md).

One call applies the rank-1 update ``dW = lr * outer(x, d)`` to a tile: pulse counts per cell
from ``x`` (rows) and ``d`` (cols) by one of the rules below, then each pulse changes the
cell's conductance through its device model with cycle-to-cycle noise, clipped to the cell's
bounds after every pulse. A balanced pair moves push-pull: plane 0 in the update's direction,
plane 1 opposite. Stuck cells receive pulses but never move; so do lookup-table cells outside
the used window when ``freeze`` is on (``Device.table_freeze``), checked once per update.

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

Random draws (all counter-based, element = cell index ``(p*R + i)*C + j``, operation = the
tile's update counter ``ops[Stream.UPDATE_NOISE]``, docs/random.md): rounding uniforms and
pulse-train bits from stream UPDATE_PULSES; pulse noise / table draws from UPDATE_NOISE
(draw = pulse number); per-update write noise from WRITE_NOISE. Results do not depend on
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
from .state import (UPDATE, UPDATE_NOISE, UPDATE_PULSES, WRITE_NOISE, CellParams,
                    LookupTables, TileState)
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
    "freeze",  # bool: lookup tables: cells outside [freeze_lo, freeze_hi] are not updated
    "freeze_lo",  # float: lower end of the used window [S] (freeze)
    "freeze_hi",  # float: upper end of the used window [S] (freeze)
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
def _frozen(cfg, g):
    """Whether a cell at conductance ``g`` [S] sits this update out: ``cfg.freeze`` and ``g``
    outside the used window ``[cfg.freeze_lo, cfg.freeze_hi]`` (CrossSim v2.0's multi-device
    tables; docs/devices.md, section 7). One predictable branch per cell when off."""
    return cfg.freeze and (g < cfg.freeze_lo or g > cfg.freeze_hi)


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


RowScratch = namedtuple("RowScratch", [
    "row_floats",  # (2, width) float64: a row's request sizes |x_i d_j| and pulse counts k
    "rounding_words",  # (FILL_ROWS * width,) uint32: stochastic-rounding words of FILL_ROWS rows
    "pulsed",  # (C,) int64: columns of the row that receive pulses
    "lanes",  # (2, 2 P C) uint64: random-number lanes (stream key, element) of a row
    "words",  # (2, 2 P C) uint64: their draw-0 words
    "entry_ints",  # (6, P C) int64: per-cell entries of an aggregated lookup row
    "entry_floats",  # (2, P C) float64: (G before, uniform) per entry
    "entry_corners",  # (4, P C) float32: the table corners per entry
])
RowScratch.__doc__ = "Work arrays of :func:`_update_rows` (reusable across calls)."


@jit
def row_scratch(P, C, cfg):
    """Work arrays of :func:`_update_rows` for ``P`` planes of ``C`` columns (reusable); the
    per-cell entries are empty unless the update is an aggregated lookup-table one."""
    width = 4 * ((C + 3) // 4)
    cells = P * C if cfg.model == LOOKUP and cfg.aggregate else 0
    return RowScratch(np.empty((2, width)), np.empty(FILL_ROWS * width, np.uint32),
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
def _lookup_row(i, n, k_row, xi, d, req, G, offset, cells, tables, cfg, key, op, scratch):
    """Aggregated lookup-table update of the ``n`` pulsed cells of row ``i``.

    A cell's ``k`` nominal pulses become ``k_s = k * k_scale[dev, s]`` steps of its device's
    own mean step in direction s (CrossSim's ``k = dw / ave_s``; ``Device.table_mean``), or with
    ``cfg.calibrated`` ``k dw_nominal / |mu_s(G)|``: the mean step at the present G, so the
    expected change is what was asked (a read-before-write calibrated update); stuck cells and
    cells :func:`_frozen` at the start of the update are skipped; the change is
    :func:`mcvar.kernels.lut.lut_aggregate` of ``k_s`` times the cell's d2d scale, with the
    cell's first uniform (draw 0). ``k_row`` (C,): the row's nominal pulse counts;
    ``scratch.pulsed[:n]`` its pulsed columns; ``scratch.words``: the cells' draw-0 random
    words (plane p's pulse words at ``p n + m``, its write-noise words at ``(P + p) n + m``,
    see :func:`_update_rows`); ``key``: the write-noise stream.

    Three passes over the row's cells: each cell's table intervals; the table corners of all
    of them (independent loads, so many cache misses are in flight); then the arithmetic.
    """
    P, R, C = G.shape
    g_lo, g_hi, lut_scale, stuck, lut_dev = (cells.g_lo, cells.g_hi, cells.lut_scale,
                                             cells.stuck, cells.lut_dev)
    g_bins, u_points, quantiles, mu, k_scale = tables
    pulsed, words = scratch.pulsed, scratch.words
    # per entry (a free cell of the row): ints = (plane, pulsed index, device, direction, G bin,
    # CDF bin); floats = (G before, uniform); corner_q = the four table values around them
    ints, floats, corner_q = scratch.entry_ints, scratch.entry_floats, scratch.entry_corners
    per_cell = req.shape[0] > 0
    e = 0
    for m in range(n):
        j = np.uint64(pulsed[m])  # (unsigned indices: no negative-index wraparound)
        sign = req[i, j] if per_cell else xi * d[j]
        for p in range(P):
            up = (sign > 0.0) == (p == 0)
            direction = 0 if up else 1
            if stuck[p, i, j] != 0:
                continue
            g0 = G[p, i, j]
            if _frozen(cfg, g0):
                continue
            dev = lut_dev[p, i, j]
            u = uniform_of(words[0, p * n + m], words[1, p * n + m], 0)
            ints[0, e] = p
            ints[1, e] = m
            ints[2, e] = dev
            ints[3, e] = direction
            gi = interval(g_bins, dev, direction, g0)
            ui = interval(u_points, dev, direction, u)
            prefetch_corners(quantiles, dev, direction, gi, ui)
            ints[4, e] = gi
            ints[5, e] = ui
            floats[0, e] = g0
            floats[1, e] = u
            e += 1
    for c in range(e):
        qa, qb, qc, qd = corners(quantiles, ints[2, c], ints[3, c], ints[4, c], ints[5, c])
        corner_q[0, c] = qa
        corner_q[1, c] = qb
        corner_q[2, c] = qc
        corner_q[3, c] = qd
    for c in range(e):
        p = ints[0, c]
        m = ints[1, c]
        dev = ints[2, c]
        direction = ints[3, c]
        gi = ints[4, c]
        ui = ints[5, c]
        j = np.uint64(pulsed[m])
        g0 = floats[0, c]
        u = floats[1, c]
        step, mean = sample_at(g0, u, gi, ui, g_bins.shape[2], u_points.shape[2],
                               grid_at(g_bins, u_points, mu, dev, direction, gi, ui),
                               corner_q[0, c], corner_q[1, c], corner_q[2, c], corner_q[3, c])
        if cfg.calibrated:
            k = calibrated_count(mean, k_row[j], cfg.dw_nominal, cfg.n_max)
        else:
            k = k_row[j] * k_scale[dev, direction]
        scale = lut_scale[p, i, j]
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
def _update_rows(r0, r1, tile, x, d, req, cfg, op, rbits, cbits, row_counts, scratch):
    """Update rows ``r0 .. r1-1`` of ``tile`` (a TileState); pulses applied per row into
    ``row_counts`` (R, 2). ``op``: the update's operation index; ``rbits``, ``cbits``: the
    rows' and columns' pulse-train bit streams (rule 'pulse_train'); ``scratch``: from
    :func:`row_scratch`.

    The requested change of cell (i, j) per unit learning rate is ``x_i d_j`` (rank-1), or
    ``req[i, j]`` when ``req`` is not empty (per-cell programming: bit-stream rules then
    fall back to stochastic rounding).

    Per row: the pulse counts first, listing the pulsed columns; then the draw-0 random
    words of every pulsed cell of every plane and stream in one vectorised pass
    (:func:`gather_words`, the same numbers as drawing them one by one: plane p's pulse words
    at ``p n + m``, then its write-noise words at ``(P' + p) n + m``, ``P'`` = P when there
    are pulse words, else 0); then the pulses.
    The groups are unpacked here, once, into local arrays: the per-cell loops index plain
    arrays (a tuple unpacked in the loop would cost reference counting per cell).
    """
    G, offset, cells, tables = tile.G, tile.offset, tile.cells, tile.tables
    g_lo, g_hi, step_up, step_down = cells.g_lo, cells.g_hi, cells.step_up, cells.step_down
    c_up, c_down, a_up, a_down = cells.c_up, cells.c_down, cells.a_up, cells.a_down
    lut_scale, stuck, lut_dev = cells.lut_scale, cells.stuck, cells.lut_dev
    g_bins, u_points, quantiles, mu = tables.g_bins, tables.u_points, tables.quantiles, tables.mu
    key_pulses = tile.keys[UPDATE_PULSES]
    key_noise = tile.keys[UPDATE_NOISE]
    key_write = tile.keys[WRITE_NOISE]
    row_floats, rwords, pulsed = scratch.row_floats, scratch.rounding_words, scratch.pulsed
    lanes, words = scratch.lanes, scratch.words
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
    size, k_row = row_floats[0], row_floats[1]
    for i in range(r0, r1):
        if rule == 1 and (i - r0) % FILL_ROWS == 0:  # rounding words of the next rows, four
            # cells per Philox block (rows' blocks are consecutive elements)
            fill_words(key_pulses, i * quads, op, rwords[:min(FILL_ROWS, r1 - i) * width])
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
        for stream in range(1, 3):  # 1: pulse noise, 2: write noise
            if pulse_words if stream == 1 else noisy_write:
                key = key_noise if stream == 1 else key_write
                for p in range(P):
                    base = (p * R + i) * C
                    for m in range(n):
                        lanes[0, n_lanes] = key
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
            _lookup_row(i, n, k_row, xi, d, req, G, offset, cells, tables, cfg, key_write, op,
                        scratch)
            continue
        for p in range(P):  # (plane outermost: the cell index is then the only one that varies)
            for m in range(n):
                j = np.uint64(pulsed[m])  # (unsigned: no negative-index wraparound)
                if stuck[p, i, j] != 0:
                    continue
                g0 = G[p, i, j]
                if _frozen(cfg, g0):
                    continue
                k = k_row[j]
                up = ((req[i, j] if per_cell else xi * d[j]) > 0.0) == (p == 0)
                cell = (p * R + i) * C + pulsed[m]
                lo, hi = g_lo[p, i, j], g_hi[p, i, j]
                if model == LOOKUP:  # the d2d scale of the measured steps
                    g = _lookup_cell(g_bins, u_points, quantiles, mu, lut_dev[p, i, j], up, k, g0,
                                     lo, hi, lut_scale[p, i, j], key_noise,
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
                                   anchor_up, anchor_down, s, aggregate, key_noise, op, cell,
                                   words[0, p * n + m], words[1, p * n + m])
                w = w_write + p * n + m
                g = _write_noise(g, g0, lo, hi, cfg, key_write, op, cell, words[0, w])
                if cfg.write_offset_std > 0.0:
                    offset[p, i, j] = _write_offset(cfg, key_write, op, cell, words[1, w])
                G[p, i, j] = g


@jit(inline="always")
def flat_state(tile):
    """The arrays (and scalars) of a TileState as one flat tuple, for parallel functions,
    which cannot take tuples of arrays; :func:`state_of` puts them together again."""
    cells, tables = tile.cells, tile.tables
    return (tile.G, tile.offset, tile.g_ref, cells.g_lo, cells.g_hi, cells.step_up,
            cells.step_down, cells.c_up, cells.c_down, cells.a_up, cells.a_down, cells.stuck,
            cells.lut_dev, cells.lut_scale, tables.g_bins, tables.u_points, tables.quantiles,
            tables.mu, tables.k_scale, tile.keys, tile.ops, tile.scalars)


@jit(inline="always")
def state_of(G, offset, g_ref, g_lo, g_hi, step_up, step_down, c_up, c_down, a_up, a_down,
             stuck, lut_dev, lut_scale, g_bins, u_points, quantiles, mu, k_scale, keys, ops,
             scalars):
    """The TileState of the arrays from :func:`flat_state`."""
    return TileState(G, offset, g_ref,
                     CellParams(g_lo, g_hi, step_up, step_down, c_up, c_down, a_up, a_down,
                                stuck, lut_dev, lut_scale),
                     LookupTables(g_bins, u_points, quantiles, mu, k_scale), keys, ops, scalars)


@jit
def _bits(x, d, cfg, key, op):
    """Row and column pulse-train bit streams of rule 'pulse_train' (zeros otherwise)."""
    R, C = x.shape[0], d.shape[0]
    rbits = np.zeros(R, np.uint64)
    cbits = np.zeros(C, np.uint64)
    if cfg.rule == 2:
        a = math.sqrt(cfg.pulses_per_unit / cfg.bl)
        _row_bits(x, a, cfg.bl, key, op, 0, rbits)
        _row_bits(d, a, cfg.bl, key, op, R, cbits)
    return rbits, cbits


@jit
def _sum_counts(row_counts, counts):
    for i in range(row_counts.shape[0]):
        counts[0] += row_counts[i, 0]
        counts[1] += row_counts[i, 1]


@jit
def update_one(tile, x, d, cfg, counts):
    """Serial :func:`update_rank1` (for loops over many small updates); adds to ``counts``."""
    op = tile.ops[UPDATE]
    tile.ops[UPDATE] = op + 1
    P, R, C = tile.G.shape
    rbits, cbits = _bits(x, d, cfg, tile.keys[UPDATE_PULSES], op)
    row_counts = np.zeros((R, 2))
    _update_rows(0, R, tile, x, d, np.empty((0, 0)), cfg, op, rbits, cbits, row_counts,
                 row_scratch(P, C, cfg))
    _sum_counts(row_counts, counts)


@jit
def update_rank1(tile, x, d, cfg, counts, shares):
    """Apply ``lr * outer(x, d)`` (x: R, d: C) to ``tile`` (a TileState) in place.

    Uses operation ``tile.ops[UPDATE]`` of the update streams and advances it by one.
    ``cfg``: UpdateConfig (its ``pulses_per_unit`` carries the learning rate).
    ``counts`` (2,) accumulates the device pulses applied (up, down), real for 'continuous'.
    Rows are independent: ``shares`` contiguous shares of them run in parallel, best one per
    Numba thread. The result is identical to :func:`update_one` for any ``shares`` >= 1.
    (The count is an argument: ``numba.get_num_threads`` inside compiled code keeps the
    function and its callers out of the on-disk cache.)
    """
    op = tile.ops[UPDATE]
    tile.ops[UPDATE] = op + 1
    P, R, C = tile.G.shape
    rbits, cbits = _bits(x, d, cfg, tile.keys[UPDATE_PULSES], op)
    row_counts = np.zeros((R, 2))
    _rank1_shares(*flat_state(tile), x, d, cfg, op, rbits, cbits, row_counts, min(shares, R))
    _sum_counts(row_counts, counts)


@jit(parallel=True)
def _rank1_shares(G, offset, g_ref, g_lo, g_hi, step_up, step_down, c_up, c_down, a_up, a_down,
                  stuck, lut_dev, lut_scale, g_bins, u_points, quantiles, mu, k_scale, keys, ops,
                  scalars, x, d, cfg, op, rbits, cbits, row_counts, shares):
    """The parallel part of :func:`update_rank1`: ``shares`` contiguous shares of the rows.
    (The state comes as its arrays, :func:`flat_state`: a parallel function cannot take a
    tuple of arrays.)"""
    P, R, C = G.shape
    for share in prange(shares):
        r0, r1 = share * R // shares, (share + 1) * R // shares
        part = state_of(G, offset, g_ref, g_lo, g_hi, step_up, step_down, c_up, c_down, a_up,
                        a_down, stuck, lut_dev, lut_scale, g_bins, u_points, quantiles, mu,
                        k_scale, keys, ops, scalars)
        _update_rows(r0, r1, part, x, d, np.empty((0, 0)), cfg, op, rbits, cbits, row_counts,
                     row_scratch(P, C, cfg))


@jit
def update_cells(tile, req, cfg, counts):
    """Program per-cell changes ``lr * req`` (R, C) by pulses (e.g. periodic carry); serial.

    Same device physics as :func:`update_one` (one operation of the update streams);
    bit-stream rules use stochastic rounding.
    """
    op = tile.ops[UPDATE]
    tile.ops[UPDATE] = op + 1
    P, R, C = tile.G.shape
    row_counts = np.zeros((R, 2))
    empty = np.zeros(0)
    bits = np.zeros(max(R, C), np.uint64)
    _update_rows(0, R, tile, empty, empty, req, cfg, op, bits, bits, row_counts,
                 row_scratch(P, C, cfg))
    _sum_counts(row_counts, counts)

"""Compiled per-example (batch 1) training of a multilayer perceptron on crossbar tiles.

A network of ``L`` layers maps activations ``a_l`` (``n_l`` units plus a bias input 1) to
pre-activations ``z_l = W_l^T a_l`` (``n_{l+1}`` units). Layer ``l``'s weight matrix is
split over tiles (row blocks x column blocks x carry digits); tile ``t`` covers rows
``r0[t] : r0[t] + nr[t]`` and columns ``c0[t] : c0[t] + nc[t]`` of its layer, holds digit
``digit[t]`` with significance ``sig[digit]``. Partial outputs are summed digitally.

Per example: forward reads (sigmoid hidden units, softmax output), transposed reads of
layers 1.. (the first layer's input error is never needed), one rank-1 update per tile of
the least significant digit (``W -= lr a delta^T``, its rows shared out over the Numba
threads: examples are sequential, an update's cells are not), periodic carry every
``carry.periods`` (docs/training.md).

The network comes as a :data:`Layout` (which tile covers which block of which layer), a
typed list of the tiles' :class:`~mcvar.kernels.state.TileState` and one of their
:class:`~mcvar.kernels.state.TileReads`. Kernels advance each tile's own operation
counters; read matrices are rebuilt in place after every change of a tile's conductances.
The float64 twin (:func:`numeric_epoch`) shares the input, activation, softmax, loss and
error code with the crossbar loop; only the products differ (analog reads vs float64 sums).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..accelerate import jit
from .read import build_read_matrices, read_one
from .rng import normal2
from .state import PROGRAM, READ_BACKWARD, READ_FORWARD
from .write import update_cells, update_one, update_rank1

Layout = namedtuple("Layout", [
    "sizes",  # (L + 1,) int64: layer widths n_0 .. n_L (without bias units)
    "layer_start",  # (L + 1,) int64: first tile of each layer; layer_start[L] = tile count
    "row0", "rows",  # (T,) int64: first row and row count of each tile's block
    "col0", "cols",  # (T,) int64: first column and column count of each tile's block
    "digit",  # (T,) int64: carry digit of each tile (0 least significant)
    "significance",  # (digits,) float64: significance of each digit
])
Layout.__doc__ = "Where each tile of a crossbar network sits (see mcvar.network.blocks)."

#: how a carried low digit returns to zero (CrossSim's zero_reset) and how the carried value
#: is added to the higher digit (CrossSim's exact_carries); codes are the indices
CARRY_RESETS = ("exact", "calibrated", "blind")
CARRY_WRITES = ("exact", "open_loop")
RESET_EXACT, RESET_CALIBRATED, RESET_BLIND = range(3)
WRITE_EXACT, WRITE_OPEN_LOOP = range(2)

Carry = namedtuple("Carry", [
    "periods",  # (digits - 1,) int64: carry period of each digit pair, lowest pair first
    "counters",  # (digits,) int64: counter of each pair (mutated; runs on across epochs)
    "threshold",  # float: carry cells with |low digit| > threshold * the tile's weight bound
    "weight_bound",  # (T,) float64: each tile's weight bound
    "reset",  # int: RESET_EXACT / RESET_CALIBRATED / RESET_BLIND
    "write",  # int: WRITE_EXACT / WRITE_OPEN_LOOP
    "open_loop",  # typed list (T,) of UpdateConfig at lr 1: one open-loop step per cell
    "calibrated",  # typed list (T,) of UpdateConfig at lr 1: read-before-write calibrated step
])
Carry.__doc__ = "Periodic-carry settings and counters of a crossbar network (docs/training.md)."


@jit
def refresh(tile, reads):
    """Rebuild a tile's forward and transposed read matrices from its conductances."""
    sc = tile.scalars
    Gn = (tile.G + tile.offset) * sc.g_scale
    gn = tile.g_ref * sc.g_scale
    fw, bw = reads.forward, reads.backward
    build_read_matrices(Gn, gn, False, sc.read_noise, sc.multiplicative, fw.M, fw.S2, fw.s2c)
    build_read_matrices(Gn, gn, True, sc.read_noise, sc.multiplicative, bw.M, bw.S2, bw.s2c)


@jit
def tile_weights(tile):
    """Present weights (rows, cols) of a tile from its conductances (no read noise)."""
    G = tile.G
    if G.shape[0] == 2:
        return (G[0] - G[1]) * tile.scalars.weight_per_siemens
    return (G[0] - tile.g_ref.reshape((-1, 1))) * tile.scalars.weight_per_siemens


@jit
def _load_input(a, X, n, sizes):
    """Example ``X[n]`` and the bias input 1 into ``a[0]``."""
    a[0, :sizes[0]] = X[n]
    a[0, sizes[0]] = 1.0


@jit
def _activate(a, z, l, n_out, L):
    """Sigmoid of hidden layer ``l``'s outputs into ``a[l + 1]`` with its bias input 1."""
    if l < L - 1:
        for n in range(n_out):
            a[l + 1, n] = 1.0 / (1.0 + math.exp(-z[l, n]))
        a[l + 1, n_out] = 1.0


@jit
def _softmax(a, z, n_out, L):
    """Softmax of the last layer's outputs ``z[L - 1]`` into ``a[L]`` (max subtracted)."""
    m = z[L - 1, 0]
    for n in range(n_out):
        m = max(m, z[L - 1, n])
    total = 0.0
    for n in range(n_out):
        a[L, n] = math.exp(z[L - 1, n] - m)
        total += a[L, n]
    for n in range(n_out):
        a[L, n] /= total


@jit
def _argmax(v, n):
    best = 0
    for k in range(1, n):
        if v[k] > v[best]:
            best = k
    return best


@jit
def _output_error(a, delta, label, sizes, stats):
    """Cross-entropy loss and hit of the softmax outputs ``a[L]`` into ``stats[0]``,
    ``stats[1]``; the output error ``softmax - one_hot(label)`` into ``delta[L - 1]``."""
    L = sizes.shape[0] - 1
    stats[0] -= math.log(max(a[L, label], 1e-300))
    if _argmax(a[L], sizes[L]) == label:
        stats[1] += 1.0
    for k in range(sizes[L]):
        delta[L - 1, k] = a[L, k] - (1.0 if k == label else 0.0)


@jit
def _hidden_error(delta, e, a, l, n):
    """Error of layer ``l``'s ``n`` inputs from the backpropagated ``e`` (sigmoid
    derivative ``a (1 - a)``) into ``delta[l - 1]``."""
    for k in range(n):
        delta[l - 1, k] = e[k] * a[l, k] * (1.0 - a[l, k])


@jit
def _forward(a, z, layout, tiles, reads):
    """Forward pass through every layer; ``a[l]`` activations (+ bias), ``z[l]`` outputs."""
    sizes, layer_start, sig = layout.sizes, layout.layer_start, layout.significance
    L = sizes.shape[0] - 1
    for l in range(L):
        n_out = sizes[l + 1]
        for n in range(n_out):
            z[l, n] = 0.0
        for t in range(layer_start[l], layer_start[l + 1]):
            tile = tiles[t]
            fw = reads[t].forward
            r0, c0 = layout.row0[t], layout.col0[t]
            xin = a[l, r0:r0 + layout.rows[t]].copy()
            y = np.empty(layout.cols[t])
            read_one(xin, fw.M, fw.S2, fw.s2c, fw.config, tile.keys[READ_FORWARD],
                     tile.ops[READ_FORWARD], y)
            tile.ops[READ_FORWARD] += 1
            s = sig[layout.digit[t]]
            for n in range(layout.cols[t]):
                z[l, c0 + n] += s * y[n]
        _activate(a, z, l, n_out, L)
    _softmax(a, z, sizes[L], L)


@jit
def _backward(a, delta, layout, tiles, reads):
    """Errors of every hidden layer by transposed reads of layers L-1 .. 1 (the first
    layer's input error is never needed); ``delta[L - 1]`` holds the output error."""
    sizes, layer_start, sig = layout.sizes, layout.layer_start, layout.significance
    L = sizes.shape[0] - 1
    for l in range(L - 1, 0, -1):  # transposed reads: error of layer l's inputs
        e = np.zeros(sizes[l] + 1)
        for t in range(layer_start[l], layer_start[l + 1]):
            tile = tiles[t]
            bw = reads[t].backward
            r0, c0 = layout.row0[t], layout.col0[t]
            din = delta[l, c0:c0 + layout.cols[t]].copy()
            out = np.empty(layout.rows[t])
            read_one(din, bw.M, bw.S2, bw.s2c, bw.config, tile.keys[READ_BACKWARD],
                     tile.ops[READ_BACKWARD], out)
            tile.ops[READ_BACKWARD] += 1
            s = sig[layout.digit[t]]
            for r in range(layout.rows[t]):
                e[r0 + r] += s * out[r]
        _hidden_error(delta, e, a, l, sizes[l])


@jit
def evaluate(X, y, layout, tiles, reads):
    """Accuracy [1] of the crossbar network on ``X`` (N, n_0), labels ``y`` (N,)."""
    sizes = layout.sizes
    L = sizes.shape[0] - 1
    width = sizes.max() + 1
    a = np.zeros((L + 1, width))
    z = np.zeros((L, width))
    correct = 0
    for n in range(X.shape[0]):
        _load_input(a, X, n, sizes)
        _forward(a, z, layout, tiles, reads)
        if _argmax(a[L], sizes[L]) == y[n]:
            correct += 1
    return correct / X.shape[0]


@jit
def _verify_cells(tile, target, mask):
    """Write-verify cells where ``mask``: their weights become ``target`` up to programming
    noise ``tile.scalars.program_sigma`` [S] per device (stream PROGRAM, one operation),
    clipped to the cells' bounds."""
    G, cells, sc = tile.G, tile.cells, tile.scalars
    P, R, C = G.shape
    op = tile.ops[PROGRAM]
    tile.ops[PROGRAM] += 1
    key = tile.keys[PROGRAM]
    for i in range(R):
        for j in range(C):
            if not mask[i, j]:
                continue
            dg = target[i, j] / sc.weight_per_siemens
            z = normal2(key, i * C + j, op, 0)
            for p in range(P):
                if cells.stuck[p, i, j] != 0:
                    continue
                if P == 2:
                    g = sc.g_zero + (0.5 * dg if p == 0 else -0.5 * dg)
                else:
                    g = tile.g_ref[i] + dg
                g += sc.program_sigma * z[p]
                G[p, i, j] = min(max(g, cells.g_lo[p, i, j]), cells.g_hi[p, i, j])


@jit
def _carry_levels(carry):
    """Count one training example and return how many digit pairs carry now (lowest first).

    CrossSim's hierarchical counters: pair 0 counts examples; when pair ``d``'s counter
    reaches ``periods[d]`` it restarts, pair ``d`` carries and pair ``d + 1`` counts one.
    """
    counters, periods = carry.counters, carry.periods
    counters[0] += 1
    levels = 0
    while levels < periods.shape[0] and counters[levels] >= periods[levels]:
        counters[levels] = 0
        counters[levels + 1] += 1
        levels += 1
    return levels


@jit
def _carry(layout, tiles, carry, levels, counts):
    """Periodic carry of the lowest ``levels`` digit pairs of every block: each low-digit
    weight above ``threshold * weight_bound`` moves up one digit.

    Tiles of one block are consecutive, digit 0 (least significant) first. The low digit is
    read exactly (from its conductances); the next digit gains ``w sig_d / sig_{d+1}``
    (``carry.write``: write-verify to the sum, exact up to the programming noise, or one
    open-loop step) and the low digit returns to zero (``carry.reset``: write-verify, one
    step sized from the mean step at the present conductance, or one open-loop step).
    """
    digit, sig = layout.digit, layout.significance
    for t in range(layout.layer_start[-1] - 1):
        if digit[t + 1] != digit[t] + 1 or digit[t] >= levels:
            continue
        low, high = tiles[t], tiles[t + 1]
        w = tile_weights(low)
        mask = np.abs(w) > carry.threshold * carry.weight_bound[t]
        if not np.any(mask):
            continue
        move = np.where(mask, w, 0.0)
        ratio = sig[digit[t]] / sig[digit[t + 1]]
        if carry.write == WRITE_EXACT:
            _verify_cells(high, tile_weights(high) + move * ratio, mask)
        else:
            update_cells(high, move * ratio, carry.open_loop[t + 1], counts)
        if carry.reset == RESET_EXACT:
            _verify_cells(low, np.zeros_like(w), mask)
        elif carry.reset == RESET_CALIBRATED:
            update_cells(low, -move, carry.calibrated[t], counts)
        else:
            update_cells(low, -move, carry.open_loop[t], counts)


@jit
def train_epoch(X, y, order, layout, tiles, reads, update_cfg, carry, shares, stats):
    """One epoch over ``X[order]``; ``stats`` (4,) gets loss sum, correct count, pulses up/down.

    ``tiles``, ``reads``: typed lists of the tiles' TileState and TileReads (mutated: their
    conductances, read matrices and operation counters). ``update_cfg[t]``: update settings
    at this epoch's learning rate (digit-0 tiles); ``carry``: a :data:`Carry` (its counters
    advance). ``shares``: parallel row shares of each
    update (the Numba thread count; the numbers do not depend on it).
    """
    sizes, layer_start, digit = layout.sizes, layout.layer_start, layout.digit
    L = sizes.shape[0] - 1
    width = sizes.max() + 1
    a = np.zeros((L + 1, width))
    z = np.zeros((L, width))
    delta = np.zeros((L, width))
    counts = np.zeros(2)
    T = layer_start[L]
    for idx in range(order.shape[0]):
        n = order[idx]
        _load_input(a, X, n, sizes)
        _forward(a, z, layout, tiles, reads)
        _output_error(a, delta, y[n], sizes, stats)
        _backward(a, delta, layout, tiles, reads)
        for t in range(T):  # W -= lr a delta^T on the least significant digit
            if digit[t] != 0:
                continue
            lyr = 0
            while t >= layer_start[lyr + 1]:
                lyr += 1
            r0, c0 = layout.row0[t], layout.col0[t]
            xin = a[lyr, r0:r0 + layout.rows[t]].copy()
            din = -delta[lyr, c0:c0 + layout.cols[t]]
            tile = tiles[t]
            if shares > 1:
                update_rank1(tile, xin, din, update_cfg[t], counts, shares)
            else:  # one share (a dask worker's single thread): no parallel region at all
                update_one(tile, xin, din, update_cfg[t], counts)
            refresh(tile, reads[t])
        if layout.significance.shape[0] > 1:
            levels = _carry_levels(carry)
            if levels > 0:
                _carry(layout, tiles, carry, levels, counts)
                for t in range(T):  # the digits a carry changed
                    if digit[t] <= levels:
                        refresh(tiles[t], reads[t])
    stats[2] += counts[0]
    stats[3] += counts[1]


@jit
def _numeric_forward(a, z, sizes, W):
    L = sizes.shape[0] - 1
    for l in range(L):
        n_in, n_out = sizes[l] + 1, sizes[l + 1]
        Wl = W[l]
        for n in range(n_out):
            s = 0.0
            for k in range(n_in):
                s += a[l, k] * Wl[k, n]
            z[l, n] = s
        _activate(a, z, l, n_out, L)
    _softmax(a, z, sizes[L], L)


@jit
def numeric_epoch(X, y, order, sizes, W, lr, stats):
    """One epoch of float64 SGD (batch 1) on weights ``W`` (typed list of (n_l+1, n_{l+1}));
    ``stats`` (4,) gets loss sum and correct count (no pulses)."""
    L = sizes.shape[0] - 1
    width = sizes.max() + 1
    a = np.zeros((L + 1, width))
    z = np.zeros((L, width))
    delta = np.zeros((L, width))
    e = np.zeros(width)
    for idx in range(order.shape[0]):
        n = order[idx]
        _load_input(a, X, n, sizes)
        _numeric_forward(a, z, sizes, W)
        _output_error(a, delta, y[n], sizes, stats)
        for l in range(L - 1, 0, -1):
            Wl = W[l]
            for k in range(sizes[l]):
                s = 0.0
                for m in range(sizes[l + 1]):
                    s += Wl[k, m] * delta[l, m]
                e[k] = s
            _hidden_error(delta, e, a, l, sizes[l])
        for l in range(L):
            Wl = W[l]
            for k in range(sizes[l] + 1):
                g = lr * a[l, k]
                for m in range(sizes[l + 1]):
                    Wl[k, m] -= g * delta[l, m]


@jit
def numeric_evaluate(X, y, sizes, W):
    """Accuracy [1] of the float64 network on ``X``, ``y``."""
    L = sizes.shape[0] - 1
    width = sizes.max() + 1
    a = np.zeros((L + 1, width))
    z = np.zeros((L, width))
    correct = 0
    for n in range(X.shape[0]):
        _load_input(a, X, n, sizes)
        _numeric_forward(a, z, sizes, W)
        if _argmax(a[L], sizes[L]) == y[n]:
            correct += 1
    return correct / X.shape[0]

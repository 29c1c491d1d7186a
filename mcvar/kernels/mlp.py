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
``carry_every`` examples. Tile state lives in typed lists; read matrices are rebuilt after
every change.
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit
from .read import build_read_matrices, read_one
from .rng import normal2
from .write import update_cells, update_one, update_rank1

# columns of the per-tile key and operation-counter arrays
K_FWD, K_BWD, K_PULSES, K_NOISE, K_WRITE, K_PROGRAM = range(6)
OP_FWD, OP_BWD, OP_UPDATE, OP_PROGRAM = range(4)


@jit
def refresh(t, G, offset, gref, scale, sigma, multiplicative, Mf, S2f, s2cf, Mb, S2b, s2cb):
    """Rebuild tile ``t``'s forward and transposed read matrices from its conductances."""
    Gn = (G[t] + offset[t]) * scale[t]
    gn = gref[t] * scale[t]
    build_read_matrices(Gn, gn, False, sigma, multiplicative, Mf[t], S2f[t], s2cf[t])
    build_read_matrices(Gn, gn, True, sigma, multiplicative, Mb[t], S2b[t], s2cb[t])


@jit
def tile_weights(t, G, gref, wps):
    """Present weights (rows, cols) of tile ``t`` from its conductances (no read noise)."""
    P = G[t].shape[0]
    if P == 2:
        return (G[t][0] - G[t][1]) * wps[t]
    return (G[t][0] - gref[t].reshape((-1, 1))) * wps[t]


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
def _forward(a, z, sizes, layer_start, r0, nr, c0, nc, digit, sig, Mf, S2f, s2cf, cfgf, keys,
             ops):
    """Forward pass through every layer; ``a[l]`` activations (+ bias), ``z[l]`` outputs."""
    L = sizes.shape[0] - 1
    for l in range(L):
        n_out = sizes[l + 1]
        for n in range(n_out):
            z[l, n] = 0.0
        for t in range(layer_start[l], layer_start[l + 1]):
            xin = a[l, r0[t]:r0[t] + nr[t]].copy()
            y = np.empty(nc[t])
            read_one(xin, Mf[t], S2f[t], s2cf[t], cfgf[t], keys[t, K_FWD], ops[t, OP_FWD], y)
            ops[t, OP_FWD] += 1
            s = sig[digit[t]]
            for n in range(nc[t]):
                z[l, c0[t] + n] += s * y[n]
        _activate(a, z, l, n_out, L)
    _softmax(a, z, sizes[L], L)


@jit
def _argmax(v, n):
    best = 0
    for k in range(1, n):
        if v[k] > v[best]:
            best = k
    return best


@jit
def evaluate(X, y, sizes, layer_start, r0, nr, c0, nc, digit, sig, Mf, S2f, s2cf, cfgf, keys,
             ops):
    """Accuracy [1] of the crossbar network on ``X`` (N, n_0), labels ``y`` (N,)."""
    L = sizes.shape[0] - 1
    width = sizes.max() + 1
    a = np.zeros((L + 1, width))
    z = np.zeros((L, width))
    correct = 0
    for n in range(X.shape[0]):
        a[0, :sizes[0]] = X[n]
        a[0, sizes[0]] = 1.0
        _forward(a, z, sizes, layer_start, r0, nr, c0, nc, digit, sig, Mf, S2f, s2cf, cfgf,
                 keys, ops)
        if _argmax(a[L], sizes[L]) == y[n]:
            correct += 1
    return correct / X.shape[0]


@jit
def _pulse_cells(t, req, G, offset, cp, lut, cfgp, keys, ops, counts):
    """Program per-cell weight changes ``req`` onto tile ``t`` by open-loop pulses."""
    update_cells(G[t], offset[t], cp[t], lut, req, cfgp[t],
                 (keys[t, K_PULSES], keys[t, K_NOISE], keys[t, K_WRITE]), ops[t, OP_UPDATE],
                 counts)
    ops[t, OP_UPDATE] += 1


@jit
def _verify_cells(t, target, mask, G, cp, gzero, gref, wps, prog_sigma, keys, ops):
    """Write-verify cells where ``mask``: their weights become ``target`` up to programming
    noise ``prog_sigma[t]`` [S] per device (stream PROGRAM), clipped to the cells' bounds."""
    Gt = G[t]
    P, R, C = Gt.shape
    cells = cp[t]
    op = ops[t, OP_PROGRAM]
    ops[t, OP_PROGRAM] += 1
    for i in range(R):
        for j in range(C):
            if not mask[i, j]:
                continue
            dg = target[i, j] / wps[t]
            z = normal2(keys[t, K_PROGRAM], i * C + j, op, 0)
            for p in range(P):
                if cells.stuck[p, i, j] != 0:
                    continue
                if P == 2:
                    g = gzero[t] + (0.5 * dg if p == 0 else -0.5 * dg)
                else:
                    g = gref[t][i] + dg
                g += prog_sigma[t] * z[p]
                Gt[p, i, j] = min(max(g, cells.g_lo[p, i, j]), cells.g_hi[p, i, j])


@jit
def _carry(layer_start, digit, G, offset, cp, lut, gref, gzero, wps, prog_sigma, cfgp, keys,
           ops, sig, threshold, wbound, verify, counts):
    """Periodic carry: move every low-digit weight above ``threshold * wbound`` up one digit.

    Tiles of one block are consecutive, digit 0 (least significant) first. The low digit is
    read exactly (from its conductances); the next digit gains ``w sig_d / sig_{d+1}`` and
    the low digit returns to zero, either by write-verify (``verify``: exact up to the
    programming noise) or by open-loop pulses through the device model.
    """
    for t in range(layer_start[-1] - 1):
        if digit[t + 1] != digit[t] + 1:
            continue
        w = tile_weights(t, G, gref, wps)
        mask = np.abs(w) > threshold * wbound
        if not np.any(mask):
            continue
        move = np.where(mask, w, 0.0)
        ratio = sig[digit[t]] / sig[digit[t + 1]]
        if verify:
            high = tile_weights(t + 1, G, gref, wps) + move * ratio
            _verify_cells(t + 1, high, mask, G, cp, gzero, gref, wps, prog_sigma, keys, ops)
            _verify_cells(t, np.zeros_like(w), mask, G, cp, gzero, gref, wps, prog_sigma, keys,
                          ops)
        else:
            _pulse_cells(t + 1, move * ratio, G, offset, cp, lut, cfgp, keys, ops, counts)
            _pulse_cells(t, -move, G, offset, cp, lut, cfgp, keys, ops, counts)


@jit
def train_epoch(X, y, order, sizes, layer_start, r0, nr, c0, nc, digit, sig, G, offset, cp,
                lut, gref, gzero, scale, sigma, multiplicative, wps, prog_sigma, Mf, S2f, s2cf,
                Mb, S2b, s2cb, cfgf, cfgb, cfgu, cfgp, keys, ops, carry_every, carry_threshold,
                wbound, carry_verify, example0, shares, stats):
    """One epoch over ``X[order]``; ``stats`` (4,) gets loss sum, correct count, pulses up/down.

    ``cfgu[t]`` update settings at this epoch's learning rate (digit-0 tiles), ``cfgp[t]``
    settings for programming per-cell changes (carry). ``example0``: examples trained before
    this epoch (carry schedule). ``shares``: parallel row shares of each update (the Numba
    thread count; the numbers do not depend on it).
    """
    L = sizes.shape[0] - 1
    width = sizes.max() + 1
    a = np.zeros((L + 1, width))
    z = np.zeros((L, width))
    delta = np.zeros((L, width))
    counts = np.zeros(2)
    T = layer_start[L]
    for idx in range(order.shape[0]):
        n = order[idx]
        a[0, :sizes[0]] = X[n]
        a[0, sizes[0]] = 1.0
        _forward(a, z, sizes, layer_start, r0, nr, c0, nc, digit, sig, Mf, S2f, s2cf, cfgf,
                 keys, ops)
        label = y[n]
        stats[0] -= math.log(max(a[L, label], 1e-300))
        if _argmax(a[L], sizes[L]) == label:
            stats[1] += 1.0
        for k in range(sizes[L]):
            delta[L - 1, k] = a[L, k] - (1.0 if k == label else 0.0)
        for l in range(L - 1, 0, -1):  # transposed reads: error of layer l's inputs
            e = np.zeros(sizes[l] + 1)
            for t in range(layer_start[l], layer_start[l + 1]):
                din = delta[l, c0[t]:c0[t] + nc[t]].copy()
                out = np.empty(nr[t])
                read_one(din, Mb[t], S2b[t], s2cb[t], cfgb[t], keys[t, K_BWD], ops[t, OP_BWD], out)
                ops[t, OP_BWD] += 1
                s = sig[digit[t]]
                for r in range(nr[t]):
                    e[r0[t] + r] += s * out[r]
            for k in range(sizes[l]):
                delta[l - 1, k] = e[k] * a[l, k] * (1.0 - a[l, k])
        for t in range(T):  # W -= lr a delta^T on the least significant digit
            if digit[t] != 0:
                continue
            lyr = 0
            while t >= layer_start[lyr + 1]:
                lyr += 1
            xin = a[lyr, r0[t]:r0[t] + nr[t]].copy()
            din = -delta[lyr, c0[t]:c0[t] + nc[t]]
            update_keys = (keys[t, K_PULSES], keys[t, K_NOISE], keys[t, K_WRITE])
            if shares > 1:
                update_rank1(G[t], offset[t], cp[t], lut, xin, din, cfgu[t], update_keys,
                             ops[t, OP_UPDATE], counts, shares)
            else:  # one share (a dask worker's single thread): no parallel region at all
                update_one(G[t], offset[t], cp[t], lut, xin, din, cfgu[t], update_keys,
                           ops[t, OP_UPDATE], counts)
            ops[t, OP_UPDATE] += 1
            refresh(t, G, offset, gref, scale, sigma, multiplicative, Mf, S2f, s2cf, Mb, S2b, s2cb)
        if sig.shape[0] > 1 and (example0 + idx + 1) % carry_every == 0:
            _carry(layer_start, digit, G, offset, cp, lut, gref, gzero, wps, prog_sigma, cfgp,
                   keys, ops, sig, carry_threshold, wbound, carry_verify, counts)
            for t in range(T):
                refresh(t, G, offset, gref, scale, sigma, multiplicative, Mf, S2f, s2cf, Mb,
                        S2b, s2cb)
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
    """One epoch of float64 SGD (batch 1) on weights ``W`` (typed list of (n_l+1, n_{l+1}))."""
    L = sizes.shape[0] - 1
    width = sizes.max() + 1
    a = np.zeros((L + 1, width))
    z = np.zeros((L, width))
    delta = np.zeros((L, width))
    for idx in range(order.shape[0]):
        n = order[idx]
        a[0, :sizes[0]] = X[n]
        a[0, sizes[0]] = 1.0
        _numeric_forward(a, z, sizes, W)
        label = y[n]
        stats[0] -= math.log(max(a[L, label], 1e-300))
        if _argmax(a[L], sizes[L]) == label:
            stats[1] += 1.0
        for k in range(sizes[L]):
            delta[L - 1, k] = a[L, k] - (1.0 if k == label else 0.0)
        for l in range(L - 1, 0, -1):
            Wl = W[l]
            for k in range(sizes[l]):
                s = 0.0
                for m in range(sizes[l + 1]):
                    s += Wl[k, m] * delta[l, m]
                delta[l - 1, k] = s * a[l, k] * (1.0 - a[l, k])
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
        a[0, :sizes[0]] = X[n]
        a[0, sizes[0]] = 1.0
        _numeric_forward(a, z, sizes, W)
        if _argmax(a[L], sizes[L]) == y[n]:
            correct += 1
    return correct / X.shape[0]

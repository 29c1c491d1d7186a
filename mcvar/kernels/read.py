"""Noisy crossbar reads: DAC, analog MAC, read/output noise, ADC (docs/reads.md).

A read multiplies inputs ``x`` (K,) by *read matrices* ``M`` (Q, K, N) built from the device
planes by :func:`build_read_matrices` (conductances normalised by the nominal range, so one
output unit is ``I_u = V_read (g_max - g_min)``). ``Q`` is the number of conversions per
output: 1 when differential/reference currents are subtracted in analog before the ADC, 2
for a balanced pair subtracted after two conversions. With an offset (reference-column)
mapping the last column of ``M`` is the reference column (forward read) or the last row is
the reference input driven with ``-sum(x)`` (transposed read).

Per-device read noise is sampled *output-referred*: the column sum of independent Gaussian
device noise is exactly Gaussian with variance ``sum_k x_k^2 s_kn^2``, so one normal per
output replaces ``K`` per-device normals (same distribution; proven in the tests against
:func:`read_exact_batch`, which draws every device's noise).

Reproducibility: vector ``b`` of a call with first operation index ``op0`` uses operation
``op0 + b`` of the stream ``key``; each output accumulates over ``k`` in order. Results are
bitwise independent of thread count and of how a batch is split into calls.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import prange

from ..accelerate import jit
from .rng import normal2, normal_of, normal_words, ziggurat_fast

ReadConfig = namedtuple("ReadConfig", [
    "inp_bound",  # float: input full scale x_max
    "dac_levels",  # float: levels per sign, 0 = ideal
    "out_bound",  # float: ADC full scale [I_u]
    "adc_levels",  # float: levels per sign, 0 = ideal
    "out_noise",  # float: output noise std per conversion [I_u]
    "noise_mode",  # int: 0 none, 1 per-column constant device variance, 2 variance matrix
    "ref_input",  # bool: last row of M is a reference input driven with -sum(x)
    "ref_column",  # bool: last column of M is a reference column subtracted from the others
    "digital",  # bool: subtract after conversion (Q = 2 planes, or the reference column)
    "out_scale",  # float: output units -> weight x input units
    "abs_max",  # bool: noise management, inputs scaled so max |x| is full scale, output rescaled
])

NOISE_NONE, NOISE_CONSTANT, NOISE_MATRIX = 0, 1, 2
BLOCK = 8  #: vectors sharing one pass over the read matrices


@jit
def quantize(v, bound, lev):
    """Clip ``v`` to ``[-bound, bound]``; with ``lev`` > 0 round to ``lev`` levels per sign."""
    v = min(max(v, -bound), bound)
    if lev > 0.0:
        v = np.rint(v / bound * lev) * (bound / lev)
    return v


@jit
def _dac(x, cfg, xq):
    """Quantised, normalised inputs into ``xq`` (with the reference input).

    Returns ``(sum xq^2, scale)``: with ``abs_max`` noise management the inputs are divided
    by ``scale = max|x| / inp_bound`` before the DAC and outputs multiplied by it after.
    """
    n = x.shape[0]
    scale = 1.0
    if cfg.abs_max:
        m = 0.0
        for k in range(n):
            m = max(m, abs(x[k]))
        if m > 0.0:
            scale = m / cfg.inp_bound
    total = 0.0
    for k in range(n):
        v = quantize(x[k] / scale, cfg.inp_bound, cfg.dac_levels) / cfg.inp_bound
        xq[k] = v
        total += v
    if cfg.ref_input:
        xq[n] = -total
    ss = 0.0
    for k in range(xq.shape[0]):
        ss += xq[k] * xq[k]
    return ss, scale


@jit
def _accumulate(xq, M, acc):
    """``acc[n] += sum_k xq[k] M[k, n]``, summed in order of ``k`` (4-way unrolled, same rounding)."""
    K, N = M.shape
    k4 = K - K % 4
    for k in range(0, k4, 4):
        v0, v1, v2, v3 = xq[k], xq[k + 1], xq[k + 2], xq[k + 3]
        m0, m1, m2, m3 = M[k], M[k + 1], M[k + 2], M[k + 3]
        for n in range(N):
            acc[n] = (((acc[n] + v0 * m0[n]) + v1 * m1[n]) + v2 * m2[n]) + v3 * m3[n]
    for k in range(k4, K):
        v = xq[k]
        m = M[k]
        for n in range(N):
            acc[n] = acc[n] + v * m[n]


@jit
def _accumulate_quads(xq, M, acc, nq):
    """:func:`_accumulate` of vectors ``xq[:nq]`` (nq a multiple of 4) into ``acc[:nq]``, four
    vectors sharing each load of ``M`` (K, N): fewer loads per multiply-add, and the same
    sums in the same order, so the same rounding. (Kept this simple on purpose: LLVM
    vectorises this exact loop form, and not its variants with a remainder.)"""
    K, N = M.shape
    k4 = K - K % 4
    for k in range(0, k4, 4):
        m0, m1, m2, m3 = M[k], M[k + 1], M[k + 2], M[k + 3]
        for j in range(0, nq, 4):
            a, b, c, d = acc[j], acc[j + 1], acc[j + 2], acc[j + 3]
            a0, a1, a2, a3 = xq[j, k], xq[j, k + 1], xq[j, k + 2], xq[j, k + 3]
            b0, b1, b2, b3 = xq[j + 1, k], xq[j + 1, k + 1], xq[j + 1, k + 2], xq[j + 1, k + 3]
            c0, c1, c2, c3 = xq[j + 2, k], xq[j + 2, k + 1], xq[j + 2, k + 2], xq[j + 2, k + 3]
            d0, d1, d2, d3 = xq[j + 3, k], xq[j + 3, k + 1], xq[j + 3, k + 2], xq[j + 3, k + 3]
            for n in range(N):
                p0, p1, p2, p3 = m0[n], m1[n], m2[n], m3[n]
                a[n] = (((a[n] + a0 * p0) + a1 * p1) + a2 * p2) + a3 * p3
                b[n] = (((b[n] + b0 * p0) + b1 * p1) + b2 * p2) + b3 * p3
                c[n] = (((c[n] + c0 * p0) + c1 * p1) + c2 * p2) + c3 * p3
                d[n] = (((d[n] + d0 * p0) + d1 * p1) + d2 * p2) + d3 * p3
    for k in range(k4, K):
        m = M[k]
        for j in range(nq):
            a = acc[j]
            v = xq[j, k]
            for n in range(N):
                a[n] = a[n] + v * m[n]


@jit
def _add_noise(acc, var, cfg, key, op, w0, w1, rej):
    """``acc`` (Q, N) += std x one normal per output (device noise variance ``var`` plus
    output noise); ``var`` is overwritten by the std.

    Output e = q N + n takes normal e % 2 of pair e // 2 (:func:`normal_words`). An
    analog-subtracted reference column has no conversion of its own, so only its device
    noise enters the difference. The ziggurat's fast path runs branch-free over all
    outputs; the few rejected ones (listed in ``rej``, >= (Q N,) int64) are finished after.
    """
    Q, N = acc.shape
    on2 = cfg.out_noise * cfg.out_noise
    normal_words(key, 0, (Q * N + 1) // 2, op, 0, w0, w1)
    for q in range(Q):
        ref_var = var[q, N - 1]
        for n in range(N):
            var[q, n] = math.sqrt(var[q, n] + on2)
        if cfg.ref_column and not cfg.digital:
            var[q, N - 1] = math.sqrt(ref_var)
    nr = 0
    for q in range(Q):
        for n in range(N):
            e = q * N + n
            p = e >> 1
            z, ok = ziggurat_fast(w1[p] if e & 1 else w0[p])
            t = acc[q, n] + var[q, n] * z
            acc[q, n] = t if ok else acc[q, n]
            rej[nr] = e
            nr += 0 if ok else 1
    for m in range(nr):
        e = rej[m]
        q, n, p = e // N, e % N, e >> 1
        acc[q, n] += var[q, n] * normal_of(w1[p] if e & 1 else w0[p], e & 1, key, p, op, 0)


@jit
def _convert(acc, var, cfg, key, op, in_scale, y, w0, w1, rej):
    """Add noise to the accumulated outputs (Q, N), convert, combine into ``y`` (N_out,).

    ``in_scale``: the noise-management factor of this vector's inputs (1 without);
    ``w0``, ``w1``, ``rej``: scratch for :func:`_add_noise`.
    """
    Q, N = acc.shape
    if cfg.noise_mode != NOISE_NONE or cfg.out_noise > 0.0:
        _add_noise(acc, var, cfg, key, op, w0, w1, rej)
    n_out = y.shape[0]
    ob, al, scale = cfg.out_bound, cfg.adc_levels, cfg.out_scale * in_scale
    if cfg.ref_column:
        ref = acc[0, N - 1]
        if cfg.digital:
            ref_q = quantize(ref, ob, al)
            for n in range(n_out):
                y[n] = (quantize(acc[0, n], ob, al) - ref_q) * scale
        else:
            for n in range(n_out):
                y[n] = quantize(acc[0, n] - ref, ob, al) * scale
    elif Q == 2:
        for n in range(n_out):
            y[n] = (quantize(acc[0, n], ob, al) - quantize(acc[1, n], ob, al)) * scale
    else:
        for n in range(n_out):
            y[n] = quantize(acc[0, n], ob, al) * scale


@jit
def _variance(xq, ss, S2, s2c, cfg, var, tmp):
    Q = var.shape[0]
    for q in range(Q):
        if cfg.noise_mode == NOISE_CONSTANT:
            for n in range(var.shape[1]):
                var[q, n] = s2c[q, n] * ss
        elif cfg.noise_mode == NOISE_MATRIX:
            for n in range(var.shape[1]):
                var[q, n] = 0.0
            for k in range(xq.shape[0]):
                tmp[k] = xq[k] * xq[k]
            _accumulate(tmp, S2[q], var[q])
        else:
            for n in range(var.shape[1]):
                var[q, n] = 0.0


@jit
def read_one(x, M, S2, s2c, cfg, key, op, y):
    """One noisy read of input ``x`` (K_in,) into ``y`` (N_out,); serial, for training loops."""
    Q, K, N = M.shape
    xq = np.empty(K)
    tmp = np.empty(K)
    acc = np.zeros((Q, N))
    var = np.empty((Q, N))
    w0 = np.empty((Q * N + 1) // 2, np.uint64)
    w1 = np.empty_like(w0)
    rej = np.empty(Q * N, np.int64)
    ss, in_scale = _dac(x, cfg, xq)
    for q in range(Q):
        _accumulate(xq, M[q], acc[q])
    _variance(xq, ss, S2, s2c, cfg, var, tmp)
    _convert(acc, var, cfg, key, op, in_scale, y, w0, w1, rej)


def _read_blocks(X, M, S2, s2c, cfg, key, op0, Y):
    """The body of :func:`read_batch`, with the ReadMatrices as separate arguments: Numba
    (0.68) cannot lower a parallel loop that uses a named tuple unpacked from an argument
    (``cfg`` here), only one passed as an argument itself.

    Vectors are processed in blocks sharing one pass over ``M`` (cache reuse), four at a
    time sharing each load; each output's sum runs over ``k`` in the same order as
    :func:`read_one`, so results are identical.
    """
    B = X.shape[0]
    Q, K, N = M.shape
    n_blocks = (B + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        b0 = blk * BLOCK
        nb = min(BLOCK, B - b0)
        xq = np.empty((BLOCK, K))
        ss = np.empty(BLOCK)
        in_scale = np.empty(BLOCK)
        acc = np.zeros((Q, BLOCK, N))
        acc_j = np.empty((Q, N))
        var = np.empty((Q, N))
        tmp = np.empty(K)
        w0 = np.empty((Q * N + 1) // 2, np.uint64)
        w1 = np.empty_like(w0)
        rej = np.empty(Q * N, np.int64)
        for j in range(nb):
            ss[j], in_scale[j] = _dac(X[b0 + j], cfg, xq[j])
        nq = nb - nb % 4
        for q in range(Q):
            _accumulate_quads(xq, M[q], acc[q], nq)
            for j in range(nq, nb):
                _accumulate(xq[j], M[q], acc[q, j])
        for j in range(nb):
            acc_j[...] = acc[:, j]
            _variance(xq[j], ss[j], S2, s2c, cfg, var, tmp)
            _convert(acc_j, var, cfg, key, op0 + b0 + j, in_scale[j], Y[b0 + j], w0, w1, rej)


_read_blocks_par = jit(_read_blocks, parallel=True)
#: without threads, for batches of one block: a parallel region costs more than such a read
#: and stalls whenever another process holds a core
_read_blocks_ser = jit(_read_blocks)


@jit
def read_batch(X, reads, key, op0, Y):
    """Noisy reads of every row of ``X`` (B, K_in) into ``Y`` (B, N_out) through ``reads``
    (a ReadMatrices); vector b is operation ``op0 + b`` of stream ``key``.

    Vectors are processed in blocks sharing one pass over ``M`` (cache reuse), four at a
    time sharing each load, blocks in parallel; each output's sum runs over ``k`` in the
    same order as :func:`read_one`, so results are identical.
    """
    M, S2, s2c, cfg = reads
    _read_blocks_par(X, M, S2, s2c, cfg, key, op0, Y)


@jit
def read_batch_serial(X, reads, key, op0, Y):
    """:func:`read_batch` without threads, for batches of one block."""
    M, S2, s2c, cfg = reads
    _read_blocks_ser(X, M, S2, s2c, cfg, key, op0, Y)


def read_shape(planes: int, rows: int, cols: int, digital: bool, transpose: bool):
    """Shape (Q, K, N) of the read matrices of a tile with ``planes`` device planes."""
    if planes == 2:
        q = 2 if digital else 1
        return (q, cols, rows) if transpose else (q, rows, cols)
    return (1, cols + 1, rows) if transpose else (1, rows, cols + 1)


@jit
def build_read_matrices(G, gref, transpose, sigma, multiplicative, M, S2, s2c):
    """Fill read matrices ``M`` (Q, K, N) and noise variances from device planes.

    ``G`` (P, R, C): conductances normalised by the nominal range (P = 2 balanced pair,
    P = 1 with reference conductances ``gref`` (R,)). ``sigma``: per-device read noise std
    (normalised; multiplicative: relative to G). ``S2`` (Q, K, N) gets per-device variances
    when ``multiplicative``; ``s2c`` (Q, N) the per-output variance per unit sum x^2 otherwise.
    Q = 2 means the balanced planes stay separate (digital subtraction).
    """
    P, R, C = G.shape
    Q = M.shape[0]
    s2 = sigma * sigma
    for q in range(Q):
        for n in range(s2c.shape[1]):
            s2c[q, n] = s2 * (2.0 if (P == 2 and Q == 1) else 1.0)
    for i in range(R):
        for j in range(C):
            if P == 2:
                gp, gm = G[0, i, j], G[1, i, j]
                if Q == 1:
                    val0, var0 = gp - gm, s2 * (gp * gp + gm * gm)
                    val1, var1 = 0.0, 0.0
                else:
                    val0, var0 = gp, s2 * gp * gp
                    val1, var1 = gm, s2 * gm * gm
            else:
                val0, var0 = G[0, i, j], s2 * G[0, i, j] * G[0, i, j]
                val1, var1 = 0.0, 0.0
            k, n = (j, i) if transpose else (i, j)
            M[0, k, n] = val0
            if multiplicative:
                S2[0, k, n] = var0
            if Q == 2:
                M[1, k, n] = val1
                if multiplicative:
                    S2[1, k, n] = var1
        if P == 1:  # reference column (forward) or reference input row (transposed)
            k, n = (C, i) if transpose else (i, C)
            M[0, k, n] = gref[i]
            if multiplicative:
                S2[0, k, n] = s2 * gref[i] * gref[i]


@jit
def _perturb(G, gref, sigma, multiplicative, key, op, Gn, gn):
    """Copy of the planes with fresh per-device read noise (draw 1 of operation ``op``)."""
    P, R, C = G.shape
    n_dev = P * R * C
    total = n_dev + gref.shape[0]
    for p in range((total + 1) // 2):
        z = normal2(key, p, op, 1)
        for lane in range(2):
            e = 2 * p + lane
            if e < n_dev:
                pl, rem = e // (R * C), e % (R * C)
                g = G[pl, rem // C, rem % C]
                s = sigma * g if multiplicative else sigma
                Gn[pl, rem // C, rem % C] = g + s * z[lane]
            elif e < total:
                g = gref[e - n_dev]
                s = sigma * g if multiplicative else sigma
                gn[e - n_dev] = g + s * z[lane]


@jit(parallel=True)
def read_exact_batch(X, G, gref, transpose, Q, sigma, multiplicative, cfg, key, op0, Y):
    """Reference path: draw every device's read noise (``rows x cols`` normals per vector).

    ``cfg.noise_mode`` must be 0 here (device noise is applied to the planes); output noise
    and ADC follow ``cfg``. Same result distribution as :func:`read_batch`.
    """
    B = X.shape[0]
    P, R, C = G.shape
    for b in prange(B):
        Gn = np.empty_like(G)
        gn = np.empty_like(gref)
        _perturb(G, gref, sigma, multiplicative, key, op0 + b, Gn, gn)
        if P == 2:
            K, N = (C, R) if transpose else (R, C)
        else:
            K, N = (C + 1, R) if transpose else (R, C + 1)
        M = np.empty((Q, K, N))
        S2 = np.empty((Q, K, N))
        s2c = np.zeros((Q, N))
        build_read_matrices(Gn, gn, transpose, 0.0, False, M, S2, s2c)
        read_one(X[b], M, S2, s2c, cfg, key, op0 + b, Y[b])

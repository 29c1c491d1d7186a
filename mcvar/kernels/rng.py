"""Counter-based random numbers (Philox-4x32-10) for reproducible Monte Carlo.

Every random number mcvar draws is a pure function of a 64-bit *stream key* and a
128-bit counter, never of a generator state. The key is derived from
``(root seed, trial, tile, stream)`` (:func:`stream_key`); the counter is
``(element, operation index low, operation index high, draw)``. So results depend only
on the seed and the coordinates of a draw, never on thread count, the order parallel
loops run, batch splits or dask workers (docs/random.md).

Normals come from the 256-layer ziggurat (Marsaglia & Tsang 2000) fed with 64-bit words
of Philox output; the rare rejections draw further words from the same counter with an
incremented retry field, so they stay addressable too.

Reference: Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC11
(Random123); known-answer vectors in the tests.
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint32(0x9E3779B9)
_W1 = np.uint32(0xBB67AE85)
_LO32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_KEY_DOMAIN = np.uint32(0x6D637661)  # "mcva": separates key derivation from data draws


@jit(inline="always")
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 block: counter words ``c0..c3`` and key words ``k0, k1`` -> 4 uint32."""
    c0 = np.uint32(c0)
    c1 = np.uint32(c1)
    c2 = np.uint32(c2)
    c3 = np.uint32(c3)
    k0 = np.uint32(k0)
    k1 = np.uint32(k1)
    for _ in range(10):
        p0 = np.uint64(c0) * _M0
        p1 = np.uint64(c2) * _M1
        h0 = np.uint32(p0 >> _S32)
        l0 = np.uint32(p0 & _LO32)
        h1 = np.uint32(p1 >> _S32)
        l1 = np.uint32(p1 & _LO32)
        c0, c1, c2, c3 = h1 ^ c1 ^ k0, l1, h0 ^ c3 ^ k1, l0
        k0 = np.uint32(k0 + _W0)
        k1 = np.uint32(k1 + _W1)
    return c0, c1, c2, c3


@jit
def stream_key(seed, trial, tile, stream):
    """64-bit key of the stream ``(seed, trial, tile, stream)``; all four are integers >= 0.

    ``seed`` may use 64 bits; ``trial``, ``tile`` and ``stream`` 32 bits each.
    """
    s = np.uint64(seed)
    a, b, _, _ = philox4x32(
        np.uint32(trial), np.uint32(tile), np.uint32(stream), _KEY_DOMAIN,
        np.uint32(s & _LO32), np.uint32(s >> _S32),
    )
    return (np.uint64(b) << _S32) | np.uint64(a)


@jit(inline="always")
def random4(key, elem, op, draw):
    """Four uint32 words at counter ``(elem, op, draw)`` of stream ``key``."""
    k = np.uint64(key)
    o = np.uint64(op)
    return philox4x32(
        np.uint32(elem), np.uint32(o & _LO32), np.uint32(o >> _S32), np.uint32(draw),
        np.uint32(k & _LO32), np.uint32(k >> _S32),
    )


_U32 = 2.0**-32
_U53 = 2.0**-53


@jit(inline="always")
def uniform_of_word(w):
    """U(0, 1) number (open interval, 2**-32 resolution) of a 32-bit word ``w``."""
    return (np.float64(w) + 0.5) * _U32


@jit(inline="always")
def uniform4(key, elem, op, draw):
    """Four U(0, 1) numbers (open interval, 2**-32 resolution) at ``(elem, op, draw)``."""
    a, b, c, d = random4(key, elem, op, draw)
    return uniform_of_word(a), uniform_of_word(b), uniform_of_word(c), uniform_of_word(d)


# ---------------------------------------------------------------------------------
# Ziggurat tables (256 layers, 52-bit mantissa), built once at import.
_ZIG_R = 3.6541528853610088  # start of the tail
_ZIG_V = 0.00492867323399  # area of every layer


def _ziggurat_tables():
    m = 2.0**52
    ki = np.zeros(256, np.uint64)
    wi = np.zeros(256)
    fi = np.zeros(256)
    dn = tn = _ZIG_R
    q = _ZIG_V / math.exp(-0.5 * dn * dn)
    ki[0] = np.uint64((dn / q) * m)
    wi[0] = q / m
    wi[255] = dn / m
    fi[0] = 1.0
    fi[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(_ZIG_V / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = np.uint64((dn / tn) * m)
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / m
    return ki, wi, fi


_ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()
_MANT = np.uint64((1 << 52) - 1)
_B8 = np.uint64(8)
_B1 = np.uint64(1)
_B11 = np.uint64(11)
_FF = np.uint64(0xFF)


@jit(inline="always")
def _join(a, b):
    return (np.uint64(a) << _S32) | np.uint64(b)


@jit(inline="always")
def _unit(r):
    """U(0, 1) from the top 53 bits of a uint64."""
    return (np.float64(r >> _B11) + 0.5) * _U53


@jit
def _ziggurat_slow(r, key, elem, op, draw):
    """Rejection branch of the ziggurat; fresh words from ``(elem, op, draw, retry)``."""
    retry = np.uint32(0)
    base = np.uint32(draw) << np.uint32(8)
    while True:
        idx = np.int64(r & _FF)
        rr = r >> _B8
        negative = (rr & _B1) != 0
        mant = (rr >> _B1) & _MANT
        x = np.float64(mant) * _ZIG_W[idx]
        if mant < _ZIG_K[idx]:
            return -x if negative else x
        retry += np.uint32(1)
        a, b, c, d = random4(key, elem, op, base | (retry & np.uint32(0xFF)))
        if idx == 0:  # tail beyond R (Marsaglia's method)
            while True:
                xx = -math.log(_unit(_join(a, b))) / _ZIG_R
                yy = -math.log(_unit(_join(c, d)))
                if yy + yy > xx * xx:
                    return -(_ZIG_R + xx) if negative else _ZIG_R + xx
                retry += np.uint32(1)
                a, b, c, d = random4(key, elem, op, base | (retry & np.uint32(0xFF)))
        if _ZIG_F[idx] + (_ZIG_F[idx - 1] - _ZIG_F[idx]) * _unit(_join(a, b)) < math.exp(-0.5 * x * x):
            return -x if negative else x
        r = _join(c, d)


@jit(inline="always")
def _ziggurat(r, key, elem, op, draw):
    idx = np.int64(r & _FF)
    rr = r >> _B8
    mant = (rr >> _B1) & _MANT
    if mant < _ZIG_K[idx]:
        x = np.float64(mant) * _ZIG_W[idx]
        return -x if (rr & _B1) != 0 else x
    return _ziggurat_slow(r, key, elem, op, draw)


@jit(inline="always")
def ziggurat_fast(r):
    """``(x, ok)``: the ziggurat's fast-path normal of word ``r``, and whether it is accepted
    (about 98.5% are); when not, :func:`normal_of` gives the number. Branch-free."""
    idx = np.int64(r & _FF)
    rr = r >> _B8
    mant = (rr >> _B1) & _MANT
    x = np.float64(mant) * _ZIG_W[idx]
    return (-x if (rr & _B1) != 0 else x), mant < _ZIG_K[idx]


@jit(inline="always")
def normal2(key, elem, op, draw):
    """Two independent N(0, 1) numbers at ``(elem, op, draw)``; ``draw`` < 2**23."""
    d = np.uint32(draw) << np.uint32(8)
    a, b, c, e = random4(key, elem, op, d)
    return (
        _ziggurat(_join(a, b), key, elem, op, np.uint32(draw) * np.uint32(2)),
        _ziggurat(_join(c, e), key, elem, op, np.uint32(draw) * np.uint32(2) + np.uint32(1)),
    )


@jit
def normal_at(key, elem, op, draw, lane):
    """``normal2(key, elem, op, draw)[lane]`` as a call (keeps rare paths out of hot loops)."""
    return normal2(key, elem, op, draw)[lane]


@jit
def uniform_at(key, elem, op, draw, lane):
    """``uniform4(key, elem, op, draw)[lane]`` as a call (keeps rare paths out of hot loops)."""
    return uniform4(key, elem, op, draw)[lane]


@jit
def normal_words(key, elem0, n, op, draw, w0, w1):
    """Raw words of ``normal2(key, elem0 + p, op, draw)`` for ``p < n`` into ``w0[p]``, ``w1[p]``.

    One branch-free pass that the compiler vectorises (Philox blocks cost about 3 ns each
    here instead of 12 ns one at a time); :func:`normal_of` turns a word into its normal,
    bitwise equal to :func:`normal2`'s.
    """
    d = np.uint32(draw) << np.uint32(8)
    for p in range(n):
        a, b, c, e = random4(key, elem0 + p, op, d)
        w0[p] = _join(a, b)
        w1[p] = _join(c, e)


@jit
def gather_words(lanes, n, op, draw, words):
    """:func:`normal_words` for lanes ``m < n``, each its own stream key ``lanes[0, m]`` and
    element ``lanes[1, m]``, into ``words[0, m]``, ``words[1, m]`` (2-D arrays: callers pass
    no row views, each view costs reference counting). One call for all of a row's pulsed
    cells, planes and streams: a call of a few lanes runs mostly in the scalar remainder of
    the vectorised loop (5.6 ns per block at 7 lanes, 2.3 ns at 28). Draw-0 words are also
    those of ``uniform4(key, elem, op, 0)``, see :func:`uniform_of`."""
    d = np.uint32(draw) << np.uint32(8)
    for m in range(n):
        a, b, c, e = random4(lanes[0, m], lanes[1, m], op, d)
        words[0, m] = _join(a, b)
        words[1, m] = _join(c, e)


@jit(inline="always")
def uniform_of(w0, w1, lane):
    """Uniform ``lane`` (0..3) of ``uniform4(key, elem, op, 0)`` from its draw-0 words."""
    word = w0 if lane < 2 else w1
    return uniform_of_word(word >> _S32 if lane % 2 == 0 else word & _LO32)


@jit(inline="always")
def normal_of(word, lane, key, elem, op, draw):
    """Normal ``lane`` (0 or 1) of ``normal2(key, elem, op, draw)`` from its raw ``word``."""
    return _ziggurat(word, key, elem, op, np.uint32(draw) * np.uint32(2) + np.uint32(lane))


@jit
def fill_normal(key, op, out):
    """``out[e]`` = normal number ``e`` of operation ``op`` (element pairs ``e // 2``)."""
    n = out.size
    pairs = (n + 1) // 2
    w0 = np.empty(pairs, np.uint64)
    w1 = np.empty(pairs, np.uint64)
    normal_words(key, 0, pairs, op, 0, w0, w1)
    for e in range(n):
        p = e >> 1
        out[e] = normal_of(w1[p] if e & 1 else w0[p], e & 1, key, p, op, 0)


@jit
def fill_words(key, elem0, op, out):
    """``out[4 q + lane]`` = ``random4(key, elem0 + q, op, 0)[lane]`` (uint32) for all of
    ``out``, whose size is a multiple of 4; ``uniform_of_word(out[e])`` is then
    :func:`fill_uniform_at`'s number. Words only, no conversion to floats in the same pass:
    the loop vectorises (a block's four words are one contiguous store)."""
    for q in range(out.size // 4):
        a, b, c, d = random4(key, elem0 + q, op, 0)
        out[4 * q] = a
        out[4 * q + 1] = b
        out[4 * q + 2] = c
        out[4 * q + 3] = d


@jit
def fill_uniform_at(key, elem0, op, out):
    """``out[4 q + lane]`` = ``uniform4(key, elem0 + q, op, 0)[lane]`` for all of ``out``:
    whole Philox blocks in one branch-free pass (vectorised), then a final partial block."""
    n = out.size
    whole = n - n % 4
    for q in range(whole // 4):
        u0, u1, u2, u3 = uniform4(key, elem0 + q, op, 0)
        out[4 * q] = u0
        out[4 * q + 1] = u1
        out[4 * q + 2] = u2
        out[4 * q + 3] = u3
    if whole < n:
        u = uniform4(key, elem0 + whole // 4, op, 0)
        for e in range(whole, n):
            out[e] = u[e - whole]


def normals(key: int, shape, op: int = 0) -> np.ndarray:
    """Array of N(0, 1) numbers of ``shape`` for operation ``op`` of stream ``key``."""
    out = np.empty(int(np.prod(shape)))
    fill_normal(np.uint64(key), np.uint64(op), out)
    return out.reshape(shape)


def uniforms(key: int, shape, op: int = 0) -> np.ndarray:
    """Array of U(0, 1) numbers of ``shape`` for operation ``op`` of stream ``key``."""
    out = np.empty(int(np.prod(shape)))
    fill_uniform_at(np.uint64(key), 0, np.uint64(op), out)
    return out.reshape(shape)

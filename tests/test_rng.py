"""Counter-based random numbers: Philox known answers, addressing, distributions, independence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mcvar.kernels import rng

import reference as ref

# Random123 known-answer vectors (kat_vectors, philox4x32 with 10 rounds)
KATS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
KEY = rng.stream_key(20240601, 3, 1, 5)


@pytest.mark.parametrize("ctr, key, expected", KATS)
def test_philox_known_answers(ctr, key, expected):
    assert ref.philox4x32(ctr, key) == expected
    assert tuple(int(v) for v in rng.philox4x32(*ctr, *key)) == expected


def test_philox_matches_reference_on_random_counters():
    words = np.random.default_rng(np.random.SeedSequence([7, 1])).integers(0, 2**32, (200, 6))
    for w in words:
        got = tuple(int(v) for v in rng.philox4x32(*(int(v) for v in w)))
        assert got == ref.philox4x32(w[:4], w[4:])


@pytest.mark.parametrize("op", [0, 17, 2**32 + 5])  # op's high word is a counter word too
def test_uniform_element_addressing(op):
    """Element e of an operation is lane e % 4 of the block at counter (e // 4, op, draw 0)."""
    u = rng.uniforms(KEY, (3, 7), op)
    flat = u.ravel()
    for e in range(flat.size):
        assert flat[e] == ref.uniform_words(KEY, e // 4, op, 0)[e % 4]
    assert np.array_equal(rng.uniforms(KEY, (21,), op), flat)  # shape does not matter
    assert tuple(rng.uniform4(np.uint64(KEY), 2, op, 3)) == tuple(ref.uniform_words(KEY, 2, op, 3))


def test_normal_element_addressing():
    """normals(key, n, op)[e] = normal2(key, e // 2, op, 0)[e % 2]; odd sizes are prefixes."""
    z = rng.normals(KEY, (11,), 4)
    for e in range(11):
        assert z[e] == rng.normal2(np.uint64(KEY), e // 2, 4, 0)[e % 2]
    assert np.array_equal(rng.normals(KEY, (12,), 4)[:11], z)
    assert np.array_equal(rng.normals(KEY, (3, 4), 4).ravel()[:11], z)


@pytest.mark.parametrize("draw", [0, 1, 5])
def test_vectorised_words_reproduce_normal2_and_uniform4(draw):
    """normal_words / gather_words + normal_of (and uniform_of for draw 0) give exactly the
    numbers of normal2 / uniform4, ziggurat rejections included (3000 pairs: ~70 of them)."""
    key, op, n = np.uint64(KEY), 9, 3000
    w0, w1 = np.empty(n, np.uint64), np.empty(n, np.uint64)
    rng.normal_words(key, 11, n, op, draw, w0, w1)
    got = [(rng.normal_of(w0[p], 0, key, 11 + p, op, draw),
            rng.normal_of(w1[p], 1, key, 11 + p, op, draw)) for p in range(n)]
    assert got == [tuple(rng.normal2(key, 11 + p, op, draw)) for p in range(n)]

    offsets = np.sort(np.random.default_rng(3).choice(10 * n, 500, replace=False))
    other = rng.stream_key(1, 2, 3, 4)  # every other lane from another stream
    lanes = np.array([[other if m % 2 else key for m in range(500)], 7 + offsets], np.uint64)
    words = np.zeros((2, 503), np.uint64)
    rng.gather_words(lanes, 500, op, draw, words)
    assert not words[:, 500:].any()
    g0, g1 = words[0, :500:2], words[1, :500:2]
    for m in range(1, 500, 2):
        assert (rng.normal_of(words[0, m], 0, other, 7 + offsets[m], op, draw),
                rng.normal_of(words[1, m], 1, other, 7 + offsets[m], op, draw)) \
            == rng.normal2(other, 7 + offsets[m], op, draw)
    offsets = offsets[::2]
    a0, a1 = np.empty(10 * n + 7, np.uint64), np.empty(10 * n + 7, np.uint64)
    rng.normal_words(key, 0, 10 * n + 7, op, draw, a0, a1)
    assert np.array_equal(g0, a0[7 + offsets]) and np.array_equal(g1, a1[7 + offsets])
    if draw == 0:  # draw-0 words are also the uniform4 block of the element
        for m in range(0, 250, 37):
            want = rng.uniform4(key, 7 + offsets[m], op, 0)
            assert tuple(rng.uniform_of(g0[m], g1[m], lane) for lane in range(4)) == want


def test_ziggurat_fast_path_agrees_with_normal_of():
    """The branch-free fast path gives normal_of's number whenever it accepts, and rejects
    at the rate its tables imply (mean over layers of 1 - k_i / 2^52, about 1.5%; 4 sigma
    band over 20,000 words)."""
    key, op, n = np.uint64(KEY), 4, 10_000
    w0, w1 = np.empty(n, np.uint64), np.empty(n, np.uint64)
    rng.normal_words(key, 0, n, op, 0, w0, w1)
    rejected = 0
    for p in range(n):
        for lane, word in enumerate((w0[p], w1[p])):
            x, ok = rng.ziggurat_fast(word)
            if ok:
                assert x == rng.normal_of(word, lane, key, p, op, 0)
            rejected += not ok
    expected = float(np.mean(1.0 - rng._ZIG_K / 2.0**52))
    assert abs(rejected / (2 * n) - expected) < 4 * np.sqrt(expected / (2 * n))


def test_fill_uniform_at_matches_uniform4():
    want = [rng.uniform4(np.uint64(KEY), 5 + q, 3, 0)[lane] for q in range(6) for lane in range(4)]
    for n in (24, 22, 3):  # whole blocks, then a final partial block
        out = np.empty(n)
        rng.fill_uniform_at(np.uint64(KEY), 5, 3, out)
        assert out.tolist() == want[:n]
    words = np.empty(24, np.uint32)  # the same numbers as 32-bit words
    rng.fill_words(np.uint64(KEY), 5, 3, words)
    assert [rng.uniform_of_word(w) for w in words] == want
    assert rng.normal_at(np.uint64(KEY), 4, 3, 2, 1) == rng.normal2(np.uint64(KEY), 4, 3, 2)[1]
    assert rng.uniform_at(np.uint64(KEY), 4, 3, 2, 3) == rng.uniform4(np.uint64(KEY), 4, 3, 2)[3]


def test_uniform_distribution():
    """U(0, 1): open interval, moments within 5 standard errors, KS p > 0.01 (n = 2e5)."""
    n = 200_000
    u = rng.uniforms(KEY, (n,), 1)
    assert u.min() > 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / n)  # Var(U^2-type) = 1/180
    assert stats.kstest(u, "uniform").pvalue > 0.01


def test_normal_distribution():
    """N(0, 1) from the ziggurat: moments within 5 standard errors, KS p > 0.01 (n = 1e6)."""
    n = 1_000_000
    z = rng.normals(KEY, (n,), 2)
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(stats.skew(z)) < 5 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < 5 * np.sqrt(24 / n)
    assert stats.kstest(z, "norm").pvalue > 0.01


def test_ziggurat_tail_beyond_r():
    """|z| > R = 3.654 (the ziggurat's tail algorithm) at the normal rate and with the
    conditional normal law: count within 4 binomial sd, conditional KS p > 0.01 (n = 4e6)."""
    n = 4_000_000
    r = rng._ZIG_R
    z = rng.normals(KEY, (n,), 3)
    tail = np.abs(z[np.abs(z) > r])
    p = 2 * stats.norm.sf(r)
    assert abs(tail.size - n * p) < 4 * np.sqrt(n * p * (1 - p))
    cond_cdf = lambda t: 1 - stats.norm.sf(t) / stats.norm.sf(r)  # noqa: E731
    assert stats.kstest(tail, cond_cdf).pvalue > 0.01
    assert tail.max() > 4.5  # the tail reaches beyond the table
    # both signs equally often in the tail
    pos = int((z > r).sum())
    assert abs(pos - tail.size / 2) < 4 * np.sqrt(tail.size / 4)


def _max_abs_corr(a, b):
    return abs(np.corrcoef(a, b)[0, 1])


def test_streams_and_operations_independent():
    """Different streams, trials, operations, draws and elements: |corr| < 5/sqrt(n), and the
    pairs' KS differences look like independent normals."""
    n = 100_000
    base = rng.normals(KEY, (n,), 0)
    others = [
        rng.normals(KEY, (n,), 1),  # next operation
        rng.normals(rng.stream_key(20240601, 3, 1, 6), (n,), 0),  # next stream
        rng.normals(rng.stream_key(20240601, 4, 1, 5), (n,), 0),  # next trial
        rng.normals(rng.stream_key(20240602, 3, 1, 5), (n,), 0),  # next seed
        rng.normals(KEY, (n + 2,), 0)[2:],  # next elements of the same operation
    ]
    for other in others:
        assert _max_abs_corr(base, other) < 5 / np.sqrt(n)
        # the sum of two independent N(0,1) is N(0, 2)
        assert stats.kstest((base + other) / np.sqrt(2), "norm").pvalue > 0.01
    draw1 = np.array([rng.normal2(np.uint64(KEY), e, 0, 1)[0] for e in range(2000)])
    draw0 = np.array([rng.normal2(np.uint64(KEY), e, 0, 0)[0] for e in range(2000)])
    assert _max_abs_corr(draw0, draw1) < 5 / np.sqrt(2000)


def test_stream_keys_distinct_and_deterministic():
    keys = {rng.stream_key(s, t, i, k) for s in (0, 1, 2**40) for t in range(6) for i in range(6)
            for k in range(6)}
    assert len(keys) == 3 * 6 * 6 * 6
    assert rng.stream_key(5, 1, 2, 3) == rng.stream_key(5, 1, 2, 3)
    assert rng.stream_key(2**40 + 5, 1, 2, 3) != rng.stream_key(5, 1, 2, 3)  # high seed bits count
    assert all(0 <= k < 2**64 for k in keys)

"""Slow, obvious NumPy twins of mcvar's kernels, written from docs/ (tests only).

Each function follows the model's equations as literally as possible, with plain loops and
NumPy, so that a disagreement with a fast kernel points at the kernel. Random numbers are
*inputs* of these twins (standard normals ``z``, uniforms ``u``): a test passes either the
very numbers a kernel drew (exact comparison, addressing documented in the kernel modules) or
fresh ones from NumPy (comparison in distribution).

Contents: Philox-4x32-10 (Random123), DAC/ADC quantisation, the read path of both weight
mappings with analog/digital subtraction (docs/devices.md, docs/reads.md), per-cell d2d parameters and one pulse
of every step model in aihwkit's normalised weight units (docs/devices.md, docs/updates.md) mapped to siemens,
and the pulse-count rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# ------------------------------------------------------------------------------------------
# Philox-4x32-10 (Salmon et al., SC11; Random123 philox.h), Python integers

_MASK = 0xFFFFFFFF
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def philox4x32(ctr, key, rounds=10):
    """Random123's philox4x32_R: ``ctr`` 4 words, ``key`` 2 words -> 4 words (ints)."""
    c0, c1, c2, c3 = (int(v) & _MASK for v in ctr)
    k0, k1 = (int(v) & _MASK for v in key)
    for r in range(rounds):
        if r > 0:  # bumpkey between rounds
            k0 = (k0 + _PHILOX_W[0]) & _MASK
            k1 = (k1 + _PHILOX_W[1]) & _MASK
        p0 = _PHILOX_M[0] * c0
        p1 = _PHILOX_M[1] * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _MASK, (p0 >> 32) ^ c3 ^ k1, p0 & _MASK
    return c0, c1, c2, c3


def split_key(key: int):
    """64-bit stream key -> (low word, high word) Philox key."""
    return key & _MASK, (key >> 32) & _MASK


def uniform_words(key: int, elem: int, op: int, draw: int):
    """mcvar's four U(0, 1) numbers at counter ``(elem, op low, op high, draw)``: the centres
    ``(w + 1/2) / 2**32`` of the 2**32 equal bins."""
    ctr = (elem, op & _MASK, (op >> 32) & _MASK, draw)
    return [(w + 0.5) / 2.0**32 for w in philox4x32(ctr, split_key(key))]


# ------------------------------------------------------------------------------------------
# Read path (docs/devices.md 'Mapping', docs/reads.md)


def levels(bits: int) -> int:
    """Uniform levels per sign of a signed ``bits``-bit converter (zero is a level)."""
    return 2 ** (bits - 1) - 1


def quantize(v, bound, bits):
    """Clip to ``[-bound, bound]``; with ``bits`` > 0 round to the nearest level of step
    ``bound / levels(bits)``."""
    v = np.clip(np.asarray(v, dtype=float), -bound, bound)
    if bits:
        step = bound / levels(bits)
        v = np.round(v / step) * step
    return v


def read(X, G, g_ref, g_range, *, transpose, subtraction, inp_bound=1.0, dac_bits=0,
         adc_bits=0, out_bound=np.inf, weight_bound=1.0, out_noise=0.0, out_z=None,
         dG=None, dg_ref=None, abs_max=False):
    """Noisy reads of a tile, vector by vector, straight from docs/devices.md ('Mapping') and docs/reads.md.

    ``X`` (B, K) inputs; ``G`` (P, R, C) conductances [S] (P = 2 balanced pair, P = 1 offset
    mapping with reference conductances ``g_ref`` (R,) [S]); currents are in units of
    ``I_u = V_read g_range``. Per-device read noise enters as conductance perturbations
    ``dG`` (B, P, R, C) and ``dg_ref`` (B, R) [S] (None: none). Output noise
    ``out_noise * out_z`` [I_u] is added at every conversion; ``out_z`` (B, Q, N) are standard
    normals laid out as the kernel's conversions: q = plane (balanced, digital) else 0, n =
    output, and for the forward offset mapping n = C is the reference column's own
    conversion (digital subtraction only). With ``abs_max`` (noise management) each input
    vector is divided by ``max|x| / inp_bound`` before the DAC and the output multiplied back.
    Returns (B, N_out) in weight x input units.
    """
    X = np.asarray(X, float)
    P, R, C = G.shape
    balanced = P == 2
    digital = subtraction == "digital"
    B = X.shape[0]
    n_out = R if transpose else C
    Y = np.empty((B, n_out))
    for b in range(B):
        peak = np.abs(X[b]).max()
        in_scale = peak / inp_bound if abs_max and peak > 0 else 1.0
        x = quantize(X[b] / in_scale, inp_bound, dac_bits) / inp_bound  # normalised input
        g = (G if dG is None else G + dG[b]) / g_range
        r = (g_ref if dg_ref is None else g_ref + dg_ref[b]) / g_range
        z = np.zeros((2, n_out + 1)) if out_z is None else out_z[b]
        noise = out_noise * z

        def adc(current):
            return quantize(current, out_bound, adc_bits)

        def mac(plane):  # column currents (forward) or row currents (transposed)
            return plane @ x if transpose else x @ plane

        if balanced:
            plus, minus = mac(g[0]), mac(g[1])
            if digital:
                y = adc(plus + noise[0, :n_out]) - adc(minus + noise[1, :n_out])
            else:
                y = adc(plus - minus + noise[0, :n_out])
        elif transpose:  # the reference column is an extra input driven with -sum(x)
            y = adc(mac(g[0]) - r * x.sum() + noise[0, :n_out])
        else:  # forward: the reference column's current is subtracted from every column
            cols, ref = mac(g[0]), x @ r
            if digital:
                y = adc(cols + noise[0, :n_out]) - adc(ref + noise[0, n_out])
            else:
                y = adc(cols - ref + noise[0, :n_out])
        Y[b] = y * (1.0 if balanced else 2.0) * weight_bound * inp_bound * in_scale
    return Y


# ------------------------------------------------------------------------------------------
# Device models (docs/devices.md), per cell, in normalised weight units


@dataclass
class Cells:
    """Per-cell device parameters in aihwkit's weight units, arrays of one shape."""

    b_min: np.ndarray  #: lower bound [1]
    b_max: np.ndarray  #: upper bound [1]
    d_up: np.ndarray  #: up step [1]
    d_down: np.ndarray  #: down step [1]
    gamma_up: np.ndarray  #: LinearStep slope, up [1]
    gamma_down: np.ndarray  #: LinearStep slope, down [1]
    nu_up: np.ndarray  #: exponential nonlinearity, up [1]
    nu_down: np.ndarray  #: exponential nonlinearity, down [1]
    a: np.ndarray  #: CrossSim nonlinearity strength [1]


def cells_from_normals(device, xi, g_zero, siemens_per_weight):
    """Section 4b's per-device draws from standard normals ``xi[name]``.

    Names: 'w_max', 'w_min', 'dw_min', 'up_down', 'gamma_up', 'gamma_down', 'nonlinearity'.
    ``g_zero`` [S] is G(w = 0); a lower bound below zero conductance is raised to G = 0.
    """
    d = device
    b_max = d.w_max * (1 + d.w_max_dtod * xi["w_max"])
    b_min = d.w_min * (1 + d.w_min_dtod * xi["w_min"])
    swap = b_min > b_max
    b_max, b_min = np.where(swap, b_min, b_max), np.where(swap, b_max, b_min)
    b_max, b_min = np.abs(b_max), -np.abs(b_min)
    b_min = np.maximum(b_min, -g_zero / siemens_per_weight)  # G >= 0
    g = 1 + d.dw_min_dtod * xi["dw_min"]
    r = d.up_down_dtod * xi["up_down"]
    d_up = d.dw_min * np.abs(min(d.up_down, 0.0) + g + r)
    d_down = d.dw_min * np.abs(-max(d.up_down, 0.0) + g - r)
    spread = 1 + d.nonlinearity_dtod * xi["nonlinearity"]
    return Cells(
        b_min, b_max, d_up, d_down,
        np.abs(d.gamma_up + d.gamma_up_dtod * xi["gamma_up"]),
        np.abs(d.gamma_down + d.gamma_down_dtod * xi["gamma_down"]),
        np.maximum(d.nu_up * spread, 0.0), np.maximum(d.nu_down * spread, 0.0),
        np.maximum(d.nonlinearity * spread, 1e-6))


def pulse(model, device, cells: Cells, w, up, z=None):
    """Weights after one pulse (up: bool array) of every cell; ``z`` c2c standard normals.

    ``linear``/``linear_step``/``soft_bounds`` are aihwkit's ConstantStep, LinearStep and
    SoftBounds; ``exponential`` is docs/devices.md's ``f = exp(-nu x)`` with ``x`` the distance
    from the starting bound, relative to the cell's range; the CrossSim forms are docs/devices.md's
    with the cell's own bounds and requested step ``delta = +-D / R``. The c2c factor
    ``1 + dw_min_std z`` multiplies every step; the weight is clipped to the cell's bounds.
    """
    c = cells
    span = c.b_max - c.b_min
    if model == "linear":
        dw = np.where(up, c.d_up, -c.d_down)
    elif model == "linear_step":
        dw = np.where(up, c.d_up * (1 - c.gamma_up * w / device.w_max),
                      -c.d_down * (1 - c.gamma_down * w / device.w_min))
    elif model == "soft_bounds":
        dw = np.where(up, c.d_up * (1 - w / c.b_max), -c.d_down * (1 - w / c.b_min))
    elif model == "exponential":
        dw = np.where(up, c.d_up * np.exp(-c.nu_up * (w - c.b_min) / span),
                      -c.d_down * np.exp(-c.nu_down * (c.b_max - w) / span))
    elif model == "crosssim_asymmetric":
        w0 = span / (1 - np.exp(-c.a))
        delta = np.where(up, c.d_up, -c.d_down) / span
        dw = np.where(up, (w0 + c.b_min - w) * (1 - np.exp(-c.a * delta)),
                      (c.b_max - w0 - w) * (1 - np.exp(c.a * delta)))
    elif model == "crosssim_symmetric":
        A = span * (np.exp(c.a) + 1) / (np.exp(c.a) - 1)
        B = c.b_min - span / (np.exp(c.a) - 1)
        delta = np.where(up, c.d_up, -c.d_down) / span
        dw = A / (1 + np.exp(-2 * c.a * delta) * (A / (w - B) - 1)) - w + B
    else:
        raise ValueError(f"no reference for model {model!r}")
    if z is not None:
        dw = dw * (1 + device.dw_min_std * z)
    return np.clip(w + dw, c.b_min, c.b_max)


# ------------------------------------------------------------------------------------------
# Pulse-count rules (docs/updates.md); v = c |x d| with c pulses per unit of x d


def pulses_deterministic(v, n_max):
    """``round(v)`` clipped to ``n_max``."""
    return np.minimum(np.rint(v), n_max)


def pulses_stochastic(v, u, n_max):
    """Stochastic rounding: ``floor(v)`` plus one with probability ``v - floor(v)`` (``u`` < it)."""
    return np.minimum(np.floor(v) + (u < v - np.floor(v)), n_max)


def pulses_train(x, d, c, bl, u_rows, u_cols):
    """Coincidences of row and column bit streams of length ``bl``.

    Bit t of row i fires when ``u_rows[i, t] < min(|x_i| A, 1)``, of column j when
    ``u_cols[j, t] < min(|d_j| A, 1)``, ``A = sqrt(c / bl)``.
    """
    a = np.sqrt(c / bl)
    rows = u_rows[:, :bl] < np.minimum(np.abs(x) * a, 1.0)[:, None]
    cols = u_cols[:, :bl] < np.minimum(np.abs(d) * a, 1.0)[:, None]
    return (rows[:, None, :] & cols[None, :, :]).sum(axis=2).astype(float)


def pulses_implicit(x, d, c, bl):
    """aihwkit's deterministic implicit pulsing ``rint(BL min(|d| A, 1) min(|x| A, 1))``."""
    a = np.sqrt(c / bl)
    p = np.minimum(np.abs(x) * a, 1.0)
    q = np.minimum(np.abs(d) * a, 1.0)
    return np.rint(bl * np.outer(p, q))


def lut_step(g_bins, u_points, dg, G, u):
    """One pulse's change [S] from a measured table (docs/devices.md, 'Lookup tables'): the ``u``-quantile
    ``dg[:, k]`` interpolated in ``u`` at the bins around ``G``, then linearly in ``G``
    (both with ``np.interp``, so values outside the grids take the end values)."""
    i = min(max(np.searchsorted(g_bins, G, side="right") - 1, 0), g_bins.size - 2)
    col = [np.interp(u, u_points, dg[:, k]) for k in (i, i + 1)]
    return float(np.interp(G, g_bins[i: i + 2], col))

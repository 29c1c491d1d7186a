"""Finite-input check compiled for speed: it runs before every read and update."""

from __future__ import annotations

import numpy as np

from ..accelerate import jit


@jit
def all_finite(x):
    """True if no element of the contiguous float64 array ``x`` is NaN or +-inf.

    Counts the failures of ``|v| < inf`` (false for NaN too) in one pass that the compiler
    vectorises (no temporary boolean array, unlike ``np.all(np.isfinite(x))``).
    """
    v = x.reshape(x.size)
    n_bad = 0
    for i in range(v.size):
        n_bad += 0 if abs(v[i]) < np.inf else 1
    return n_bad == 0

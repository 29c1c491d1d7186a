"""Running error statistics of Monte Carlo runs: sums and a histogram, in one compiled pass.

An error is ``got - want``: a noisy read's output minus the exact product, or an update's
achieved change minus the requested one. ``stats`` (N_STATS,) holds running sums at the
indices below; ``hist`` counts errors in uniform bins starting at ``lo`` with ``inv_width``
bins per unit, values beyond either end in the end bin. Sums run in element order, one
running total each, so splitting the same elements into batches does not change them.
"""

from __future__ import annotations

import numpy as np

from ..accelerate import jit

# indices of the running sums in ``stats``
COUNT, SUM, SUM2, WANT2, GOT_WANT, GOT2, MAXABS = range(7)
N_STATS = 7


@jit(inline="always")
def bin_of(err, lo, inv_width, nb):
    """Bin of ``err`` among ``nb`` uniform bins from ``lo`` (clamped in floating point, so no
    huge error overflows the integer conversion; NaN counts in bin 0)."""
    f = (err - lo) * inv_width
    if f >= nb - 1:
        return nb - 1
    return int(f) if f > 0.0 else 0


@jit(inline="always")
def add_error(got, want, total, total2, want2, cross, got2, maxabs):
    """The running sums after one more error ``got - want``: sums of the error, its square,
    ``want^2``, ``got want``, ``got^2``, and the largest ``|error|``."""
    err = got - want
    return (total + err, total2 + err * err, want2 + want * want, cross + got * want,
            got2 + got * got, max(maxabs, abs(err)))


@jit
def add_read_errors(Y, X, W, lo, inv_width, hist, stats):
    """Add the errors of noisy outputs ``Y`` (B, N) against the exact products ``X @ W``
    (X: B x K, W: K x N, C-contiguous) to ``stats`` and ``hist``.

    The exact products are summed here in ``k`` order, not by NumPy's BLAS: the same numbers
    on every machine, and no second thread pool competing with the parallel reads. One pass
    for the sums and the histogram.
    """
    B, K = X.shape
    N = W.shape[1]
    exact = np.empty(N)
    nb = hist.shape[0]
    total, total2, want2 = stats[SUM], stats[SUM2], stats[WANT2]
    cross, got2, maxabs = stats[GOT_WANT], stats[GOT2], stats[MAXABS]
    for b in range(B):
        exact[:] = 0.0
        for k in range(K):
            xk = X[b, k]
            for j in range(N):
                exact[j] += xk * W[k, j]
        for j in range(N):
            total, total2, want2, cross, got2, maxabs = add_error(
                Y[b, j], exact[j], total, total2, want2, cross, got2, maxabs)
            hist[bin_of(Y[b, j] - exact[j], lo, inv_width, nb)] += 1
    stats[COUNT] += B * N
    stats[SUM], stats[SUM2], stats[WANT2] = total, total2, want2
    stats[GOT_WANT], stats[GOT2], stats[MAXABS] = cross, got2, maxabs

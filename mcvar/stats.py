"""Statistics over Monte Carlo trials: mean, spread, confidence interval of the mean, quantiles.

For ``n`` finite trials ``x_1..x_n`` (NaN trials, e.g. of a failed task, are left out):

    mean   m = sum(x_i) / n
    std    s = sqrt(sum((x_i - m)^2) / (n - 1))                 (sample standard deviation)
    CI     m -+ t_{(1+c)/2, n-1} s / sqrt(n)                    (Student t, confidence c)
    q-quantile: linear interpolation between order statistics (numpy's default method)

The Student-t interval covers the true mean with probability ``c`` for normally distributed
trials and approximately (by the central limit theorem) otherwise. ``std`` and the interval
are NaN for fewer than two trials. More in docs/statistics.md.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy import stats as sps

CONFIDENCE = 0.95  #: default confidence level of the interval [1]
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)  #: default quantiles [1]


def t_interval(mean, std, n, confidence: float = CONFIDENCE):
    """Student-t confidence interval ``(low, high)`` of the mean from ``mean``, ``std``, ``n``.

    Arguments broadcast (numbers, arrays or DataArrays); NaN where ``n < 2``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence = {confidence!r}: allowed range (0, 1)")
    dof = np.where(np.asarray(n) >= 2, np.asarray(n, dtype=float) - 1, np.nan)
    t = sps.t.ppf(0.5 + confidence / 2, dof)
    if isinstance(n, xr.DataArray):
        t = n.copy(data=t)
    half = t * std / np.sqrt(n)
    return mean - half, mean + half


def summarize(values: xr.DataArray, dim: str = "trial", *, confidence: float = CONFIDENCE,
              quantiles=QUANTILES) -> xr.Dataset:
    """Statistics of ``values`` over ``dim``: a Dataset of ``count``, ``mean``, ``std``,
    ``ci_low``, ``ci_high`` (the ``confidence`` interval of the mean) and ``quantiles``
    (along a new ``quantile`` dimension); NaN entries are skipped."""
    if dim not in values.dims:
        raise ValueError(f"dim = {dim!r}: not a dimension of {values.name!r} {values.dims}")
    q = np.asarray(quantiles, dtype=float)
    if q.ndim != 1 or q.size == 0 or np.any((q < 0) | (q > 1)):
        raise ValueError(f"quantiles = {quantiles!r}: allowed a non-empty list in [0, 1]")
    count = values.count(dim)
    with warnings.catch_warnings():  # all-NaN slices and n < 2 give NaN, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = values.mean(dim, skipna=True)
        std = values.std(dim, skipna=True, ddof=1).where(count >= 2)
        quantile = values.quantile(q, dim, skipna=True)
    low, high = t_interval(mean, std, count, confidence)
    return xr.Dataset({"count": count, "mean": mean, "std": std, "ci_low": low, "ci_high": high,
                       "quantiles": quantile})

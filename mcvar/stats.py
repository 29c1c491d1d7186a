"""Statistics over Monte Carlo trials: mean, spread, confidence interval of the mean, quantiles.

For ``n`` finite trials ``x_1..x_n`` (NaN trials, e.g. of a failed task, are left out):

    mean   m = sum(x_i) / n
    std    s = sqrt(sum((x_i - m)^2) / (n - 1))                 (sample standard deviation)
    CI     m -+ t_{(1+c)/2, n-1} s / sqrt(n)                    (Student t, confidence c)
    q-quantile: linear interpolation between order statistics (numpy's default method)

The Student-t interval covers the true mean with probability ``c`` for normally distributed
trials and approximately (by the central limit theorem) otherwise. ``std`` and the interval
are NaN for fewer than two trials.

Accuracies (and every other proportion in [0, 1], marked ``proportion`` in
:mod:`mcvar.variables`) get the **logit t interval** instead, everywhere mcvar prints or
draws one (``mcvar show``, ``mcvar plot``, the study report, scripts/digits_accuracy.py):

    h      = t_{(1+c)/2, n-1} s / (sqrt(n) m (1 - m))         (half width on the logit scale)
    CI     expit(logit(m) -+ h),   expit(z) = 1 / (1 + exp(-z))

that is, the Student-t interval of the mean carried to the logit scale by the delta method
(se(logit m) = se(m) / (m (1 - m))) and back (the "logit" method of Lumley's R survey
package, ``svyciprop``). Why: trials differ by device instance (d2d variation, programming
noise), so the spread of the per-trial accuracies, not the binomial count of one test set,
is the uncertainty to report; the plain t interval of that spread leaves [0, 1] for few
trials or accuracies near 0 or 1, this one never does, contains the mean, narrows towards
the bound the mean is near and equals the t interval to first order when m (1 - m) is not
small. Edge cases: all trials equal (s = 0) give the point [m, m], including m = 0 or 1
(every trial got every example right: no spread to report); one trial gives NaN, as the
t interval does. The binomial test-set noise is part of each trial's spread already. More
in docs/statistics.md.
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


def proportion_interval(mean, std, n, confidence: float = CONFIDENCE):
    """Logit t confidence interval ``(low, high)`` of the mean of per-trial proportions
    (accuracies) in [0, 1] from their ``mean``, ``std`` and count ``n`` (see the module text).

    Arguments broadcast (numbers, arrays or DataArrays); the bounds always lie in [0, 1] and
    contain ``mean``; ``[mean, mean]`` where ``std == 0`` (also at 0 and 1); NaN where
    ``n < 2`` or ``mean`` is NaN. Raises ValueError for a mean outside [0, 1].
    """
    m = np.asarray(mean, dtype=float)
    if np.any((m < 0) | (m > 1)):
        raise ValueError(f"mean = {mean!r}: a proportion must lie in [0, 1]")
    low, high = t_interval(m, np.asarray(std, dtype=float), np.asarray(n, dtype=float),
                           confidence)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        half = (np.asarray(high) - m) / (m * (1 - m))  # t s / sqrt(n) on the logit scale
        z = np.log(m) - np.log1p(-m)
        low = np.where(half == 0, m, 1 / (1 + np.exp(-(z - half))))
        high = np.where(half == 0, m, 1 / (1 + np.exp(-(z + half))))
    # at m = 0 or 1 every trial is there (s = 0, half = 0/0 = NaN): the point interval
    edge = ((m == 0) | (m == 1)) & (np.asarray(n, dtype=float) >= 2)
    low, high = np.where(edge, m, low), np.where(edge, m, high)
    low, high = np.clip(low, 0.0, m), np.clip(high, m, 1.0)
    if isinstance(mean, xr.DataArray):
        return mean.copy(data=low), mean.copy(data=high)
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high


def summarize(values: xr.DataArray, dim: str = "trial", *, confidence: float = CONFIDENCE,
              quantiles=QUANTILES, proportion: bool = False) -> xr.Dataset:
    """Statistics of ``values`` over ``dim``: a Dataset of ``count``, ``mean``, ``std``,
    ``ci_low``, ``ci_high`` (the ``confidence`` interval of the mean: Student t, or the logit
    t interval of :func:`proportion_interval` for ``proportion`` values in [0, 1]) and
    ``quantiles`` (along a new ``quantile`` dimension); NaN entries are skipped."""
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
    if proportion:
        low, high = proportion_interval(mean, std, count, confidence)
    else:
        low, high = t_interval(mean, std, count, confidence)
    return xr.Dataset({"count": count, "mean": mean, "std": std, "ci_low": low, "ci_high": high,
                       "quantiles": quantile})

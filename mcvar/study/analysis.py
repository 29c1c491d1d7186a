"""The study's numbers from result Datasets: accuracy summaries, tolerance thresholds and Pareto
fronts.

Tolerance of a device non-ideality: with common random numbers trial ``t`` meets every swept
value with the same weights, data order and device instance, so the loss of final test
accuracy at value ``x_p`` is a paired difference ``d_t(x_p) = a_t(x_0) - a_t(x_p)`` against the
reference point ``x_0`` (the noise-free or weakest value). Its mean over trials and the
Student-t interval of that mean (:mod:`mcvar.stats`) are interpolated linearly in ``x``; the
threshold is where the mean first reaches ``drop`` (1 point of accuracy), bracketed by where
the interval's upper bound reaches it (earliest) and where its lower bound does (latest).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..stats import CONFIDENCE, proportion_interval, t_interval

DROP = 0.01  #: accuracy loss that defines a tolerance threshold: 1 point [1]


# ----------------------------------------------------------------------------- accuracy

def final_accuracy(ds: xr.Dataset) -> xr.DataArray:
    """Test accuracy after the last epoch, per sweep point and trial [1]."""
    return ds.test_accuracy.isel(epoch=-1)


def bounded(low, high):
    """A confidence interval of an accuracy clipped to [0, 1], where accuracy lives (a
    Student-t interval over few trials can reach past both ends)."""
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


@dataclass(frozen=True)
class AccuracySummary:
    """Final test accuracy of one configuration over its trials [1]."""

    label: str
    trials: int
    mean: float
    ci_low: float  #: bounds of the 95% logit t interval of the mean (mcvar.stats), in [0, 1]
    ci_high: float
    std: float  #: spread of the trials (sample standard deviation)
    min: float
    max: float
    seconds_per_epoch: float  #: median wall time of an epoch of one trial [s]


def accuracy_summary(ds: xr.Dataset, dim: str) -> list[AccuracySummary]:
    """One :class:`AccuracySummary` per value of sweep dimension ``dim``."""
    out = []
    for label in ds[dim].values:
        point = ds.sel({dim: label})
        final = final_accuracy(point).values
        final = final[np.isfinite(final)]
        n = final.size
        mean = float(final.mean()) if n else math.nan
        std = float(final.std(ddof=1)) if n > 1 else math.nan
        low, high = proportion_interval(mean, std, n)
        out.append(AccuracySummary(str(label), n, mean, float(low), float(high), std,
                                   float(final.min()) if n else math.nan,
                                   float(final.max()) if n else math.nan,
                                   float(np.nanmedian(point.epoch_wall_time.values))))
    return out


# ----------------------------------------------------------------------------- tolerance

def crossing(x, y, level: float) -> float | None:
    """First ``x`` at which ``y`` (sampled at increasing ``x``) reaches ``level``, linearly
    interpolated between samples; ``None`` if it never does (NaN samples never reach it)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1 or x.size == 0:
        raise ValueError(f"x, y: expected equal 1-d shapes, got {x.shape} and {y.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"x: expected increasing values, got {x.tolist()}")
    if y[0] >= level:
        return float(x[0])
    for i in range(x.size - 1):
        if y[i + 1] >= level and y[i] < level:
            return float(x[i] + (level - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))
    return None


def paired_drop(accuracy, confidence: float = CONFIDENCE):
    """Mean and confidence bounds of ``a_t(x_0) - a_t(x_p)`` over trials ``t`` (paired), for
    ``accuracy`` of shape (points, trials); trials missing anywhere are dropped. Returns
    three arrays of shape (points,) [1]."""
    a = np.asarray(accuracy, float)
    if a.ndim != 2:
        raise ValueError(f"accuracy: expected shape (points, trials), got {a.shape}")
    a = a[:, np.all(np.isfinite(a), axis=0)]
    d = a[0] - a
    n = d.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = d.mean(axis=1) if n else np.full(d.shape[0], np.nan)
        std = d.std(axis=1, ddof=1) if n > 1 else np.full(d.shape[0], np.nan)
    low, high = t_interval(mean, std, n, confidence)
    return mean, np.asarray(low, float), np.asarray(high, float)


@dataclass(frozen=True)
class Tolerance:
    """Where accuracy falls ``drop`` below the reference point of a sweep."""

    drop: float  #: accuracy loss defining the threshold [1]
    reference: float  #: swept value of the reference point x_0
    reference_accuracy: float  #: its mean final accuracy [1]
    value: float | None  #: where the mean loss reaches ``drop`` (None: not in the range)
    low: float | None  #: where the upper confidence bound of the loss reaches it
    high: float | None  #: where the lower confidence bound reaches it (None: beyond range)
    x_max: float  #: largest swept value
    drop_at_max: tuple[float, float, float]  #: loss at x_max: mean, CI low, CI high [1]

    def describe(self, fmt=lambda v: f"{v:.3g}") -> str:
        """``"0.071 [0.052, 0.093]"``, or why there is no threshold."""
        if self.value is None:
            mean, low, high = self.drop_at_max
            return (f"not reached up to {fmt(self.x_max)} (loss there {100 * mean:.1f} "
                    f"[{100 * low:.1f}, {100 * high:.1f}] points)")
        low = fmt(self.low) if self.low is not None else "?"
        high = fmt(self.high) if self.high is not None else f"> {fmt(self.x_max)}"
        return f"{fmt(self.value)} [{low}, {high}]"


def tolerance(x, accuracy, drop: float = DROP, confidence: float = CONFIDENCE) -> Tolerance:
    """Threshold of swept values ``x`` (points,) from final accuracies (points, trials)
    where the paired accuracy loss against point 0 reaches ``drop`` (module docstring)."""
    x = np.asarray(x, float)
    if not 0 < drop < 1:
        raise ValueError(f"drop = {drop!r}: allowed range (0, 1)")
    mean, low, high = paired_drop(accuracy, confidence)
    if x.shape != mean.shape:
        raise ValueError(f"x: expected {mean.shape[0]} values, one per point, got {x.size}")
    ref = np.asarray(accuracy, float)[0]
    return Tolerance(drop, float(x[0]), float(np.nanmean(ref)), crossing(x, mean, drop),
                     crossing(x, high, drop), crossing(x, low, drop), float(x[-1]),
                     (float(mean[-1]), float(low[-1]), float(high[-1])))


# ----------------------------------------------------------------------------- energy

def pareto_front(energy, accuracy) -> np.ndarray:
    """Boolean mask of the points no other point beats: lower or equal energy and higher or
    equal accuracy, one of them strictly."""
    e, a = np.asarray(energy, float), np.asarray(accuracy, float)
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(f"energy, accuracy: expected equal 1-d shapes, got {e.shape}, {a.shape}")
    better_or_equal = (e[None, :] <= e[:, None]) & (a[None, :] >= a[:, None])
    strictly = (e[None, :] < e[:, None]) | (a[None, :] > a[:, None])
    return ~np.any(better_or_equal & strictly, axis=1)

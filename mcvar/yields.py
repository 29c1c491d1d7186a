"""Chip yield: the fraction of device instances (trials) whose final accuracy meets a target.

Each Monte Carlo trial of a sweep point is one chip: its own device-to-device draw, trained
and tested. The yield of a point is ``k / n``, ``k`` of its ``n`` finished trials reaching
``target`` test accuracy after the last epoch, with the exact binomial (Clopper-Pearson)
interval ``[B(a/2; k, n - k + 1), B(1 - a/2; k + 1, n - k)]`` (``B(q; a, b)`` the beta
quantile; Clopper and Pearson, Biometrika 1934): it covers the true yield with at least the
stated probability for every ``n`` and yield, at the price of being conservative.
:func:`trials_needed` inverts it: the smallest ``n`` whose interval is at most ``width`` wide
at a given yield. The Pareto front (:func:`pareto_front`) keeps the points no other point
beats in both energy per training example and yield (or accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class YieldSpec:
    """The ``[yield]`` table (checked by :mod:`mcvar.scenario.analyses`)."""

    target: float = 0.9  #: test accuracy a chip must reach after the last epoch [1]
    goal: float = 0.95  #: yield a design must reach (the answer's criterion) [1]
    confidence: float = 0.95  #: level of the Clopper-Pearson intervals [1]
    width: float = 0.1  #: interval width wanted; adaptive runs stop a point there [1]
    design: str = "analog_reram"  #: design whose energy per example is priced
    adaptive: bool = False  #: add trials per point in blocks until the interval is narrow


def clopper_pearson(k, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact two-sided interval ``(low, high)`` of a binomial proportion from ``k`` successes
    in ``n`` trials (arrays broadcast; ``n = 0`` gives ``[0, 1]``)."""
    from scipy.stats import beta

    k, n = np.asarray(k, float), np.asarray(n, float)
    a = 1.0 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, beta.ppf(a / 2, k, n - k + 1), 0.0)
        high = np.where(k < n, beta.ppf(1 - a / 2, k + 1, n - k), 1.0)
    return np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=1.0)


def trials_needed(width: float, yield_: float = 0.5, confidence: float = 0.95,
                  limit: int = 10 ** 6) -> int:
    """Smallest number of trials whose Clopper-Pearson interval at the observed yield
    ``yield_`` is at most ``width`` wide (``yield_ = 0.5``: the worst case). Raises
    ValueError if more than ``limit`` are needed."""
    if not 0 < width <= 1 or not 0 <= yield_ <= 1:
        raise ValueError(f"width in (0, 1] and yield in [0, 1] expected, got {width}, {yield_}")

    def wide(n: int) -> bool:
        low, high = clopper_pearson(round(yield_ * n), n, confidence)
        return float(high - low) > width

    hi = 1
    while wide(hi):
        hi *= 2
        if hi > 2 * limit:
            raise ValueError(f"more than {limit} trials needed for width {width}")
    lo = hi // 2
    while hi - lo > 1:  # the width shrinks with n up to the rounding of k: bisect, then
        mid = (lo + hi) // 2  # step down over the last few to the smallest that fits
        lo, hi = (mid, hi) if wide(mid) else (lo, mid)
    while hi > 1 and not wide(hi - 1):
        hi -= 1
    return hi


def chip_yield(ds: xr.Dataset, spec: YieldSpec) -> xr.Dataset:
    """Yield of every sweep point of scenario result ``ds`` (needs ``[training]``;
    unfinished trials, NaN, are left out): ``chips`` and ``chips_meeting_target`` [1],
    ``chip_yield`` with ``chip_yield_low``/``chip_yield_high`` [1], ``trials_for_width`` (the
    trials the requested width needs at the observed yield), and, with a cost result,
    ``energy_per_example`` [J] of ``spec.design``; ``final_accuracy_mean`` [1]."""
    if "test_accuracy" not in ds:
        raise ValueError("a yield needs a [training] workload (final test accuracy per trial)")
    final = ds.test_accuracy.isel(epoch=-1)
    done = final.notnull()
    n = done.sum("trial")
    k = (final >= spec.target).where(done, False).sum("trial")
    low, high = clopper_pearson(k.values, n.values, spec.confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(n.values > 0, k.values / np.maximum(n.values, 1), np.nan)
    needed = np.vectorize(lambda p: trials_needed(spec.width, p, spec.confidence)
                          if np.isfinite(p) else trials_needed(spec.width, 0.5,
                                                               spec.confidence))(y)
    dims = n.dims
    c = f"{100 * spec.confidence:g}"
    out = xr.Dataset(
        {"chips": (dims, n.values, {"units": "1", "long_name": "finished trials (chips)"}),
         "chips_meeting_target": (dims, k.values, {
             "units": "1", "long_name": f"chips with final test accuracy >= {spec.target}"}),
         "chip_yield": (dims, y, {"units": "1", "long_name": "fraction of chips meeting the "
                                                              "accuracy target"}),
         "chip_yield_low": (dims, low, {"units": "1", "long_name": f"lower bound of the {c}% "
                                        "Clopper-Pearson interval of chip_yield"}),
         "chip_yield_high": (dims, high, {"units": "1", "long_name": f"upper bound of the {c}% "
                                          "Clopper-Pearson interval of chip_yield"}),
         "trials_for_width": (dims, needed, {"units": "1", "long_name": "trials for a "
                              f"Clopper-Pearson interval of width {spec.width} at the observed "
                              "yield"}),
         "final_accuracy_mean": (dims, final.mean("trial").values,
                                 {"units": "1", "long_name": "mean final test accuracy"})},
        coords={c_: ds[c_] for c_ in ds.coords if set(ds[c_].dims) <= set(dims)})
    if "training_energy_per_example" in ds:
        e = ds.training_energy_per_example.sel(design=spec.design)
        out["energy_per_example"] = (dims, e.transpose(*dims).values, {
            "units": "J", "long_name": f"training energy per example, {spec.design}"})
    out.attrs = {"Conventions": "CF-1.10", "title": "mcvar chip yield",
                 "source": "mcvar.yields.chip_yield", "accuracy_target": spec.target,
                 "yield_goal": spec.goal, "confidence": spec.confidence,
                 "interval_width": spec.width, "energy_design": spec.design,
                 "interval_method": "Clopper-Pearson (exact binomial)"}
    return out


def pareto_front(energy, score) -> np.ndarray:
    """Mask of the points on the Pareto front of lower ``energy`` and higher ``score`` (1-d
    arrays; NaN points are never on it): no other point has energy <= and score >= with
    one of them strict."""
    energy, score = np.asarray(energy, float), np.asarray(score, float)
    ok = np.isfinite(energy) & np.isfinite(score)
    front = np.zeros(energy.size, bool)
    for i in np.flatnonzero(ok):
        better = ok & (energy <= energy[i]) & (score >= score[i]) & \
            ((energy < energy[i]) | (score > score[i]))
        front[i] = not better.any()
    return front


def yield_table(out: xr.Dataset) -> str:
    """Markdown table of :func:`chip_yield` (one row per sweep point), Pareto points marked
    (energy vs yield), and the lowest-energy point reaching the yield goal."""
    flat = out.stack(_p=list(out.chip_yield.dims)) if out.chip_yield.dims else \
        out.expand_dims(_p=[0])
    energy = flat.energy_per_example.values if "energy_per_example" in flat else \
        np.full(flat.sizes["_p"], np.nan)
    front = pareto_front(energy, flat.chip_yield.values)
    lines = ["| point | chips | yield [CI] | mean accuracy | energy / example | Pareto |",
             "| --- | --- | --- | --- | --- | --- |"]
    for i in range(flat.sizes["_p"]):
        p = flat.isel(_p=i)
        label = ", ".join(f"{d}={p[d].item()}" for d in out.chip_yield.dims) or "-"
        lines.append(f"| {label} | {int(p.chips)} | {float(p.chip_yield):.2f} "
                     f"[{float(p.chip_yield_low):.2f}, {float(p.chip_yield_high):.2f}] | "
                     f"{float(p.final_accuracy_mean):.3f} | {energy[i]:.3g} J | "
                     f"{'*' if front[i] else ''} |")
    goal = float(out.attrs["yield_goal"])
    meets = np.flatnonzero(flat.chip_yield.values >= goal)
    meets = meets[np.isfinite(energy[meets])]
    if meets.size:
        lowest = energy[meets].min()
        for best in meets[energy[meets] == lowest]:  # designs tied at the lowest energy
            p = flat.isel(_p=best)
            label = ", ".join(f"{d}={p[d].item()}" for d in out.chip_yield.dims)
            lines.append(f"\nLowest energy at yield >= {goal:g}: {label} ({lowest:.3g} J per "
                         f"example, yield {float(p.chip_yield):.2f}, lower bound "
                         f"{float(p.chip_yield_low):.2f})")
    else:
        lines.append(f"\nNo point reaches yield >= {goal:g}")
    return "\n".join(lines)

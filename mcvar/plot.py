"""Figures of a result (matplotlib, no display needed).

Panels, as far as the result has the data:

* the headline metric against the first swept parameter: every trial as a dot, the mean and
  its 95% Student-t confidence interval (a band for numeric sweeps, error bars for labels);
  the headline metric is the final test accuracy when the scenario trains, else the
  forward-read NRMSE (else the update NRMSE); without a sweep, accuracy over epochs;
* learning curves: test accuracy over epochs per sweep point (mean and CI band);
* error histograms of every measured kernel, all trials pooled, per sweep point;
* cost: energy against the headline metric when the sweep changes the energy, else the
  energy and latency of each design.

The second sweep dimension gives one line per value; further dimensions are fixed at their
first value.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .formatting import si
from .results import sweep_dims

MAX_LINES = 8  #: lines per panel (sweep values shown)


def plot_result(ds: xr.Dataset, path) -> None:
    """Draw the panels ``ds`` supports into one figure saved at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sweep_dims(ds)
    ds = ds.isel({d: 0 for d in dims[2:]})  # fixed at their first value
    dims = dims[:2]
    metric = _headline(ds)
    energy = _energy(ds)
    panels = []
    if metric is not None:
        panels.append(lambda ax: _metric_panel(ax, ds, dims, metric))
        if dims and metric[0] == "test_accuracy":
            panels.append(lambda ax: _learning_panel(ax, ds, dims))
    if "error_histogram" in ds:
        panels += [lambda ax, k=str(k): _histogram_panel(ax, ds, dims, k)
                   for k in ds.kernel.values if _has(ds, "error_histogram", kernel=k)]
    if energy is not None:
        analog = ds[energy[0]].sel(design=_analog(ds))
        varies = float(analog.max() - analog.min()) > 0  # across sweep points
        if metric is not None and dims and varies:
            panels.append(lambda ax: _energy_panel(ax, ds, dims, metric, energy))
        else:
            panels.append(lambda ax: _design_panel(ax, ds, dims, energy))
    if not panels:
        raise ValueError("nothing to plot: the result has neither training, kernel nor cost "
                         "statistics")
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.4 * cols, 4.2 * rows), squeeze=False)
    for ax, draw in zip(axes.flat, panels):
        draw(ax)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(ds.attrs.get("scenario_name", ""))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _has(ds, name, **sel) -> bool:
    return name in ds and not bool(ds[name].sel(sel).isnull().all())


def _headline(ds):
    """``(variable, selection, label)`` of the headline metric, or None."""
    if "test_accuracy_mean" in ds:
        epoch = int(ds.epoch[-1])
        return "test_accuracy", {"epoch": epoch}, f"test accuracy after epoch {epoch}"
    for kernel in ("vmm", "opu", "mvm"):
        if "error_nrmse_mean" in ds and _has(ds, "error_nrmse_mean", kernel=kernel):
            return "error_nrmse", {"kernel": kernel}, f"{kernel} NRMSE"
    return None


def _energy(ds):
    """``(variable, time variable, what)`` of the cost to show, or None."""
    if "training_energy_per_example" in ds:
        return "training_energy_per_example", "training_time_per_example", "training example"
    if "step_energy" in ds:
        return "step_energy", "step_latency", "training step (vmm + mvm + opu)"
    return None


def _analog(ds) -> str:
    return "analog_reram" if "analog_reram" in ds.design else str(ds.design.values[0])


def _x(ds, dim):
    """Numeric x positions and tick labels (None for numeric sweeps) of dimension ``dim``."""
    values = ds[dim].values
    if values.dtype.kind in "iuf":
        return values.astype(float), None
    return np.arange(values.size, dtype=float), [str(v) for v in values]


def _lines(ds, dims):
    """``[(label, dataset slice)]``: one per value of the second sweep dimension."""
    if len(dims) < 2:
        return [("", ds)]
    return [(f"{dims[1]}={v}", ds.isel({dims[1]: i}))
            for i, v in enumerate(ds[dims[1]].values[:MAX_LINES])]


def _metric_panel(ax, ds, dims, metric) -> None:
    name, sel, label = metric
    if not dims:
        s = ds.sel({k: v for k, v in sel.items() if k != "epoch"})
        if name == "test_accuracy":  # no sweep: over epochs
            x = s.epoch.values
            ax.plot(np.repeat(x[None], s.sizes["trial"], 0).T, s[name].transpose("epoch", ...),
                    ".", color="0.6", ms=3)
            ax.fill_between(x, s[f"{name}_ci_low"], s[f"{name}_ci_high"], alpha=0.3)
            ax.plot(x, s[f"{name}_mean"], marker="o")
            ax.set_xlabel("epoch")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_ylabel("test accuracy")
        else:
            ax.plot(np.zeros(s.sizes["trial"]), s[name].values, ".", color="0.6")
            ax.errorbar([0], [float(s[f"{name}_mean"])], yerr=_yerr(s, name), fmt="o", capsize=4)
            ax.set_xticks([0], [label])
        ax.set_title(f"{label}: trials, mean, 95% CI")
        return
    x, ticks = _x(ds, dims[0])
    lines = _lines(ds, dims)
    for n, (line, s) in enumerate(lines):
        s = s.sel(sel)
        shift = (n - (len(lines) - 1) / 2) * 0.08 if ticks is not None else 0.0
        trials = s[name].transpose(dims[0], "trial").values
        ax.plot(np.repeat(x[:, None] + shift, trials.shape[1], 1), trials, ".", ms=3,
                color="0.6", zorder=1)
        if ticks is None:  # numeric sweep: a band
            ax.fill_between(x, s[f"{name}_ci_low"], s[f"{name}_ci_high"], alpha=0.25)
            ax.plot(x, s[f"{name}_mean"], marker="o", label=line or None)
        else:  # labels: error bars
            ax.errorbar(x + shift, s[f"{name}_mean"], yerr=_yerr(s, name), fmt="o", capsize=4,
                        label=line or None)
    _xaxis(ax, ds, dims[0], ticks)
    ax.set_ylabel(label)
    ax.set_title("trials (dots), mean and 95% CI")
    if len(dims) > 1:
        ax.legend(fontsize="small")


def _learning_panel(ax, ds, dims) -> None:
    s = ds.isel({dims[1]: 0}) if len(dims) > 1 else ds
    x = s.epoch.values
    for i, v in enumerate(s[dims[0]].values[:MAX_LINES]):
        p = s.isel({dims[0]: i})
        ax.fill_between(x, p.test_accuracy_ci_low, p.test_accuracy_ci_high, alpha=0.2)
        ax.plot(x, p.test_accuracy_mean, marker=".", label=f"{dims[0]}={v}")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("test accuracy")
    ax.set_title("learning curves: mean and 95% CI")
    ax.legend(fontsize="small")


def _histogram_panel(ax, ds, dims, kernel) -> None:
    s = ds.sel(kernel=kernel)
    if len(dims) > 1:
        s = s.isel({dims[1]: 0})
    centers = s.error_bin_center.values
    width = float(s.error_bin_width)
    points = [("", s)] if not dims else [(f"{dims[0]}={v}", s.isel({dims[0]: i}))
                                         for i, v in enumerate(s[dims[0]].values[:MAX_LINES])]
    for label, p in points:
        counts = p.error_histogram.sum("trial").values
        total = counts.sum()
        if total > 0:
            ax.step(centers, counts / (total * width), where="mid", label=label or None)
    unit = "weight units" if kernel == "opu" else "weight x input units"
    ax.set_xlabel(f"{kernel} error [{unit}]")
    ax.set_ylabel("probability density")
    ax.set_yscale("log")
    ax.set_title(f"{kernel} errors, all trials (end bins: out of range)")
    if dims:
        ax.legend(fontsize="small")


def _energy_panel(ax, ds, dims, metric, energy) -> None:
    from matplotlib.ticker import EngFormatter

    name, sel, label = metric
    var, _, what = energy
    design = _analog(ds)
    for line, s in _lines(ds, dims):
        s = s.sel(sel)
        e = s[var].sel(design=design).values
        ax.errorbar(e, s[f"{name}_mean"].values, yerr=_yerr(s, name), fmt="o-", capsize=3,
                    label=line or None)
        for xi, yi, v in zip(e, s[f"{name}_mean"].values, s[dims[0]].values):
            ax.annotate(str(v), (xi, yi), fontsize="x-small", xytext=(3, 3),
                        textcoords="offset points")
    energies = ds[var].sel(design=design).values
    if np.nanmax(energies) > 10 * np.nanmin(energies):
        ax.set_xscale("log")
    ax.xaxis.set_major_formatter(EngFormatter(unit="J"))
    ax.set_xlabel(f"energy per {what} ({design})")
    ax.set_ylabel(label)
    ax.set_title(f"energy vs {label.split(' after')[0]} (points: {dims[0]})")
    if len(dims) > 1:
        ax.legend(fontsize="small")


def _design_panel(ax, ds, dims, energy) -> None:
    from matplotlib.ticker import EngFormatter

    var, time_var, what = energy
    s = ds.isel({d: 0 for d in dims})
    designs = [str(d) for d in s.design.values]
    e = s[var].values
    bars = ax.bar(designs, e, color="tab:blue")
    for bar, t in zip(bars, s[time_var].values):
        ax.annotate(si(t, "s"), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize="small")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(EngFormatter(unit="J"))
    ax.set_ylabel(f"energy per {what}")
    ax.set_title(f"cost per {what} (labels: time)")


def _yerr(s, name):
    mean = s[f"{name}_mean"].values
    return np.abs(np.stack([mean - s[f"{name}_ci_low"].values, s[f"{name}_ci_high"].values - mean]))


def _xaxis(ax, ds, dim, ticks) -> None:
    units = ds[dim].attrs.get("units")
    ax.set_xlabel(dim + (f" [{units}]" if units and units != "1" else ""))
    if ticks is None and ds[dim].size <= MAX_LINES:  # label the swept values themselves
        values = ds[dim].values
        ax.set_xticks(values.astype(float), [f"{v:g}" for v in values], rotation=20)
    elif ticks is not None:
        ax.set_xticks(np.arange(len(ticks)), ticks, rotation=20)

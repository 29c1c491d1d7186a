"""Figures of a result: the headline metric vs the swept parameter, error histograms, energy vs
accuracy (matplotlib, no display needed).

The headline metric is the final-epoch test accuracy when the scenario trains, else the
forward-read NRMSE (else the update NRMSE); bands and error bars are the 95% Student-t
confidence interval of the mean over trials. The first sweep dimension is the x axis, the
second one gives one line per value, further dimensions are fixed at their first value.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .results import sweep_dims

MAX_LINES = 8  #: lines per panel (values of the second sweep dimension, histogram points)


def plot_result(ds: xr.Dataset, path) -> None:
    """Draw the panels ``ds`` supports into one figure saved at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sweep_dims(ds)
    ds = ds.isel({d: 0 for d in dims[2:]})  # fixed at their first value
    dims = dims[:2]
    metric = _headline(ds)
    kernels = [str(k) for k in ds.kernel.values if _has(ds, "error_histogram", kernel=k)] \
        if "error_histogram" in ds else []
    energy = _energy(ds)
    panels = ["metric"] * (metric is not None) + [f"hist:{k}" for k in kernels] + \
        ["energy"] * (energy is not None and metric is not None and bool(dims))
    if not panels:
        raise ValueError("nothing to plot: the result has neither training, kernel nor cost "
                         "statistics")
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.0 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        if panel == "metric":
            _metric_panel(ax, ds, dims, metric)
        elif panel == "energy":
            _energy_panel(ax, ds, dims, metric, energy)
        else:
            _histogram_panel(ax, ds, dims, panel.split(":")[1])
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
    """``(variable, design, label)`` of the energy to set against the metric, or None."""
    if "design" not in ds.dims:
        return None
    design = "analog_reram" if "analog_reram" in ds.design else str(ds.design.values[0])
    if "training_energy_per_example" in ds:
        return "training_energy_per_example", design, f"training energy per example [J] ({design})"
    if "step_energy" in ds:
        return "step_energy", design, f"energy of vmm + mvm + opu [J] ({design})"
    return None


def _x(ds, dim):
    """Numeric x positions and tick labels of sweep dimension ``dim``."""
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
    if not dims:  # no sweep: the metric over epochs (training) or a single point
        if name == "test_accuracy":
            s = ds.sel({k: v for k, v in sel.items() if k != "epoch"})
            x = s.epoch.values
            ax.fill_between(x, s[f"{name}_ci_low"], s[f"{name}_ci_high"], alpha=0.3)
            ax.plot(x, s[f"{name}_mean"], marker="o")
            ax.set_xlabel("epoch")
            ax.set_ylabel("test accuracy")
        else:
            s = ds.sel(sel)
            ax.errorbar([0], [float(s[f"{name}_mean"])], yerr=_yerr(s, name), fmt="o")
            ax.set_xticks([0], [label])
        ax.set_title(f"{label}: mean and 95% CI over trials")
        return
    x, ticks = _x(ds, dims[0])
    for line, s in _lines(ds, dims):
        s = s.sel(sel)
        ax.fill_between(x, s[f"{name}_ci_low"], s[f"{name}_ci_high"], alpha=0.25)
        ax.plot(x, s[f"{name}_mean"], marker="o", label=line or None)
    _xaxis(ax, ds, dims[0], ticks)
    ax.set_ylabel(label)
    ax.set_title("mean and 95% CI over trials")
    if len(dims) > 1:
        ax.legend(fontsize="small")


def _histogram_panel(ax, ds, dims, kernel) -> None:
    s = ds.sel(kernel=kernel)
    centers = s.error_bin_center.values
    width = float(s.error_bin_width)
    points = [("", s)] if not dims else [(f"{dims[0]}={v}", s.isel({dims[0]: i}))
                                         for i, v in enumerate(s[dims[0]].values[:MAX_LINES])]
    for label, p in points:
        if len(dims) > 1:
            p = p.isel({dims[1]: 0})
        counts = p.error_histogram.sum("trial").values
        total = counts.sum()
        if total > 0:
            ax.step(centers, counts / (total * width), where="mid", label=label or None)
    unit = "weight units" if kernel == "opu" else "weight x input units"
    ax.set_xlabel(f"{kernel} error [{unit}]")
    ax.set_ylabel("probability density")
    ax.set_yscale("log")
    ax.set_title(f"{kernel} errors, all trials")
    if dims:
        ax.legend(fontsize="small")


def _energy_panel(ax, ds, dims, metric, energy) -> None:
    name, sel, label = metric
    var, design, elabel = energy
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
    ax.set_xlabel(elabel)
    ax.set_ylabel(label)
    ax.set_title(f"cost vs {label.split(' after')[0]} (points: {dims[0]})")
    if len(dims) > 1:
        ax.legend(fontsize="small")


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

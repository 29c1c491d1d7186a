"""Figures of the study report (matplotlib, Agg backend): every function draws one PNG.

Conventions: accuracy figures show every trial as a grey dot, the mean and its 95%
confidence interval (logit t for accuracies, mcvar.stats) (bands over epochs or swept values, error bars for labels);
the study's numbers are black open markers or dotted lines.
"""

from __future__ import annotations

import numpy as np

from ..cost import COMPONENTS, DESIGNS, KERNELS
from ..cost.reference import STUDY_LATENCY
from .analysis import bounded, final_accuracy

DESIGN_NAMES = {"analog_reram": "analog ReRAM", "digital_reram": "digital ReRAM",
                "sram": "SRAM"}
DPI = 110


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    _pyplot().close(fig)


def _study(ax, x, y, label="study"):
    ax.plot(x, y, "o", mfc="none", mec="black", ms=9, mew=1.5, label=label, zorder=5)


# ----------------------------------------------------------------------------- section 1

def cost_kernels(point, path) -> None:
    """Energy and latency per kernel and tile area of the three designs (log scale), the
    study's per-kernel latencies and VMM energies beside them. ``point``: the cost result
    at the design point (no sweep dimensions)."""
    plt = _pyplot()
    fig, (ax_e, ax_t, ax_a) = plt.subplots(1, 3, figsize=(15, 4.2))
    width = 0.8 / len(DESIGNS)
    x = np.arange(len(KERNELS))
    for i, design in enumerate(DESIGNS):
        shift = (i - (len(DESIGNS) - 1) / 2) * width
        ax_e.bar(x + shift, point.kernel_energy.sel(design=design), width,
                 label=DESIGN_NAMES[design])
        ax_t.bar(x + shift, point.kernel_latency.sel(design=design), width,
                 label=DESIGN_NAMES[design])
        _study(ax_t, x + shift, STUDY_LATENCY[design], label="study" if i == 0 else None)
    for i, (design, value) in enumerate((("analog_reram", 12.8e-9), ("digital_reram", 2140e-9))):
        _study(ax_e, [(DESIGNS.index(design) - 1) * width], [value],
               label="study (VMM)" if i == 0 else None)
    ax_a.bar([DESIGN_NAMES[d] for d in DESIGNS], point.tile_area.values * 1e6,
             color=[f"C{i}" for i in range(len(DESIGNS))])
    for ax, unit, title in ((ax_e, "J", "energy per kernel"), (ax_t, "s", "latency per kernel")):
        _log_si(ax, unit)
        ax.set_xticks(x, KERNELS)
        ax.set_title(f"{title} (1024 x 1024 tile, 8-bit)")
        ax.legend(fontsize="small")
    ax_a.set_ylabel("tile area [mm$^2$]")
    ax_a.set_title("tile area")
    _save(fig, path)


def cost_components(point, path) -> None:
    """Share of each circuit component in every kernel's energy and latency and in the tile
    area, per design (totals written above the bars)."""
    from ..formatting import si

    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [3, 3, 1.3]})
    for ax, var, unit, per_kernel in ((axes[0], "energy", "J", True),
                                      (axes[1], "latency", "s", True),
                                      (axes[2], "area", "m2", False)):
        groups = [(d, k) for d in DESIGNS for k in KERNELS] if per_kernel else \
            [(d, None) for d in DESIGNS]
        values = np.array([point[var].sel(design=d, **({"kernel": k} if k else {}))
                          .sel(component=list(COMPONENTS)).values for d, k in groups])
        totals = values.sum(axis=1)
        shares = values / np.where(totals > 0, totals, 1)[:, None]
        bottom = np.zeros(len(groups))
        for c, name in enumerate(COMPONENTS):
            if np.any(shares[:, c] > 0):
                ax.bar(range(len(groups)), shares[:, c], bottom=bottom, label=name,
                       color=f"C{c}")
            bottom += shares[:, c]
        for g, total in enumerate(totals):
            text = f"{total * 1e6:.3g} mm²" if unit == "m2" else si(total, unit)
            ax.annotate(text, (g, 1.0), ha="center", va="bottom", fontsize="x-small",
                        rotation=90 if per_kernel else 0)
        labels = [f"{k}\n{DESIGN_NAMES[d]}" if k == "mvm" else k for d, k in groups] \
            if per_kernel else [DESIGN_NAMES[d].replace(" ", "\n") for d, _ in groups]
        ax.set_xticks(range(len(groups)), labels, fontsize="small")
        ax.set_ylim(0, 1.2)
        ax.set_ylabel(f"share of {var}")
        ax.set_title(f"{var} by component (totals above)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(COMPONENTS), fontsize="small")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def cost_scaling(ds, size_dim: str, bits_dim: str, design_size: str, design_bits: int,
                 path) -> None:
    """Energy per MAC and training-step latency of the three designs against array size
    (at ``design_bits``) and ADC bits (at ``design_size``); the study's point marked."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    n = ds.tile_rows.values.astype(float)
    bits = ds[bits_dim].values.astype(float)
    by_size = ds.sel({bits_dim: design_bits})
    by_bits = ds.sel({size_dim: design_size})
    study_step = {d: sum(STUDY_LATENCY[d]) for d in DESIGNS}
    for design in DESIGNS:
        label = DESIGN_NAMES[design]
        axes[0, 0].loglog(n, by_size.energy_per_mac.sel(design=design), "o-", label=label)
        axes[0, 1].loglog(n, by_size.step_latency.sel(design=design), "o-", label=label)
        axes[1, 0].semilogy(bits, by_bits.energy_per_mac.sel(design=design), "o-", label=label)
        axes[1, 1].semilogy(bits, by_bits.step_latency.sel(design=design), "o-", label=label)
    size = float(by_bits.tile_rows)
    _study(axes[0, 0], [size], [11e-15], "study (analog, 11 fJ/MAC)")
    _study(axes[1, 0], [design_bits], [11e-15], "study (analog, 11 fJ/MAC)")
    _study(axes[0, 1], [size] * 3, list(study_step.values()), "study")
    _study(axes[1, 1], [design_bits] * 3, list(study_step.values()), "study")
    for ax, unit in zip(axes.flat, ("J", "s", "J", "s")):
        _log_si(ax, unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    for ax in axes[0]:
        ax.set_xticks(n, [f"{v:g}" for v in n], rotation=30)
        ax.minorticks_off()
        ax.set_xlabel("array size N (N x N tile)")
    for ax in axes[1]:
        ax.set_xticks(bits)
        ax.set_xlabel("ADC bits")
    axes[0, 0].set_title(f"energy per MAC, training step ({design_bits}-bit ADC)")
    axes[0, 1].set_title(f"training-step latency, vmm + mvm + opu ({design_bits}-bit ADC)")
    axes[1, 0].set_title(f"energy per MAC ({design_size} x {design_size} tile)")
    axes[1, 1].set_title(f"training-step latency ({design_size} x {design_size} tile)")
    _save(fig, path)


def _log_si(ax, unit: str, axis: str = "y") -> None:
    from matplotlib.ticker import EngFormatter

    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"{axis}axis").set_major_formatter(EngFormatter(unit=unit))


# ----------------------------------------------------------------------------- section 2

def accuracy_curves(results: dict, dim: str, path) -> None:
    """Test accuracy against epoch per configuration (mean, 95% CI band), one panel per
    data set (``results``: title -> result Dataset swept along ``dim``)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.4), squeeze=False)
    for ax, (title, ds) in zip(axes.flat, results.items()):
        x = ds.epoch.values
        for i, label in enumerate(ds[dim].values):
            p = ds.sel({dim: label})
            ax.fill_between(x, *bounded(p.test_accuracy_ci_low, p.test_accuracy_ci_high),
                            alpha=0.2, color=f"C{i}")
            ax.plot(x, p.test_accuracy_mean, "o-", ms=3, color=f"C{i}", label=str(label))
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{title}: mean and 95% CI over {ds.sizes['trial']} trials")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    _save(fig, path)


def accuracy_final(results: dict, dim: str, path) -> None:
    """Final test accuracy per configuration: trials, mean and 95% CI, per data set."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.4), squeeze=False)
    for ax, (title, ds) in zip(axes.flat, results.items()):
        final = final_accuracy(ds)
        labels = [str(v) for v in ds[dim].values]
        for i, label in enumerate(ds[dim].values):
            trials = final.sel({dim: label}).values
            ax.plot(np.full(trials.size, i), trials, ".", color="0.6", zorder=1)
            mean = float(ds.test_accuracy_mean.sel({dim: label}).isel(epoch=-1))
            low, high = bounded(float(ds.test_accuracy_ci_low.sel({dim: label}).isel(epoch=-1)),
                                float(ds.test_accuracy_ci_high.sel({dim: label}).isel(epoch=-1)))
            err = [[mean - low], [high - mean]] if np.isfinite(low) else None
            ax.errorbar([i], [mean], yerr=err, fmt="o", capsize=5, color=f"C{i}")
        ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_ylabel(f"test accuracy after epoch {int(ds.epoch[-1])}")
        ax.set_title(f"{title}: trials, mean, 95% CI")
        ax.grid(True, axis="y", alpha=0.3)
    _save(fig, path)


# ----------------------------------------------------------------------------- section 3

def requirements(panels: list[dict], path) -> None:
    """Final accuracy against each swept non-ideality, with the 1-point threshold.

    ``panels``: dicts with ``title``, ``xlabel``, ``lines`` (list of ``(label, x, accuracy
    (points, trials), Tolerance)``) and optionally ``study`` (x of the study's tolerance).
    """
    plt = _pyplot()
    cols = 2
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 4.4 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        for i, (label, x, acc, tol) in enumerate(panel["lines"]):
            color = f"C{i}"
            acc = np.asarray(acc, float)
            ax.plot(np.repeat(x[:, None], acc.shape[1], 1), acc, ".", color="0.65", ms=3,
                    zorder=1)
            _mean_band(ax, x, acc, color, label)
            ax.axhline(tol.reference_accuracy - tol.drop, color=color, ls="--", lw=0.8)
            if tol.value is not None:
                ax.axvline(tol.value, color=color, lw=1.2)
                low = tol.low if tol.low is not None else x[0]
                high = tol.high if tol.high is not None else x[-1]
                ax.axvspan(low, high, color=color, alpha=0.12)
        if panel.get("study") is not None:
            ax.axvline(panel["study"], color="black", ls=":", lw=1.5,
                       label=panel.get("study_label", "study"))
        ax.set_xlabel(panel["xlabel"])
        ax.set_ylabel("final test accuracy")
        ax.set_title(panel["title"])
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    _save(fig, path)


def _mean_band(ax, x, acc, color, label) -> None:
    from ..stats import proportion_interval

    n = np.isfinite(acc).sum(axis=1)
    mean = np.nanmean(acc, axis=1)
    std = np.nanstd(acc, axis=1, ddof=1) if acc.shape[1] > 1 else np.full(len(x), np.nan)
    low, high = proportion_interval(mean, std, n)
    ax.fill_between(x, low, high, color=color, alpha=0.25)
    ax.plot(x, mean, "o-", color=color, label=label)


# ----------------------------------------------------------------------------- section 4

def pareto(panels: list[dict], path) -> None:
    """Energy per training example against final accuracy per configuration.

    ``panels``: dicts with ``title`` and ``points``: list of dicts ``label``, ``energy``,
    ``energy_high`` (error bar's upper end) [J], ``mean``, ``ci_low``, ``ci_high`` [1], ``digital``
    (bool: a digital baseline) and ``front`` (bool: on the Pareto front).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        points = panel["points"]
        front = sorted((p for p in points if p["front"]), key=lambda p: p["energy"])
        if len(front) > 1:
            ax.step([p["energy"] for p in front], [p["mean"] for p in front], where="post",
                    color="0.5", lw=1, ls="--", label="Pareto front")
        spread = _spread([p["energy"] for p in points])
        for i, (p, shift) in enumerate(zip(points, spread)):
            xerr = [[0.0], [p["energy_high"] - p["energy"]]]
            yerr = [[p["mean"] - p["ci_low"]], [p["ci_high"] - p["mean"]]] \
                if np.isfinite(p["ci_low"]) else None
            ax.errorbar([p["energy"] * shift], [p["mean"]], xerr=xerr, yerr=yerr,
                        fmt="s" if p["digital"] else "o", ms=7, capsize=4, color=f"C{i}",
                        mfc="none" if p["digital"] else f"C{i}", label=p["label"])
        _log_si(ax, "J", "x")
        ax.set_xlabel("energy per training example")
        ax.set_ylabel("final test accuracy (mean, 95% CI)")
        ax.set_title(panel["title"] + (" (equal energies drawn side by side)"
                                       if np.any(spread != 1) else ""))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="x-small")
    _save(fig, path)


def _spread(energies, step: float = 1.06) -> np.ndarray:
    """Factors that draw points of equal energy side by side on a log axis (1: alone)."""
    e = np.asarray(energies, float)
    out = np.ones(e.size)
    for value in np.unique(e):
        same = np.flatnonzero(e == value)
        out[same] = step ** (np.arange(same.size) - (same.size - 1) / 2)
    return out

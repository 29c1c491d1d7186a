"""Figures of a result (matplotlib, no display needed): what ``mcvar plot`` draws.

The panels are chosen from what the result contains (:func:`panels`):

* ``final``: final test accuracy per configuration (sweep point): every trial as a
  jittered, semi-transparent dot, the mean and its 95% confidence interval beside them
  (the logit t interval of :mod:`mcvar.stats`, always within [0, 100] %), the mean written
  next to it with its distance to the best configuration in percentage points, and a dashed
  line at the best mean;
* ``curves``: test accuracy against epoch per configuration, mean and 95% interval band
  (with more than one epoch);
* ``energy``: energy per training example (log axis) against final accuracy, one point per
  configuration on the analog ReRAM design with its accuracy interval; the digital designs
  at the float64 twin's accuracy (they compute exactly) when the result has the twin;
* ``nrmse``: kernel error (NRMSE) per sweep point: trials, mean and 95% Student-t interval;
* ``histogram``: error histogram of the first measured kernel, all trials pooled;
* ``kernel_energy``, ``kernel_latency``: energy and latency of one tile kernel per design,
  grouped bars on a linear axis with the values written on them (without training, or when
  the cost does not change across the sweep).

Conventions: axis labels from the variables' ``long_name`` and ``units``; SI prefixes
(µJ, ns); the Okabe-Ito colour-blind-safe palette for labels, viridis for numeric sweeps;
panels of one column of a two-column paper (3.4 x 2.7 in) at 8 pt. The second sweep
dimension gives one series per value (at most :data:`MAX_LINES`); further dimensions are
fixed at their first value. The file type follows the suffix (.png, .pdf, .svg).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .formatting import si
from .results import sweep_dims

MAX_LINES = 8  #: series per panel (values of the second sweep dimension)
FORMATS = (".png", ".pdf", ".svg")  #: figure file types
PANEL_SIZE = (3.4, 2.75)  #: inches per panel: one column of a two-column paper
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
             "#F0E442")  #: colour-blind-safe palette (Okabe & Ito 2008), most distinct first
DESIGN_NAMES = {"analog_reram": "analog ReRAM", "digital_reram": "digital ReRAM",
                "sram": "SRAM"}
STYLE = {"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 6.5,
         "xtick.labelsize": 7, "ytick.labelsize": 7, "axes.spines.top": False,
         "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
         "grid.linewidth": 0.5, "lines.linewidth": 1.2, "legend.frameon": False,
         "pdf.fonttype": 42, "svg.fonttype": "none", "figure.titlesize": 9}


def plot_result(ds: xr.Dataset, path, which=None) -> list[str]:
    """Draw the panels ``ds`` supports (or those named in ``which``) into one figure saved at
    ``path`` (.png, .pdf or .svg); returns the names of the panels drawn. Raises ValueError
    if there is nothing to draw or the suffix is not a figure type."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = str(path)[str(path).rfind("."):].lower() if "." in str(path) else ""
    if suffix not in FORMATS:
        raise ValueError(f"{path}: the figure type follows the suffix, one of "
                         f"{', '.join(FORMATS)}")
    view = _View(ds)
    names = panels(ds) if which is None else list(which)
    if not names:
        raise ValueError("nothing to plot: the result has neither training, kernel nor cost "
                         "statistics")
    cols = 2 if len(names) in (2, 4) else min(3, len(names))
    rows = -(-len(names) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, squeeze=False, layout="constrained",
                                 figsize=(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows + 0.3))
        for n, (ax, name) in enumerate(zip(axes.flat, names)):
            getattr(view, name)(ax)
            title, size = ax.get_title(), ax.title.get_fontsize()
            ax.set_title("")
            ax.set_title(f"({'abcdefghij'[n]}) {title}", loc="left", fontsize=size)
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
        title = ds.attrs.get("scenario_name", "")
        about = ds.attrs.get("scenario_description", "")
        fig.suptitle(f"{title}: {about}" if about else title, ha="left", x=0.01,
                     wrap=True)
        fig.savefig(path, dpi=200)
        plt.close(fig)
    return names


def panels(ds: xr.Dataset) -> list[str]:
    """Names of the panels ``ds`` supports, in drawing order (see the module text)."""
    out = []
    training = "test_accuracy" in ds
    if training:
        out.append("final")
        if ds.sizes.get("epoch", 0) > 1:
            out.append("curves")
        if "training_energy_per_example" in ds:
            out.append("energy")
    if "error_nrmse" in ds and _kernels(ds):
        out.append("nrmse")
        if "error_histogram" in ds:
            out.append("histogram")
    if "kernel_energy" in ds and len(out) < 5:
        out += ["kernel_energy", "kernel_latency"]
    return out


# ----------------------------------------------------------------------------- helpers

def label(var: xr.DataArray, name: str | None = None) -> str:
    """Axis label of ``var``: its ``long_name`` up to the first parenthesis, colon or
    semicolon, and ``[units]`` unless dimensionless."""
    text = var.attrs.get("long_name") or (name or str(var.name)).replace("_", " ")
    if text.startswith("sweep point of the zipped"):
        text = (name or str(var.name)).replace("_", " ")
    for sep in (" (", ":", ";"):
        text = text.split(sep)[0]
    units = var.attrs.get("units")
    return text + (f" [{units}]" if units not in (None, "1", "") else "")


def _kernels(ds) -> list[str]:
    return [str(k) for k in ds.kernel.values
            if not bool(ds.error_nrmse.sel(kernel=k).isnull().all())]


def _value_text(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:g}"
    return str(v)


class _View:
    """The result reduced to what the panels draw: sweep positions, series, statistics."""

    def __init__(self, ds: xr.Dataset):
        from .stats import summarize

        dims = sweep_dims(ds)
        ds = ds.isel({d: 0 for d in dims[2:]})  # further dimensions: their first value
        self.ds, self.dims = ds, dims[:2]
        self.dim = self.dims[0] if self.dims else None
        self.values = list(ds[self.dim].values) if self.dim else [None]
        self.x = np.arange(len(self.values), dtype=float)
        numeric = self.dim is not None and ds[self.dim].dtype.kind in "iuf"
        self.colors = (_sequential(len(self.values)) if numeric
                       else [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(self.values))])
        if len(self.dims) > 1:
            second = ds[self.dims[1]].values[:MAX_LINES]
            self.series = [(f"{self.dims[1]} = {_value_text(v)}", {self.dims[1]: i})
                           for i, v in enumerate(second)]
        else:
            self.series = [("", {})]
        if "test_accuracy" in ds:
            self.acc = summarize(ds.test_accuracy, "trial", proportion=True)
        self.twin = None
        if "training_backend" in ds.coords and self.dim in ds.training_backend.dims:
            twin = [i for i, b in enumerate(ds.training_backend.values) if b == "numeric"]
            self.twin = twin[0] if twin else None

    def _ticks(self, ax) -> None:
        if self.dim is None:
            ax.set_xticks([0], ["result"])
            return
        texts = [_value_text(v) for v in self.values]
        ax.set_xticks(self.x, texts, rotation=30 if max(map(len, texts)) > 6 else 0,
                      ha="right" if max(map(len, texts)) > 6 else "center")
        ax.set_xlabel(label(self.ds[self.dim], self.dim))
        ax.set_xlim(-0.6, len(self.values) - 0.4)
        ax.grid(False, axis="x")

    def _offsets(self):
        n = len(self.series)
        return [(k - (n - 1) / 2) * 0.8 / max(n, 1) for k in range(n)]

    # ------------------------------------------------------------------ accuracy

    def final(self, ax) -> None:
        ds, acc = self.ds, self.acc
        epoch = int(ds.epoch[-1])
        final = ds.test_accuracy.sel(epoch=epoch)
        stats = acc.sel(epoch=epoch)
        rng = np.random.default_rng(0)  # fixed jitter: the same figure every time
        width = 0.8 / len(self.series)
        best = float(stats["mean"].max())
        for (name, sel), offset, k in zip(self.series, self._offsets(), range(len(self.series))):
            f, s = final.isel(sel), stats.isel(sel)
            for i in range(len(self.values)):
                point = {self.dim: i} if self.dim else {}
                trials = f.isel(point).values
                trials = trials[np.isfinite(trials)]
                color = self.colors[i] if len(self.series) == 1 else OKABE_ITO[k]
                xt = self.x[i] + offset - 0.18 * width + rng.uniform(-0.12, 0.12,
                                                                   trials.size) * width
                ax.scatter(xt, 100 * trials, s=9, color=color, alpha=0.45, lw=0, zorder=2)
                mean = float(s["mean"].isel(point))
                low, high = float(s["ci_low"].isel(point)), float(s["ci_high"].isel(point))
                xm = self.x[i] + offset + 0.2 * width
                yerr = [[100 * (mean - low)], [100 * (high - mean)]] if np.isfinite(low) else None
                ax.errorbar([xm], [100 * mean], yerr=yerr, fmt="o", ms=4.5, color=color,
                            mec="black", mew=0.6, capsize=2.5, elinewidth=1.2, zorder=3,
                            label=name if i == 0 and name else None)
                gap = 100 * (best - mean)
                text = f"{100 * mean:.1f}" + (f"\n−{gap:.1f}" if gap >= 0.05 else "\nbest")
                ax.annotate(text, (xm, 100 * mean), xytext=(4, 0), textcoords="offset points",
                            fontsize=6, va="center", linespacing=0.9)
        ax.axhline(100 * best, color="0.3", ls="--", lw=0.7, zorder=1)
        self._ticks(ax)
        ax.set_ylabel("test accuracy [%]")
        ax.set_title(f"final accuracy (epoch {epoch}): trials, mean, 95% CI\n"
                     "labels: mean [%], below: points behind the best", fontsize=7.5)
        if len(self.series) > 1:
            ax.legend()

    def curves(self, ax) -> None:
        acc = self.acc.isel(self.series[0][1])
        x = self.ds.epoch.values
        for i, v in enumerate(self.values[:MAX_LINES] if self.dim else [None]):
            s = acc.isel({self.dim: i}) if self.dim else acc
            ax.fill_between(x, 100 * s.ci_low, 100 * s.ci_high, color=self.colors[i],
                            alpha=0.2, lw=0)
            ax.plot(x, 100 * s["mean"], "o-", ms=2.5, color=self.colors[i],
                    label=_value_text(v) if self.dim else None)
        ax.set_xlabel(label(self.ds.epoch, "epoch"))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("test accuracy [%]")
        ax.set_title("accuracy over training: mean, 95% CI band")
        if self.dim:
            ax.legend(title=label(self.ds[self.dim], self.dim), title_fontsize=6.5)

    # ------------------------------------------------------------------ cost

    def energy(self, ax) -> None:
        from matplotlib.ticker import EngFormatter, NullFormatter

        ds, epoch = self.ds, int(self.ds.epoch[-1])
        stats = self.acc.sel(epoch=epoch).isel(self.series[0][1])
        var = ds.training_energy_per_example
        if len(self.dims) > 1:
            var = var.isel(self.series[0][1])
        design = "analog_reram" if "analog_reram" in ds.design else str(ds.design.values[0])
        energies = []
        for i, v in enumerate(self.values):
            if i == self.twin:
                continue
            point = {self.dim: i} if self.dim else {}
            e = float(var.sel(design=design).isel(point))
            m = float(stats["mean"].isel(point))
            low, high = float(stats.ci_low.isel(point)), float(stats.ci_high.isel(point))
            yerr = [[100 * (m - low)], [100 * (high - m)]] if np.isfinite(low) else None
            if e not in energies:  # equal costs: one label
                self._cost_note(ax, e, m, var.name, point, design)
            ax.errorbar([e], [100 * m], yerr=yerr, fmt="o", ms=5, color=self.colors[i],
                        mec="black", mew=0.6, capsize=2.5,
                        label=f"{_value_text(v)} ({DESIGN_NAMES.get(design, design)})"
                        if self.dim else DESIGN_NAMES.get(design, design))
            energies.append(e)
        if self.twin is not None:  # digital designs compute exactly: the twin's accuracy
            point = {self.dim: self.twin}
            m = float(stats["mean"].isel(point))
            low, high = float(stats.ci_low.isel(point)), float(stats.ci_high.isel(point))
            for n, d in enumerate(x for x in ds.design.values if x != "analog_reram"):
                e = float(var.sel(design=d).isel(point))
                yerr = [[100 * (m - low)], [100 * (high - m)]] if np.isfinite(low) else None
                self._cost_note(ax, e, m, var.name, point, str(d),
                                offset=(-5, -9) if n % 2 == 0 else (5, -9))
                ax.errorbar([e], [100 * m], yerr=yerr, fmt="sD"[n % 2], ms=5, mfc="white",
                            color="0.25", capsize=2.5,
                            label=f"{DESIGN_NAMES.get(str(d), str(d))} (exact, "
                                  f"{_value_text(self.values[self.twin])})")
                energies.append(e)
        ax.set_xscale("log")
        lo, hi = min(energies), max(energies)
        ax.set_xlim(lo / 2.5, hi * 5)
        ax.xaxis.set_major_formatter(EngFormatter(unit="J", places=0))
        ax.xaxis.set_minor_formatter(NullFormatter())  # the limits span a decade or more
        ax.set_xlabel(label(var).split(" [")[0])
        ax.set_ylabel(f"test accuracy after epoch {epoch} [%]")
        ax.set_title("energy against accuracy (mean, 95% CI)\nlabels: energy, time per example",
                     fontsize=7.5)
        ax.legend(loc="best")

    def _cost_note(self, ax, energy, accuracy, name, point, design, offset=(5, 0)) -> None:
        time = self.ds[name.replace("energy", "time")] if name.replace(
            "energy", "time") in self.ds else None
        text = si(energy, "J")
        if time is not None:
            if len(self.dims) > 1:
                time = time.isel(self.series[0][1])
            text += "\n" + si(float(time.sel(design=design).isel(point)), "s")
        ax.annotate(text, (energy, 100 * accuracy), xytext=offset, textcoords="offset points",
                    fontsize=5.5, va="center" if offset[1] == 0 else "top",
                    ha="left" if offset[0] > 0 else "right", linespacing=0.9)

    def _kernel_cost(self, ax, name, unit, what) -> None:
        ds = self.ds
        point = {}
        if self.dim is not None:  # the first sweep point that runs on analog tiles
            i = next((i for i in range(len(self.values)) if i != self.twin), 0)
            point = {d: 0 for d in self.dims if d in ds[name].dims}
            if self.dim in ds[name].dims:
                point[self.dim] = i
        var = ds[name].isel(point)
        kernels = [str(k) for k in var.kernel.values]
        designs = [str(d) for d in var.design.values]
        scale = max(float(var.max()), 1e-300)
        exp = int(3 * np.floor(np.log10(scale) / 3))
        prefix = si(10.0 ** exp, unit).split(" ")[1]
        width = 0.8 / len(designs)
        for n, d in enumerate(designs):
            values = var.sel(design=d).values / 10.0 ** exp
            xs = np.arange(len(kernels)) + (n - (len(designs) - 1) / 2) * width
            bars = ax.bar(xs, values, width * 0.92, color=OKABE_ITO[n % len(OKABE_ITO)],
                          label=DESIGN_NAMES.get(d, d))
            for bar, v in zip(bars, var.sel(design=d).values):
                ax.annotate(si(v, unit).replace(" ", "\u2009"),
                            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            xytext=(0, 1.5), textcoords="offset points", ha="center",
                            va="bottom", fontsize=5.5, rotation=90)
        ax.set_xticks(np.arange(len(kernels)), kernels)
        ax.set_xlabel("tile kernel (vmm, mvm: reads; opu: update)")
        ax.set_ylabel(f"{label(var).split(' [')[0]} [{prefix}]")
        ax.margins(y=0.3)
        ax.grid(False, axis="x")
        at = ", ".join(f"{d} = {_value_text(ds[d].values[i])}" for d, i in point.items()
                       if d in self.dims)
        ax.set_title(f"{what} per kernel and design" + (f"\n({at})" if at else ""),
                     fontsize=7.5)
        ax.legend(fontsize=6)

    def kernel_energy(self, ax) -> None:
        self._kernel_cost(ax, "kernel_energy", "J", "energy of one tile")

    def kernel_latency(self, ax) -> None:
        self._kernel_cost(ax, "kernel_latency", "s", "latency of one tile")

    # ------------------------------------------------------------------ kernel errors

    def nrmse(self, ax) -> None:
        ds = self.ds
        kernels = _kernels(ds)
        rng = np.random.default_rng(1)
        sel = self.series[0][1]
        n = len(kernels)
        for k, kernel in enumerate(kernels):
            s = ds.sel(kernel=kernel).isel(sel)
            offset = (k - (n - 1) / 2) * 0.8 / n
            color = OKABE_ITO[k % len(OKABE_ITO)]
            for i in range(len(self.values)):
                point = {self.dim: i} if self.dim else {}
                trials = s.error_nrmse.isel(point).values
                xt = self.x[i] + offset - 0.1 + rng.uniform(-0.06, 0.06, trials.size)
                ax.scatter(xt, trials, s=8, color=color, alpha=0.45, lw=0, zorder=2)
            mean = s.error_nrmse_mean.values if not self.dim else \
                s.error_nrmse_mean.transpose(self.dim).values
            low = s.error_nrmse_ci_low.values if not self.dim else \
                s.error_nrmse_ci_low.transpose(self.dim).values
            high = s.error_nrmse_ci_high.values if not self.dim else \
                s.error_nrmse_ci_high.transpose(self.dim).values
            mean, low, high = (np.atleast_1d(a) for a in (mean, low, high))
            yerr = np.where(np.isfinite(low), [mean - low, high - mean], 0)
            ax.errorbar(self.x + offset + 0.06, mean, yerr=np.abs(yerr), fmt="o-", ms=4,
                        color=color, mec="black", mew=0.5, capsize=2.5, lw=0.8, zorder=3,
                        label=kernel)
        self._ticks(ax)
        ax.set_ylabel("NRMSE of the kernel's outputs")
        ax.set_title("kernel error: trials, mean, 95% CI")
        ax.legend(title="kernel", title_fontsize=6.5)

    def histogram(self, ax) -> None:
        ds = self.ds
        kernel = _kernels(ds)[0]
        s = ds.sel(kernel=kernel).isel(self.series[0][1])
        centers = s.error_bin_center.values
        width = float(s.error_bin_width)
        for i, v in enumerate(self.values[:MAX_LINES]):
            p = s.isel({self.dim: i}) if self.dim else s
            counts = p.error_histogram.sum("trial").values
            total = counts.sum()
            if total > 0:
                ax.step(centers, counts / (total * width), where="mid", color=self.colors[i],
                        lw=1, label=_value_text(v) if self.dim else None)
        unit = "weight units" if kernel == "opu" else "weight x input units"
        ax.set_xlabel(f"{kernel} error [{unit}]")
        ax.set_ylabel("probability density")
        ax.set_yscale("log")
        ax.set_title(f"{kernel} errors, all trials (end bins: out of range)", fontsize=7.5)
        ax.set_ylim(top=ax.get_ylim()[1] * 300)  # room for the legend above the curves
        if self.dim:
            ax.legend(title=label(self.ds[self.dim], self.dim), title_fontsize=6.5,
                      loc="upper center", ncols=min(4, len(self.values)), fontsize=6,
                      columnspacing=1.0, handlelength=1.5)


def _sequential(n: int) -> list:
    """``n`` colours of viridis, dark to light, without its lightest yellow."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.85, n)] if n > 1 else [cmap(0.0)]


# ------------------------------------------------------------------- design space

def _figure(n_panels: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(2, n_panels)
    rows = -(-n_panels // cols)
    fig, axes = plt.subplots(rows, cols, squeeze=False, layout="constrained",
                             figsize=(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows + 0.3))
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return plt, fig, axes.flat


def _points(da: xr.DataArray, skip: tuple[str, ...]) -> list[tuple[str, dict]]:
    """``(label, selection)`` of every point of ``da``'s dims other than ``skip``."""
    import itertools

    dims = [d for d in da.dims if d not in skip]
    return [(", ".join(map(str, values)), dict(zip(dims, values)))
            for values in itertools.product(*(da[d].values.tolist() for d in dims))]


def plot_sensitivity(out: xr.Dataset, path) -> None:
    """Bars of the sensitivity indices of :func:`mcvar.sensitivity.analyze`: one panel per
    output and point of the other sweep dims; Sobol ``S1`` and ``ST`` with their bootstrap
    intervals, or Morris ``mu_star`` (interval) beside ``sigma``."""
    sobol = "S1" in out
    keys = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")) if sobol else \
        (("mu_star", "mu_star_conf", "mu* (mean |effect|)"), ("sigma", None, "sigma"))
    points = _points(out[keys[0][0]], ("output", "parameter"))
    panels = [(o, lab, sel) for lab, sel in points for o in out.output.values]
    plt, fig, axes = _figure(len(panels))
    names = [str(p).split(".")[-1].replace("_", " ") for p in out.parameter.values]
    x = np.arange(len(names))
    with plt.rc_context(STYLE):
        for ax, (o, lab, sel) in zip(axes, panels):
            for j, (key, conf, text) in enumerate(keys):
                v = out[key].sel(output=o, **sel).values
                err = out[conf].sel(output=o, **sel).values if conf else None
                ax.bar(x + (j - 0.5) * 0.38, v, 0.38, yerr=err, capsize=2,
                       color=OKABE_ITO[j], label=text)
            ax.set_xticks(x, names, rotation=30, ha="right")
            ax.set_ylabel("index [1]" if sobol else "effect / output std [1]")
            ax.set_title(f"{o.replace('_', ' ')}" + (f" ({lab})" if lab else ""), loc="left")
            ax.axhline(0, color="k", lw=0.5)
            ax.legend()
        fig.suptitle(out.attrs.get("title", ""), ha="left", x=0.01)
        fig.savefig(path, dpi=200)
    plt.close(fig)


def plot_pareto(out: xr.Dataset, front: np.ndarray, path) -> None:
    """Energy per training example against chip yield (left) and mean final accuracy
    (right) of every sweep point of :func:`mcvar.yields.chip_yield`, with Clopper-Pearson
    intervals; the Pareto front (``front``, over the flattened points) joined by a line."""
    import matplotlib.ticker

    dims = list(out.chip_yield.dims)
    flat = out.stack(_p=dims) if dims else out.expand_dims(_p=[0])
    energy = flat.energy_per_example.values
    plt, fig, axes = _figure(2)
    labels = [", ".join(map(str, v if isinstance(v, tuple) else (v,))) for v in flat._p.values]
    with plt.rc_context(STYLE):
        ax = axes[0]
        y = flat.chip_yield.values
        err = np.stack([y - flat.chip_yield_low.values, flat.chip_yield_high.values - y])
        ax.errorbar(energy, y, yerr=err, fmt="o", ms=3, capsize=2, color=OKABE_ITO[0])
        order = np.argsort(energy[front])
        ax.plot(energy[front][order], y[front][order], "-", color=OKABE_ITO[1],
                label="Pareto front")
        for e, v, text in zip(energy, y, labels):
            ax.annotate(text, (e, v), fontsize=5, xytext=(2, 2), textcoords="offset points")
        ax.axhline(out.attrs["yield_goal"], ls="--", color="k", lw=0.6, label="yield goal")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("training energy per example [J]")
        ax.set_ylabel(f"chip yield (accuracy >= {out.attrs['accuracy_target']:g}) [1]")
        ax.legend()
        ax = axes[1]
        ax.plot(energy, flat.final_accuracy_mean.values, "o", ms=3, color=OKABE_ITO[2])
        for e, v, text in zip(energy, flat.final_accuracy_mean.values, labels):
            ax.annotate(text, (e, v), fontsize=5, xytext=(2, 2), textcoords="offset points")
        ax.axhline(out.attrs["accuracy_target"], ls="--", color="k", lw=0.6,
                   label="accuracy target")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("training energy per example [J]")
        ax.set_ylabel("mean final test accuracy [1]")
        ax.legend()
        fig.suptitle(out.attrs.get("title", ""), ha="left", x=0.01)
        fig.savefig(path, dpi=200)
    plt.close(fig)

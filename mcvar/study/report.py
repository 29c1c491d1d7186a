"""The study report: ``report.md`` and its figures, every number read from the study's results.

Sections: headline (the study's numbers next to ours), 1 cost, 2 accuracy, 3 device
requirements, 4 energy per training example against accuracy, and the settings behind each
number (sizes, seeds, wall times) with the result files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cost import DESIGNS, KERNELS
from ..formatting import si
from . import figures, reference
from .analysis import DROP, accuracy_summary, final_accuracy, pareto_front, tolerance
from .plan import PARTS, Sizes

DESIGN_SIZE, DESIGN_BITS = "1024", 8  #: the study's design point in the cost sweep
KIND = "device_kind"  #: sweep dimension of the accuracy scenarios
DATASETS = {"digits": "digits 64-36-10", "file_types": "file types 256-150-9"}
SHORT = {"digits": "digits", "file_types": "file types", "mnist": "MNIST"}
#: the study scenarios' periodic-carry configurations (how the carries are written)
CARRY_LABELS = ("TaOx + carry (exact)", "TaOx + carry (v2.0 open-loop)",
                "TaOx + carry (calibrated reset)")
FIGURES = {"cost_kernels": "figures/cost_kernels.png",
           "cost_components": "figures/cost_components.png",
           "cost_scaling": "figures/cost_scaling.png",
           "accuracy_curves": "figures/accuracy_curves.png",
           "accuracy_final": "figures/accuracy_final.png",
           "requirements": "figures/requirements.png",
           "pareto": "figures/pareto.png"}
HEADINGS = ("## Headline: the study and this run", "## 1. Cost: energy, latency and area",
            "## 2. Accuracy on digits and file types", "## 3. Device requirements",
            "## 4. Energy per training example against accuracy", "## Settings and files")
MNIST_HEADING = "## 5. MNIST 784-300-10: the study's own experiment"  #: with ``--mnist`` only
DESIGN_NAMES = figures.DESIGN_NAMES


@dataclass(frozen=True)
class Requirement:
    """A device-requirement sweep: which result, which coordinate, how to print it."""

    key: str  #: part key of the result
    title: str
    x: str  #: coordinate of the swept value
    xlabel: str
    by: str | None = None  #: a second sweep dimension giving one line per value


REQUIREMENTS = (
    Requirement("read_noise", "read noise (linear device)", "device_read_noise",
                "read noise std [fraction of g_max - g_min]"),
    Requirement("write_noise", "write noise (linear device, CrossSim per-update model)",
                "device_write_noise", "write noise sigma_wn [1]"),
    Requirement("nonlinearity", "update nonlinearity (CrossSim forms)", "device_nonlinearity",
                "nonlinearity strength a [1]", by="device_model"),
    Requirement("d2d", "device-to-device spread (soft-bounds device)", "device_dw_min_dtod",
                "d2d spread of step size and both bounds (relative std) [1]"),
)


@dataclass(frozen=True)
class Meta:
    """How the study ran."""

    mode: str  #: "default" or "quick"
    command: str
    where: str  #: "2 local workers", "synchronous", a scheduler address
    seconds: dict  #: wall time per part key [s]
    estimated: dict  #: estimated single-core seconds per part key [s]
    workers: int | None  #: workers of the estimate (None: unknown)
    version: str
    host: str
    created: str


def write_report(out, scenarios: dict, results: dict, meta: Meta) -> Path:
    """Write ``out/report.md`` and ``out/figures/*.png`` from ``results`` (part key ->
    Dataset) of ``scenarios`` (part key -> Scenario); returns the report's path. A part
    ``"mnist"`` (``study_scenarios(mnist=True)``) adds its section and headline numbers."""
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    cost = _cost_numbers(results["cost"])
    accuracy = {k: accuracy_summary(results[k], KIND) for k in (*DATASETS, "mnist")
                if k in results}
    requirements = _requirements(scenarios, results)
    pareto = {k: _pareto_points(scenarios[k], results[k], accuracy[k]) for k in DATASETS}
    _figures(out, scenarios, results, cost, requirements, pareto)
    parts = [_title(meta), _headline(scenarios, cost, accuracy, requirements),
             _cost_section(cost, results["cost"]), _accuracy_section(scenarios, accuracy),
             _requirements_section(scenarios, requirements), _pareto_section(pareto)]
    if "mnist" in results:
        parts.append(mnist_section(scenarios["mnist"], results["mnist"]))
    parts.append(_settings_section(scenarios, meta))
    path = out / "report.md"
    path.write_text("\n\n".join(p.strip("\n") for p in parts) + "\n")
    return path


# ----------------------------------------------------------------------------- numbers

def _cost_numbers(ds) -> dict:
    from ..cost.reference import compare

    if DESIGN_SIZE not in ds["size"].values or DESIGN_BITS not in ds.periphery_adc_bits.values:
        raise ValueError(f"the cost result has no design point (size {DESIGN_SIZE}, "
                         f"periphery.adc_bits {DESIGN_BITS}): check scenarios/study_cost.toml")
    point = ds.sel(size=DESIGN_SIZE, periphery_adc_bits=DESIGN_BITS)
    return {"point": point, "rows": {r["quantity"]: r for r in compare(point)}}


def _requirements(scenarios, results) -> list[dict]:
    """Per requirement: its lines ``(label, x, accuracy (points, trials), Tolerance)``."""
    out = []
    for req in REQUIREMENTS:
        ds = results[req.key]
        groups = [(None, ds)] if req.by is None else \
            [(str(v).replace("crosssim_", ""), ds.sel({req.by: v})) for v in ds[req.by].values]
        lines = []
        for label, s in groups:
            dim = s[req.x].dims[0]
            x = s[req.x].values.astype(float)
            acc = final_accuracy(s).transpose(dim, "trial").values
            lines.append((label, x, acc, tolerance(x, acc)))
        out.append({"req": req, "lines": lines})
    return out


def _write_noise_factor(scenario) -> float:
    """Fraction of the range per unit sigma_wn of a one-pulse update: sqrt(dw_min / (w_max -
    w_min)) (CrossSim's model: std = sigma_wn sqrt(|dG| (g_max - g_min)))."""
    d = scenario.configurations[0].device
    return math.sqrt(d.dw_min / (d.w_max - d.w_min))


def _pareto_points(scenario, ds, summaries) -> list[dict]:
    """Analog configurations at their analog-ReRAM energy (carry: digit reads, error bar to
    the row-by-row readout of the lower digits), digital baselines at the float64 twin's
    accuracy; the Pareto front marked."""
    labels = list(scenario.axes[0].labels)
    by_label = {s.label: s for s in summaries}
    energy = ds.training_energy_per_example
    readout = ds.carry_readout_energy_per_example
    time = ds.training_time_per_example
    points = []
    for label in labels:
        if label == "float64":
            continue
        at = {KIND: label, "design": "analog_reram"}
        run = float(energy.sel(at))
        s = by_label[label]
        points.append(dict(label=f"{label} (analog ReRAM)", design="analog_reram",
                           energy=run, energy_high=run + float(readout.sel(at)),
                           time=float(time.sel(at)),
                           mean=s.mean, ci_low=s.ci_low, ci_high=s.ci_high, digital=False))
    twin = by_label["float64"]
    for design in DESIGNS[1:]:
        e = float(energy.sel({KIND: "float64", "design": design}))
        points.append(dict(label=f"{DESIGN_NAMES[design]} (float64 accuracy)", design=design,
                           energy=e, energy_high=e,
                           time=float(time.sel({KIND: "float64", "design": design})),
                           mean=twin.mean, ci_low=twin.ci_low, ci_high=twin.ci_high,
                           digital=True))
    front = pareto_front([p["energy"] for p in points], [p["mean"] for p in points])
    for p, f in zip(points, front):
        p["front"] = bool(f)
    return points


# ----------------------------------------------------------------------------- figures

def _figures(out, scenarios, results, cost, requirements, pareto) -> None:
    path = {k: out / v for k, v in FIGURES.items()}
    figures.cost_kernels(cost["point"], path["cost_kernels"])
    figures.cost_components(cost["point"], path["cost_components"])
    figures.cost_scaling(results["cost"], "size", "periphery_adc_bits", DESIGN_SIZE,
                         DESIGN_BITS, path["cost_scaling"])
    accuracy = {title: results[k] for k, title in DATASETS.items()}
    figures.accuracy_curves(accuracy, KIND, path["accuracy_curves"])
    figures.accuracy_final(accuracy, KIND, path["accuracy_final"])
    panels = []
    for item in requirements:
        req = item["req"]
        panel = {"title": req.title, "xlabel": req.xlabel, "lines": item["lines"]}
        if req.key == "read_noise":
            panel.update(study=reference.READ_NOISE_TOLERABLE,
                         study_label="study: ~5% of the range tolerable")
        elif req.key == "write_noise":  # mapped to sigma_wn (section 3)
            panel.update(study=reference.WRITE_NOISE_TOLERABLE
                         / _write_noise_factor(scenarios["write_noise"]),
                         study_label="study: ~0.4% of the range (one-pulse update)")
        panels.append(panel)
    figures.requirements(panels, path["requirements"])
    figures.pareto([{"title": DATASETS[k], "points": pareto[k]} for k in DATASETS],
                   path["pareto"])


# ----------------------------------------------------------------------------- text

def _pct(v: float, digits: int = 1) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.{digits}f}%"


def _ci(low: float, high: float) -> str:
    return "n/a" if not np.isfinite(low) else f"[{100 * low:.1f}, {100 * high:.1f}]"


def _acc(s) -> str:
    return f"{_pct(s.mean)} {_ci(s.ci_low, s.ci_high)}"


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _figure(key: str, caption: str) -> str:
    return f"![{caption}]({FIGURES[key]})\n\n*{caption}* (`{FIGURES[key]}`)"


def _title(meta: Meta) -> str:
    total = sum(meta.seconds.values())
    estimate = sum(meta.estimated.values())
    planned = f"{estimate / 60:.1f} min of single-core work"
    if meta.workers:
        planned += (f", about {estimate / meta.workers / 60:.1f} min on {meta.workers} "
                    f"worker{'s' if meta.workers != 1 else ''}")
    quick = ("\n\n**Quick mode**: every training scenario at a tiny size (see Settings); the "
             "numbers check the pipeline, they do not measure anything.") \
        if meta.mode == "quick" else ""
    return f"""# Reproducing the reference study with mcvar

Study: {reference.CITATION}.

Generated by `{meta.command}` ({meta.mode} mode) with mcvar {meta.version} on {meta.host},
{meta.created}; {meta.where}. Wall time {total / 60:.1f} min (planned: {planned}). Every number
of ours below is read from the netCDF results in `results/`; the study's numbers are quoted
from its paper (cost: the abstract and a summary of its Table V; accuracy and device
requirements: MNIST). Intervals are 95% confidence intervals of the mean over Monte Carlo
trials (device instances and noise streams), which the study did not report: Student-t,
and for accuracies the logit t interval, which stays within [0, 100]% (mcvar.stats,
docs/statistics.md).{quick}"""


def _headline(scenarios, cost, accuracy, requirements) -> str:
    rows = cost["rows"]
    out = []
    for design, name in (("digital_reram", "digital ReRAM"), ("sram", "SRAM")):
        for what in ("latency", "energy"):
            r = rows[f"{what}_ratio_{design}"]
            out.append([f"{what} ratio {name} / analog ReRAM (training step)",
                        f"{r['study']:.0f}x", f"{r['mcvar']:.0f}x"])
    r = rows["energy_per_mac_analog"]
    out.append(["analog ReRAM energy per MAC", f"~{r['study'] * 1e15:.0f} fJ",
                si(r["mcvar"], "J")])
    for label, study in (("float64", reference.ACCURACY["float64"]), ("ENODe", "—"),
                         ("TaOx", reference.ACCURACY["TaOx"]),
                         *((label, reference.CARRY) for label in CARRY_LABELS),
                         ("TaOx + carry (exact), calibrated updates", "—")):
        ours = "; ".join(f"{SHORT[k]} {_acc(_find(accuracy[k], label))}" for k in accuracy)
        name = {"float64": "numeric (float64) accuracy"}.get(label, f"{label} accuracy")
        out.append([name, study, ours])
    tol = {item["req"].key: item["lines"] for item in requirements}
    fmt = _formats(scenarios)
    study = _study_requirements(scenarios)
    out.append([f"read noise costing {100 * DROP:.0f} point of accuracy (std, of the range)",
                study["read_noise"], tol["read_noise"][0][3].describe(fmt["read_noise"])])
    out.append([f"write noise costing {100 * DROP:.0f} point (sigma_wn; % of the range for a "
                "one-pulse update)", study["write_noise"],
                tol["write_noise"][0][3].describe(fmt["write_noise"])])
    nl = {label: t for label, _, _, t in tol["nonlinearity"]}
    out.append(["nonlinearity strength a costing 1 point", reference.NONLINEARITY,
                "; ".join(f"{k}: {t.describe()}" for k, t in nl.items())])
    return f"{HEADINGS[0]}\n\n" + _table(["quantity", "study", "mcvar (this run)"], out)


def _find(summaries, label):
    return next(s for s in summaries if s.label == label)


def _cost_section(cost, ds) -> str:
    point, rows = cost["point"], cost["rows"]
    comp = [[r["quantity"], r["unit"], f"{r['study']:.4g}", f"{r['mcvar']:.4g}",
             f"{r['ratio']:.3f}"] for r in rows.values()]
    kernel_rows = []
    for design in DESIGNS:
        p = point.sel(design=design)
        kernel_rows.append([DESIGN_NAMES[design]]
                           + [si(p.kernel_energy.sel(kernel=k), "J") for k in KERNELS]
                           + [si(p.kernel_latency.sel(kernel=k), "s") for k in KERNELS]
                           + [si(p.energy_per_mac, "J"), f"{float(p.tile_area) * 1e6:.3g}"])
    analog = point.sel(design="analog_reram")
    shares = []
    for k in KERNELS:
        e = analog.energy.sel(kernel=k)
        total = float(e.sum())
        top = sorted(((float(e.sel(component=c)), str(c)) for c in e.component.values),
                     reverse=True)[:3]
        shares.append([k, si(total, "J")] + [f"{c} {100 * v / total:.0f}%" for v, c in top])
    by_size = ds.sel(periphery_adc_bits=DESIGN_BITS)
    n = by_size.tile_rows.values.astype(float)
    large = n >= float(DESIGN_SIZE)  # the exponent at large N (fixed costs fade)
    step = {d: by_size.step_energy.sel(design=d).values for d in DESIGNS}
    scaling = []
    for design in DESIGNS:
        e = by_size.energy_per_mac.sel(design=design).values
        t = by_size.step_latency.sel(design=design).values
        slope_e = np.polyfit(np.log(n[large]), np.log(step[design][large]), 1)[0]
        slope_t = np.polyfit(np.log(n[large]), np.log(t[large]), 1)[0]
        ratio = step[design] / step["analog_reram"]
        scaling.append([DESIGN_NAMES[design], si(e[0], "J"), si(e[-1], "J"),
                        f"N^{slope_e:.2f}", f"{ratio[0]:.3g}x", f"{ratio[-1]:.3g}x",
                        si(t[0], "s"), si(t[-1], "s"), f"N^{slope_t:.2f}"])
    trend = {d: "widens" if step[d][-1] / step["analog_reram"][-1] >
             step[d][0] / step["analog_reram"][0] else "narrows" for d in DESIGNS[1:]}
    bit_rows = []
    for b in ds.periphery_adc_bits.values:
        p = ds.sel(size=DESIGN_SIZE, periphery_adc_bits=b)
        analog = p.sel(design="analog_reram")
        bit_rows.append([int(b), si(analog.energy_per_mac, "J"), si(analog.step_latency, "s")]
                        + [f"{float(p.step_energy.sel(design=d) / analog.step_energy):.0f}x"
                           for d in DESIGNS[1:]])
    return f"""{HEADINGS[1]}

The analytical tile model (`mcvar.cost`, README "Cost model") at the study's design point: a
{DESIGN_SIZE} x {DESIGN_SIZE} tile, 8-bit inputs and {DESIGN_BITS}-bit ADC, 14/16 nm constants
(nine of them fitted, one per study target, so this table checks the fit and the model's
structure rather than predicting the study independently). Ratios are over a training step
(vmm + mvm + opu); energy per MAC is the step energy over its 3 N^2 MACs.

{_table(["quantity", "unit", "study", "mcvar", "mcvar / study"], comp)}

Per kernel, all three designs (from `results/study_cost.nc`):

{_table(["design", *(f"energy {k}" for k in KERNELS), *(f"latency {k}" for k in KERNELS),
         "energy/MAC (step)", "tile area [mm²]"], kernel_rows)}

Where the analog ReRAM energy goes (three largest components per kernel):

{_table(["kernel", "energy", "1st", "2nd", "3rd"], shares)}

{_figure("cost_kernels", "Energy and latency per kernel and tile area; open circles: the study")}

{_figure("cost_components", "Share of each circuit component in energy, latency and area")}

Scaling with array size N ({DESIGN_BITS}-bit ADC; exponents fitted to the step energy and
latency over N = {int(n[large][0])}..{int(n[-1])}, where fixed costs have faded). Against N
the analog design's energy advantage over digital ReRAM {trend["digital_reram"]} and over SRAM
{trend["sram"]} (energy ratio columns, N = {int(n[0])} and {int(n[-1])}).

{_table(["design", f"energy/MAC N={int(n[0])}", f"energy/MAC N={int(n[-1])}", "step energy ~",
         f"ratio vs analog N={int(n[0])}", f"ratio vs analog N={int(n[-1])}",
         f"step latency N={int(n[0])}", f"step latency N={int(n[-1])}", "latency ~"], scaling)}

Scaling with ADC resolution ({DESIGN_SIZE} x {DESIGN_SIZE} tile, 8-bit inputs; the ramp
ADC's time and energy double with every bit, the digital designs hardly depend on it):

{_table(["ADC bits", "analog energy/MAC", "analog step latency", "energy ratio digital ReRAM",
         "energy ratio SRAM"], bit_rows)}

{_figure("cost_scaling", "Energy per MAC and step latency against array size and ADC bits")}"""


def _accuracy_section(scenarios, accuracy) -> str:
    text = [HEADINGS[2], """Final test accuracy over Monte Carlo trials (each trial: a new
device instance (for TaOx each cell follows one of 8 measured devices: d2d), noise stream,
initial weights and data order, the same for every configuration: common random numbers).
`float64` is the numeric twin (same network, weights and data order); `ideal device` a linear
device with ideal converters; ENODe and TaOx the measured tables (CrossSim's aggregated update
rule, 1% read noise, 8-bit DAC/ADC with a calibrated range); `TaOx + carry` periodic carry
with 3 digits of base 5, its carries written three ways: `(exact)` by write-verify of the
higher digit and of the reset low digit; `(v2.0 open-loop)` as CrossSim v2.0 writes both, one
open-loop step through the device each; `(calibrated reset)` CrossSim's documented intention,
the reset step sized from the device's mean step at the cell's conductance, the carried value
written open-loop. `calibrated updates` adds read-before-write training updates (each sized
from the mean step at the present conductance) to exact carries. What the comparison shows:
TaOx's measured steps are large and noisy (one open-loop step of a carried value overshoots
or undershoots by a sizeable fraction of it, docs/training.md), so carries written open-loop
add that error to the weight at every carry; write-verify removes it. The study's numbers are
on MNIST (784-300-10, full data) and it does not say how its carries were written: compare the
ordering and the gaps."""]
    for key, title in DATASETS.items():
        sz = _sizes(scenarios[key])
        rows = [[s.label, reference.ACCURACY.get(s.label, "—"), _pct(s.mean),
                 _ci(s.ci_low, s.ci_high), _pct(s.std), f"{_pct(s.min)} – {_pct(s.max)}",
                 f"{s.seconds_per_epoch:.2f}"] for s in accuracy[key]]
        text.append(f"**{title}** ({sz.trials} trials, {sz.epochs} epochs of "
                    f"{sz.train_examples} training examples, {sz.test_examples} test "
                    f"examples):\n\n" + _table(
                        ["configuration", "study", "mean", "95% CI", "std over trials",
                         "min – max", "s/epoch/trial"], rows))
    text.append(_figure("accuracy_curves", "Test accuracy against epoch: mean and 95% CI band"))
    text.append(_figure("accuracy_final", "Final test accuracy: trials (dots), mean, 95% CI"))
    return "\n\n".join(text)


def mnist_section(scenario, ds) -> str:
    """Section 5: final MNIST test accuracy per configuration of ``scenarios/study_mnist.toml``
    (result ``ds``) next to the study's, with the sizes that produced it."""
    sz = _sizes(scenario)
    lr = {label: c.training.lr for label, c in zip(scenario.axes[0].labels,
                                                    scenario.configurations)}
    rows = [[s.label, reference.ACCURACY.get(s.label, "—"), _pct(s.mean),
             _ci(s.ci_low, s.ci_high), _pct(s.std), f"{_pct(s.min)} – {_pct(s.max)}",
             f"{lr[s.label]:g}", f"{s.seconds_per_epoch:.3g}",
             f"{sz.train_examples / s.seconds_per_epoch:.3g}"]
            for s in accuracy_summary(ds, KIND)]
    full = sz.epochs >= 20 and sz.train_examples >= 60000
    scale = "the study's size" if full else (
        "far less training than the study's 20 epochs of 60,000 examples, so the accuracies "
        "are lower than the study's and not yet comparable to them")
    return f"""{MNIST_HEADING}

The study's network and data: 784-300-10 (sigmoid hidden layer, softmax output, batch 1) on
the full MNIST, with CrossSim's recipe (`scenarios/study_mnist.toml`: its initialisation, its
MNIST input scaling, all pixels together to standard deviation 0.5, and CrossSim v2.0's MNIST
learning rates per device kind, decayed x0.75 every 5 epochs; one weight bound for both
layers) and the configurations of section 2. **This run: {sz.trials} trials, {sz.epochs}
epoch(s) of {sz.train_examples} training examples, {sz.test_examples} test examples**
({scale}). The wall time of an epoch includes its test-set evaluation; examples/s is the
training examples per second of that time, one trial on one core.

{_table(["configuration", "study", "mean", "95% CI", "std over trials", "min – max", "lr",
         "s/epoch/trial", "examples/s"], rows)}"""


def _formats(scenarios) -> dict:
    """How each requirement's swept values print (write noise: sigma_wn and % of the range)."""
    factor = _write_noise_factor(scenarios["write_noise"])
    plain = lambda v: f"{v:.3g}"  # noqa: E731
    return {"read_noise": lambda v: f"{100 * v:.1f}%",
            "write_noise": lambda v: f"{v:.3g} ({100 * v * factor:.2f}%)",
            "nonlinearity": plain, "d2d": plain}


def _study_requirements(scenarios) -> dict:
    factor = _write_noise_factor(scenarios["write_noise"])
    return {"read_noise": f"tolerable below ~{100 * reference.READ_NOISE_TOLERABLE:.0f}% of "
                          "the range",
            "write_noise": f"tolerable below ~{100 * reference.WRITE_NOISE_TOLERABLE:.1f}% of "
                           f"the range (sigma_wn {reference.WRITE_NOISE_TOLERABLE / factor:.3g} "
                           "in our mapping)",
            "nonlinearity": reference.NONLINEARITY, "d2d": "—"}


def _requirements_section(scenarios, requirements) -> str:
    factor = _write_noise_factor(scenarios["write_noise"])
    study, fmt = _study_requirements(scenarios), _formats(scenarios)
    rows = []
    for item in requirements:
        req = item["req"]
        for label, x, _, tol in item["lines"]:
            f = fmt[req.key]
            name = req.title + (f": {label}" if label else "")
            rows.append([name, ", ".join(f(v) for v in x), _pct(tol.reference_accuracy),
                         tol.describe(f), study[req.key]])
    sz = _sizes(scenarios["read_noise"])
    return f"""{HEADINGS[3]}

Digits 64-36-10 ({sz.trials} trials, {sz.epochs} epochs of {sz.train_examples} training
examples per sweep point; ideal converters, so only the device varies). Threshold: where the
mean loss of final accuracy against the sweep's first point (noise-free, or the weakest
nonlinearity) reaches {100 * DROP:.0f} point, interpolating linearly between swept values; the
losses are paired per trial (common random numbers), and the bracket is where the upper and
the lower bound of the loss's 95% confidence interval reach 1 point.

{_table(["non-ideality", "swept values", "accuracy at the first point",
         "1-point threshold [bracket]", "study"], rows)}

Read noise is additive per device and read, a fraction of the conductance range g_max - g_min:
the study's unit. Write noise follows CrossSim's per-update model: an update changing G by dG
gets noise of std sigma_wn sqrt(|dG| (g_max - g_min)), i.e. sigma_wn sqrt(|dG| / range) of the
range, which grows with the update. We read the study's "% of the range" as the noise of the
smallest update, one pulse (dw_min / (w_max - w_min) = {factor ** 2:.4g} of the range): a
fraction sigma_wn x {factor:.4g}. Larger updates carry more noise, so this mapping is the most
favourable to the device; it is our reading, not the study's definition.

{_figure("requirements", "Final accuracy against each non-ideality: trials, mean, 95% "
                         "CI; dashed: 1 point below the first point; vertical: threshold and "
                         "bracket")}"""


def _pareto_section(pareto) -> str:
    text = [HEADINGS[4], """Energy per training example (one vmm, mvm and opu on every tile of
the network) against final accuracy. In this cost model the energy does not depend on the
device table or its noise: every analog configuration costs the same per example, except
periodic carry, whose 3 digits triple the tiles that are read in every vmm and mvm (the update
touches the lowest digit only); its error bar runs to the cost of also reading the two lower
digits out row by row at every carry (every 10 examples); write-verify of the carried weights,
the open-loop carry steps and the read before each calibrated write are not priced. The digital baselines (digital
ReRAM, SRAM) compute exactly, so they are placed at the float64 twin's accuracy. The network's layers are mapped onto 1024 x 1024 tiles, so
small networks pay for the whole tile (utilisation is low)."""]
    for key, title in DATASETS.items():
        rows = [[p["label"], si(p["energy"], "J")
                 + (f" (to {si(p['energy_high'], 'J')})" if p["energy_high"] > p["energy"] else ""),
                 si(p["time"], "s"), _pct(p["mean"]), _ci(p["ci_low"], p["ci_high"]),
                 "yes" if p["front"] else ""] for p in pareto[key]]
        text.append(f"**{title}**:\n\n" + _table(
            ["configuration", "energy/example", "time/example", "accuracy", "95% CI",
             "Pareto front"], rows))
    text.append(_figure("pareto", "Energy per training example against accuracy"))
    return "\n\n".join(text)


def _settings_section(scenarios, meta: Meta) -> str:
    from .plan import MNIST

    rows = []
    for part in (p for p in (*PARTS, MNIST) if p.key in scenarios):
        sc = scenarios[part.key]
        sz = _sizes(sc)
        est = meta.estimated.get(part.key, math.nan)
        rows.append([f"`scenarios/{part.file}`", sz.points, sz.trials or "—", sz.epochs or "—",
                     sz.train_examples or "—", sz.test_examples or "—", sz.tasks, sz.seed,
                     f"{meta.seconds.get(part.key, math.nan):.0f}", f"{est:.0f}",
                     f"`results/{sc.name}.nc`"])
    return f"""{HEADINGS[5]}

Every part ran through `mcvar.run_scenario` (pieces and resume in `results/NAME.run/`;
rerunning the same command resumes and then only redraws the report). Each scenario file holds
the default sizes; `--quick`, `--trials`, `--epochs` and `--train-examples` change them for
every training scenario.

{_table(["scenario", "sweep points", "trials", "epochs", "train examples/epoch",
         "test examples", "tasks", "seed", "wall [s]", "estimated [core-s]", "result"], rows)}

Figures: {", ".join(f"`{v}`" for v in FIGURES.values())}."""


def _sizes(scenario) -> Sizes:
    from .plan import sizes

    return sizes(scenario)

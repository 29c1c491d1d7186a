"""Global sensitivity of a scenario's outputs to its parameters: Sobol indices and Morris screening.

A ``[sensitivity]`` table (docs/design_space.md) declares a parameter space; its sample
becomes one zipped sweep dimension ``sample`` (:mod:`mcvar.scenario.analyses`), so the model
evaluations are ordinary sweep points: mcvar trials on dask, resumable. After the run,
:func:`analyze` estimates the indices of each output with SALib (Herman and Usher, JOSS 2017;
Iwanaga et al., SESMO 2022):

* ``sobol``: Saltelli's scheme on a scrambled Sobol' sequence, ``samples (D + 2)``
  evaluations for ``D`` parameters; first-order ``S1`` and total ``ST`` indices (Saltelli
  et al. 2010 and Jansen 1999 estimators) with bootstrap confidence intervals;
* ``morris``: ``samples`` one-at-a-time trajectories on a grid of ``levels`` levels,
  ``samples (D + 1)`` evaluations; ``mu_star`` (mean absolute elementary effect, with a
  bootstrap interval) and ``sigma`` (its spread: interactions or nonlinearity).

Parameters are sampled in the unit hypercube and mapped onto their declared space: a float
range uniformly, an integer range ``low..high`` as equal-width bins, a list of choices as
equal-width bins (indices therefore measure what a parameter's declared distribution
contributes). Outputs: ``final_accuracy`` (test accuracy after the last epoch, mean over the
point's trials) and ``training_energy_per_example`` of one design.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

METHODS = ("sobol", "morris")
#: outputs: units and long name
OUTPUTS = {"final_accuracy": ("1", "test accuracy after the last epoch, mean over trials"),
           "training_energy_per_example": ("J", "training energy per example of the design")}
SAMPLE_DIM = "sample"  #: the sweep dimension of the sample


@dataclass(frozen=True)
class Parameter:
    """One dimension of the parameter space: a scenario key path and its declared values."""

    path: str  #: e.g. "device.read_noise"
    low: float | int | None = None  #: range bounds (numbers), None for choices
    high: float | int | None = None
    integer: bool = False  #: an integer range low..high (both included)
    choices: tuple | None = None  #: discrete values, each equally likely

    def value(self, u: float):
        """The parameter's value at unit coordinate ``u`` in [0, 1]."""
        if self.choices is not None:
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        if self.integer:
            return int(min(self.low + math.floor(u * (self.high - self.low + 1)), self.high))
        return float(self.low + u * (self.high - self.low))

    def declared(self) -> list:
        """The declaration as written in the table: ``[low, high]`` or the choices."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]


@dataclass(frozen=True)
class Sensitivity:
    """The ``[sensitivity]`` table, checked (:mod:`mcvar.scenario.analyses` builds it)."""

    parameters: tuple[Parameter, ...]
    method: str = "sobol"
    samples: int = 32  #: sobol: base samples N (a power of 2); morris: trajectories
    levels: int = 4  #: morris grid levels (even)
    outputs: tuple[str, ...] = tuple(OUTPUTS)
    design: str = "analog_reram"  #: design whose energy is an output
    resamples: int = 1000  #: bootstrap resamples of the intervals
    confidence: float = 0.95  #: confidence level of the intervals
    seed: int = 0  #: seed of the sample's scrambling and of the bootstrap

    @property
    def problem(self) -> dict:
        """SALib's problem over the unit hypercube (the mapping to values is ours)."""
        return {"num_vars": len(self.parameters), "names": [p.path for p in self.parameters],
                "bounds": [[0.0, 1.0]] * len(self.parameters)}

    def unit_sample(self) -> np.ndarray:
        """The sample in the unit hypercube, (evaluations, parameters)."""
        if self.method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(self.problem, self.samples, calc_second_order=False,
                                scramble=True, seed=self.seed)
        from SALib.sample import morris

        return morris.sample(self.problem, self.samples, num_levels=self.levels, seed=self.seed)

    def values(self) -> dict[str, list]:
        """``{path: [value at each evaluation]}``: the sweep of the sample."""
        unit = self.unit_sample()
        return {p.path: [p.value(u) for u in unit[:, i]] for i, p in enumerate(self.parameters)}

    @property
    def evaluations(self) -> int:
        d = len(self.parameters)
        return self.samples * (d + 2 if self.method == "sobol" else d + 1)


def estimate(method: str, problem: dict, unit: np.ndarray, y: np.ndarray, *, resamples: int,
             confidence: float, seed: int, levels: int = 4) -> dict[str, np.ndarray]:
    """Indices of model outputs ``y`` (evaluations,) at the unit sample ``unit`` (evaluations,
    parameters): sobol ``S1``, ``S1_conf``, ``ST``, ``ST_conf``; morris ``mu``, ``mu_star``,
    ``mu_star_conf``, ``sigma`` (``*_conf``: half-width of the bootstrap interval). A
    constant ``y`` (no variance to apportion) gives NaN indices."""
    y = np.asarray(y, float)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{np.count_nonzero(~np.isfinite(y))} of {y.size} model evaluations "
                         "are missing (NaN): finish the run (rerun to resume) first")
    keys = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else \
        ("mu", "mu_star", "mu_star_conf", "sigma")
    if np.ptp(y) == 0:
        return {k: np.full(problem["num_vars"], np.nan) for k in keys}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if method == "sobol":
            from SALib.analyze import sobol

            out = sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples,
                                conf_level=confidence, seed=seed)
        else:
            from SALib.analyze import morris

            out = morris.analyze(problem, unit, y, num_resamples=resamples,
                                 conf_level=confidence, num_levels=levels, seed=seed)
    return {k: np.asarray(out[k], float) for k in keys}


def model_outputs(ds: xr.Dataset, sens: Sensitivity) -> xr.Dataset:
    """The outputs of ``sens`` at every sweep point of result ``ds``: ``final_accuracy``
    (mean over trials of the last epoch's test accuracy), ``training_energy_per_example`` of
    ``sens.design``."""
    out = {}
    for name in sens.outputs:
        if name == "final_accuracy":
            if "test_accuracy" not in ds:
                raise ValueError("sensitivity output final_accuracy needs a [training] workload")
            out[name] = ds.test_accuracy.isel(epoch=-1).mean("trial")
        else:
            if name not in ds:
                raise ValueError(f"sensitivity output {name} needs [cost] with [training]")
            out[name] = ds[name].sel(design=sens.design)
    return xr.Dataset({k: v.drop_vars([c for c in v.coords if c not in v.dims])
                       for k, v in out.items()})


def analyze(ds: xr.Dataset, sens: Sensitivity) -> xr.Dataset:
    """Sensitivity indices of ``sens.outputs`` in scenario result ``ds`` (with the sweep
    dimension ``sample``), for every point of its other sweep dimensions.

    Returns a Dataset over (other sweep dims..., ``output``, ``parameter``) with the
    estimates of :func:`estimate` (``S1``/``ST`` with ``*_conf`` half-widths, or ``mu``,
    ``mu_star``, ``mu_star_conf``, ``sigma`` divided by the output's standard deviation over
    the sample; all [1]), the model evaluations themselves (one variable per output, over
    the sweep dims with ``sample``) and CF attributes.
    """
    unit = sens.unit_sample()
    y = model_outputs(ds, sens)
    if y.sizes[SAMPLE_DIM] != unit.shape[0]:
        raise ValueError(f"the result has {y.sizes[SAMPLE_DIM]} sample points, the "
                         f"[sensitivity] table gives {unit.shape[0]}")
    others = [d for d in y.dims if d != SAMPLE_DIM]
    stacked = y.stack(_point=others) if others else y.expand_dims(_point=[0])
    n_points = stacked.sizes["_point"]
    results: dict[str, np.ndarray] = {}
    for o, name in enumerate(sens.outputs):
        values = stacked[name].transpose("_point", SAMPLE_DIM).values
        for p in range(n_points):
            est = estimate(sens.method, sens.problem, unit, values[p],
                           resamples=sens.resamples, confidence=sens.confidence,
                           seed=sens.seed, levels=sens.levels)
            for key, v in est.items():
                results.setdefault(key, np.full((n_points, len(sens.outputs), v.size), np.nan))
                results[key][p, o] = v
    dims = ("_point", "output", "parameter")
    out = xr.Dataset({k: (dims, v) for k, v in results.items()},
                     coords={"_point": stacked["_point"], "output": list(sens.outputs),
                             "parameter": [p.path for p in sens.parameters]})
    if sens.method == "morris":  # effects in units of the output's spread: dimensionless
        spread = np.stack([stacked[n].std(SAMPLE_DIM).values for n in sens.outputs], 1)
        for key in ("mu", "mu_star", "mu_star_conf", "sigma"):
            out[key] = out[key] / xr.DataArray(spread, dims=("_point", "output"),
                                               coords={"_point": stacked["_point"]})
    if others:  # unstacking sorts labels: back to the result's order, with its coordinates
        out = out.unstack("_point").reindex({d: ds[d].values for d in others})
        out = out.assign_coords({c: ds[c] for c in ds.coords
                                 if len(ds[c].dims) == 1 and ds[c].dims[0] in others})
    else:
        out = out.squeeze("_point", drop=True)
    out = out.merge(y.assign_coords({c: ds[c] for c in ds.coords
                                     if len(ds[c].dims) == 1 and ds[c].dims[0] in y.dims}))
    return _annotate(out, sens, ds.attrs.get("scenario_name", ""))


def _annotate(out: xr.Dataset, sens: Sensitivity, name: str) -> xr.Dataset:
    c = f"{100 * sens.confidence:g}"
    spread = " (in units of the output's standard deviation over the sample)"
    text = {"S1": "first-order Sobol index (variance share of the parameter alone)",
            "S1_conf": f"half-width of the {c}% bootstrap interval of S1",
            "ST": "total Sobol index (variance share with all its interactions)",
            "ST_conf": f"half-width of the {c}% bootstrap interval of ST",
            "mu": "Morris mean elementary effect over the parameter's range" + spread,
            "mu_star": "Morris mean absolute elementary effect" + spread,
            "mu_star_conf": f"half-width of the {c}% bootstrap interval of mu_star" + spread,
            "sigma": "Morris standard deviation of the elementary effects" + spread}
    for key, long_name in text.items():
        if key in out:
            out[key].attrs.update(long_name=long_name, units="1")
    for key in sens.outputs:
        out[key].attrs.update(long_name=OUTPUTS[key][1] + " (model evaluations)",
                              units=OUTPUTS[key][0])
    out["output"].attrs["long_name"] = "model output whose variation is apportioned"
    out["parameter"].attrs["long_name"] = "scenario parameter (key path) varied by the sample"
    out.attrs = {
        "Conventions": "CF-1.10",
        "title": f"mcvar global sensitivity ({sens.method}): {name}",
        "source": "mcvar.sensitivity.analyze (SALib)", "method": sens.method,
        "samples": sens.samples, "evaluations": sens.evaluations,
        "bootstrap_resamples": sens.resamples, "confidence": sens.confidence,
        "sample_seed": sens.seed, "energy_design": sens.design,
        "parameter_space": "; ".join(f"{p.path} = {p.declared()}" for p in sens.parameters)}
    return out


def table(out: xr.Dataset) -> str:
    """Markdown table of :func:`analyze`: one row per (other point, output, parameter)."""
    sobol = "S1" in out
    head = ["point", "output", "parameter"] + (
        ["S1", "ST"] if sobol else ["mu_star", "sigma"])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    others = [d for d in out["S1" if sobol else "mu_star"].dims
              if d not in ("output", "parameter")]
    stacked = out.stack(_p=others) if others else out.expand_dims(_p=[0])
    for i in range(stacked.sizes["_p"]):
        point = stacked.isel(_p=i)
        label = ", ".join(str(point[d].item()) for d in others) if others else "-"
        point = point.drop_vars(["_p", *others], errors="ignore")
        for o in out.output.values:
            for p in out.parameter.values:
                v = point.sel(output=o, parameter=p)
                cells = ([f"{float(v.S1):.2f} +- {float(v.S1_conf):.2f}",
                          f"{float(v.ST):.2f} +- {float(v.ST_conf):.2f}"] if sobol else
                         [f"{float(v.mu_star):.3g} +- {float(v.mu_star_conf):.2g}",
                          f"{float(v.sigma):.3g}"])
                lines.append(f"| {label} | {o} | {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

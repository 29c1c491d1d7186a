"""Every variable and coordinate of mcvar's results: dimensions, units and long name, in one place.

Workloads build their pieces from this registry (:func:`annotate`), so results of different
workloads combine and every variable in a result file is self-describing. Swept parameters
add one dimension each in front of these (named as in :mod:`mcvar.scenario`); per-trial
variables marked ``summarize`` also get statistics over trials (:func:`summary_names`).
Units follow CF/UDUNITS: ``"1"`` for dimensionless quantities, ``None`` for labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr

from .cost.variables import VARIABLES as COST_VARIABLES

POLARITIES = ("up", "down")  #: labels of the ``polarity`` coordinate, in pulse-count order


@dataclass(frozen=True)
class Variable:
    """A registered variable: its own dimensions (before sweep dimensions), units, meaning."""

    dims: tuple[str, ...]
    units: str | None  #: None for label coordinates
    long_name: str
    summarize: bool = False  #: add mean, std, CI and quantiles over ``trial``
    deterministic: bool = True  #: a pure function of scenario and seed (wall times are not)
    #: a proportion in [0, 1] (accuracy): its interval is the logit t interval (mcvar.stats)
    proportion: bool = False


_KERNEL = "tile kernel: vmm forward read, mvm transposed read, opu outer-product update"
_ERR = ("errors in weight x input units for reads, weight units for updates; one value per "
        "trial over all its operations")

VARIABLES: dict[str, Variable] = {
    # --- coordinates ---------------------------------------------------------------------
    "trial": Variable(("trial",), "1", "Monte Carlo trial (its random streams derive from the "
                                       "root seed and this index)"),
    "epoch": Variable(("epoch",), "1", "training epochs completed"),
    "kernel": Variable(("kernel",), None, _KERNEL),
    "bin": Variable(("bin",), "1", "histogram bin index"),
    "error_bin_center": Variable(("kernel", "bin"), "1", "centre of an error histogram bin "
                                                         "(weight x input units for reads, "
                                                         "weight units for updates)"),
    "error_bin_width": Variable(("kernel",), "1", "width of the error histogram bins"),
    "polarity": Variable(("polarity",), None, "pulse polarity: up (potentiation) or down "
                                              "(depression)"),
    "quantile": Variable(("quantile",), "1", "quantile level over trials"),
    "design": Variable(("design",), None, COST_VARIABLES["design"].long_name),
    "component": Variable(("component",), None, COST_VARIABLES["component"].long_name),
    "design_rule": Variable(("design_rule",), None, COST_VARIABLES["design_rule"].long_name),
    # --- kernels workload (per trial and kernel) -----------------------------------------
    "operations": Variable(("kernel",), "1", "operations per trial: read vectors or updates"),
    "error_mean": Variable(("trial", "kernel"), "1", "mean error (bias) of the kernel's "
                                                     "outputs; " + _ERR, summarize=True),
    "error_std": Variable(("trial", "kernel"), "1", "standard deviation of the error; " + _ERR,
                          summarize=True),
    "error_rms": Variable(("trial", "kernel"), "1", "root-mean-square error; " + _ERR,
                          summarize=True),
    "error_max_abs": Variable(("trial", "kernel"), "1", "largest absolute error; " + _ERR,
                              summarize=True),
    "error_nrmse": Variable(("trial", "kernel"), "1", "RMS error relative to the RMS of the "
                                                      "exact output or requested update",
                            summarize=True),
    "signal_rms": Variable(("trial", "kernel"), "1", "RMS of the exact output or requested "
                                                     "update"),
    "gain": Variable(("trial", "kernel"), "1", "least-squares gain of achieved on exact values "
                                               "(1: no systematic scale error)", summarize=True),
    "error_histogram": Variable(("trial", "kernel", "bin"), "1",
                                "errors per histogram bin (out-of-range errors in the end bins)"),
    "update_pulses": Variable(("trial", "polarity"), "1", "device pulses applied by the "
                                                          "synthetic updates", summarize=True),
    "kernel_wall_time": Variable(("trial", "kernel"), "s", "wall time of the trial's "
                                                           "operations", deterministic=False),
    # --- training workload (per trial and epoch) -----------------------------------------
    "train_loss": Variable(("trial", "epoch"), "1", "mean cross-entropy over the epoch's "
                                                    "training examples", summarize=True),
    "train_accuracy": Variable(("trial", "epoch"), "1", "accuracy on the training examples as "
                                                        "they were trained", summarize=True,
                               proportion=True),
    "test_accuracy": Variable(("trial", "epoch"), "1", "test-set accuracy after the epoch",
                              summarize=True, proportion=True),
    "validation_accuracy": Variable(("trial", "epoch"), "1", "accuracy on the validation "
                                    "examples held out of the training set, after the epoch",
                                    summarize=True, proportion=True),
    "training_pulses": Variable(("trial", "epoch", "polarity"), "1",
                                "device pulses applied during the epoch", summarize=True),
    "epoch_wall_time": Variable(("trial", "epoch"), "s", "wall time of the epoch",
                                deterministic=False),
}

VARIABLES.update({name: Variable(cost.dims, cost.units, cost.long_name)
                  for name, cost in COST_VARIABLES.items() if cost.dims is not None})

#: statistic -> (variable suffix, cell_methods method over trials, long-name prefix)
SUMMARIES = {
    "mean": ("_mean", "mean", "mean over trials of"),
    "std": ("_std", "standard_deviation", "standard deviation over trials of"),
    "ci_low": ("_ci_low", "mean (lower bound of the {c:g}% {method} confidence interval "
                          "of the mean)", "lower {c:g}% confidence bound of the mean of"),
    "ci_high": ("_ci_high", "mean (upper bound of the {c:g}% {method} confidence interval "
                            "of the mean)", "upper {c:g}% confidence bound of the mean of"),
    "quantiles": ("_quantile", "quantile (linear interpolation; level in the quantile "
                               "coordinate)", "quantiles over trials of"),
}


def interval_method(name: str) -> str:
    """Name of the confidence interval that per-trial variable ``name`` gets (mcvar.stats)."""
    return "logit Student-t" if VARIABLES[name].proportion else "Student-t"


def summary_names(name: str) -> dict[str, str]:
    """``{statistic: variable name}`` of the summaries of per-trial variable ``name``."""
    return {stat: name + suffix for stat, (suffix, _, _) in SUMMARIES.items()}


def summarized() -> tuple[str, ...]:
    """Names of the per-trial variables that get statistics over trials."""
    return tuple(n for n, v in VARIABLES.items() if v.summarize)


def nondeterministic() -> tuple[str, ...]:
    """Names of the variables that are not a function of scenario and seed (wall times)."""
    return tuple(n for n, v in VARIABLES.items() if not v.deterministic)


def annotate(ds: xr.Dataset, sweep_dims=()) -> xr.Dataset:
    """Set ``units`` and ``long_name`` of every registered variable of ``ds`` in place.

    Variables not in the registry must already carry both (swept-parameter coordinates,
    summaries); a registered variable must have its registered dimensions plus any of
    ``sweep_dims``. Raises ``KeyError`` otherwise (a programming error, not user input).
    """
    for name in ds.variables:
        var = VARIABLES.get(name)
        attrs = ds[name].attrs
        if var is None:
            labels = ds[name].dtype.kind in "OUS"  # text needs no units
            if "long_name" not in attrs or ("units" not in attrs and not labels):
                raise KeyError(f"result variable {name!r} is not in mcvar.variables.VARIABLES")
            continue
        own = tuple(d for d in ds[name].dims if d not in sweep_dims)
        if set(own) != set(var.dims):
            raise KeyError(f"result variable {name!r} has dims {ds[name].dims}, registered "
                           f"{var.dims} (plus sweep dims {tuple(sweep_dims)})")
        attrs["long_name"] = var.long_name
        if var.units is not None:
            attrs["units"] = var.units
    return ds

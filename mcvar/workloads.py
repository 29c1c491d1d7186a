"""What a scenario runs at one sweep point: kernel error statistics, training, cost.

* ``kernels``: per trial, one tile instance (its own d2d draw) programmed with random
  weights, then ``reads`` forward (vmm) and transposed (mvm) reads of random inputs and
  ``updates`` synthetic rank-1 updates (opu), each compared with the exact result
  (:mod:`mcvar.montecarlo`).
* ``training``: per trial, a network trained on tiles (:func:`mcvar.training.train`).
* ``cost``: energy, latency and area of the point's tile (size from ``[tile]``, input and
  ADC bits from ``[periphery]``) for each design, and, with training, of the network per
  example and epoch (:mod:`mcvar.cost`). Deterministic: no trials.

Trial ``t`` of a point uses the random streams ``(seed, t, tile, stream)``, so a trial's
numbers do not depend on which task, worker or block ran it. Every function returns an
``xarray.Dataset`` annotated from :mod:`mcvar.variables`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .cost import DESIGNS
from .cost.technology import Technology
from .cost.variables import NETWORK_TOTALS
from .devices import Device
from .params import ParameterError, param, validate
from .periphery import Periphery
from .tile import Pulsing, TileSpec
from .training import Training
from .variables import POLARITIES, annotate

CALIBRATION_INPUTS = 256  #: random input vectors used to calibrate the ADC range per direction
_CALIBRATION_TAG = 0x63616C69  # "cali": SeedSequence entropy word of the calibration inputs
#: Technology fields set by the scenario's tile and periphery, not by ``[cost.technology]``
TILE_TECHNOLOGY = {"rows": "tile.rows", "cols": "tile.cols", "input_bits": "periphery.dac_bits",
                   "adc_bits": "periphery.adc_bits"}


@dataclass(frozen=True)
class Kernels:
    """Monte Carlo error statistics of reads and updates (the ``[kernels]`` table)."""

    reads: int = param(1000, units="1", low=0, high=10**9, kind=int,
                       doc="random input vectors read forward (vmm) per trial, and as many "
                           "transposed (mvm) when 'transposed'")
    transposed: bool = param(True, units="1", kind=bool, doc="also measure transposed reads")
    updates: int = param(1000, units="1", low=0, high=10**9, kind=int,
                         doc="synthetic rank-1 updates lr x d^T per trial")
    lr: float = param(0.01, units="1", low=0.0, low_open=True,
                      doc="learning rate of the synthetic updates")
    d_std: float = param(0.1, units="1", low=0.0, low_open=True,
                         doc="std of the synthetic column errors d ~ N(0, d_std^2); "
                             "row inputs x ~ U(-1, 1)")
    weight_fraction: float = param(0.5, units="1", low=0.0, low_open=True, high=1.0,
                                   doc="initial weights uniform in +-weight_fraction x "
                                       "tile.weight_bound")
    read_error_range: float = param(2.0, units="1", low=0.0, low_open=True,
                                    doc="read-error histogram spans +-range "
                                        "[weight x input units]")
    update_error_range: float = param(0.05, units="1", low=0.0, low_open=True,
                                      doc="update-error histogram spans +-range [weight units]")
    bins: int = param(100, units="1", low=2, high=100000, kind=int,
                      doc="histogram bins per kernel")

    def __post_init__(self):
        validate(self, "kernels.")
        if self.reads == 0 and self.updates == 0:
            raise ParameterError("kernels.reads", "reads and updates are both 0: nothing to "
                                                  "measure")

    @property
    def kernels(self) -> tuple[str, ...]:
        """Kernels measured, named as in the cost model."""
        names = ("vmm", "mvm") if self.transposed else ("vmm",)
        return (names if self.reads else ()) + (("opu",) if self.updates else ())

    def edges(self, kernel: str) -> np.ndarray:
        """Histogram bin edges of ``kernel`` (bins + 1,)."""
        r = self.update_error_range if kernel == "opu" else self.read_error_range
        return np.linspace(-r, r, self.bins + 1)


@dataclass(frozen=True)
class Cost:
    """Designs and technology of the cost model (the ``[cost]`` table)."""

    designs: tuple = param(DESIGNS, units="1", kind=tuple,
                           doc="designs costed: " + ", ".join(DESIGNS))
    #: constants of the cost model (``[cost.technology]``); the tile size and converter bits
    #: (:data:`TILE_TECHNOLOGY`) come from the tile and periphery and stay at their defaults
    technology: Technology = Technology()

    def __post_init__(self):
        validate(self, "cost.")
        if not self.designs or len(set(self.designs)) != len(self.designs) or \
                not set(self.designs) <= set(DESIGNS):
            raise ParameterError("cost.designs", f"got {list(self.designs)!r}, allowed: a "
                                                 f"non-empty list of distinct names from {DESIGNS}")
        if not isinstance(self.technology, Technology):
            raise ParameterError("cost.technology", f"got {type(self.technology).__name__}, "
                                                    "expected mcvar.cost.Technology")
        for name, key in TILE_TECHNOLOGY.items():
            if getattr(self.technology, name) != getattr(Technology, name):
                raise ParameterError(f"cost.technology.{name}", f"set by {key} (one tile for "
                                                                "simulation and cost)")

    def technology_for(self, spec: TileSpec, periphery: Periphery) -> Technology:
        """The technology of a tile ``spec`` read through ``periphery``.

        Input and ADC bits come from ``periphery.dac_bits``/``adc_bits``; an ideal (0-bit)
        converter is costed at the technology's default precision.
        """
        changes = dict(rows=spec.rows, cols=spec.cols)
        for name, key in (("input_bits", "dac_bits"), ("adc_bits", "adc_bits")):
            bits = getattr(periphery, key)
            if bits > 16:
                raise ParameterError(f"periphery.{key}", f"got {bits}: the cost model covers "
                                                         "1..16 bits")
            if bits:
                changes[name] = bits
        return dataclasses.replace(self.technology, **changes)


@dataclass(frozen=True)
class Configuration:
    """Everything one sweep point runs with: the root seed and every section's parameters."""

    seed: int
    device: Device = Device()
    periphery: Periphery = Periphery()
    tile: TileSpec = TileSpec()
    pulsing: Pulsing = Pulsing()
    kernels: Kernels | None = None
    training: Training | None = None
    cost: Cost | None = None

    @property
    def trial_workloads(self) -> tuple[str, ...]:
        """Workloads with Monte Carlo trials present at this point."""
        return tuple(w for w in ("kernels", "training") if getattr(self, w) is not None)


# ---------------------------------------------------------------------------- trials

def run_trials(config: Configuration, trials: range) -> xr.Dataset:
    """Kernel and/or training results of ``trials`` (global trial indices) at ``config``."""
    parts = []
    if config.kernels is not None:
        k = config.kernels
        ds = _stack([_kernel_trial(config, t) for t in trials], trials, _kernel_coords(k))
        ds["operations"] = ("kernel", [float(k.updates if n == "opu" else k.reads)
                                       for n in k.kernels])
        parts.append(ds)
    if config.training is not None:
        rows = [_training_trial(config, t) for t in trials]
        epochs = np.arange(1, config.training.epochs + 1)
        parts.append(_stack(rows, trials, {"epoch": epochs, "polarity": list(POLARITIES)}))
    return annotate(xr.merge(parts, compat="equals", join="exact"))


def _stack(rows: list[dict], trials: range, coords: dict) -> xr.Dataset:
    """One Dataset from per-trial rows ``{name: (dims, array)}``, with ``trial`` first."""
    data = {name: (("trial",) + dims, np.stack([row[name][1] for row in rows]))
            for name, (dims, _) in rows[0].items()}
    return xr.Dataset(data, coords={"trial": np.asarray(trials), **coords})


def _kernel_coords(k: Kernels) -> dict:
    names = k.kernels
    edges = np.stack([k.edges(n) for n in names])
    coords = {"kernel": list(names), "bin": np.arange(k.bins),
              "error_bin_center": (("kernel", "bin"), 0.5 * (edges[:, 1:] + edges[:, :-1])),
              "error_bin_width": ("kernel", edges[:, 1] - edges[:, 0])}
    if k.updates:
        coords["polarity"] = list(POLARITIES)
    return coords


def _kernel_trial(config: Configuration, trial: int) -> dict:
    from .montecarlo import random_weights, read_errors, update_errors
    from .tile import Tile

    k = config.kernels
    tile = Tile(config.tile, config.device, config.periphery, config.pulsing,
                seed=config.seed, trial=trial)
    tile.program(random_weights(tile, k.weight_fraction))
    if config.periphery.out_bound == "calibrated":
        _calibrate(tile, config.seed, trial)
    stats = []
    for name in k.kernels:
        if name == "opu":
            stats.append(update_errors(tile, k.updates, lr=k.lr, d_std=k.d_std,
                                       edges=k.edges(name)))
        else:
            stats.append(read_errors(tile, k.reads, transpose=name == "mvm", edges=k.edges(name)))
    per_kernel = {
        "error_mean": [s.mean for s in stats], "error_std": [s.std for s in stats],
        "error_rms": [s.rms for s in stats], "error_max_abs": [s.max_abs for s in stats],
        "error_nrmse": [s.nrmse for s in stats], "signal_rms": [s.signal_rms for s in stats],
        "gain": [s.slope for s in stats], "kernel_wall_time": [s.seconds for s in stats]}
    row = {name: (("kernel",), np.asarray(v, float)) for name, v in per_kernel.items()}
    row["error_histogram"] = (("kernel", "bin"), np.stack([s.counts for s in stats]))
    if k.updates:
        row["update_pulses"] = (("polarity",), np.asarray(stats[-1].pulses, float))
    return row


def _calibrate(tile, seed: int, trial: int) -> None:
    """ADC full scale from random inputs (a NumPy stream of its own: seed, trial, tag)."""
    gen = np.random.default_rng(np.random.SeedSequence([seed, trial, _CALIBRATION_TAG]))
    bound = tile.periphery.inp_bound
    for transpose, width in ((False, tile.spec.rows), (True, tile.spec.cols)):
        tile.calibrate_adc(gen.uniform(-bound, bound, (CALIBRATION_INPUTS, width)), transpose)


def _training_trial(config: Configuration, trial: int) -> dict:
    from .training import train

    r = train(config.training, config.tile, config.device, config.periphery, config.pulsing,
              seed=config.seed, trial=trial)
    row = {"train_loss": (("epoch",), np.asarray(r.train_loss, float)),
           "train_accuracy": (("epoch",), np.asarray(r.train_accuracy, float)),
           "test_accuracy": (("epoch",), np.asarray(r.test_accuracy, float)),
           "epoch_wall_time": (("epoch",), np.asarray(r.seconds, float)),
           "training_pulses": (("epoch", "polarity"), np.asarray(r.pulses, float))}
    if config.training.validation_examples:
        row["validation_accuracy"] = (("epoch",), np.asarray(r.validation_accuracy, float))
    return row


# ---------------------------------------------------------------------------- cost

def run_cost(config: Configuration) -> xr.Dataset:
    """Per-kernel tile costs for each design and, with training, network costs."""
    from .cost import kernel_costs, network_costs

    tech = config.cost.technology_for(config.tile, config.periphery)
    ds = kernel_costs(tech, designs=config.cost.designs).drop_vars(["rows", "cols"])
    ds.attrs = {}
    if config.training is not None:
        t = config.training
        sizes, examples = network_shape(t)
        # carry digits are analog tiles; digital designs (and the float64 twin) compute exactly
        digits = t.carry_digits if t.backend == "crossbar" else 1
        nets = [network_costs(sizes, tech, design=d, examples_per_epoch=examples,
                              carry_digits=digits if d == "analog_reram" else 1,
                              carry_every=t.carry_every)[list(NETWORK_TOTALS)].drop_vars(
                    ["rows", "cols"]) for d in config.cost.designs]
        ds = ds.merge(xr.concat(nets, dim="design"))
    return annotate(ds)


def network_shape(training: Training) -> tuple[tuple[int, ...], int]:
    """Layer sizes ``(inputs, hidden..., classes)`` and training examples per epoch."""
    from .datasets import load_dataset

    data = load_dataset(training.dataset)
    n_train = data.x_train.shape[0]
    examples = min(training.train_examples, n_train) if training.train_examples else n_train
    return (data.n_features, *training.hidden, data.n_classes), examples


# ---------------------------------------------------------------------------- warmup

def warmup(configs) -> None:
    """Run the workloads of ``configs`` at a tiny size, once per distinct set of compiled
    kernels they reach (training backend, device model, pulse rule, converters), so that
    every kernel is compiled (or loaded from Numba's cache) in this process."""
    seen = set()
    for config in configs:
        key = (config.training.backend if config.training else None, config.kernels is None,
               config.device.model, config.pulsing.rule, config.pulsing.aggregate,
               config.periphery.dac_bits > 0, config.periphery.adc_bits > 0,
               config.tile.mapping)
        if key not in seen:
            seen.add(key)
            _warmup(config)


def _warmup(config: Configuration) -> None:
    small = {}
    if config.kernels is not None:
        small["kernels"] = dataclasses.replace(config.kernels, reads=min(config.kernels.reads, 2),
                                               updates=min(config.kernels.updates, 2))
    if config.training is not None:
        small["training"] = dataclasses.replace(config.training, epochs=1, train_examples=2,
                                                test_examples=2)
    if config.trial_workloads:
        run_trials(dataclasses.replace(config, **small), range(1))
    if config.cost is not None:
        run_cost(config)

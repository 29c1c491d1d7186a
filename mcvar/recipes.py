"""Training recipes as data: learning rates and weight ranges per data set and device kind.

A recipe fills the training settings a scenario leaves unset (``training.lr``,
``training.weight_ranges``); values given explicitly always win. ``crosssim`` is the recipe of
CrossSim v2.0's MLP training scripts (``training/MLP_training.py`` and
``training/training_net.py`` at tag v2.0 of sandialabs/cross-sim; docs/training.md,
'Recipes'):

* learning rate per device kind: ``numeric`` (the float64 twin and analytic device models,
  CrossSim's "numeric" runs), ``lookup_single`` (one measured lookup table) and
  ``lookup_multi`` (cells drawn from several measured devices);
* the weight range of layer ``l``: ``+-1.5 x baseline[l]``, CrossSim's per-data-set baseline
  "calibrated to maximize dynamic range";
* schedule: ``lr x 0.75`` every 5 epochs, 20 epochs (mcvar's defaults, recorded here).
"""

from __future__ import annotations

from dataclasses import dataclass

RECIPES = ("crosssim",)
DEVICE_KINDS = ("numeric", "lookup_single", "lookup_multi")


@dataclass(frozen=True)
class Recipe:
    """Learning rates (per device kind) and weight baselines (per layer) of one data set."""

    lr: dict  #: {device kind: learning rate [1]}
    baseline: tuple  #: per-layer weight baseline [1]; the range is range_factor x baseline
    range_factor: float = 1.5  #: CrossSim's clipscale
    lr_decay: float = 0.75  #: learning-rate factor every lr_decay_every epochs
    lr_decay_every: int = 5
    epochs: int = 20

    @property
    def weight_ranges(self) -> tuple:
        """Largest weight of each layer [1]."""
        return tuple(self.range_factor * b for b in self.baseline)


def _rates(numeric, single, multi) -> dict:
    return dict(zip(DEVICE_KINDS, (numeric, single, multi)))


#: CrossSim v2.0's recipes per mcvar data set: digits is CrossSim's "small", file_types its
#: "cyber" (whose rates it tuned on unscaled features; mcvar scales every feature, so use an
#: lr sweep there), MNIST and its 5k subset "mnist"
CROSSSIM = {
    "digits": Recipe(_rates(0.05, 0.006, 0.012), (0.866, 1.93)),
    "mnist": Recipe(_rates(0.01, 0.0025, 0.001), (0.218, 1.05)),
    "mnist_5k": Recipe(_rates(0.01, 0.0025, 0.001), (0.218, 1.05)),
    "file_types": Recipe(_rates(0.00005, 0.000025, 0.000025), (0.219, 0.444)),
    "iris": Recipe(_rates(0.1, 0.02, 0.02), (1.74761165803 * 2 / 1.5, 2.2352760706 * 2 / 1.5)),
}


def device_kind(backend: str, model: str, table_devices: int) -> str:
    """The recipe's device kind of a training run: ``numeric`` for the float64 twin and the
    analytic device models, else ``lookup_single`` or ``lookup_multi`` by the number of
    measured devices the cells are drawn from."""
    if backend == "numeric" or model != "lookup":
        return "numeric"
    return "lookup_single" if table_devices == 1 else "lookup_multi"


def recipe_for(name: str, dataset: str) -> Recipe:
    """Recipe ``name`` for ``dataset``; KeyError names what is available."""
    if name != "crosssim":
        raise KeyError(f"unknown recipe {name!r}, allowed: {RECIPES}")
    if dataset not in CROSSSIM:
        raise KeyError(f"the crosssim recipe has no entry for data set {dataset!r} "
                       f"(it has {sorted(CROSSSIM)})")
    return CROSSSIM[dataset]

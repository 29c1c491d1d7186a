"""Training multilayer perceptrons on simulated crossbars (docs/training.md).

Every weight matrix (with its bias row) lives on crossbar tiles; per example (batch 1, as
the hardware does it) the forward pass is a read, the backpropagated error a transposed
read and the update one parallel outer product per layer. Activations, softmax and the
learning-rate schedule are digital. The ``numeric`` backend trains the same network with
the same initial weights and data order in float64: the twin every accuracy loss is
measured against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .datasets import load_dataset, standardize, standardize_global
from .devices import Device, resolve
from .kernels import mlp, rng
from .kernels.mlp import CARRY_RESETS, CARRY_WRITES
from .network import CrossbarNetwork
from .params import ParameterError, Parameters, param, validate
from .recipes import RECIPES, device_kind, recipe_for
from .periphery import Periphery
from .streams import Stream
from .tile import Pulsing, TileSpec

BACKENDS = ("crossbar", "numeric")
_RENAMED = {"verify": "renamed: 'verify' is now carry_write = 'exact' with carry_reset = 'exact'",
            "pulses": "renamed: 'pulses' is now carry_write = 'open_loop' with "
                      "carry_reset = 'blind'"}
#: learning rate without a recipe [1]
DEFAULT_LR = 0.05
#: input scalings (CrossSim's names in docs/training.md): each feature on its own ("colgauss")
#: or all features together ("gauss"), both to standard deviation 0.5
INPUT_SCALINGS = ("per_feature", "global")
DATASETS = ("digits", "iris", "file_types", "mnist", "mnist_5k")


@dataclass(frozen=True)
class Training(Parameters):
    """What to train and how: dataset, network, schedule, remedies."""

    dataset: str = param("digits", units="1", choices=DATASETS, doc="dataset name")
    hidden: tuple = param((36,), units="1", kind=(tuple, list),
                          doc="hidden layer sizes (input and output sizes come from the dataset)")
    epochs: int = param(20, units="1", low=1, high=100000, kind=int, doc="training epochs")
    lr: float | None = param(None, units="1", low=0.0, low_open=True,
                             kind=(int, float, type(None)),
                             doc="learning rate (None: the recipe's rate for the device kind, "
                                 "or 0.05 without a recipe)")
    lr_decay: float = param(0.75, units="1", low=0.0, low_open=True, high=1.0,
                            doc="learning-rate factor applied every lr_decay_every epochs")
    lr_decay_every: int = param(5, units="1", low=0, high=100000, kind=int,
                                doc="epochs between learning-rate decays (0: constant rate)")
    train_examples: int = param(0, units="1", low=0, kind=int,
                                doc="training examples per epoch (0, or more than the set "
                                    "holds: the whole training set)")
    input_scaling: str = param("per_feature", units="1", choices=INPUT_SCALINGS,
                               doc="'per_feature': each input feature to zero mean and std 0.5 "
                                   "(datasets.standardize); 'global': all features together "
                                   "(datasets.standardize_global, CrossSim's MNIST scaling)")
    test_examples: int = param(0, units="1", low=0, kind=int,
                               doc="test examples evaluated (0, or more than the set holds: "
                                   "the whole test set)")
    backend: str = param("crossbar", units="1", choices=BACKENDS,
                         doc="'crossbar' (simulated tiles) or 'numeric' (float64 twin)")
    recipe: str = param("none", units="1", choices=("none",) + RECIPES,
                        doc="training recipe filling lr and weight_ranges left unset "
                            "(mcvar.recipes, docs/training.md)")
    weight_ranges: tuple | None = param(None, units="1", kind=(tuple, type(None)),
                                        doc="largest weight of each layer's tiles (None: the "
                                            "recipe's, or tile.weight_bound for every layer)")
    validation_examples: int = param(0, units="1", low=0, kind=int,
                                     doc="training examples held out as a validation set "
                                         "(a fixed split, the same for every seed and trial)")
    carry_digits: int = param(1, units="1", low=1, high=8, kind=int,
                              doc="devices per weight for periodic carry (1: no carry)")
    carry_base: float = param(5.0, units="1", low=1.0, low_open=True,
                              doc="significance ratio between successive carry digits")
    carry_threshold: float = param(0.5, units="1", low=0.0, low_open=True, high=1.0,
                                   doc="carry when |low digit| exceeds this fraction of its range")
    carry_every: int | tuple = param(10, units="1", kind=(int, tuple),
                                     doc="carry periods: an integer N (every digit pair carries "
                                         "every N examples) or CrossSim's carry_frequency, one "
                                         "period per digit pair, most significant pair first")
    carry_reset: str = param("exact", units="1", choices=CARRY_RESETS,
                             doc="how the carried low digit returns to zero: write-verify "
                                 "('exact'), one step sized from the device's mean step at its "
                                 "conductance ('calibrated') or one open-loop step ('blind')")
    carry_write: str = param("exact", units="1", choices=CARRY_WRITES,
                             doc="how the carried value is added to the higher digit: "
                                 "write-verify ('exact') or one open-loop step ('open_loop')")

    def __post_init__(self):
        if isinstance(self.hidden, list):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        if isinstance(self.carry_every, list):
            object.__setattr__(self, "carry_every", tuple(self.carry_every))
        if isinstance(self.weight_ranges, list):
            object.__setattr__(self, "weight_ranges", tuple(self.weight_ranges))
        if self.carry_write in _RENAMED:
            raise ParameterError("training.carry_write", _RENAMED[self.carry_write])
        validate(self, "training.")
        _check_periods(self.carry_every, self.carry_digits)
        if self.weight_ranges is not None:
            if len(self.weight_ranges) != len(self.hidden) + 1 or not all(
                    isinstance(w, (int, float)) and not isinstance(w, bool)
                    and 0 < w < float("inf") for w in self.weight_ranges):
                raise ParameterError("training.weight_ranges", f"got {list(self.weight_ranges)!r}, "
                                     f"allowed: {len(self.hidden) + 1} numbers in (0, inf), one "
                                     "per layer [1]")
        if not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in self.hidden):
            raise ParameterError("training.hidden", f"got {self.hidden!r}, allowed: a list of "
                                                    "integers >= 1 (may be empty)")


def _check_periods(every, digits: int) -> None:
    """``carry_every``: an integer in [1, 2**30] or ``digits - 1`` such integers."""
    ok = lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1 << 30  # noqa: E731
    if isinstance(every, tuple):
        if (digits > 1 and len(every) != digits - 1) or not all(ok(v) for v in every):
            raise ParameterError("training.carry_every", f"got {list(every)!r}, allowed: an "
                                 f"integer or {max(digits - 1, 1)} integers in [1, 2^30] (one "
                                 "period per digit pair, most significant pair first) [1]")
    elif not ok(every):
        raise ParameterError("training.carry_every", f"got {every!r}, allowed: an integer in "
                                                     "[1, 2^30] or a list of them [1]")


def carry_periods(training: Training) -> np.ndarray:
    """Carry period of each digit pair, least significant pair first (int64, digits - 1).

    Pair ``d`` (digit ``d`` into ``d + 1``) carries when its counter reaches ``periods[d]``;
    the counter of pair 0 counts training examples, that of pair ``d`` the carries of pair
    ``d - 1`` (CrossSim's hierarchical counters). An integer ``carry_every = N`` is
    ``[N, 1, 1, ...]``: every pair carries, lowest first, every N examples.
    """
    n = training.carry_digits - 1
    every = training.carry_every
    periods = [every] + [1] * (n - 1) if isinstance(every, int) else list(every[::-1])
    return np.asarray(periods[:n], dtype=np.int64)


@dataclass(frozen=True)
class TrainingResult:
    """Per-epoch history of one trial (epoch e = state after e+1 epochs)."""

    train_loss: np.ndarray  #: (epochs,) mean cross-entropy over the epoch's examples [1]
    train_accuracy: np.ndarray  #: (epochs,) accuracy on the examples as they were trained [1]
    test_accuracy: np.ndarray  #: (epochs,) test-set accuracy after the epoch [1]
    seconds: np.ndarray  #: (epochs,) wall time of each epoch [s]
    pulses: np.ndarray  #: (epochs, 2) device pulses applied per epoch (up, down) [1]
    #: (epochs,) validation accuracy after the epoch (NaN without training.validation_examples)
    validation_accuracy: np.ndarray


def resolved(training: Training, device: Device, spec: TileSpec) -> Training:
    """``training`` with ``lr`` and ``weight_ranges`` filled where unset: from its recipe
    (mcvar.recipes, for the run's device kind), else ``DEFAULT_LR`` and ``spec.weight_bound``
    for every layer. Settings given explicitly are kept."""
    layers = len(training.hidden) + 1
    lr, ranges = training.lr, training.weight_ranges
    if training.recipe != "none":
        try:
            recipe = recipe_for(training.recipe, training.dataset)
        except KeyError as err:
            raise ParameterError("training.recipe", err.args[0]) from None
        if lr is None:
            devices = len(device.table_devices) if device.table_devices else (
                resolve(device).tables.n_devices if device.model == "lookup" else 1)
            lr = recipe.lr[device_kind(training.backend, device.model, devices)]
        if ranges is None:
            if len(recipe.baseline) != layers:
                raise ParameterError("training.recipe", f"the {training.recipe} recipe gives "
                                     f"weight ranges for {len(recipe.baseline)} layers, the "
                                     f"network has {layers}: set training.weight_ranges")
            ranges = recipe.weight_ranges
    return training.replace(lr=DEFAULT_LR if lr is None else lr,
                            weight_ranges=(spec.weight_bound,) * layers if ranges is None
                            else ranges)


def network_sizes(training: Training, n_features: int, n_classes: int) -> tuple[int, ...]:
    """Layer widths ``(inputs, *hidden, classes)``."""
    return (int(n_features), *training.hidden, int(n_classes))


def initial_weights(sizes, seed: int, trial: int, bounds) -> list[np.ndarray]:
    """CrossSim's initialisation: W_l (n_l + 1, n_{l+1}) ~ U(+-4 sqrt(6 / (fan_in + fan_out))).

    The bias row is the last row. Layer ``l``'s values are clipped to ``+-bounds[l]`` (one
    number: the same for every layer), the
    largest weight its tiles represent (as CrossSim's set_matrix clips to the weight range),
    so the crossbar and its float64 twin start from the same weights. Drawn from stream
    (seed, trial, layer + 1, TRAINING).
    """
    weights = []
    bounds = np.broadcast_to(np.asarray(bounds, dtype=float), (len(sizes) - 1,))
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        limit = 4.0 * np.sqrt(6.0 / (n_in + n_out))
        key = rng.stream_key(seed, trial, l + 1, Stream.TRAINING)
        u = rng.uniforms(key, (n_in + 1, n_out))
        weights.append(np.clip(limit * (2.0 * u - 1.0), -bounds[l], bounds[l]))
    return weights


def validation_split(n: int, held_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held out) of a fixed validation split of ``n`` training examples.

    The held-out examples are the first ``held_out`` of a shuffle from stream
    (0, 0, 0, TRAINING), operation 2**40 (no other draw uses it): the same split for every
    seed and trial, so learning rates are compared on the same examples. Kept indices are
    in their original order.
    """
    if not 0 < held_out < n:
        raise ParameterError("training.validation_examples", f"got {held_out}, allowed: "
                                                             f"[1, {n - 1}] for {n} examples")
    shuffle = np.argsort(rng.uniforms(rng.stream_key(0, 0, 0, Stream.TRAINING), n, 1 << 40),
                         kind="stable")
    return np.sort(shuffle[held_out:]), shuffle[:held_out]


def example_orders(n: int, subset: int, epochs: int, seed: int, trial: int):
    """Training subset (first ``subset`` of a fixed shuffle, all when 0) and its order per epoch.

    Shuffles come from stream (seed, trial, 0, TRAINING): operation 0 for the subset,
    ``1 + epoch`` for the order of each epoch. Returns (epochs, n_used) int64 indices.
    """
    key = rng.stream_key(seed, trial, 0, Stream.TRAINING)
    used = np.argsort(rng.uniforms(key, n, 0), kind="stable")[:subset] if subset else np.arange(n)
    return np.stack([used[np.argsort(rng.uniforms(key, used.size, 1 + e), kind="stable")]
                     for e in range(epochs)]).astype(np.int64)


def learning_rate(training: Training, epoch: int) -> float:
    """Learning rate of ``epoch`` (0-based): ``lr * lr_decay ** (epoch // lr_decay_every)``."""
    if training.lr_decay_every == 0:
        return training.lr
    return training.lr * training.lr_decay ** (epoch // training.lr_decay_every)


def _prepared_data(training: Training):
    """Scaled training, validation (empty without a split) and test arrays."""
    data = load_dataset(training.dataset)
    x_train, y_train = data.x_train, data.y_train
    x_val, y_val = x_train[:0], y_train[:0]
    if training.validation_examples:
        kept, held = validation_split(len(y_train), training.validation_examples)
        x_val, y_val, x_train, y_train = x_train[held], y_train[held], x_train[kept], y_train[kept]
    x_test, y_test = data.x_test, data.y_test
    if training.test_examples:
        x_test, y_test = x_test[:training.test_examples], y_test[:training.test_examples]
    scale = standardize_global if training.input_scaling == "global" else standardize
    x_train, x_rest = scale(x_train, np.concatenate([x_val, x_test]))  # scaled as training
    contiguous = lambda a, dtype=np.float64: np.ascontiguousarray(a, dtype=dtype)  # noqa: E731
    return (contiguous(x_train), contiguous(y_train, np.int64),
            contiguous(x_rest[:len(y_val)]), contiguous(y_val, np.int64),
            contiguous(x_rest[len(y_val):]), contiguous(y_test, np.int64),
            data.n_features, data.n_classes)


def train(training: Training, spec: TileSpec = TileSpec(), device: Device = Device(),
          periphery: Periphery = Periphery(), pulsing: Pulsing = Pulsing(), *, seed: int = 0,
          trial: int = 0) -> TrainingResult:
    """Train one trial (one device instance and noise stream) and return its history."""
    training = resolved(training, device, spec)
    x_tr, y_tr, x_va, y_va, x_te, y_te, n_feat, n_cls = _prepared_data(training)
    sizes = network_sizes(training, n_feat, n_cls)
    orders = example_orders(len(y_tr), training.train_examples, training.epochs, seed, trial)
    weights = initial_weights(sizes, seed, trial, training.weight_ranges)
    if training.backend == "numeric":
        runner = _NumericRunner(sizes, weights)
    else:
        runner = CrossbarNetwork(training, spec, device, periphery, pulsing, sizes, weights,
                                 seed=seed, trial=trial, calibration=x_tr[orders[0][:256]])
    history = np.full((training.epochs, 7), np.nan)
    for epoch in range(training.epochs):
        t0 = time.perf_counter()
        stats = runner.train_epoch(x_tr, y_tr, orders[epoch], learning_rate(training, epoch))
        if len(y_va):
            history[epoch, 6] = runner.evaluate(x_va, y_va)
        accuracy = runner.evaluate(x_te, y_te)
        n = orders.shape[1]
        history[epoch, :6] = (stats[0] / n, stats[1] / n, accuracy, time.perf_counter() - t0,
                              stats[2], stats[3])
    return TrainingResult(history[:, 0], history[:, 1], history[:, 2], history[:, 3],
                          history[:, 4:6].copy(), history[:, 6].copy())


class _NumericRunner:
    """The float64 twin: same network, initial weights and data order, ideal arithmetic."""

    def __init__(self, sizes, weights):
        from numba.typed import List

        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.W = List([np.ascontiguousarray(w) for w in weights])

    def train_epoch(self, X, y, order, lr):
        stats = np.zeros(4)
        mlp.numeric_epoch(X, y, order, self.sizes, self.W, lr, stats)
        return stats

    def evaluate(self, X, y):
        return mlp.numeric_evaluate(X, y, self.sizes, self.W)

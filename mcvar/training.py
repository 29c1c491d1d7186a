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
from .devices import Device
from .kernels import mlp, rng
from .network import CrossbarNetwork
from .params import ParameterError, Parameters, param, validate
from .periphery import Periphery
from .streams import Stream
from .tile import Pulsing, TileSpec

BACKENDS = ("crossbar", "numeric")
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
    lr: float = param(0.05, units="1", low=0.0, low_open=True, doc="learning rate")
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
    carry_digits: int = param(1, units="1", low=1, high=8, kind=int,
                              doc="devices per weight for periodic carry (1: no carry)")
    carry_base: float = param(5.0, units="1", low=1.0, low_open=True,
                              doc="significance ratio between successive carry digits")
    carry_threshold: float = param(0.5, units="1", low=0.0, low_open=True, high=1.0,
                                   doc="carry when |low digit| exceeds this fraction of its range")
    carry_every: int = param(10, units="1", low=1, high=1 << 30, kind=int,
                             doc="examples between carry checks")
    carry_write: str = param("verify", units="1", choices=("verify", "pulses"),
                             doc="how a carry is written: write-verify to the target (error = "
                                 "device.program_noise) or open-loop pulses through the device "
                                 "model")

    def __post_init__(self):
        if isinstance(self.hidden, list):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        validate(self, "training.")
        if not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in self.hidden):
            raise ParameterError("training.hidden", f"got {self.hidden!r}, allowed: a list of "
                                                    "integers >= 1 (may be empty)")


@dataclass(frozen=True)
class TrainingResult:
    """Per-epoch history of one trial (epoch e = state after e+1 epochs)."""

    train_loss: np.ndarray  #: (epochs,) mean cross-entropy over the epoch's examples [1]
    train_accuracy: np.ndarray  #: (epochs,) accuracy on the examples as they were trained [1]
    test_accuracy: np.ndarray  #: (epochs,) test-set accuracy after the epoch [1]
    seconds: np.ndarray  #: (epochs,) wall time of each epoch [s]
    pulses: np.ndarray  #: (epochs, 2) device pulses applied per epoch (up, down) [1]


def network_sizes(training: Training, n_features: int, n_classes: int) -> tuple[int, ...]:
    """Layer widths ``(inputs, *hidden, classes)``."""
    return (int(n_features), *training.hidden, int(n_classes))


def initial_weights(sizes, seed: int, trial: int, bound: float) -> list[np.ndarray]:
    """CrossSim's initialisation: W_l (n_l + 1, n_{l+1}) ~ U(+-4 sqrt(6 / (fan_in + fan_out))).

    The bias row is the last row. Values are clipped to ``+-bound``, the largest weight a
    tile represents, so the crossbar and its float64 twin start from the same weights.
    Drawn from stream (seed, trial, layer + 1, TRAINING).
    """
    weights = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        limit = 4.0 * np.sqrt(6.0 / (n_in + n_out))
        key = rng.stream_key(seed, trial, l + 1, Stream.TRAINING)
        u = rng.uniforms(key, (n_in + 1, n_out))
        weights.append(np.clip(limit * (2.0 * u - 1.0), -bound, bound))
    return weights


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
    data = load_dataset(training.dataset)
    scale = standardize_global if training.input_scaling == "global" else standardize
    x_train, x_test = scale(data.x_train, data.x_test)
    y_train, y_test = data.y_train, data.y_test
    if training.test_examples:
        x_test, y_test = x_test[:training.test_examples], y_test[:training.test_examples]
    return (np.ascontiguousarray(x_train), np.ascontiguousarray(y_train, dtype=np.int64),
            np.ascontiguousarray(x_test), np.ascontiguousarray(y_test, dtype=np.int64),
            data.n_features, data.n_classes)


def train(training: Training, spec: TileSpec = TileSpec(), device: Device = Device(),
          periphery: Periphery = Periphery(), pulsing: Pulsing = Pulsing(), *, seed: int = 0,
          trial: int = 0) -> TrainingResult:
    """Train one trial (one device instance and noise stream) and return its history."""
    x_tr, y_tr, x_te, y_te, n_feat, n_cls = _prepared_data(training)
    sizes = network_sizes(training, n_feat, n_cls)
    orders = example_orders(len(y_tr), training.train_examples, training.epochs, seed, trial)
    weights = initial_weights(sizes, seed, trial, spec.weight_bound)
    if training.backend == "numeric":
        runner = _NumericRunner(sizes, weights)
    else:
        runner = CrossbarNetwork(training, spec, device, periphery, pulsing, sizes, weights,
                                 seed=seed, trial=trial, calibration=x_tr[orders[0][:256]])
    history = np.zeros((training.epochs, 6))
    for epoch in range(training.epochs):
        t0 = time.perf_counter()
        stats = runner.train_epoch(x_tr, y_tr, orders[epoch], learning_rate(training, epoch),
                                   epoch * orders.shape[1])
        accuracy = runner.evaluate(x_te, y_te)
        n = orders.shape[1]
        history[epoch] = (stats[0] / n, stats[1] / n, accuracy, time.perf_counter() - t0,
                          stats[2], stats[3])
    return TrainingResult(history[:, 0], history[:, 1], history[:, 2], history[:, 3],
                          history[:, 4:6].copy())


class _NumericRunner:
    """The float64 twin: same network, initial weights and data order, ideal arithmetic."""

    def __init__(self, sizes, weights):
        from numba.typed import List

        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.W = List([np.ascontiguousarray(w) for w in weights])

    def train_epoch(self, X, y, order, lr, example0):
        stats = np.zeros(4)
        mlp.numeric_epoch(X, y, order, self.sizes, self.W, lr, stats)
        return stats

    def evaluate(self, X, y):
        return mlp.numeric_evaluate(X, y, self.sizes, self.W)

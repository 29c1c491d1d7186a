"""Training multilayer perceptrons on simulated crossbars (../shared/MODEL.md section 6).

Every weight matrix (with its bias row) lives on crossbar tiles; per example (batch 1, as
the hardware does it) the forward pass is a read, the backpropagated error a transposed
read and the update one parallel outer product per layer. Activations, softmax and the
learning-rate schedule are digital. The ``numeric`` backend trains the same network with
the same initial weights and data order in float64: the twin every accuracy loss is
measured against.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .params import ParameterError, param, validate

BACKENDS = ("crossbar", "numeric")
DATASETS = ("digits", "iris", "file_types", "mnist")


@dataclass(frozen=True)
class Training:
    """What to train and how: dataset, network, schedule, remedies."""

    dataset: str = param("digits", units="1", choices=DATASETS, doc="dataset name")
    hidden: tuple = param((36,), units="1", kind=tuple,
                          doc="hidden layer sizes (input and output sizes come from the dataset)")
    epochs: int = param(20, units="1", low=1, high=100000, kind=int, doc="training epochs")
    lr: float = param(0.05, units="1", low=0.0, low_open=True, doc="learning rate")
    lr_decay: float = param(0.75, units="1", low=0.0, low_open=True, high=1.0,
                            doc="learning-rate factor applied every lr_decay_every epochs")
    lr_decay_every: int = param(5, units="1", low=0, high=100000, kind=int,
                                doc="epochs between learning-rate decays (0: constant rate)")
    train_examples: int = param(0, units="1", low=0, kind=int,
                                doc="training examples per epoch (0: the whole training set)")
    test_examples: int = param(0, units="1", low=0, kind=int,
                               doc="test examples evaluated (0: the whole test set)")
    backend: str = param("crossbar", units="1", choices=BACKENDS,
                         doc="'crossbar' (simulated tiles) or 'numeric' (float64 twin)")
    carry_digits: int = param(1, units="1", low=1, high=8, kind=int,
                              doc="devices per weight for periodic carry (1: no carry)")
    carry_base: float = param(5.0, units="1", low=1.0, low_open=True,
                              doc="significance ratio between successive carry digits")
    carry_threshold: float = param(0.5, units="1", low=0.0, low_open=True, high=1.0,
                                   doc="carry when |low digit| exceeds this fraction of its range")
    carry_every: int = param(10, units="1", low=1, high=1 << 30, kind=int,
                             doc="updates between carry checks")

    def __post_init__(self):
        validate(self, "training.")
        if not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in self.hidden):
            raise ParameterError("training.hidden", f"got {self.hidden!r}, allowed: a list of "
                                                    "integers >= 1 (may be empty)")

    def replace(self, **changes) -> "Training":
        """A copy with ``changes`` applied (validated)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class TrainingResult:
    """Per-epoch history of one trial (epoch e = state after e+1 epochs)."""

    train_loss: np.ndarray  #: (epochs,) mean cross-entropy over the epoch's examples [1]
    train_accuracy: np.ndarray  #: (epochs,) accuracy on the examples as they were trained [1]
    test_accuracy: np.ndarray  #: (epochs,) test-set accuracy after the epoch [1]
    seconds: np.ndarray  #: (epochs,) wall time of each epoch [s]
    pulses: np.ndarray  #: (epochs, 2) device pulses applied per epoch (up, down) [1]

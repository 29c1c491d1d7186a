"""A multilayer perceptron mapped onto crossbar tiles (the state the training loop runs on).

Layer ``l`` (``n_l`` inputs plus a bias row, ``n_{l+1}`` outputs) is split into
``ceil((n_l + 1) / rows) x ceil(n_{l+1} / cols)`` blocks of at most ``TileSpec.rows x cols``
cells; with periodic carry every block has ``carry_digits`` tiles of significance
``base**(d - (digits - 1))`` (digit 0 least significant, the last digit full scale). Tiles
are numbered layer by layer, block by block, digit by digit; the number is the tile index of
its random streams, so every tile of every trial has its own d2d draw and noise.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .accelerate import get_threads
from .devices import Device
from .kernels import mlp
from .kernels.state import TileReads
from .periphery import Periphery
from .params import ParameterError
from .tile import Pulsing, Tile, TileSpec
from .tiling import layer_grid


@dataclasses.dataclass(frozen=True)
class Block:
    """Where a tile sits in its layer."""

    layer: int
    row0: int
    rows: int
    col0: int
    cols: int
    digit: int


def blocks(sizes, spec: TileSpec, digits: int = 1) -> list[Block]:
    """Tile blocks of a network with layer widths ``sizes``, in tile-index order."""
    out = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        rows = n_in + 1
        row_blocks, col_blocks = layer_grid(n_in, n_out, spec.rows, spec.cols)
        for r in range(row_blocks):
            for c in range(col_blocks):
                nr = min(spec.rows, rows - r * spec.rows)
                nc = min(spec.cols, n_out - c * spec.cols)
                for d in range(digits):
                    out.append(Block(l, r * spec.rows, nr, c * spec.cols, nc, d))
    return out


class CrossbarNetwork:
    """Tiles of one trial of a network, packed for the compiled training loop."""

    def __init__(self, training, spec: TileSpec, device: Device, periphery: Periphery,
                 pulsing: Pulsing, sizes, weights, *, seed: int, trial: int,
                 calibration: np.ndarray | None = None):
        from numba.typed import List

        self.training = training
        self.sizes = np.asarray(sizes, dtype=np.int64)
        digits = training.carry_digits
        self.sig = training.carry_base ** (np.arange(digits) - (digits - 1.0))
        self.blocks = blocks(sizes, spec, digits)
        self.tiles = []
        bounds = training.weight_ranges or (spec.weight_bound,) * (len(sizes) - 1)
        for index, b in enumerate(self.blocks):
            tspec = dataclasses.replace(spec, rows=b.rows, cols=b.cols,
                                        weight_bound=float(bounds[b.layer]))
            tile = Tile(tspec, device, periphery, pulsing, seed=seed, trial=trial, tile=index + 1)
            if b.digit == digits - 1:
                tile.program(weights[b.layer][b.row0:b.row0 + b.rows, b.col0:b.col0 + b.cols])
            self.tiles.append(tile)
        if periphery.out_bound == "calibrated":
            self._calibrate(weights, calibration)
        layer_start = np.searchsorted([b.layer for b in self.blocks],
                                      np.arange(len(sizes)), side="left").astype(np.int64)
        field = lambda name: np.array([getattr(b, name) for b in self.blocks], np.int64)  # noqa: E731
        self.layout = mlp.Layout(self.sizes, layer_start, field("row0"), field("rows"),
                                 field("col0"), field("cols"), field("digit"), self.sig)
        # the tiles' own states and read matrices (shared, not copied: the compiled loop
        # advances each tile's counters and rebuilds its matrices in place)
        self.states = List([t.state for t in self.tiles])
        self.reads = List([TileReads(t.reads(False), t.reads(True)) for t in self.tiles])
        self.carry = _carry_settings(training, self.tiles)

    def _calibrate(self, weights, X):
        """ADC full scales from the initial network's activations and errors on ``X``.

        Only the full-scale digit of a block holds weights at the start; its lower carry
        digits (the same devices and converters, their significance applied after the ADC)
        get its full scales, not the near-zero ones of their empty arrays.
        """
        acts, deltas = _initial_signals(weights, X)
        top = len(self.sig) - 1
        for i, (t, b) in enumerate(zip(self.tiles, self.blocks)):
            if b.digit != top:
                continue
            forward = t.calibrate_adc(acts[b.layer][:, b.row0:b.row0 + b.rows])
            backward = t.calibrate_adc(deltas[b.layer][:, b.col0:b.col0 + b.cols],
                                       transpose=True)
            for low in self.tiles[i - top:i]:  # the block's lower digits precede it
                low.set_adc_bound(forward)
                low.set_adc_bound(backward, transpose=True)

    def train_epoch(self, X, y, order, lr):
        """One epoch at learning rate ``lr``; returns (loss sum, correct, pulses up, down).
        The carry counters run on across epochs."""
        from numba.typed import List

        lr_low = lr / self.sig[0]  # updates go to the least significant digit
        update_cfg = List([t.update_config(lr_low) for t in self.tiles])
        stats = np.zeros(4)
        mlp.train_epoch(X, y, order, self.layout, self.states, self.reads, update_cfg,
                        self.carry, get_threads(), stats)
        return stats  # (the loop rebuilt the tiles' read matrices after every change)

    def evaluate(self, X, y) -> float:
        """Test accuracy [1] with noisy reads."""
        return mlp.evaluate(X, y, self.layout, self.states, self.reads)

    def weights(self) -> list[np.ndarray]:
        """Present weights of every layer (digits summed with their significance)."""
        out = [np.zeros((n_in + 1, n_out)) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]
        for t, b in zip(self.tiles, self.blocks):
            out[b.layer][b.row0:b.row0 + b.rows, b.col0:b.col0 + b.cols] += (
                self.sig[b.digit] * t.weights())
        return out


def _carry_settings(training, tiles) -> mlp.Carry:
    """Periodic-carry settings and counters of a network's ``tiles`` (docs/training.md).

    Carries are written with the tile's own pulsing at learning rate 1 (one aggregated step
    with ``pulsing.aggregate``): open-loop (``calibrated`` off) for blind resets and open-loop
    writes, read-before-write calibrated for calibrated resets (lookup devices).
    """
    from numba.typed import List

    from .training import carry_periods

    if training.carry_reset == "calibrated" and training.carry_digits > 1 and not all(
            t.device.model == "lookup" and t.pulsing.aggregate for t in tiles):
        raise ParameterError("training.carry_reset", "'calibrated' sizes a step from a "
                             "measured table's mean step: it needs device.model = 'lookup' "
                             "and pulsing.aggregate = true")
    open_loop = List([t.update_config(1.0)._replace(calibrated=False) for t in tiles])
    calibrated = List([t.update_config(1.0)._replace(calibrated=t.device.model == "lookup")
                       for t in tiles])
    periods = carry_periods(training)
    return mlp.Carry(periods, np.zeros(periods.size + 1, np.int64),
                     float(training.carry_threshold),
                     np.array([t.spec.weight_bound for t in tiles]),
                     mlp.CARRY_RESETS.index(training.carry_reset),
                     mlp.CARRY_WRITES.index(training.carry_write), open_loop, calibrated)


def _initial_signals(weights, X):
    """Float64 layer inputs (with bias) and output errors of the initial network on ``X``.

    Errors use the label-free proxy ``softmax - uniform``, the size of the errors early in
    training; they only set ADC ranges.
    """
    acts, zs = [], []
    a = X
    for l, W in enumerate(weights):
        a = np.concatenate([a, np.ones((a.shape[0], 1))], axis=1)
        acts.append(a)
        z = a @ W
        zs.append(z)
        a = 1.0 / (1.0 + np.exp(-z)) if l < len(weights) - 1 else None
    p = np.exp(zs[-1] - zs[-1].max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = p - 1.0 / p.shape[1]
    deltas = [None] * len(weights)
    deltas[-1] = delta
    for l in range(len(weights) - 1, 0, -1):
        act = acts[l][:, :-1]
        delta = (delta @ weights[l].T)[:, :-1] * act * (1.0 - act)
        deltas[l - 1] = delta
    return acts, deltas

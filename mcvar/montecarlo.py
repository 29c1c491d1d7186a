"""Monte Carlo error statistics of the crossbar kernels: many reads/updates per trial.

For reads, the error is the noisy, quantised output minus the exact product of the tile's
present weights with the unquantised input; for updates, the achieved change of every
weight minus the requested ``lr x_i d_j``. Errors are in weight x input units (reads) and
weight units (updates). Synthetic inputs come from the trial's WORKLOAD stream:
``x ~ U(-inp_bound, inp_bound)`` for reads, ``x ~ U(-1, 1)`` and ``d ~ N(0, d_std^2)`` for updates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .kernels import errors as ek
from .kernels import rng
from .kernels import sequence as sk
from .streams import Stream
from .tile import Tile

READ_EDGES = np.linspace(-2.0, 2.0, 201)  #: default read-error bins [weight x input units]
UPDATE_EDGES = np.linspace(-0.05, 0.05, 201)  #: default update-error bins [weight units]


@dataclass(frozen=True)
class ErrorStatistics:
    """Error statistics of one kind of operation over one trial."""

    operations: int  #: reads (vectors) or updates performed
    samples: int  #: errors compared (outputs or cells)
    mean: float  #: mean error
    std: float  #: standard deviation of the error
    max_abs: float  #: largest |error|
    signal_rms: float  #: RMS of the exact output / requested update
    slope: float  #: least-squares gain of noisy on exact (1 = unbiased scale)
    edges: np.ndarray  #: histogram bin edges (values outside go to the end bins)
    counts: np.ndarray  #: histogram counts
    pulses: np.ndarray  #: device pulses applied (up, down); zeros for reads
    seconds: float  #: wall time of the operations [s]

    @property
    def rms(self) -> float:
        """Root-mean-square error."""
        return float(np.sqrt(self.std**2 + self.mean**2))

    @property
    def nrmse(self) -> float:
        """RMS error relative to the RMS signal [1]."""
        return self.rms / self.signal_rms if self.signal_rms > 0 else float("nan")


def _finish(n_ops, n, s, s2, ref2, cross, maxabs, edges, counts, pulses, seconds):
    mean = s / n
    return ErrorStatistics(int(n_ops), int(n), float(mean), float(np.sqrt(max(s2 / n - mean**2, 0.0))),
                           float(maxabs), float(np.sqrt(ref2 / n)),
                           float(cross / ref2) if ref2 > 0 else float("nan"),
                           np.asarray(edges, float), counts, np.asarray(pulses, float), seconds)


def _uniform_bins(edges) -> tuple[np.ndarray, float, float]:
    """``(edges, lo, inv_width)`` of histogram ``edges``: at least two finite, increasing,
    uniformly spaced values (the compiled statistics bin by arithmetic)."""
    edges = np.asarray(edges, float)
    width = np.diff(edges) if edges.ndim == 1 else np.zeros(0)
    if (edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges))
            or not np.all(width > 0) or np.ptp(width) > 1e-9 * width.mean()):
        raise ValueError(f"edges = {edges!r}: must be >= 2 finite, increasing, uniformly "
                         "spaced bin edges (e.g. numpy.linspace(-0.1, 0.1, 201))")
    return edges, float(edges[0]), (edges.size - 1) / float(edges[-1] - edges[0])


def _of_stats(n_ops, stats, edges, hist, pulses, seconds) -> ErrorStatistics:
    return _finish(n_ops, stats[ek.COUNT], stats[ek.SUM], stats[ek.SUM2], stats[ek.WANT2],
                   stats[ek.GOT_WANT], stats[ek.MAXABS], edges, hist, pulses, seconds)


def read_errors(tile: Tile, n_reads: int, *, transpose: bool = False, batch: int = 4096,
                edges: np.ndarray = READ_EDGES) -> ErrorStatistics:
    """Error statistics of ``n_reads`` noisy reads with uniform random inputs."""
    if n_reads < 1:
        raise ValueError(f"n_reads = {n_reads}: allowed range [1, inf)")
    W = tile.weights()
    k_in = tile.spec.cols if transpose else tile.spec.rows
    key = rng.stream_key(tile.seed, tile.trial, tile.index, Stream.WORKLOAD)
    bound = tile.periphery.inp_bound
    W = np.ascontiguousarray(W.T if transpose else W)  # (inputs, outputs)
    edges, lo, inv_width = _uniform_bins(edges)
    hist = np.zeros(edges.size - 1)
    stats = np.zeros(ek.N_STATS)
    seconds = 0.0
    base = 2 if transpose else 1  # op block of the workload stream: forward 1.., transposed 2..
    for start in range(0, n_reads, batch):
        b = min(batch, n_reads - start)
        X = bound * (2.0 * rng.uniforms(key, (b, k_in), op=(start // batch) * 4 + base) - 1.0)
        t0 = time.perf_counter()
        Y = tile.read(X, transpose=transpose)
        seconds += time.perf_counter() - t0
        ek.add_read_errors(Y, X, W, lo, inv_width, hist, stats)
    return _of_stats(n_reads, stats, edges, hist, np.zeros(2), seconds)


def update_errors(tile: Tile, n_updates: int, *, lr: float, d_std: float = 0.1,
                  edges: np.ndarray = UPDATE_EDGES) -> ErrorStatistics:
    """Error statistics of ``n_updates`` synthetic rank-1 updates applied to ``tile``."""
    if n_updates < 1:
        raise ValueError(f"n_updates = {n_updates}: allowed range [1, inf)")
    if not (np.isfinite(d_std) and d_std > 0):
        raise ValueError(f"d_std = {d_std}: allowed range (0, inf)")
    cfg = tile.update_config(lr)
    edges, lo, inv_width = _uniform_bins(edges)
    hist = np.zeros(edges.size - 1)
    stats = np.zeros(ek.N_STATS)
    counts = np.zeros(2)
    input_key = np.uint64(rng.stream_key(tile.seed, tile.trial, tile.index, Stream.UPDATE_INPUTS))
    t0 = time.perf_counter()
    sk.update_sequence(tile.state, cfg, n_updates, input_key, float(d_std), float(lr), lo,
                       inv_width, hist, stats, counts)  # advances the tile's update counter
    seconds = time.perf_counter() - t0
    tile.mark_written(counts)
    return _of_stats(n_updates, stats, edges, hist, counts, seconds)


def random_weights(tile: Tile, fraction: float = 0.5) -> np.ndarray:
    """Uniform weights in ``+-fraction * weight_bound`` from the trial's WORKLOAD stream."""
    key = rng.stream_key(tile.seed, tile.trial, tile.index, Stream.WORKLOAD)
    u = rng.uniforms(key, (tile.spec.rows, tile.spec.cols), op=0)
    return fraction * tile.spec.weight_bound * (2.0 * u - 1.0)

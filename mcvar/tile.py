"""A crossbar tile instance: conductance planes, weight mapping, reads, updates, counters.

Weight mapping (docs/devices.md, 'Mapping'), ``wb`` = ``TileSpec.weight_bound``:

* ``balanced``: two devices per weight, ``W = (G+ - G-) / (g_max - g_min) * wb``;
  updates move the pair push-pull (G+ up and G- down for a positive update).
* ``offset``: one device per weight and a reference column at ``G_ref = (g_min + g_max)/2``,
  ``W = (G - G_ref) / (g_max - g_min) * 2 wb``.

Rows are inputs (the last row is the bias row when the caller drives it with a constant);
forward reads drive rows and read columns (``y = W^T x``), transposed reads drive columns
and read rows (``z = W d``). A tile instance is identified by ``(seed, trial, tile)``: its
d2d draw and every noise stream derive from those, and operation counters advance with each
read/update, so the same sequence of calls gives bitwise the same results (docs/random.md).

A tile's arrays live in one :class:`mcvar.kernels.state.TileState` (``Tile.state``): the
conductances, offsets, per-cell parameters, lookup tables, stream keys and operation
counters. Kernels run on that state and advance its counters; a network of tiles holds the
states of its tiles, not copies, so a tile stays consistent whoever ran a kernel on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import devices as dev
from .accelerate import get_threads
from .kernels import read as rk
from .kernels import rng
from .kernels import write as wk
from .kernels.state import N_STREAMS, LookupTables, ReadMatrices, TileScalars, TileState
from .params import ParameterError, Parameters, param, validate
from .periphery import Periphery, levels
from .streams import Stream


@dataclass(frozen=True)
class TileSpec:
    """Geometry and weight mapping of a tile."""

    rows: int = param(1024, units="1", low=1, high=1 << 14, kind=int,
                      doc="rows (inputs); the reference study's array is 1024 x 1024")
    cols: int = param(1024, units="1", low=1, high=1 << 14, kind=int, doc="columns (outputs)")
    mapping: str = param("balanced", units="1", choices=("balanced", "offset"),
                         doc="differential pair or one device plus a reference column")
    weight_bound: float = param(1.0, units="1", low=0.0, low_open=True,
                                doc="weight magnitude mapped onto the full conductance swing")

    def __post_init__(self):
        validate(self, "tile.")


@dataclass(frozen=True)
class Pulsing(Parameters):
    """How updates become pulses (see mcvar.kernels.write)."""

    rule: str = param("stochastic", units="1", choices=wk.RULES, doc="pulse-count rule")
    bl: int = param(31, units="1", low=1, high=64, kind=int,
                    doc="bit-stream length BL of 'pulse_train' and 'implicit'")
    n_max: int = param(31, units="1", low=1, high=1 << 20, kind=int,
                       doc="most pulses per cell per update")
    aggregate: bool = param(False, units="1", kind=bool,
                            doc="apply a cell's pulses in one aggregated step")
    calibrated: bool = param(False, units="1", kind=bool,
                             doc="lookup tables, aggregated: size each step from the device's "
                                 "mean step at its present conductance (read-before-write)")

    def __post_init__(self):
        validate(self, "pulsing.")
        if self.calibrated and not self.aggregate:
            raise ParameterError("pulsing.calibrated", "needs pulsing.aggregate = true")
        if self.rule == "continuous" and not self.aggregate:
            raise ParameterError("pulsing.rule", "'continuous' (real pulse counts) needs "
                                                 "pulsing.aggregate = true")


#: tiles with fewer cells update serially: a parallel region costs more than their update
#: and stalls whenever another process holds a core (results are identical either way)
_PARALLEL_CELLS = 1 << 14

_NO_TABLES = LookupTables(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)),
                          np.zeros((1, 2, 2, 2), np.float32), np.zeros((1, 2, 2)), np.ones((1, 2)))


class Tile:
    """One Monte Carlo instance of a crossbar tile (a d2d draw plus its noise streams)."""

    def __init__(self, spec: TileSpec = TileSpec(), device: dev.Device = dev.Device(),
                 periphery: Periphery = Periphery(), pulsing: Pulsing = Pulsing(), *,
                 seed: int = 0, trial: int = 0, tile: int = 0):
        self.spec, self.device, self.periphery, self.pulsing = spec, device, periphery, pulsing
        self.seed, self.trial, self.index = int(seed), int(trial), int(tile)
        if self.seed < 0 or self.trial < 0 or self.index < 0:
            raise ValueError("seed, trial and tile must be integers >= 0")
        self.inst = dev.resolve(device)
        planes = 2 if spec.mapping == "balanced" else 1
        shape = (planes, spec.rows, spec.cols)
        #: per-cell device parameters (mcvar.devices.CellParams)
        self.cells = dev.draw_cells(self.inst, shape, self.seed, self.trial, self.index)
        self.G = np.empty(shape)  #: conductances (planes, rows, cols) [S]
        self.offset = np.zeros(shape)  #: read-visible write-noise offsets [S]
        #: reference conductance per row [S] (offset mapping)
        self.g_ref = np.full(spec.rows, 0.5 * (self.inst.g_min + self.inst.g_max))
        self.pulses = np.zeros(2)  #: device pulses applied by Tile.update and montecarlo (up, down)
        self.out_bound = {False: None, True: None}  # per direction: transposed?
        #: stream keys, indexed by Stream (uint64: a Python int above 2**63 overflows the
        #: int64 signature of a kernel)
        self.keys = np.zeros(N_STREAMS, np.uint64)
        for s in Stream:
            self.keys[s] = np.uint64(rng.stream_key(self.seed, self.trial, self.index, s))
        #: operations used so far per stream, indexed by Stream; kernels advance them
        self.ops = np.zeros(N_STREAMS, np.int64)
        tables = _NO_TABLES
        if device.model == "lookup":
            t = self.inst.tables
            tables = LookupTables(t.g_bins, t.u_points, t.quantiles, t.mu,
                                  self.inst.dw_siemens / np.abs(self.inst.table_ave))
        factor = 1.0 if planes == 2 else 2.0
        scalars = TileScalars(factor * spec.weight_bound / self.inst.g_range, self.inst.g_zero,
                              1.0 / self.inst.g_range, device.program_noise * self.inst.g_range,
                              float(device.read_noise), device.read_noise_model == "multiplicative")
        self._state = TileState(self.G, self.offset, self.g_ref, self.cells, tables, self.keys,
                                self.ops, scalars)
        self._reads = {False: None, True: None}  # ReadMatrices per direction (transposed?)
        self._fresh = {False: False, True: False}  # read matrices match the conductances
        self.reset()

    # ------------------------------------------------------------------ state
    @property
    def planes(self) -> int:
        """Device planes: 2 for a balanced pair, 1 for the offset mapping."""
        return self.G.shape[0]

    @property
    def state(self) -> TileState:
        """The tile's arrays as the kernels take them (shared, not copied: kernels run on
        them in place and advance ``ops``; call :meth:`mark_written` after changing ``G``)."""
        return self._state

    @property
    def weight_per_siemens(self) -> float:
        """Weight of one siemens of conductance difference [1/S]."""
        return self._state.scalars.weight_per_siemens

    def mark_written(self, pulses=None) -> None:
        """Note that a kernel changed the conductances outside this class (the read
        matrices are rebuilt before the next read); ``pulses`` (up, down) it applied."""
        self._fresh[False] = self._fresh[True] = False
        if pulses is not None:
            self.pulses += pulses

    def reset(self) -> None:
        """Every weight to zero (pairs at the zero-weight point, single devices at G_ref)."""
        g0 = self.inst.g_zero if self.planes == 2 else self.g_ref[0]
        self.G[...] = np.clip(g0, self.cells.g_lo, self.cells.g_hi)
        self._apply_stuck()
        self.offset[...] = 0.0
        self.mark_written()

    def _apply_stuck(self) -> None:
        st = self.cells.stuck
        self.G[st > 0] = self.cells.g_hi[st > 0]
        self.G[st < 0] = self.cells.g_lo[st < 0]

    def weights(self) -> np.ndarray:
        """Present weights (rows, cols) from the conductances, without read noise."""
        if self.planes == 2:
            dg = self.G[0] - self.G[1]
        else:
            dg = self.G[0] - self.g_ref[:, None]
        return dg * self.weight_per_siemens

    def program(self, W: np.ndarray, noise: bool = True) -> None:
        """Write target weights ``W`` (rows, cols), clipped to the cells' bounds.

        Programming error ``program_noise * (g_max - g_min) * N(0,1)`` per device (stream
        PROGRAM, one operation per call) when ``noise``; stuck cells stay stuck.
        """
        W = np.asarray(W, dtype=np.float64)
        if W.shape != (self.spec.rows, self.spec.cols):
            raise ValueError(f"W has shape {W.shape}, expected ({self.spec.rows}, {self.spec.cols})")
        dev.check_finite("W", W)
        dg = W / self.weight_per_siemens
        if self.planes == 2:
            target = np.stack([self.inst.g_zero + dg / 2, self.inst.g_zero - dg / 2])
        else:
            target = (self.g_ref[:, None] + dg)[None]
        sigma = self._state.scalars.program_sigma
        if noise and sigma > 0:
            op = self._next(Stream.PROGRAM)
            target = target + sigma * rng.normals(self.keys[Stream.PROGRAM], target.shape, op)
        self.G[...] = np.clip(target, self.cells.g_lo, self.cells.g_hi)
        self._apply_stuck()
        self.offset[...] = 0.0  # earlier updates' write-noise offsets are overwritten too
        self.mark_written()

    def _next(self, stream: Stream, n: int = 1) -> int:
        op = int(self.ops[stream])
        self.ops[stream] = op + n
        return op

    # ------------------------------------------------------------------ reads
    def read_config(self, transpose: bool = False) -> rk.ReadConfig:
        """Kernel settings of forward (``transpose=False``) or transposed reads."""
        per, d = self.periphery, self.device
        noise_mode = rk.NOISE_NONE
        if d.read_noise > 0:
            noise_mode = rk.NOISE_MATRIX if d.read_noise_model == "multiplicative" else rk.NOISE_CONSTANT
        digital = per.subtraction == "digital" and not (transpose and self.planes == 1)
        factor = 1.0 if self.planes == 2 else 2.0
        return rk.ReadConfig(
            float(per.inp_bound), levels(per.dac_bits), self._out_bound(transpose, digital),
            levels(per.adc_bits), float(per.out_noise), noise_mode,
            bool(transpose and self.planes == 1), bool(not transpose and self.planes == 1),
            bool(digital), factor * self.spec.weight_bound * per.inp_bound,
            per.noise_management == "abs_max")

    def _out_bound(self, transpose: bool, digital: bool) -> float:
        bound = self.out_bound[transpose]
        if bound is not None:
            return bound
        per = self.periphery
        if isinstance(per.out_bound, (int, float)):
            return float(per.out_bound)
        if per.out_bound == "calibrated":
            raise ValueError("periphery.out_bound = 'calibrated': call Tile.calibrate_adc first")
        # worst case: every input at full scale on cells at their extreme conductances
        k_in = self.spec.cols if transpose else self.spec.rows
        g_hi, g_lo = float(self.cells.g_hi.max()), float(self.cells.g_lo.min())
        if digital:
            swing = g_hi
        elif self.planes == 2:
            swing = g_hi - g_lo
        else:
            swing = max(g_hi - self.g_ref[0], self.g_ref[0] - g_lo)
        return k_in * swing / self.inst.g_range

    def reads(self, transpose: bool = False) -> ReadMatrices:
        """Read matrices and converter settings of one direction, built from the present
        conductances (arrays allocated once and rebuilt in place, so a holder of them, such
        as a network, sees every rebuild)."""
        entry = self._reads[transpose]
        if entry is None:
            cfg = self.read_config(transpose)
            q, k, n = rk.read_shape(self.planes, self.spec.rows, self.spec.cols, cfg.digital,
                                    transpose)
            multiplicative = self._state.scalars.multiplicative
            entry = ReadMatrices(np.empty((q, k, n)),
                                 np.empty((q, k, n)) if multiplicative else np.empty((1, 1, 1)),
                                 np.zeros((q, n)), cfg)
            self._reads[transpose] = entry
            self._fresh[transpose] = False
        if not self._fresh[transpose]:
            sc = self._state.scalars
            rk.build_read_matrices((self.G + self.offset) * sc.g_scale, self.g_ref * sc.g_scale,
                                   transpose, sc.read_noise, sc.multiplicative, entry.M,
                                   entry.S2, entry.s2c)
            self._fresh[transpose] = True
        return entry

    def read(self, X: np.ndarray, transpose: bool = False, exact_noise: bool = False) -> np.ndarray:
        """Noisy read: ``X`` (B, rows) -> (B, cols) forward, (B, cols) -> (B, rows) transposed.

        A 1-D input gives a 1-D output. ``exact_noise`` draws every device's read noise
        (slow reference path) instead of the output-referred sampling (same distribution).
        """
        X = np.asarray(X, dtype=np.float64)
        single = X.ndim == 1
        X = np.ascontiguousarray(X[None] if single else X)
        k_in, n_out = (self.spec.cols, self.spec.rows) if transpose else (self.spec.rows, self.spec.cols)
        if X.ndim != 2 or X.shape[1] != k_in:
            raise ValueError(f"input has shape {X.shape}, expected (batch, {k_in})")
        dev.check_finite("read input", X)
        stream = Stream.READ_BACKWARD if transpose else Stream.READ_FORWARD
        op0 = self._next(stream, X.shape[0])
        Y = np.empty((X.shape[0], n_out))
        reads = self.reads(transpose)
        key = self.keys[stream]
        if exact_noise:
            sc = self._state.scalars
            rk.read_exact_batch(X, (self.G + self.offset) * sc.g_scale, self.g_ref * sc.g_scale,
                                transpose, reads.M.shape[0], sc.read_noise, sc.multiplicative,
                                reads.config._replace(noise_mode=rk.NOISE_NONE), key, op0, Y)
        else:
            small = X.shape[0] <= rk.BLOCK  # one block of vectors: nothing to share out
            (rk.read_batch_serial if small else rk.read_batch)(X, reads, key, op0, Y)
        return Y[0] if single else Y

    def calibrate_adc(self, X: np.ndarray, transpose: bool = False) -> float:
        """Set the ADC full scale from the ``calibration_percentile`` of |noise-free outputs|.

        ``X`` (B, K_in) are representative inputs; returns the bound [I_u].
        """
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        k_in = self.spec.cols if transpose else self.spec.rows
        if X.ndim != 2 or X.shape[1] != k_in:
            raise ValueError(f"calibration input has shape {X.shape}, expected (batch, {k_in})")
        dev.check_finite("calibration input", X)
        if self.out_bound[transpose] is None:  # the matrices do not depend on it; set below
            self.out_bound[transpose] = np.inf
        M, cfg = self.reads(transpose).M, self.reads(transpose).config
        if cfg.abs_max:
            peak = np.abs(X).max(axis=1, keepdims=True)
            X = X / np.where(peak > 0, peak / cfg.inp_bound, 1.0)
        xq = np.clip(X, -cfg.inp_bound, cfg.inp_bound) / cfg.inp_bound
        if cfg.ref_input:
            xq = np.concatenate([xq, -xq.sum(axis=1, keepdims=True)], axis=1)
        currents = np.einsum("bk,qkn->bqn", xq, M)
        if cfg.ref_column and not cfg.digital:
            currents = currents[..., :-1] - currents[..., -1:]
        bound = float(np.percentile(np.abs(currents), self.periphery.calibration_percentile))
        return self.set_adc_bound(max(bound, 1e-12), transpose)

    def set_adc_bound(self, bound: float, transpose: bool = False) -> float:
        """Set the ADC full scale of one read direction to ``bound`` [I_u]; returns it."""
        if not (np.isfinite(bound) and bound > 0):
            raise ValueError(f"ADC bound = {bound!r}: allowed range (0, inf) [I_u]")
        self.out_bound[transpose] = float(bound)
        entry = self._reads[transpose]
        if entry is not None:
            self._reads[transpose] = entry._replace(config=self.read_config(transpose))
        return self.out_bound[transpose]

    # ------------------------------------------------------------------ updates
    def update_config(self, lr: float) -> wk.UpdateConfig:
        """Kernel settings of an update with learning rate ``lr``."""
        if not (np.isfinite(lr) and lr >= 0):
            raise ValueError(f"learning rate lr = {lr!r}: allowed range [0, inf)")
        d, pu = self.device, self.pulsing
        dw_pulse = 2.0 * self.spec.weight_bound * self.inst.dw_siemens / self.inst.g_range
        wn = dev.WRITE_NOISE_MODELS.index(d.write_noise_model)
        return wk.UpdateConfig(
            dev.MODEL_CODE[d.model], wk.RULE_CODE[pu.rule], pu.bl, float(pu.n_max),
            pu.aggregate, float(lr) / dw_pulse, d.dw_min_std, d.write_noise, wn,
            d.write_noise_std * self.inst.dw_siemens, self.inst.g_range,
            pu.calibrated and d.model == "lookup", self.inst.dw_siemens, self.inst.g_zero,
            d.table_freeze and d.model == "lookup", self.inst.g_min, self.inst.g_max)


    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> np.ndarray:
        """Apply ``lr * outer(x, d)`` (x: rows, d: cols) as pulses; returns pulses (up, down)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        d = np.ascontiguousarray(d, dtype=np.float64)
        if x.shape != (self.spec.rows,) or d.shape != (self.spec.cols,):
            raise ValueError(f"x, d have shapes {x.shape}, {d.shape}; expected "
                             f"({self.spec.rows},), ({self.spec.cols},)")
        dev.check_finite("update x", x)
        dev.check_finite("update d", d)
        cfg = self.update_config(lr)
        counts = np.zeros(2)
        if self.spec.rows * self.spec.cols < _PARALLEL_CELLS:
            wk.update_one(self._state, x, d, cfg, counts)  # advances ops[UPDATE_NOISE]
        else:
            wk.update_rank1(self._state, x, d, cfg, counts, get_threads())
        self.mark_written(counts)
        return counts

"""The state of a tile as the compiled kernels see it: named tuples of arrays.

A :class:`mcvar.tile.Tile` owns one :class:`TileState` (its conductances, write-noise
offsets, per-cell device parameters, lookup tables, stream keys, operation counters and
the scalars that convert conductances to weights) and one :class:`ReadMatrices` per read
direction. Kernels take these groups whole and unpack them once at their top; they mutate
the arrays in place. The operation counters ``ops`` are part of the state, so whoever runs a
kernel on a state advances that tile's own counters (a network's training loop and the
tile's own reads draw from one sequence of operations, never the same numbers twice).

Numba compiles a function per distinct tuple type; every tile's state has the same type, so
a ``numba.typed.List`` of states is homogeneous.
"""

from __future__ import annotations

from collections import namedtuple
from enum import IntEnum


class Stream(IntEnum):
    """Random stream identifiers: each kind of draw of a tile has its own counter-based stream.

    A stream key is ``rng.stream_key(seed, trial, tile, Stream.X)``; within a stream, draws are
    addressed by (operation index, element), so adding a draw of one kind never shifts another
    (docs/random.md).
    """

    D2D = 1  #: device-to-device parameters, drawn once per tile instance
    PROGRAM = 2  #: programming error when writing target weights
    READ_FORWARD = 3  #: read noise of forward (row-driven) reads, one op per vector
    READ_BACKWARD = 4  #: read noise of transposed (column-driven) reads, one op per vector
    UPDATE_PULSES = 5  #: stochastic rounding and stochastic pulse trains, one op per update
    UPDATE_NOISE = 6  #: per-pulse cycle-to-cycle noise and lookup-table draws
    WRITE_NOISE = 7  #: per-update write noise (CrossSim model, aihwkit write_noise_std)
    TRAINING = 8  #: data order and initial weights of training runs
    WORKLOAD = 9  #: synthetic read inputs and initial weights of kernel workloads
    UPDATE_INPUTS = 10  #: synthetic update inputs (x, d) of kernel workloads


#: length of the per-tile ``keys`` and ``ops`` arrays (indexed by ``Stream``)
N_STREAMS = max(Stream) + 1

# stream indices as plain integers (compile-time constants in the kernels)
PROGRAM = int(Stream.PROGRAM)
READ_FORWARD = int(Stream.READ_FORWARD)
READ_BACKWARD = int(Stream.READ_BACKWARD)
UPDATE_PULSES = int(Stream.UPDATE_PULSES)
#: the counter of an update: one operation per update, shared by its three streams
UPDATE = int(Stream.UPDATE_NOISE)
UPDATE_NOISE = int(Stream.UPDATE_NOISE)
WRITE_NOISE = int(Stream.WRITE_NOISE)

CellParams = namedtuple("CellParams", [
    "g_lo", "g_hi",  # per-cell bounds [S]
    "step_up", "step_down",  # per-cell step D [S] (lookup: the nominal step times lut_scale)
    "c_up", "c_down", "a_up", "a_down",  # model coefficients, see draw_cells (soft_bounds: 0)
    "stuck",  # int8: 0 free, +1 stuck at g_hi, -1 stuck at g_lo
    "lut_dev",  # int32: measured device index ('lookup'), else 0
    "lut_scale",  # [1]: d2d scale of the measured steps ('lookup'); shape (0, 0, 0) otherwise
])
CellParams.__doc__ = ("Per-cell device arrays, each of shape (planes, rows, cols) "
                      "(mcvar.devices.draw_cells, docs/devices.md, 'Device-to-device variation').")


LookupTables = namedtuple("LookupTables", [
    "g_bins",  # (D, 2, K) float64 [S]: conductance grid per measured device and direction
    "u_points",  # (D, 2, M) float64 [1]: CDF points
    "quantiles",  # (D, 2, K, M) float32 [S]: step quantiles, each G bin's M values contiguous
    "mu",  # (D, 2, K) float64 [S]: mean step at each G bin
    "k_scale",  # (D, 2) float64 [1]: nominal step / the device's mean step (table_mean)
])
LookupTables.__doc__ = ("Measured lookup tables of a 'lookup' device (docs/devices.md, "
                        "'Lookup tables'); one-element dummies for step models.")

TileScalars = namedtuple("TileScalars", [
    "weight_per_siemens",  # float [1/S]: weight of a conductance difference
    "g_zero",  # float [S]: conductance of a pair's device at zero weight
    "g_scale",  # float [1/S]: 1 / (g_max - g_min), conductance -> read units
    "program_sigma",  # float [S]: std of the programming error per device
    "read_noise",  # float [1]: per-device read-noise std (of the range, or relative to G)
    "multiplicative",  # bool: read noise relative to G (else additive)
])
TileScalars.__doc__ = "Per-tile constants the kernels need besides the arrays."

TileState = namedtuple("TileState", [
    "G",  # (P, R, C) float64 [S]: conductances (P = 2 balanced pair, 1 offset mapping)
    "offset",  # (P, R, C) float64 [S]: read-visible write-noise offsets
    "g_ref",  # (R,) float64 [S]: reference conductances (offset mapping)
    "cells",  # mcvar.devices.CellParams: per-cell device parameters
    "tables",  # LookupTables
    "keys",  # (N_STREAMS,) uint64: stream keys, indexed by Stream
    "ops",  # (N_STREAMS,) int64: operations used so far per stream, indexed by Stream
    "scalars",  # TileScalars
])
TileState.__doc__ = "Everything a kernel needs to read, update or program one tile instance."

ReadMatrices = namedtuple("ReadMatrices", [
    "M",  # (Q, K, N) float64 [1]: normalised conductances, inputs x outputs
    "S2",  # (Q, K, N) float64 [1]: per-device read-noise variances (multiplicative), or (1,1,1)
    "s2c",  # (Q, N) float64 [1]: output variance per unit sum x^2 (constant noise)
    "config",  # mcvar.kernels.read.ReadConfig of this direction
])
ReadMatrices.__doc__ = ("Read matrices and converter settings of one read direction "
                        "(docs/reads.md); rebuilt in place whenever the conductances change.")

TileReads = namedtuple("TileReads", ["forward", "backward"])
TileReads.__doc__ = "The :class:`ReadMatrices` of both read directions of a tile."

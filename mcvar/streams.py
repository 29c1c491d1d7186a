"""Random stream identifiers: each kind of draw of a tile has its own counter-based stream.

A stream key is ``rng.stream_key(seed, trial, tile, Stream.X)``; within a stream, draws are
addressed by (operation index, element), so adding a draw of one kind never shifts another.
"""

from enum import IntEnum


class Stream(IntEnum):
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

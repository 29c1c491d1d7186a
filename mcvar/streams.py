"""Random stream identifiers: each kind of draw of a tile has its own counter-based stream.

A stream key is ``rng.stream_key(seed, trial, tile, Stream.X)``; within a stream, draws are
addressed by (operation index, element), so adding a draw of one kind never shifts another
(docs/random.md). The enumeration lives with the kernels (:mod:`mcvar.kernels.state`), which
index a tile's key and counter arrays by it.
"""

from .kernels.state import Stream

__all__ = ["Stream"]

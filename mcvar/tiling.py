"""How a layer's weight matrix is split over tiles: the one tiling formula.

Layer ``l`` of a network has ``n_in`` inputs plus a bias row and ``n_out`` outputs; on tiles
of ``rows x cols`` cells it takes ``ceil((n_in + 1) / rows)`` row blocks by
``ceil(n_out / cols)`` column blocks (docs/training.md, 'Tiling'). Used by the simulated
network (:func:`mcvar.network.blocks`) and by the cost model
(:func:`mcvar.cost.network_costs`), so both count the same tiles.
"""

from __future__ import annotations

import math


def layer_grid(n_in: int, n_out: int, rows: int, cols: int) -> tuple[int, int]:
    """(row blocks, column blocks) of a layer with ``n_in`` inputs (plus the bias row) and
    ``n_out`` outputs on tiles of ``rows x cols`` cells."""
    return math.ceil((n_in + 1) / rows), math.ceil(n_out / cols)

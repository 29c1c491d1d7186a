"""Memory a task needs, checked against what this machine has before anything is allocated.

The kernels workload holds a whole tile (conductances, offsets, device instances, read
matrices): its peak grows with ``rows x cols``. Measured peaks (resident set, one trial,
``reads = 8``, 2048 x 2048 and 4096 x 4096 tiles): 208 bytes per cell for ``soft_bounds``,
280 for ``lookup``; :data:`BYTES_PER_CELL` rounds up. Training tiles are the network's
layers, small for the datasets mcvar ships, and cost tasks hold no tile: both fit in
:data:`BASE`. A local run whose workers would not all fit runs fewer of them
(:func:`workers_that_fit`).
"""

from __future__ import annotations

import math

from .errors import ScenarioError

BYTES_PER_CELL = 320  #: peak bytes per tile cell of a kernels task (measured 208-280)
BASE = 600e6  #: bytes of a worker before its task: interpreter, NumPy, Numba, xarray, data


def task_bytes(config) -> float:
    """Estimated peak bytes of one task of ``config`` (a workloads.Configuration)."""
    cells = config.tile.rows * config.tile.cols if config.kernels is not None else 0
    return BASE + BYTES_PER_CELL * cells


def available_bytes() -> float:
    """Memory this machine can give now (bytes): psutil's ``available``, within the limit
    of the cgroup dask sees (containers, batch jobs)."""
    import psutil

    available = psutil.virtual_memory().available
    try:
        from distributed.system import MEMORY_LIMIT
    except ImportError:  # the limit is a refinement only
        return float(available)
    return float(min(available, MEMORY_LIMIT))


def check_memory(scenario, available: float | None = None) -> None:
    """Raise :class:`ScenarioError` naming the tile if one task of ``scenario`` needs more
    memory than ``available`` (default: :func:`available_bytes`)."""
    available = available_bytes() if available is None else available
    need, flat = max((task_bytes(c), n) for n, c in enumerate(scenario.configurations))
    if need <= available:
        return
    config = scenario.configurations[flat]
    cells = max(0, int((available - BASE) / BYTES_PER_CELL))
    side = math.isqrt(cells)
    point = scenario.describe(scenario.points()[flat])
    where = f" (at the sweep point {point})" if point else ""
    raise ScenarioError(
        scenario.source, "tile", f"a {config.tile.rows} x {config.tile.cols} tile needs about "
        f"{need / 1e9:.1f} GB per kernels task{where}, this machine has {available / 1e9:.1f} "
        f"GB available; allowed here: rows x cols up to about {cells:,} cells (e.g. "
        f"{side} x {side})")


def workers_that_fit(scenario, workers: int, available: float | None = None) -> int:
    """How many of ``workers`` local worker processes can each hold the largest task of
    ``scenario`` at once (at least 1; :func:`check_memory` refuses what never fits)."""
    available = available_bytes() if available is None else available
    need = max(task_bytes(c) for c in scenario.configurations)
    return max(1, min(workers, int(available // need)))

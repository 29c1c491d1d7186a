"""Shared helpers of the engine tests: small tiles with programmed weights, fixed seeds."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from mcvar.devices import Device
from mcvar.periphery import Periphery
from mcvar.tile import Pulsing, Tile, TileSpec


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "interpreted: runs the kernels as Python (NUMBA_DISABLE_JIT=1) in a "
                   "subprocess, about 10-15 s; deselect with -m 'not interpreted'")


def seeded(*words) -> np.random.Generator:
    """NumPy generator of the test's own randomness (never the global state)."""
    return np.random.default_rng(np.random.SeedSequence(list(words)))


def make_tile(mapping="balanced", rows=8, cols=6, device=None, periphery=None, pulsing=None,
              seed=1, weight_fraction=0.6, **kw) -> Tile:
    """A small tile programmed (noise-free) with uniform weights in +-weight_fraction."""
    tile = Tile(TileSpec(rows, cols, mapping), device or Device(), periphery or Periphery(),
                pulsing or Pulsing(), seed=seed, **kw)
    W = weight_fraction * (2 * seeded(seed, rows, cols).random((rows, cols)) - 1)
    tile.program(W, noise=False)
    return tile


@pytest.fixture
def restore_threads():
    """Restore Numba's thread count after a test that changes it."""
    n = numba.get_num_threads()
    yield
    numba.set_num_threads(n)


@pytest.fixture
def one_thread(restore_threads):
    """Run a test's kernels on one Numba thread. Results do not depend on the thread count
    (test_reproducibility.py proves it); tests looping over thousands of tiny updates would
    otherwise pay a parallel-region launch per call, milliseconds on a busy 2-core machine."""
    numba.set_num_threads(1)

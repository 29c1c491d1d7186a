"""The kernel benchmark script: a smoke run, and its NumPy references against the engine."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import seeded

from mcvar.devices import Device
from mcvar.periphery import Periphery
from mcvar.tile import Pulsing, Tile, TileSpec

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_kernels.py"
KEYS = {"kernel", "rows", "cols", "batch", "reference_s", "mcvar_s", "speedup", "ops_per_s"}


def load_script():
    spec = importlib.util.spec_from_file_location("bench_kernels", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = load_script()


def test_quick_run_writes_positive_finite_rows(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
                         capture_output=True, text=True, timeout=1200)  # cold cache: compiles every kernel
    assert run.returncode == 0, run.stderr
    rows = json.loads(out.read_text())
    kernels = [r["kernel"] for r in rows]
    for name in ("read", "read exact_noise", "read transposed", "update",
                 "read_errors (montecarlo)", "update_errors (montecarlo)"):
        assert name in kernels
    assert any(k.startswith("total") for k in kernels)
    for r in rows:
        assert KEYS <= set(r)
        numbers = [v for k, v in r.items() if k != "kernel"]
        assert all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in numbers), r
        assert r["speedup"] == pytest.approx(r["reference_s"] / r["mcvar_s"])
    assert "Targets" in run.stdout and "speed-up" in run.stdout


def read_tile(read_noise=0.0, out_noise=0.0, adc_bits=8, seed=3):
    tile = Tile(TileSpec(12, 7), Device(read_noise=read_noise),
                Periphery(dac_bits=8, adc_bits=adc_bits, out_noise=out_noise), seed=seed)
    tile.program(0.8 * (2 * seeded(seed).random((12, 7)) - 1), noise=False)
    return tile


@pytest.mark.parametrize("transpose", [False, True])
def test_numpy_read_equals_tile_read_without_noise(transpose, one_thread):
    """DAC, noise management, matmul, ADC: the reference's deterministic part is mcvar's."""
    tile = read_tile()
    X = 1.3 * (2 * seeded(4).random((50, 7 if transpose else 12)) - 1)
    Y = np.empty((50, 12 if transpose else 7))
    bench.NumpyRead(tile, transpose, seeded(5))(X, Y)
    np.testing.assert_allclose(Y, tile.read(X, transpose=transpose), rtol=0, atol=1e-12)


def test_numpy_read_noise_has_the_tile_read_noise(one_thread):
    """Per-weight noise of the pair plus output noise (no ADC): error std per output equal
    to mcvar's output-referred std within 5 SE (n = 4000 reads of one input)."""
    tile = read_tile(read_noise=0.05, out_noise=0.03, adc_bits=0)
    x = 2 * seeded(6).random(12) - 1
    X = np.repeat(x[None], 4000, axis=0)
    Y = np.empty((4000, 7))
    bench.NumpyRead(tile, False, seeded(7))(X, Y)
    got, want = Y.std(axis=0), tile.read(X).std(axis=0)
    assert np.all(np.abs(got / want - 1) < 5 * np.sqrt(2 / 4000)), (got, want)
    assert np.all(want > 0.01)


def update_tile(**device):
    dev = Device(dw_min=0.002, dw_min_dtod=0.3, w_min_dtod=0.3, w_max_dtod=0.3,
                 p_stuck_on=0.05, p_stuck_off=0.05, **device)
    tile = Tile(TileSpec(10, 6), dev, Periphery(), Pulsing(rule="stochastic", n_max=2), seed=8)
    tile.program(0.6 * (2 * seeded(8).random((10, 6)) - 1), noise=False)
    return tile


def test_numpy_soft_bounds_equals_tile_update_for_whole_pulse_counts(one_thread):
    """Without c2c noise and with whole pulse counts (|x d| lr / dw_min integer, so stochastic
    rounding has nothing to round) the reference's soft-bounds pulses, push-pull planes,
    per-cell bounds and steps, n_max clip and stuck cells give mcvar's conductances."""
    tile = update_tile()
    ref = bench.NumpySoftBounds(tile, 0.01, seeded(9))
    gen = seeded(10)
    for _ in range(40):  # 0.01 |x d| / 0.002 in {0, 1, 2, 3}; n_max = 2 clips the 3s
        x = gen.choice([-1.0, 1.0], 10)
        d = gen.choice([-0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6], 6)
        ref(x, d)
        tile.update(x, d, 0.01)
    np.testing.assert_allclose(ref.G, tile.G, rtol=1e-12, atol=0)
    assert np.abs(tile.G - update_tile().G).max() > 10 * tile.inst.dw_siemens  # it moved
    assert ref.pulses == tile.pulses.sum()


def test_numpy_soft_bounds_pulse_counts_match_tile_update(one_thread):
    """Stochastic rounding with every update noise on, same inputs for both: mean device
    pulses per update agree within 5 SE (rounding variance <= 1/4 per cell, 2 planes), and
    the reference keeps every cell inside its own bounds and redraws write-noise offsets."""
    tile = update_tile(dw_min_std=0.3, write_noise=0.01, write_noise_std=0.5)
    ref = bench.NumpySoftBounds(tile, 0.01, seeded(11))
    gen = seeded(12)
    n = 400
    for _ in range(n):
        x, d = gen.uniform(-1, 1, 10), gen.normal(0, 0.5, 6)
        ref(x, d)
        tile.update(x, d, 0.01)
    got, want = ref.pulses / n, tile.pulses.sum() / n
    assert abs(got - want) < 5 * np.sqrt(2 * 60 / n), (got, want)
    assert np.all((ref.G >= tile.cells.g_lo) & (ref.G <= tile.cells.g_hi))
    free = tile.cells.stuck == 0
    assert np.count_nonzero(ref.offset[free]) > 0.9 * free.sum()
    assert not np.any(ref.offset[~free])

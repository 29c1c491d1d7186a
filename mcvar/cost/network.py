"""Map a multilayer perceptron onto tiles: training and inference cost per example.

A layer of ``n_in`` inputs (+1 bias row) and ``n_out`` outputs occupies
``ceil((n_in + 1) / rows) x ceil(n_out / cols)`` tiles. Tiles are fixed hardware: each runs
every kernel in full (its periphery serves all its rows and columns), so a layer smaller
than a tile wastes the rest, which ``tile_utilisation`` reports. Per example:

* training = one vmm + one mvm + one opu on every tile of every layer (the reference study's
  three kernels per tile); inference = one vmm per tile;
* a layer split over ``k`` row-tiles sums ``k`` partial outputs digitally:
  ``(k - 1) n_out`` additions after the vmm, likewise ``(m - 1) n_in`` after the mvm for
  ``m`` column-tiles, each of ``adc_bits + ceil(log2 k)`` bits at ``adder_energy_per_bit``,
  ``mac_units`` additions per clock cycle;
* tiles of a layer work in parallel, layers (and the three kernels) one after another;
* periodic carry with ``k = carry_digits`` (analog designs; :mod:`mcvar.network`) gives every
  tile ``k - 1`` lower-significance copies: the vmm and mvm read all ``k`` and add their
  outputs digitally like partial sums; the opu updates the least significant digit only.
  Every ``carry_every`` examples the lower digits are read out exactly, priced as one
  full-tile vmm per row read (row by row), reported apart as ``carry_readout_*`` (an upper
  estimate, amortised per example, not in the training totals); the write-verify of carried
  weights is not priced.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import xarray as xr

from ..tiling import layer_grid
from .model import DESIGNS, KERNELS, kernel_costs, tile_technology
from .technology import Technology
from .variables import annotate


def _check_layer_sizes(layer_sizes) -> tuple[int, ...]:
    sizes = tuple(layer_sizes)
    if len(sizes) < 2 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool)
                                 and n >= 1 for n in sizes):
        raise ValueError(f"layer_sizes: got {layer_sizes!r}, expected at least two positive "
                         "integers (inputs, ..., outputs)")
    return tuple(int(n) for n in sizes)


def _partial_sums(t: Technology, tiles_summed: int, outputs: int) -> tuple[float, float]:
    """Energy [J] and latency [s] of adding ``tiles_summed`` partial vectors of ``outputs``."""
    if tiles_summed == 1:
        return 0.0, 0.0
    adds = (tiles_summed - 1) * outputs
    bits = t.adc_bits + math.ceil(math.log2(tiles_summed))
    return (adds * bits * t.adder_energy_per_bit,
            math.ceil(adds / t.mac_units) / t.clock_frequency)


def network_costs(layer_sizes, tech: Technology | None = None, *, design: str = "analog_reram",
                  tile_rows: int | None = None, tile_cols: int | None = None,
                  examples_per_epoch: int | None = None, carry_digits: int = 1,
                  carry_every=1) -> xr.Dataset:
    """Training and inference cost of an MLP ``layer_sizes = (n_0, n_1, ..., n_L)`` on tiles.

    Returns a Dataset over ``layer`` (``tiles``, ``tile_utilisation``, ``layer_energy`` and
    ``layer_latency`` by ``kernel`` [J, s], ``partial_sum_energy`` [J]) with network totals
    ``total_tiles``, ``utilisation``, ``training_energy_per_example`` [J],
    ``training_time_per_example`` [s], ``inference_energy_per_example`` [J],
    ``inference_time_per_example`` [s], ``carry_readout_energy_per_example`` [J],
    ``carry_readout_time_per_example`` [s] (zero without carry) and, when
    ``examples_per_epoch`` is given, ``training_energy_per_epoch`` [J] and
    ``training_time_per_epoch`` [s]. ``carry_digits``, ``carry_every``: periodic carry
    (module docstring; ``carry_every`` an integer or the periods of the digit pairs, most
    significant pair first, as ``training.carry_every``).
    """
    sizes = _check_layer_sizes(layer_sizes)
    if design not in DESIGNS:
        raise ValueError(f"design: unknown design {design!r}, allowed: {DESIGNS}")
    if examples_per_epoch is not None and (not isinstance(examples_per_epoch, numbers.Integral)
                                           or isinstance(examples_per_epoch, bool)
                                           or examples_per_epoch < 1):
        raise ValueError(f"examples_per_epoch: got {examples_per_epoch!r}, expected a positive "
                         "integer or None")
    periods = tuple(carry_every) if isinstance(carry_every, (tuple, list)) else (carry_every,)
    checks = [("carry_digits", carry_digits)] + [("carry_every", v) for v in periods]
    for name, value in checks:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: got {value!r}, expected a positive integer")
    t = tile_technology(tech, tile_rows, tile_cols)
    tile = kernel_costs(t, designs=(design,)).sel(design=design)
    tile_energy = tile.kernel_energy.values  # [J] per kernel
    tile_latency = tile.kernel_latency.values  # [s] per kernel

    n_layers = len(sizes) - 1
    k = int(carry_digits)
    tiles, utilisation = np.zeros(n_layers, np.int64), np.zeros(n_layers)
    sum_energy = np.zeros((n_layers, len(KERNELS)))
    sum_latency = np.zeros((n_layers, len(KERNELS)))
    rows_read_out = 0  # rows of one lower digit read at a carry
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        row_tiles, col_tiles = layer_grid(n_in, n_out, t.rows, t.cols)
        tiles[layer] = k * row_tiles * col_tiles
        utilisation[layer] = k * (n_in + 1) * n_out / (tiles[layer] * t.rows * t.cols)
        sum_energy[layer, 0], sum_latency[layer, 0] = _partial_sums(t, k * row_tiles, n_out)
        sum_energy[layer, 1], sum_latency[layer, 1] = _partial_sums(t, k * col_tiles, n_in)
        rows_read_out += (n_in + 1) * col_tiles

    # carries per example summed over the digit pairs: pair d (lowest first) carries every
    # prod(periods[:d + 1]) examples (an integer N: every pair every N examples)
    lowest_first = periods[::-1] if len(periods) > 1 else periods + (1,) * max(k - 2, 0)
    carries = sum(1.0 / np.prod(lowest_first[:d + 1], dtype=float) for d in range(k - 1))
    reads_per_kernel = np.where(np.isin(KERNELS, ("vmm", "mvm")), 1.0, 1.0 / k)
    layer_energy = (tiles[:, None] * reads_per_kernel) * tile_energy + sum_energy
    layer_latency = tile_latency + sum_latency
    vmm = KERNELS.index("vmm")
    ds = xr.Dataset(
        {"tiles": ("layer", tiles), "tile_utilisation": ("layer", utilisation),
         "layer_energy": (("layer", "kernel"), layer_energy),
         "layer_latency": (("layer", "kernel"), layer_latency),
         "partial_sum_energy": (("layer", "kernel"), sum_energy),
         "total_tiles": tiles.sum(),
         "utilisation": k * sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
                        / (tiles.sum() * t.rows * t.cols),
         "training_energy_per_example": layer_energy.sum(),
         "training_time_per_example": layer_latency.sum(),
         "inference_energy_per_example": layer_energy[:, vmm].sum(),
         "inference_time_per_example": layer_latency[:, vmm].sum(),
         "carry_readout_energy_per_example": rows_read_out * carries * tile_energy[vmm],
         "carry_readout_time_per_example": rows_read_out * carries * tile_latency[vmm]},
        coords={"layer": np.arange(n_layers), "kernel": list(KERNELS),
                "n_inputs": ("layer", np.array(sizes[:-1])),
                "n_outputs": ("layer", np.array(sizes[1:])),
                "design": design, "rows": t.rows, "cols": t.cols},
        attrs={"title": "mcvar analytical network cost model",
               "source": "mcvar.cost.network_costs",
               "layer_sizes": ",".join(map(str, sizes)), "carry_digits": k,
               "carry_every": ",".join(map(str, periods)), **t.attrs()})
    if examples_per_epoch is not None:
        ds["training_energy_per_epoch"] = ds.training_energy_per_example * examples_per_epoch
        ds["training_time_per_epoch"] = ds.training_time_per_example * examples_per_epoch
        ds.attrs["examples_per_epoch"] = int(examples_per_epoch)
    return annotate(ds)

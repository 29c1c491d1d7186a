"""Units and long names of every variable and coordinate the cost model returns."""

from __future__ import annotations

import xarray as xr

# name: (units or None for labels, long_name)
VARIABLES: dict[str, tuple[str | None, str]] = {
    # coordinates
    "design": (None, "accelerator design"),
    "kernel": (None, "tile kernel: vmm forward read, mvm transposed read, opu outer-product "
                     "update"),
    "component": (None, "circuit component"),
    "rows": ("1", "tile rows"),
    "cols": ("1", "tile columns"),
    "layer": ("1", "layer index (0 = first weight layer)"),
    "n_inputs": ("1", "layer inputs (bias row not included)"),
    "n_outputs": ("1", "layer outputs"),
    # kernel_costs
    "energy": ("J", "energy of one kernel on one tile, by component"),
    "latency": ("s", "critical-path time of one kernel on one tile, by component"),
    "area": ("m2", "tile area by component"),
    "kernel_energy": ("J", "energy of one kernel on one tile"),
    "kernel_latency": ("s", "latency of one kernel on one tile"),
    "tile_area": ("m2", "tile area"),
    "macs": ("1", "multiply-accumulates per kernel (an update of one cell counts as one)"),
    "kernel_energy_per_mac": ("J", "energy per multiply-accumulate of one kernel"),
    "step_energy": ("J", "energy of one training step of a tile (vmm + mvm + opu)"),
    "step_latency": ("s", "latency of one training step of a tile (vmm + mvm + opu)"),
    "energy_per_mac": ("J", "energy per multiply-accumulate over a training step "
                            "(step_energy / sum of macs)"),
    # network_costs
    "tiles": ("1", "tiles holding the layer"),
    "tile_utilisation": ("1", "fraction of the layer's tile cells holding a weight or bias"),
    "layer_energy": ("J", "energy of one kernel of the layer per example, partial sums included"),
    "layer_latency": ("s", "latency of one kernel of the layer per example, partial sums "
                           "included"),
    "partial_sum_energy": ("J", "energy of digitally summing partial outputs of split layers"),
    "total_tiles": ("1", "tiles holding the network"),
    "utilisation": ("1", "fraction of all tile cells holding a weight or bias"),
    "training_energy_per_example": ("J", "training energy per example (vmm + mvm + opu of "
                                         "every layer, every carry digit read)"),
    "training_time_per_example": ("s", "training time per example"),
    "inference_energy_per_example": ("J", "inference energy per example (vmm of every layer)"),
    "inference_time_per_example": ("s", "inference time per example"),
    "carry_readout_energy_per_example": ("J", "reading the lower carry digits out row by row "
                                              "at each carry, per example (upper estimate)"),
    "carry_readout_time_per_example": ("s", "time of the carry readout per example"),
    "training_energy_per_epoch": ("J", "training energy per epoch"),
    "training_time_per_epoch": ("s", "training time per epoch"),
}


def annotate(ds: xr.Dataset) -> xr.Dataset:
    """Set ``units`` and ``long_name`` on every variable and coordinate of ``ds`` in place."""
    for name in list(ds.variables):
        units, long_name = VARIABLES[name]
        ds[name].attrs["long_name"] = long_name
        if units is not None:
            ds[name].attrs["units"] = units
    return ds

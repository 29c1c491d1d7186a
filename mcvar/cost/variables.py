"""Every variable and coordinate the cost model returns: units, long name and, for those a
scenario result holds, their dimensions there. The one list of cost variable names:
:mod:`mcvar.variables` and the cost workload (:data:`NETWORK_TOTALS`) take theirs from it."""

from __future__ import annotations

from typing import NamedTuple

import xarray as xr


class CostVariable(NamedTuple):
    units: str | None  #: None for labels
    long_name: str
    dims: tuple[str, ...] | None = None  #: dimensions in a scenario result (None: not there)


_D, _DK, _DKC = ("design",), ("design", "kernel"), ("design", "kernel", "component")

_COORDINATES = {
    "design": CostVariable(None, "accelerator design"),
    "kernel": CostVariable(None, "tile kernel: vmm forward read, mvm transposed read, opu "
                                 "outer-product update"),
    "component": CostVariable(None, "circuit component"),
    "rows": CostVariable("1", "tile rows"),
    "cols": CostVariable("1", "tile columns"),
    "layer": CostVariable("1", "layer index (0 = first weight layer)"),
    "n_inputs": CostVariable("1", "layer inputs (bias row not included)"),
    "n_outputs": CostVariable("1", "layer outputs"),
}
_TILE = {  # kernel_costs
    "energy": CostVariable("J", "energy of one kernel on one tile, by component", _DKC),
    "latency": CostVariable("s", "critical-path time of one kernel on one tile, by component",
                            _DKC),
    "area": CostVariable("m2", "tile area by component", ("design", "component")),
    "kernel_energy": CostVariable("J", "energy of one kernel on one tile", _DK),
    "kernel_latency": CostVariable("s", "latency of one kernel on one tile", _DK),
    "tile_area": CostVariable("m2", "tile area", _D),
    "macs": CostVariable("1", "multiply-accumulates per kernel (an update of one cell counts "
                              "as one)", ("kernel",)),
    "kernel_energy_per_mac": CostVariable("J", "energy per multiply-accumulate of one kernel",
                                          _DK),
    "step_energy": CostVariable("J", "energy of one training step of a tile (vmm + mvm + opu)",
                                _D),
    "step_latency": CostVariable("s", "latency of one training step of a tile (vmm + mvm + "
                                      "opu)", _D),
    "energy_per_mac": CostVariable("J", "energy per multiply-accumulate over a training step "
                                        "(step_energy / sum of macs)", _D),
}
_LAYERS = {  # network_costs, per layer (not in scenario results)
    "tiles": CostVariable("1", "tiles holding the layer"),
    "tile_utilisation": CostVariable("1", "fraction of the layer's tile cells holding a weight "
                                          "or bias"),
    "layer_energy": CostVariable("J", "energy of one kernel of the layer per example, partial "
                                      "sums included"),
    "layer_latency": CostVariable("s", "latency of one kernel of the layer per example, "
                                       "partial sums included"),
    "partial_sum_energy": CostVariable("J", "energy of digitally summing partial outputs of "
                                            "split layers"),
}
_NETWORK = {  # network_costs, totals of the network
    "total_tiles": CostVariable("1", "tiles holding the network", _D),
    "utilisation": CostVariable("1", "fraction of all tile cells holding a weight or bias", _D),
    "training_energy_per_example": CostVariable("J", "training energy per example (vmm + mvm + "
                                                     "opu of every layer, every carry digit "
                                                     "read)", _D),
    "training_time_per_example": CostVariable("s", "training time per example", _D),
    "inference_energy_per_example": CostVariable("J", "inference energy per example (vmm of "
                                                      "every layer)", _D),
    "inference_time_per_example": CostVariable("s", "inference time per example", _D),
    "training_energy_per_epoch": CostVariable("J", "training energy per epoch", _D),
    "training_time_per_epoch": CostVariable("s", "training time per epoch", _D),
    "carry_readout_energy_per_example": CostVariable("J", "reading the lower carry digits out "
                                                          "row by row at each carry, per example "
                                                          "(upper estimate)", _D),
    "carry_readout_time_per_example": CostVariable("s", "time of the carry readout per example",
                                                   _D),
}
VARIABLES: dict[str, CostVariable] = {**_COORDINATES, **_TILE, **_LAYERS, **_NETWORK}
#: the network totals (by design) a scenario's cost workload keeps from ``network_costs``
NETWORK_TOTALS = tuple(_NETWORK)


def annotate(ds: xr.Dataset) -> xr.Dataset:
    """Set ``units`` and ``long_name`` on every variable and coordinate of ``ds`` in place."""
    for name in list(ds.variables):
        units, long_name, _ = VARIABLES[name]
        ds[name].attrs["long_name"] = long_name
        if units is not None:
            ds[name].attrs["units"] = units
    return ds

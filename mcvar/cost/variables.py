"""Every variable and coordinate the cost model returns: units, long name and, for those a
scenario result holds, their dimensions there. The one list of cost variable names:
:mod:`mcvar.variables` and the cost workload (:data:`NETWORK_TOTALS`) take theirs from it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
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
    "design_rule": CostVariable(None, "design rule of the analog ReRAM tile: line_current "
                                      "(electromigration), integrator_swing (full-scale charge "
                                      "within the supply), ir_drop (wire resistance)"),
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
    "line_current": CostVariable("A", "worst-case current of the longest line of the analog "
                                      "tile (all devices on, full-scale input)", ()),
    "integrator_voltage": CostVariable("V", "full-scale integrator output of the analog tile "
                                            "(worst-case line charge on the integrating "
                                            "capacitor)", ()),
    "ir_drop": CostVariable("1", "worst-case IR drop at the far end of the longest line of the "
                                 "analog tile, fraction of the read voltage", ()),
    "rule_margin": CostVariable("1", "design-rule margin of the analog tile, 1 - demand / limit "
                                     "(negative: violated)", ("design_rule",)),
    "rule_feasible": CostVariable("1", "design rule of the analog tile met (1) or violated (0)",
                                  ("design_rule",)),
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
        if name == "rule_feasible":  # a CF flag variable
            ds[name].attrs.update(flag_values=np.array([0, 1], np.int8),
                                  flag_meanings="violated met")
    return ds

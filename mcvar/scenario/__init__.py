"""Scenario files: a declarative study loaded into frozen dataclasses and checked before it runs.

A scenario is a TOML file (``scenarios/*.toml``; docs/scenarios.md)::

    name = "read_noise"          # names the result file; default: the file's stem
    seed = 1                     # root seed of every random stream
    trials = 32                  # Monte Carlo trials per sweep point
    [device]      ...            # mcvar.devices.Device          (physics sections: defaults
    [periphery]   ...            # mcvar.periphery.Periphery      if absent)
    [tile]        ...            # mcvar.tile.TileSpec
    [pulsing]     ...            # mcvar.tile.Pulsing
    [kernels]     ...            # mcvar.workloads.Kernels        (workloads: at least one)
    [training]    ...            # mcvar.training.Training
    [cost]        ...            # mcvar.workloads.Cost
    [cost.technology] ...        # mcvar.cost.Technology (tile size and bits: from [tile] and
                                 # [periphery])
    [sweep]
    device.read_noise = [0.0, 0.02, 0.05]        # one dimension `device_read_noise`
    [sweep.zip.device_kind]                       # parameters varied together: one dimension
    labels = ["asymmetric", "symmetric"]          # `device_kind` (labels optional)
    device.model = ["crosssim_asymmetric", "crosssim_symmetric"]

The modules, one job each: :mod:`.schema` (sections, settings, field types),
:mod:`.values` (keys, types and ranges checked), :mod:`.sweep` (axes), :mod:`.points`
(seeds and coordinates of sweep points), :mod:`.tomlio` (TOML in and out), :mod:`.memory`
(memory a task needs against what the machine has),
:mod:`.model` (:class:`Scenario`, :class:`Task`) and :mod:`.load` (:func:`load`).
"""

from .errors import ScenarioError
from .load import TINY, load, loads, shrink
from .memory import check_memory, workers_that_fit
from .model import Scenario, Task
from .schema import SECTIONS, TARGET_TASKS, WORKLOADS, Settings
from .sweep import Axis
from .tomlio import dumps_toml, parse_override

__all__ = ["SECTIONS", "TARGET_TASKS", "TINY", "WORKLOADS", "Axis", "Scenario", "ScenarioError",
           "Settings", "Task", "check_memory", "dumps_toml", "load", "loads", "parse_override",
           "shrink", "workers_that_fit"]

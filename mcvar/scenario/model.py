"""A validated scenario: its settings, sweep axes, one configuration per point, and tasks."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import xarray as xr

from ..workloads import Configuration
from .points import coordinates, flat_index
from .schema import TARGET_TASKS, WORKLOADS, Settings
from .sweep import Axis, coord_name
from .tomlio import dumps_toml, set_path


@dataclass(frozen=True)
class Task:
    """A unit of work: a block of trials at one sweep point, or the point's cost."""

    point: tuple[int, ...]  #: index along each sweep dimension
    flat: int  #: row-major index of the point
    trials: range | None  #: global trial indices; None: the cost of the point

    @property
    def id(self) -> str:
        """File-name-safe identifier, e.g. ``p00003_t000008-000015`` or ``p00003_cost``."""
        if self.trials is None:
            return f"p{self.flat:05d}_cost"
        return f"p{self.flat:05d}_t{self.trials.start:06d}-{self.trials.stop - 1:06d}"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: settings, base section tables, sweep axes, per-point configurations."""

    settings: Settings
    tables: dict  #: resolved base tables {section: {key: value}} (sections present or implied)
    axes: tuple[Axis, ...]
    configurations: tuple[Configuration, ...]  #: one per sweep point, row-major
    source: str = "<scenario>"

    # ---------------------------------------------------------------- shape and points
    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def trials(self) -> int:
        return self.settings.trials

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def shape(self) -> tuple[int, ...]:
        """Sweep points along each dimension."""
        return tuple(a.size for a in self.axes)

    @property
    def dims(self) -> tuple[str, ...]:
        """Sweep dimension names."""
        return tuple(a.dim for a in self.axes)

    @property
    def workloads(self) -> tuple[str, ...]:
        return tuple(w for w in WORKLOADS if w in self.tables)

    def points(self) -> list[tuple[int, ...]]:
        """Index tuples of every sweep point, row-major."""
        return list(itertools.product(*(range(n) for n in self.shape)))

    def configuration(self, point: tuple[int, ...]) -> Configuration:
        return self.configurations[flat_index(point, self.shape)]

    def describe(self, point: tuple[int, ...]) -> str:
        """``"device_read_noise=0.02, periphery_adc_bits=6"`` (empty without a sweep)."""
        parts = []
        for axis, i in zip(self.axes, point):
            if axis.labels is not None:
                parts.append(f"{axis.dim}={axis.labels[i]}")
            else:
                parts += [f"{coord_name(k)}={v[i]!r}" for k, v in zip(axis.keys, axis.values)]
        return ", ".join(parts)

    def coords(self, point: tuple[int, ...] | None = None) -> dict[str, xr.Variable]:
        """Sweep coordinates of the whole grid, or of one point (each dimension of length 1)."""
        return coordinates(self.axes, point)

    def tasks(self) -> list[Task]:
        """Every task: blocks of ``trials_per_task`` trials per point, plus one cost task."""
        per = self.trials_per_task
        tasks = []
        for flat, point in enumerate(self.points()):
            if self.configurations[flat].trial_workloads:
                tasks += [Task(point, flat, range(t, min(t + per, self.trials)))
                          for t in range(0, self.trials, per)]
            if self.configurations[flat].cost is not None:
                tasks.append(Task(point, flat, None))
        return tasks

    @property
    def trials_per_task(self) -> int:
        if self.settings.trials_per_task:
            return min(self.settings.trials_per_task, self.trials)
        blocks = max(1, min(self.trials, math.ceil(TARGET_TASKS / math.prod(self.shape))))
        return math.ceil(self.trials / blocks)

    # ---------------------------------------------------------------- text
    def to_toml(self) -> str:
        """The resolved scenario as TOML (defaults filled in); loads back to the same scenario."""
        top = {f.name: getattr(self.settings, f.name) for f in dataclasses.fields(Settings)}
        sweep = {}
        for axis in self.axes:
            if axis.zipped:
                group = {} if axis.labels is None else {"labels": list(axis.labels)}
                for key, values in zip(axis.keys, axis.values):
                    set_path(group, key, list(values))
                sweep.setdefault("zip", {})[axis.dim] = group
            else:
                set_path(sweep, axis.keys[0], list(axis.values[0]))
        return dumps_toml({**top, **self.tables, **({"sweep": sweep} if sweep else {})})

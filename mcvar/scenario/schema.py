"""What a scenario may contain: its sections, its top-level settings, and their fields.

Each section is a frozen parameter dataclass (:data:`SECTIONS`); a field whose type hint is
itself a dataclass is a nested table (``[cost.technology]``: :class:`mcvar.cost.Technology`).
Field types come from the classes' real type hints (:func:`field_type`), ranges and units
from their :func:`mcvar.params.param` metadata.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from dataclasses import dataclass

from ..devices import Device
from ..params import ParameterError, param, validate
from ..periphery import Periphery
from ..tile import Pulsing, TileSpec
from ..training import Training
from ..workloads import TILE_TECHNOLOGY, Cost, Kernels
from .errors import unknown

SECTIONS = {"device": Device, "periphery": Periphery, "tile": TileSpec, "pulsing": Pulsing,
            "kernels": Kernels, "training": Training, "cost": Cost}
WORKLOADS = ("kernels", "training", "cost")
TARGET_TASKS = 128  #: automatic bundling aims at about this many trial tasks in all
#: key paths a scenario may not set, and the key that sets them (one tile for simulation
#: and cost)
FIXED = {f"cost.technology.{name}": key for name, key in TILE_TECHNOLOGY.items()}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass(frozen=True)
class Settings:
    """Top-level keys of a scenario."""

    name: str = param("scenario", units="1", kind=str,
                      doc="scenario name (names the result file)")
    description: str = param("", units="1", kind=str, doc="what the scenario studies")
    seed: int = param(0, units="1", low=0, high=2**63 - 1, kind=int,
                      doc="root seed of every random stream")
    trials: int = param(1, units="1", low=1, high=10**9, kind=int,
                        doc="Monte Carlo trials per sweep point")
    trials_per_task: int = param(0, units="1", low=0, high=10**9, kind=int,
                                 doc="trials bundled into one task (0: automatic, about "
                                     f"{TARGET_TASKS} tasks in all)")
    sweep_seeds: str = param("common", units="1", choices=("common", "independent"),
                             doc="'common': every sweep point uses the root seed (common random "
                                 "numbers); 'independent': a seed per point")

    def __post_init__(self):
        validate(self, "")
        if not _NAME.match(self.name):
            raise ParameterError("name", f"got {self.name!r}, allowed: letters, digits and "
                                         "_ . + - (it names files)")


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def field_type(cls, name: str):
    """The type hint of field ``name`` of dataclass ``cls`` (evaluated, not a string)."""
    return _hints(cls)[name]


def type_options(hint) -> tuple:
    """The types a hint allows, None left out: ``float | None`` -> ``(float,)``."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(a for a in typing.get_args(hint) if a is not type(None))
    return (hint,)


def table_class(cls, name: str) -> type | None:
    """The dataclass of field ``name`` of ``cls`` when it is a nested table, else None."""
    options = type_options(field_type(cls, name))
    nested = [t for t in options if isinstance(t, type) and dataclasses.is_dataclass(t)]
    return nested[0] if nested else None


def field_names(cls, prefix: str) -> list[str]:
    """Fields of ``cls`` (the table at key path ``prefix``) a scenario may set."""
    return [f.name for f in dataclasses.fields(cls) if f"{prefix}.{f.name}" not in FIXED]


def metadata(cls, name: str) -> dict:
    """The :func:`~mcvar.params.param` metadata of field ``name`` of ``cls`` (units, range,
    doc), empty for fields without it."""
    return dict(next(f for f in dataclasses.fields(cls) if f.name == name).metadata)


def owner(path: str) -> tuple[type, str]:
    """``(dataclass, field name)`` of the parameter at key path ``path``, e.g.
    ``"cost.technology.on_resistance"`` -> ``(Technology, "on_resistance")``; raises
    ``LookupError`` whose message says why when ``path`` names no parameter."""
    parts = path.split(".")
    cls = SECTIONS[parts[0]]
    for depth, part in enumerate(parts[1:], start=1):
        names = [f.name for f in dataclasses.fields(cls)]
        if part not in names:
            raise LookupError(unknown(part, names, f"parameters of [{'.'.join(parts[:depth])}]"))
        nested = table_class(cls, part)
        if depth == len(parts) - 1 and nested is None:
            return cls, part
        if nested is None:
            break
        cls = nested
    raise LookupError("expected section.parameter (or cost.technology.constant)")

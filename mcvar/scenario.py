"""Scenario files: a declarative study loaded into frozen dataclasses and checked before it runs.

A scenario is a TOML file (``scenarios/*.toml``)::

    name = "read_noise"          # names the result file; default: the file's stem
    seed = 1                     # root seed of every random stream
    trials = 32                  # Monte Carlo trials per sweep point
    [device]      ...            # mcvar.devices.Device          (physics sections: defaults
    [periphery]   ...            # mcvar.periphery.Periphery      if absent)
    [tile]        ...            # mcvar.tile.TileSpec
    [pulsing]     ...            # mcvar.tile.Pulsing
    [kernels]     ...            # mcvar.workloads.Kernels        (workloads: at least one)
    [training]    ...            # mcvar.training.Training
    [cost]        ...            # mcvar.workloads.Cost, with [cost.technology] overrides
    [sweep]
    device.read_noise = [0.0, 0.02, 0.05]        # one dimension `device_read_noise`
    [sweep.zip.device_kind]                       # parameters varied together: one dimension
    labels = ["asymmetric", "symmetric"]          # `device_kind` (labels optional)
    device.model = ["crosssim_asymmetric", "crosssim_symmetric"]

Sweep points are the cartesian product of the sweep dimensions. A plain swept parameter
``section.field`` is the dimension ``section_field`` (``cost.technology.x``: ``technology_x``);
a zipped group is the dimension named by its table, each of its parameters a coordinate along it.

Seeds: with ``sweep_seeds = "common"`` (default) every sweep point runs trial ``t`` with the
same streams ``(seed, t, ...)``: common random numbers, so differences between sweep points are
not blurred by different draws (the same device instances meet every read-noise level, say).
``"independent"`` derives each point's seed from the root seed and the point's parameter
values (stable when values are added to a sweep), for independent estimates per point.

Every problem (unknown key, wrong type, value out of range, impossible combination, empty or
duplicate sweep values, bad TOML) raises :class:`ScenarioError` naming the file, the key path
and what is allowed, before anything runs.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .cost.technology import Technology
from .devices import Device, resolve
from .params import ParameterError, describe_range, param, validate
from .periphery import Periphery
from .tile import Pulsing, TileSpec
from .training import Training
from .variables import VARIABLES
from .workloads import TILE_TECHNOLOGY, Configuration, Cost, Kernels

SECTIONS = {"device": Device, "periphery": Periphery, "tile": TileSpec, "pulsing": Pulsing,
            "kernels": Kernels, "training": Training, "cost": Cost}
WORKLOADS = ("kernels", "training", "cost")
TARGET_TASKS = 128  #: automatic bundling aims at about this many trial tasks in all
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScenarioError(ValueError):
    """A scenario cannot run; the message names the file, the key path and what is allowed."""

    def __init__(self, source: str, key: str | None, reason: str):
        super().__init__(f"{source}: {key}: {reason}" if key else f"{source}: {reason}")
        self.source, self.key, self.reason = source, key, reason


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


@dataclass(frozen=True)
class Axis:
    """One sweep dimension: a parameter, or a zipped group of parameters varied together."""

    dim: str  #: dimension name
    keys: tuple[str, ...]  #: parameter paths, e.g. ("device.read_noise",)
    values: tuple[tuple, ...]  #: values[k][i]: value of keys[k] at position i
    labels: tuple | None = None  #: zipped groups: coordinate labels (None: positions 0..n-1)
    zipped: bool = False  #: a group from [sweep.zip.NAME]

    @property
    def size(self) -> int:
        return len(self.values[0])


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
        return self.configurations[_flat(point, self.shape)]

    def describe(self, point: tuple[int, ...]) -> str:
        """``"device_read_noise=0.02, periphery_adc_bits=6"`` (empty without a sweep)."""
        parts = []
        for axis, i in zip(self.axes, point):
            if axis.labels is not None:
                parts.append(f"{axis.dim}={axis.labels[i]}")
            else:
                parts += [f"{_coord_name(k)}={v[i]!r}" for k, v in zip(axis.keys, axis.values)]
        return ", ".join(parts)

    def coords(self, point: tuple[int, ...] | None = None) -> dict[str, xr.Variable]:
        """Sweep coordinates of the whole grid, or of one point (each dimension of length 1)."""
        out = {}
        for n, axis in enumerate(self.axes):
            pick = slice(None) if point is None else slice(point[n], point[n] + 1)
            if axis.zipped:
                labels = axis.labels if axis.labels is not None else tuple(range(axis.size))
                out[axis.dim] = xr.Variable(axis.dim, np.asarray(labels)[pick], {
                    "long_name": "sweep point of the zipped parameters " + ", ".join(axis.keys),
                    **({} if axis.labels is not None else {"units": "1"})})
            for key, values in zip(axis.keys, axis.values):
                name = axis.dim if not axis.zipped else _coord_name(key)
                array = _coord_values(values)
                out[name] = xr.Variable(axis.dim, array[pick],
                                        _key_attrs(key, numeric=array.dtype.kind in "iufb"))
        return out

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
                    _set(group, key, list(values))
                sweep.setdefault("zip", {})[axis.dim] = group
            else:
                _set(sweep, axis.keys[0], list(axis.values[0]))
        return dumps_toml({**top, **self.tables, **({"sweep": sweep} if sweep else {})})


# -------------------------------------------------------------------- loading

def load(path, overrides=(), *, trials: int | None = None, tiny: bool = False) -> Scenario:
    """Load and validate the scenario file ``path``.

    ``overrides``: ``"key.path=value"`` strings (TOML values; bare words are strings), applied
    after the file, e.g. ``"device.read_noise=0.02"`` or ``"sweep.periphery.adc_bits=[4, 8]"``.
    ``trials`` overrides the trial count; ``tiny`` shrinks the run for a quick end-to-end check
    (see :func:`shrink`).
    """
    source = str(path)
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise ScenarioError(source, None, f"cannot read the file ({err.strerror})") from None
    return loads(text, source=source, overrides=overrides, trials=trials, tiny=tiny,
                 default_name=Path(path).stem)


def loads(text: str, *, source: str = "<scenario>", overrides=(), trials: int | None = None,
          tiny: bool = False, default_name: str = "scenario") -> Scenario:
    """Load and validate a scenario from TOML ``text`` (see :func:`load`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(source, None, f"invalid TOML: {err}") from None
    for item in overrides:
        key, value = parse_override(item, source)
        _set(raw, key, value, source)
    if trials is not None:
        raw["trials"] = trials
    if tiny:
        raw = shrink(raw)
    raw.setdefault("name", default_name)
    return _build(raw, source)


def parse_override(item: str, source: str = "--set") -> tuple[str, object]:
    """``"a.b=value"`` -> ``("a.b", value)``; the value is read as TOML, else as a string."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or not all(_IDENTIFIER.match(p) for p in key.split(".")):
        raise ScenarioError(source, None, f"override {item!r}: expected KEY=VALUE, e.g. "
                                          "device.read_noise=0.02")
    try:
        return key, tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key, text.strip()


#: the sizes of a tiny run (:func:`shrink`); the ``*_examples`` use 0 for "all"
TINY = {"trials": 2, "kernels.reads": 32, "kernels.updates": 16, "training.epochs": 1,
        "training.train_examples": 40, "training.test_examples": 40}


def shrink(raw: dict) -> dict:
    """A copy of scenario ``raw`` at the :data:`TINY` sizes (swept values included), for a
    quick end-to-end check; sweep points and everything else stay as they are."""
    raw = copy.deepcopy(raw)
    sweep = raw.get("sweep")
    groups = [sweep, *sweep.get("zip", {}).values()] if isinstance(sweep, dict) else []
    for key, limit in TINY.items():
        zero_means_all = key.endswith("_examples")
        swept = False
        for group in groups:
            values = _get(group, key) if isinstance(group, dict) else None
            if isinstance(values, list):
                _set(group, key, [_tiny(v, limit, zero_means_all) for v in values])
                swept = True
        if not swept and ("." not in key or key.split(".")[0] in raw):
            _set(raw, key, _tiny(_get(raw, key), limit, zero_means_all))
    return raw


def _tiny(value, limit: int, zero_means_all: bool):
    if value is None or (value == 0 and zero_means_all):
        return limit
    return min(value, limit) if isinstance(value, int) and not isinstance(value, bool) else value


def _build(raw: dict, source: str) -> Scenario:
    allowed = set(f.name for f in dataclasses.fields(Settings)) | set(SECTIONS) | {"sweep"}
    for key in raw:
        if key not in allowed:
            raise ScenarioError(source, key, _unknown(key, allowed, "top-level keys"))
    top = {k: v for k, v in raw.items() if k not in SECTIONS and k != "sweep"}
    for key, value in top.items():
        top[key] = _checked_value(source, key, value, Settings, key)
    settings = _checked(source, Settings, top)
    if not any(w in raw for w in WORKLOADS):
        raise ScenarioError(source, None, "no workload: add a [kernels], [training] or [cost] "
                                          "table")

    tables = {}
    for section, cls in SECTIONS.items():
        if section not in raw and section in WORKLOADS:
            continue
        table = raw.get(section, {})
        if not isinstance(table, dict):
            raise ScenarioError(source, section, f"expected a table [{section}], got "
                                                 f"{_type_name(table)}")
        tables[section] = _checked_table(source, section, cls, table)

    axes = _axes(source, raw.get("sweep", {}), tables)
    technology = dict(tables.get("cost", {}).get("technology", ()))
    for axis in axes:
        for key in axis.keys:
            if _get(tables, key) is not None or key.removeprefix("cost.technology.") in technology:
                group = f"zip.{axis.dim}." if axis.zipped else ""
                raise ScenarioError(source, key, f"given as a value and swept "
                                                 f"(sweep.{group}{key}); set one or the other")

    configurations, devices = [], set()
    for point in itertools.product(*(range(a.size) for a in axes)):
        changes = {k: v[i] for a, i in zip(axes, point) for k, v in zip(a.keys, a.values)}
        seed = settings.seed if settings.sweep_seeds == "common" else _point_seed(settings.seed,
                                                                                   changes)
        configurations.append(_configuration(source, tables, changes, seed, axes, point))
        device = configurations[-1].device
        if device.model == "lookup" and device not in devices:  # table window vs g_min/g_max
            _checked(source, resolve, dict(device=device), ("device",), changes, axes, point)
            devices.add(device)
    full = {s: _resolved_table(SECTIONS[s], t, axes) for s, t in tables.items()}
    return Scenario(settings, full, tuple(axes), tuple(configurations), source)


def _configuration(source, tables, changes, seed, axes, point) -> Configuration:
    sections = {}
    for section, cls in SECTIONS.items():
        if section not in tables:
            continue
        kwargs = dict(tables[section])
        kwargs.update({k.split(".", 1)[1]: v for k, v in changes.items()
                       if k.split(".")[0] == section and not k.startswith("cost.technology.")})
        if section == "cost":
            tech = dict(kwargs.pop("technology", ()))
            tech.update({k.split(".")[2]: v for k, v in changes.items()
                         if k.startswith("cost.technology.")})
            defaults = {f.name: f.default for f in dataclasses.fields(Technology)}
            kwargs["technology"] = tuple(sorted((k, v) for k, v in tech.items()
                                                if v != defaults[k]))
        sections[section] = _checked(source, cls, kwargs, (section,), changes, axes, point)
    config = Configuration(seed=seed, **sections)
    if config.cost is not None:
        _checked(source, config.cost.technology_for, dict(spec=config.tile,
                 periphery=config.periphery), ("tile", "periphery", "cost"), changes, axes, point)
    return config


def _checked(source, func, kwargs, sections=(), changes=None, axes=(), point=()):
    """``func(**kwargs)`` with its ParameterError reported for the file: a swept value by its
    sweep key and index, a rule involving a swept section with the sweep point."""
    try:
        return func(**kwargs)
    except ParameterError as err:
        changes = changes or {}
        reason = err.reason
        if err.key in changes:
            axis = next(a for a in axes if err.key in a.keys)
            group = f"zip.{axis.dim}." if axis.zipped else ""
            raise ScenarioError(source, f"sweep.{group}{err.key}[{point[axes.index(axis)]}]",
                                reason) from None
        involved = {k: v for k, v in changes.items() if k.split(".")[0] in sections}
        if involved:
            where = ", ".join(f"{k} = {_toml_value(v)}" for k, v in involved.items())
            reason += f" (at the sweep point {where})"
        raise ScenarioError(source, err.key, reason) from None


def _check_field(source, path, cls, name, value) -> None:
    """Type and range of one value from ``cls``'s field metadata (no cross-field rules)."""
    if cls is Technology:
        try:
            Technology(**{name: value})
        except ValueError as err:
            raise ScenarioError(source, path, str(err).split(": ", 1)[-1]) from None
        return
    probe = object.__new__(cls)  # field values only: __post_init__ rules run per point
    for f in dataclasses.fields(cls):
        object.__setattr__(probe, f.name, value if f.name == name else f.default)
    try:
        validate(probe)
    except ParameterError as err:
        meta = _meta(cls, name)
        reason = err.reason
        if "allowed" not in reason:
            reason += f"; allowed: {describe_range(meta)} [{meta['units']}]"
        raise ScenarioError(source, path, reason) from None


# -------------------------------------------------------------------- tables and values

def _checked_table(source, section, cls, table) -> dict:
    names = [f.name for f in dataclasses.fields(cls)]
    out = {}
    for key, value in table.items():
        path = f"{section}.{key}"
        if key not in names:
            raise ScenarioError(source, path, _unknown(key, names, f"keys of [{section}]"))
        if cls is Cost and key == "technology":
            out[key] = _technology_table(source, value)
        else:
            out[key] = _checked_value(source, path, value, cls, key)
    return out


def _technology_table(source, table) -> tuple:
    if not isinstance(table, dict):
        raise ScenarioError(source, "cost.technology", f"expected a table, got "
                                                       f"{_type_name(table)}")
    allowed = [f.name for f in dataclasses.fields(Technology) if f.name not in TILE_TECHNOLOGY]
    out = {}
    for key, value in table.items():
        path = f"cost.technology.{key}"
        if key in TILE_TECHNOLOGY:
            raise ScenarioError(source, path, f"set by {TILE_TECHNOLOGY[key]} (one tile for "
                                              "simulation and cost)")
        if key not in allowed:
            raise ScenarioError(source, path, _unknown(key, allowed, "technology constants"))
        out[key] = _checked_value(source, path, value, Technology, key)
    return tuple(sorted(out.items()))


def _checked_value(source, path, value, cls, name):
    """``value`` of field ``name`` of ``cls``, checked (type, range) and with TOML types mapped
    (lists -> tuples, ints -> floats where the field is a float)."""
    field = _field(cls, name)
    annotation = str(field.type)
    meta = dict(field.metadata)
    allowed = ""
    if "units" in meta and meta.get("kind") not in (str, bool, tuple):
        allowed = f"; allowed: {describe_range(meta)} [{meta['units']}]"
    if isinstance(value, dict):
        raise ScenarioError(source, path, f"got a table, expected a value{allowed}")
    if "tuple" in annotation:
        if not isinstance(value, list):
            raise ScenarioError(source, path, f"got {_toml_value(value)} "
                                              f"({_type_name(value)}), expected a list")
        value = _freeze(value)
    elif isinstance(value, list):
        raise ScenarioError(source, path, f"got a list, expected a single value{allowed}; to "
                                          f"sweep it, give the list as sweep.{path}")
    elif not isinstance(value, (bool, int, float, str)):
        raise ScenarioError(source, path, f"got {_type_name(value)}, expected a number or "
                                          f"string{allowed}")
    elif annotation.startswith("float") and isinstance(value, int) and \
            not isinstance(value, bool):
        value = float(value)
    _check_field(source, path, cls, name, value)
    return value


def _resolved_table(cls, table: dict, axes) -> dict:
    """Every field of ``cls`` with its value in ``table`` or its default (None left out,
    swept keys left out)."""
    swept = {k for a in axes for k in a.keys}
    section = next(s for s, c in SECTIONS.items() if c is cls)
    out = {}
    for f in dataclasses.fields(cls):
        value = table.get(f.name, f.default)
        if f"{section}.{f.name}" in swept or value is None:
            continue
        if cls is Cost and f.name == "technology":
            tech = dict(value)
            value = {t.name: tech.get(t.name, t.default) for t in dataclasses.fields(Technology)
                     if t.name not in TILE_TECHNOLOGY and f"cost.technology.{t.name}" not in swept}
        out[f.name] = value
    return out


# -------------------------------------------------------------------- sweep

def _axes(source, sweep, tables) -> list[Axis]:
    if not isinstance(sweep, dict):
        raise ScenarioError(source, "sweep", f"expected a table [sweep], got {_type_name(sweep)}")
    axes = []
    for key, value in sweep.items():
        if key == "zip":
            if not isinstance(value, dict) or not all(isinstance(g, dict) for g in value.values()):
                raise ScenarioError(source, "sweep.zip", "expected tables [sweep.zip.NAME] of "
                                                         "parameter lists")
            axes += [_zip_axis(source, name, group, tables) for name, group in value.items()]
        else:
            for path, values in _leaves(source, {key: value}, "sweep"):
                values = _sweep_values(source, path, values, tables)
                if len(set(map(_hashable, values))) != len(values):
                    raise ScenarioError(source, f"sweep.{path}", f"duplicate values in "
                                                                 f"{_toml_value(list(values))}")
                axes.append(Axis(_coord_name(path), (path,), (values,)))
    _check_names(source, axes)
    return axes


def _zip_axis(source, name, group, tables) -> Axis:
    where = f"sweep.zip.{name}"
    if not _IDENTIFIER.match(name):
        raise ScenarioError(source, where, "the group name must be an identifier (letters, "
                                           "digits, _)")
    group = dict(group)
    labels = group.pop("labels", None)
    leaves = _leaves(source, group, where)
    if not leaves:
        raise ScenarioError(source, where, "no parameters: give lists such as "
                                           "device.model = [...]")
    keys = tuple(p for p, _ in leaves)
    values = tuple(_sweep_values(source, p, v, tables, where) for p, v in leaves)
    sizes = {len(v) for v in values}
    if len(sizes) > 1:
        detail = ", ".join(f"{k} has {len(v)}" for k, v in zip(keys, values))
        raise ScenarioError(source, where, f"zipped lists differ in length ({detail})")
    if labels is not None:
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels) or \
                len(labels) != len(values[0]) or len(set(labels)) != len(labels):
            raise ScenarioError(source, f"{where}.labels", f"expected {len(values[0])} distinct "
                                                           "strings, one per zipped value")
        labels = tuple(labels)
    return Axis(name, keys, values, labels, zipped=True)


def _leaves(source, table, prefix) -> list[tuple[str, list]]:
    """``[(path, list)]`` of the lists in nested ``table`` (path without ``prefix``)."""
    out = []
    for key, value in table.items():
        if isinstance(value, dict):
            out += [(f"{key}.{p}", v) for p, v in _leaves(source, value, f"{prefix}.{key}")]
        elif isinstance(value, list):
            out.append((key, value))
        else:
            raise ScenarioError(source, f"{prefix}.{key}", f"got {_toml_value(value)}, expected "
                                                           "a list of values to sweep")
    return out


def _sweep_values(source, path, values, tables, where="sweep") -> tuple:
    key = f"{where}.{path}"
    if not values:
        raise ScenarioError(source, key, "empty list: give at least one value")
    parts = path.split(".")
    section = parts[0]
    if section not in SECTIONS:
        raise ScenarioError(source, key, _unknown(section, list(SECTIONS), "sections"))
    if section not in tables:
        raise ScenarioError(source, key, f"sweeps a parameter of [{section}], which the "
                                         "scenario does not have")
    if section == "cost" and parts[1:2] == ["technology"] and len(parts) == 3:
        cls, name = Technology, parts[2]
        if name in TILE_TECHNOLOGY:
            raise ScenarioError(source, key, f"set by {TILE_TECHNOLOGY[name]}; sweep that")
    elif len(parts) == 2 and not (section == "cost" and parts[1] == "technology"):
        cls, name = SECTIONS[section], parts[1]
    else:
        raise ScenarioError(source, key, "expected section.parameter (or "
                                         "cost.technology.constant)")
    names = [f.name for f in dataclasses.fields(cls)]
    if name not in names:
        raise ScenarioError(source, key, _unknown(name, names, f"parameters of [{section}]"))
    return tuple(_checked_value(source, f"{key}[{i}]", v, cls, name) for i, v in enumerate(values))


def _check_names(source, axes) -> None:
    seen = {}
    for axis in axes:
        names = [axis.dim] + ([_coord_name(k) for k in axis.keys] if axis.zipped else [])
        for name in names:
            if name in seen or name in VARIABLES:
                clash = f"sweep dimension {seen[name]!r}" if name in seen else \
                    "a result variable"
                raise ScenarioError(source, f"sweep.zip.{axis.dim}" if axis.zipped else
                                    f"sweep.{axis.keys[0]}",
                                    f"coordinate name {name!r} clashes with {clash}")
            seen[name] = axis.dim
        for key in axis.keys:
            if key in seen:
                raise ScenarioError(source, f"sweep.{key}", "swept twice")
            seen[key] = axis.dim


def _point_seed(seed: int, changes: dict) -> int:
    """A 63-bit seed from the root seed and the point's parameter values."""
    text = "\n".join(f"{k}={_toml_value(v)}" for k, v in sorted(changes.items()))
    words = np.frombuffer(hashlib.sha256(text.encode()).digest()[:16], dtype=np.uint32)
    state = np.random.SeedSequence([seed, *map(int, words)]).generate_state(2, np.uint32)
    return (int(state[0]) << 32 | int(state[1])) & (2**63 - 1)


# -------------------------------------------------------------------- helpers

def _field(cls, name) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _meta(cls, name) -> dict | None:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    return dict(fields[name].metadata) if name in fields and "units" in fields[name].metadata \
        else None


def _key_attrs(key: str, numeric: bool) -> dict:
    """Attributes of the coordinate of swept parameter ``key`` (units for numbers and flags)."""
    parts = key.split(".")
    cls = Technology if parts[:2] == ["cost", "technology"] else SECTIONS[parts[0]]
    meta = _meta(cls, parts[-1])
    attrs = {"long_name": f"{meta['doc']} (swept parameter {key})"}
    if numeric:
        attrs["units"] = meta["units"]
    return attrs


def _coord_name(path: str) -> str:
    return "_".join(path.split(".")[-2:])


def _coord_values(values: tuple) -> np.ndarray:
    """Coordinate array of sweep values (lists become comma-separated strings)."""
    if any(isinstance(v, tuple) for v in values):
        return np.asarray([",".join(map(str, v)) for v in values])
    return np.asarray(values)


def _flat(point, shape) -> int:
    return int(np.ravel_multi_index(point, shape)) if shape else 0


def _freeze(value):
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def _hashable(value):
    return json.dumps(value, sort_keys=True, default=list)


def _unknown(key, allowed, what) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; allowed {what}: {', '.join(sorted(allowed))}"


def _type_name(value) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "list",
            dict: "table"}.get(type(value), type(value).__name__)


def _get(table: dict, path: str):
    for part in path.split("."):
        if not isinstance(table, dict) or part not in table:
            return None
        table = table[part]
    return table


def _set(table: dict, path: str, value, source: str = "--set") -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ScenarioError(source, path, f"{part!r} is a value, not a table")
    table[parts[-1]] = value


# -------------------------------------------------------------------- TOML output

def dumps_toml(table: dict) -> str:
    """TOML text of nested ``table`` (strings, numbers, booleans, lists, tables)."""
    lines: list[str] = []

    def emit(tbl: dict, prefix: str) -> None:
        values = [(k, v) for k, v in tbl.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in tbl.items() if isinstance(v, dict)]
        if prefix and (values or not tables):
            lines.append(f"\n[{prefix}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in values)
        for k, v in tables:
            emit(v, f"{prefix}.{k}" if prefix else k)

    emit(table, "")
    return "\n".join(lines).lstrip("\n") + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")

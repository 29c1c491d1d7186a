"""Sweep expansion: the ``[sweep]`` table as axes (dimensions) of parameter values.

A plain swept parameter ``section.field`` is the dimension ``section_field``
(``cost.technology.x``: ``technology_x``); a zipped group ``[sweep.zip.NAME]`` is the dimension
``NAME``, each of its parameters a coordinate along it. Sweep points are the cartesian
product of the axes, row-major.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..variables import VARIABLES
from .errors import ScenarioError, type_name, unknown
from .schema import FIXED, SECTIONS, owner
from .tomlio import IDENTIFIER, toml_value
from .values import checked_value, distinct


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

    def where(self, key: str) -> str:
        """The sweep key that gives ``key``'s values (``sweep.zip.NAME.key`` in a group)."""
        return f"sweep.zip.{self.dim}.{key}" if self.zipped else f"sweep.{key}"


MAX_POINTS = 10_000  #: sweep points one scenario may have (counted before any expansion)


def coord_name(path: str) -> str:
    """Coordinate name of swept parameter ``path``: its last two parts joined by ``_``."""
    return "_".join(path.split(".")[-2:])


def sweep_axes(source: str, sweep, tables: dict) -> list[Axis]:
    """The axes of the ``[sweep]`` table ``sweep``; ``tables``: the scenario's checked
    sections (a swept parameter's section must be one of them)."""
    if not isinstance(sweep, dict):
        raise ScenarioError(source, "sweep", f"expected a table [sweep], got {type_name(sweep)}")
    _check_size(source, sweep)
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
                if not distinct(values):
                    raise ScenarioError(source, f"sweep.{path}", f"duplicate values in "
                                                                 f"{toml_value(list(values))}")
                axes.append(Axis(coord_name(path), (path,), (values,)))
    _check_names(source, axes)
    return axes


def _check_size(source, sweep: dict) -> None:
    """Refuse more than :data:`MAX_POINTS` sweep points, counted from the list lengths
    before any value is checked or any point built."""
    sizes = []
    for key, value in sweep.items():
        if key != "zip":
            sizes += [(f"sweep.{p}", len(v)) for p, v in _leaves(source, {key: value}, "sweep")]
        elif isinstance(value, dict):
            for name, group in value.items():
                where = f"sweep.zip.{name}"
                lists = _leaves(source, {k: v for k, v in group.items() if k != "labels"},
                                where) if isinstance(group, dict) else []
                sizes.append((where, max((len(v) for _, v in lists), default=1)))
    total = 1
    for _, n in sizes:
        total *= max(n, 1)
    if total > MAX_POINTS:
        shape = " x ".join(f"{n:,}" for _, n in sizes)
        raise ScenarioError(source, max(sizes, key=lambda s: s[1])[0],
                            f"the sweep has {total:,} points ({shape}); allowed at most "
                            f"{MAX_POINTS:,} per scenario: split the study into several "
                            "scenarios")


def _zip_axis(source, name, group, tables) -> Axis:
    where = f"sweep.zip.{name}"
    if not IDENTIFIER.match(name):
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
            raise ScenarioError(source, f"{prefix}.{key}", f"got {toml_value(value)}, expected "
                                                           "a list of values to sweep")
    return out


def _sweep_values(source, path, values, tables, where="sweep") -> tuple:
    key = f"{where}.{path}"
    if not values:
        raise ScenarioError(source, key, "empty list: give at least one value")
    section = path.split(".")[0]
    if section not in SECTIONS:
        raise ScenarioError(source, key, unknown(section, list(SECTIONS), "sections"))
    if section not in tables:
        raise ScenarioError(source, key, f"sweeps a parameter of [{section}], which the "
                                         "scenario does not have")
    if path in FIXED:
        raise ScenarioError(source, key, f"set by {FIXED[path]}; sweep that")
    try:
        cls, name = owner(path)
    except LookupError as err:
        raise ScenarioError(source, key, str(err)) from None
    return tuple(checked_value(source, f"{key}[{i}]", v, cls, name) for i, v in enumerate(values))


def _check_names(source, axes) -> None:
    seen = {}
    for axis in axes:
        names = [axis.dim] + ([coord_name(k) for k in axis.keys] if axis.zipped else [])
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

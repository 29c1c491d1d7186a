"""Values and tables of a scenario checked against the schema: known keys, types, ranges.

A TOML value becomes the field's type (lists -> tuples, integers -> floats where the field's
type hint allows a float and not an integer); its type and range are checked from the
field's metadata. Rules across fields run later, when a sweep point's objects are built.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing

from ..params import ParameterError, describe_range, validate
from .errors import ScenarioError, type_name, unknown
from .schema import FIXED, field_names, field_type, metadata, table_class, type_options
from .tomlio import toml_value


def checked_table(source: str, prefix: str, cls, table) -> dict:
    """The TOML table at key path ``prefix`` checked against dataclass ``cls``: every key
    known and settable, every value checked (:func:`checked_value`), nested tables too."""
    if not isinstance(table, dict):
        raise ScenarioError(source, prefix, f"expected a table [{prefix}], got "
                                            f"{type_name(table)}")
    names = field_names(cls, prefix)
    out = {}
    for key, value in table.items():
        path = f"{prefix}.{key}"
        if path in FIXED:
            raise ScenarioError(source, path, f"set by {FIXED[path]} (one tile for simulation "
                                              "and cost)")
        if key not in names:
            raise ScenarioError(source, path, unknown(key, names, f"keys of [{prefix}]"))
        nested = table_class(cls, key)
        out[key] = checked_table(source, path, nested, value) if nested else \
            checked_value(source, path, value, cls, key)
    return out


def checked_value(source: str, path: str, value, cls, name: str):
    """``value`` (from TOML) of field ``name`` of ``cls``, converted to the field's type and
    checked (type, range); ``path`` names it in errors."""
    hint = field_type(cls, name)
    meta = metadata(cls, name)
    allowed = ""
    if "units" in meta and meta.get("kind") not in (str, bool, tuple):
        allowed = f"; allowed: {allowed_values(cls, name)}"
    if isinstance(value, dict):
        raise ScenarioError(source, path, f"got a table, expected a value{allowed}")
    if _sequence(hint) and (isinstance(value, list) or not _scalar_allowed(hint)):
        if not isinstance(value, list):
            raise ScenarioError(source, path, f"got {toml_value(value)} "
                                              f"({type_name(value)}), expected a list")
        value = _freeze(value)
    elif isinstance(value, list):
        raise ScenarioError(source, path, f"got a list, expected a single value{allowed}; to "
                                          f"sweep it, give the list as sweep.{path}")
    elif not isinstance(value, (bool, int, float, str)):
        raise ScenarioError(source, path, f"got {type_name(value)}, expected a number or "
                                          f"string{allowed}")
    else:
        value = _scalar(hint, value)
    _check_field(source, path, cls, name, value)
    return value


def allowed_values(cls, name: str) -> str:
    """What field ``name`` of ``cls`` allows, for messages: its declared range and units;
    for a field whose rule lives in the class (no declared range), the rule's own wording,
    found by offering the class a value no such rule accepts."""
    meta = metadata(cls, name)
    declared = f"{describe_range(meta)} [{meta['units']}]"
    kind = meta.get("kind")
    if meta.get("choices") is not None or meta.get("low") is not None or \
            meta.get("high") is not None or kind not in (int, float):
        return declared
    try:
        cls(**{name: -(2 ** 62) if kind is int else -math.inf})
    except ParameterError as err:
        if err.key.endswith(f".{name}") and "allowed: " in err.reason:
            return err.reason.split("allowed: ", 1)[1]
    except Exception:  # noqa: BLE001 - another field's rule: fall back to the declaration
        pass
    return "an integer" if kind is int else "a number"


def resolved_table(prefix: str, cls, table: dict, swept) -> dict:
    """Every settable field of ``cls`` with its value in ``table`` or its default (nested
    tables resolved alike), leaving out None and the key paths in ``swept``."""
    out = {}
    for f in dataclasses.fields(cls):
        path = f"{prefix}.{f.name}"
        if path in swept or path in FIXED:
            continue
        nested = table_class(cls, f.name)
        if nested is not None:
            out[f.name] = resolved_table(path, nested, table.get(f.name, {}), swept)
            continue
        value = table.get(f.name, f.default)
        if value is not None:
            out[f.name] = value
    return out


def distinct(values) -> bool:
    """Whether sweep ``values`` (numbers, strings, tuples) are pairwise different."""
    keys = [json.dumps(v, sort_keys=True, default=list) for v in values]
    return len(set(keys)) == len(keys)


def _sequence(hint) -> bool:
    """Whether a field of type ``hint`` holds a tuple (``tuple``, ``tuple[int, ...]``,
    ``tuple | None``)."""
    return any(t is tuple or typing.get_origin(t) is tuple for t in type_options(hint))


def _scalar_allowed(hint) -> bool:
    """Whether a field of type ``hint`` also takes a number (``int | tuple``)."""
    return any(t in (int, float) for t in type_options(hint))


def _scalar(hint, value):
    """An integer becomes a float where the field allows a float and no integer."""
    options = type_options(hint)
    if isinstance(value, int) and not isinstance(value, bool) and float in options and \
            int not in options:
        return float(value)
    return value


def _freeze(value):
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def _check_field(source, path, cls, name, value) -> None:
    """Type and range of one value from ``cls``'s field metadata (no cross-field rules)."""
    probe = object.__new__(cls)  # field values only: __post_init__ rules run per point
    for f in dataclasses.fields(cls):
        object.__setattr__(probe, f.name, value if f.name == name else f.default)
    try:
        validate(probe)
    except ParameterError as err:
        reason = err.reason
        if "allowed" not in reason:
            reason += f"; allowed: {allowed_values(cls, name)}"
        raise ScenarioError(source, path, reason) from None

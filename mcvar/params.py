"""Validated parameter fields: every physical parameter carries its unit, meaning and range.

Parameter dataclasses declare fields with :func:`param`; :func:`validate` checks an instance
against those declarations and raises :class:`ParameterError` naming the parameter, the bad
value and the allowed range. The scenario layer catches it and adds the file and key path.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any


class ParameterError(ValueError):
    """A parameter is out of range or of the wrong type; ``key`` names it."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.reason = message


class Parameters:
    """Base of the frozen parameter dataclasses (device, periphery, pulsing, training)."""

    __slots__ = ()

    def replace(self, **changes):
        """A copy with ``changes`` applied (validated again by the class's checks)."""
        return dataclasses.replace(self, **changes)


def param(default: Any, *, units: str, doc: str, low: float | None = None,
          high: float | None = None, low_open: bool = False, high_open: bool = False,
          choices: tuple | None = None, kind: type | tuple | None = None, **extra):
    """A dataclass field with unit, docstring, allowed range ``[low, high]`` or ``choices``.

    ``extra`` metadata (e.g. ``source``: where a default comes from) is kept alongside.
    """
    meta = dict(units=units, doc=doc, low=low, high=high, low_open=low_open,
                high_open=high_open, choices=choices, kind=kind, **extra)
    return dataclasses.field(default=default, metadata=meta)


def describe_range(meta: dict) -> str:
    """Human-readable allowed range of a field, e.g. ``[0, inf)`` or ``one of ('a', 'b')``."""
    if meta.get("choices") is not None:
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    left = "(" if meta.get("low_open") or low is None else "["
    right = ")" if meta.get("high_open") or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    integer = " (integer)" if meta.get("kind") is int else ""
    return f"{left}{lo}, {hi}{right}{integer}"


def _check(key: str, value: Any, meta: dict) -> None:
    choices = meta.get("choices")
    if choices is not None:
        if value not in choices:
            raise ParameterError(key, f"got {value!r}, allowed: {describe_range(meta)}")
        return
    kind = meta.get("kind")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if kind is not None and (not isinstance(value, kind)
                             or (isinstance(value, bool) and bool not in kinds)):
        allowed = "" if meta.get("low") is None and meta.get("high") is None else (
            f"; allowed range {describe_range(meta)} [{meta['units']}]")
        raise ParameterError(key, f"got {value!r} of type {type(value).__name__}, "
                                  f"expected {_kind_name(kind)}{allowed}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if kind is None:
            raise ParameterError(key, f"got {value!r}, expected a number; allowed range "
                                      f"{describe_range(meta)} [{meta['units']}]")
        return
    if math.isnan(value):
        raise ParameterError(key, f"got NaN, allowed range {describe_range(meta)} [{meta['units']}]")
    low, high = meta.get("low"), meta.get("high")
    bad_low = low is not None and (value <= low if meta.get("low_open") else value < low)
    bad_high = high is not None and (value >= high if meta.get("high_open") else value > high)
    if bad_low or bad_high or math.isinf(value):  # ranges are finite: [0, inf) excludes inf
        raise ParameterError(key, f"got {value!r}, allowed range {describe_range(meta)} "
                                  f"[{meta['units']}]")


def _kind_name(kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__


def validate(obj: Any, prefix: str = "") -> None:
    """Check every :func:`param` field of dataclass ``obj``; raise :class:`ParameterError`."""
    for f in dataclasses.fields(obj):
        if "units" in f.metadata:
            _check(prefix + f.name, getattr(obj, f.name), f.metadata)


def field_docs(cls) -> dict[str, dict]:
    """``{name: metadata}`` of the :func:`param` fields of ``cls`` (for docs and scenarios)."""
    return {f.name: dict(f.metadata) for f in dataclasses.fields(cls) if "units" in f.metadata}

"""TOML text in and out: dotted key paths, ``KEY=VALUE`` overrides, and a small TOML writer."""

from __future__ import annotations

import json
import math
import re
import tomllib

import numpy as np

from .errors import ScenarioError

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  #: one part of a key path


def read_toml(text: str, source: str) -> dict:
    """The table of TOML ``text``; bad TOML raises :class:`ScenarioError` naming ``source``
    (and the key, for a key or table given twice)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        twice = duplicate_key(text) if "Cannot overwrite" in str(err) or \
            "Cannot declare" in str(err) else None
        if twice is not None:
            key, line = twice
            raise ScenarioError(source, key, f"invalid TOML: given twice (again on line "
                                             f"{line}); give each key once") from None
        raise ScenarioError(source, None, f"invalid TOML: {err}") from None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def duplicate_key(text: str) -> tuple[str, int] | None:
    """``(key path, line number)`` of the first key or table that ``text`` gives twice (a
    line-by-line scan of plain keys and headers, for the error message), or None."""
    values, headers, prefix, arrays = set(), set(), "", {}
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            name = _key_path(header.group(2))
            if header.group(1) == "[[":  # each element of an array of tables is new
                arrays[name] = arrays.get(name, -1) + 1
                prefix = f"{name}[{arrays[name]}]"
                continue
            if name in headers or name in values:
                return name, number
            headers.add(name)
            prefix = name
            continue
        assign = _ASSIGN.match(line)
        if assign:
            path = ".".join(filter(None, (prefix, _key_path(assign.group(1)))))
            parts = path.split(".")
            clash = [".".join(parts[:n]) for n in range(1, len(parts))
                     if ".".join(parts[:n]) in values]  # a value, then a key inside it
            if clash or path in values or path in headers:
                return (clash or [path])[0], number
            values.add(path)
    return None


def _key_path(text: str) -> str:
    return ".".join(p.strip().strip("\"'") for p in text.split("."))


def parse_override(item: str, source: str = "--set") -> tuple[str, object]:
    """``"a.b=value"`` -> ``("a.b", value)``; the value is read as TOML, else as a string."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or not all(IDENTIFIER.match(p) for p in key.split(".")):
        raise ScenarioError(source, None, f"override {item!r}: expected KEY=VALUE, e.g. "
                                          "device.read_noise=0.02")
    try:
        return key, tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key, text.strip()


def get_path(table: dict, path: str):
    """The value at dotted ``path`` of nested ``table``, or None."""
    for part in path.split("."):
        if not isinstance(table, dict) or part not in table:
            return None
        table = table[part]
    return table


def set_path(table: dict, path: str, value, source: str = "--set") -> None:
    """Set dotted ``path`` of nested ``table`` to ``value``, creating tables on the way."""
    parts = path.split(".")
    for part in parts[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ScenarioError(source, path, f"{part!r} is a value, not a table")
    table[parts[-1]] = value


def dumps_toml(table: dict) -> str:
    """TOML text of nested ``table`` (strings, numbers, booleans, lists, tables)."""
    lines: list[str] = []

    def emit(tbl: dict, prefix: str) -> None:
        values = [(k, v) for k, v in tbl.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in tbl.items() if isinstance(v, dict)]
        if prefix and (values or not tables):
            lines.append(f"\n[{prefix}]")
        lines.extend(f"{k} = {toml_value(v)}" for k, v in values)
        for k, v in tables:
            emit(v, f"{prefix}.{k}" if prefix else k)

    emit(table, "")
    return "\n".join(lines).lstrip("\n") + "\n"


def toml_value(value) -> str:
    """``value`` (number, string, boolean, list or tuple of them) as a TOML value."""
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
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")

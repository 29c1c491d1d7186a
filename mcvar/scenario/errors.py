"""The one error a scenario raises, and the wording shared by its messages."""

from __future__ import annotations

import difflib


class ScenarioError(ValueError):
    """A scenario cannot run; the message names the file, the key path and what is allowed."""

    def __init__(self, source: str, key: str | None, reason: str):
        super().__init__(f"{source}: {key}: {reason}" if key else f"{source}: {reason}")
        self.source, self.key, self.reason = source, key, reason


def unknown(key, allowed, what: str) -> str:
    """``"unknown key (did you mean 'x'?); allowed WHAT: a, b, ..."``."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; allowed {what}: {', '.join(sorted(allowed))}"


def type_name(value) -> str:
    """The TOML name of ``value``'s type (``"integer"``, ``"table"``, ...)."""
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "list",
            dict: "table"}.get(type(value), type(value).__name__)

"""Numbers for people: engineering notation with SI prefixes (tables, reports, figures)."""

from __future__ import annotations

import math

_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M"}


def si(value, unit: str) -> str:
    """``value`` in ``unit`` with an SI prefix and 3 significant digits: ``1.23e-9, "J"`` ->
    ``"1.23 nJ"``; prefixes from f (1e-15) to M (1e6); zero, inf and NaN as ``"0 J"``,
    ``"inf J"``, ``"nan J"``; micro is written ``µ`` (U+00B5)."""
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return f"{value:g} {unit}"
    exp = min(max(3 * math.floor(math.log10(abs(value)) / 3), -15), 6)
    return f"{value / 10 ** exp:.3g} {_PREFIXES[exp]}{unit}"

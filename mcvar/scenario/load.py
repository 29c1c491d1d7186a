"""Loading a scenario: TOML, overrides and tiny runs, checked tables, one configuration per point.

Every problem (unknown key, wrong type, value out of range, impossible combination, empty or
duplicate sweep values, bad TOML) raises :class:`ScenarioError` naming the file, the key path
and what is allowed, before anything runs.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from pathlib import Path

from ..devices import resolve
from ..params import ParameterError
from ..training import resolved
from ..workloads import Configuration
from .analyses import attach, extract
from .errors import ScenarioError, unknown
from .model import Scenario
from .points import changes_at, point_seed
from .schema import SECTIONS, WORKLOADS, Settings, table_class
from .sweep import sweep_axes
from .tomlio import get_path, parse_override, read_toml, set_path, toml_value
from .values import checked_table, checked_value, resolved_table

#: the sizes of a tiny run (:func:`shrink`); the ``*_examples`` use 0 for "all"
TINY = {"trials": 2, "kernels.reads": 32, "kernels.updates": 16, "training.epochs": 1,
        "training.train_examples": 40, "training.test_examples": 40}


def load(path, overrides=(), *, trials: int | None = None, tiny: bool = False) -> Scenario:
    """Load and validate the scenario file ``path``.

    ``overrides``: ``"key.path=value"`` strings (TOML values; bare words are strings), applied
    after the file, e.g. ``"device.read_noise=0.02"`` or ``"sweep.periphery.adc_bits=[4, 8]"``.
    ``trials`` overrides the trial count; ``tiny`` shrinks the run for a quick end-to-end check
    (see :func:`shrink`).
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(source, None, f"cannot read the file ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise ScenarioError(source, None, f"not a text file (byte {err.object[err.start]:#04x} "
                                          f"at offset {err.start} is not UTF-8); a scenario is "
                                          "a TOML file") from None
    return loads(text, source=source, overrides=overrides, trials=trials, tiny=tiny,
                 default_name=Path(path).stem)


def loads(text: str, *, source: str = "<scenario>", overrides=(), trials: int | None = None,
          tiny: bool = False, default_name: str = "scenario") -> Scenario:
    """Load and validate a scenario from TOML ``text`` (see :func:`load`)."""
    raw = read_toml(text, source)
    for item in overrides:
        key, value = parse_override(item, source)
        set_path(raw, key, value, source)
    if trials is not None:
        raw["trials"] = trials
    raw.setdefault("name", default_name)
    raw, analyses = extract(raw, source, tiny)
    scenario = _build(raw, source)  # the values as given are checked, tiny or not
    return attach(_build(shrink(raw), source) if tiny else scenario, analyses)


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
            values = get_path(group, key) if isinstance(group, dict) else None
            if isinstance(values, list):
                set_path(group, key, [_tiny(v, limit, zero_means_all) for v in values])
                swept = True
        if not swept and ("." not in key or key.split(".")[0] in raw):
            set_path(raw, key, _tiny(get_path(raw, key), limit, zero_means_all))
    return raw


def _tiny(value, limit: int, zero_means_all: bool):
    if value is None or (value == 0 and zero_means_all):
        return limit
    return min(value, limit) if isinstance(value, int) and not isinstance(value, bool) else value


def _build(raw: dict, source: str) -> Scenario:
    allowed = set(f.name for f in dataclasses.fields(Settings)) | set(SECTIONS) | {"sweep"}
    for key in raw:
        if key not in allowed:
            raise ScenarioError(source, key, unknown(key, allowed, "top-level keys"))
    top = {k: checked_value(source, k, v, Settings, k) for k, v in raw.items()
           if k not in SECTIONS and k != "sweep"}
    settings = _checked(source, Settings, top)
    if not any(w in raw for w in WORKLOADS):
        raise ScenarioError(source, None, "no workload: add a [kernels], [training] or [cost] "
                                          "table")
    tables = {section: checked_table(source, section, cls, raw.get(section, {}))
              for section, cls in SECTIONS.items() if section in raw or section not in WORKLOADS}
    axes = sweep_axes(source, raw.get("sweep", {}), tables)
    for axis in axes:
        for key in axis.keys:
            if get_path(tables, key) is not None:
                raise ScenarioError(source, key, f"given as a value and swept "
                                                 f"({axis.where(key)}); set one or the other")

    configurations, devices = [], set()
    for point in itertools.product(*(range(a.size) for a in axes)):
        changes = changes_at(axes, point)
        seed = settings.seed if settings.sweep_seeds == "common" else \
            point_seed(settings.seed, changes)
        configurations.append(_configuration(source, tables, changes, seed, axes, point))
        device = configurations[-1].device
        if device.model == "lookup" and device not in devices:  # table window vs g_min/g_max
            _checked(source, resolve, dict(device=device), ("device",), changes, axes, point)
            devices.add(device)
    swept = {k for a in axes for k in a.keys}
    full = {s: resolved_table(s, SECTIONS[s], t, swept) for s, t in tables.items()}
    return Scenario(settings, full, tuple(axes), tuple(configurations), source)


def _configuration(source, tables, changes, seed, axes, point) -> Configuration:
    sections = {s: _instance(source, s, cls, tables[s], changes, axes, point)
                for s, cls in SECTIONS.items() if s in tables}
    config = Configuration(seed=seed, **sections)
    if config.training is not None:  # the recipe's lr and weight ranges, for the record
        training = _checked(source, resolved, dict(training=config.training,
                            device=config.device, spec=config.tile),
                            ("training", "device", "tile"), changes, axes, point)
        config = dataclasses.replace(config, training=training)
    if config.cost is not None:
        _checked(source, config.cost.technology_for, dict(spec=config.tile,
                 periphery=config.periphery), ("tile", "periphery", "cost"), changes, axes, point)
    return config


def _instance(source, prefix, cls, table, changes, axes, point):
    """``cls`` built from checked ``table`` (key path ``prefix``) with the point's
    ``changes``; nested tables become their dataclasses."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        path = f"{prefix}.{f.name}"
        nested = table_class(cls, f.name)
        if nested is not None:
            kwargs[f.name] = _instance(source, path, nested, table.get(f.name, {}), changes,
                                       axes, point)
        elif path in changes:
            kwargs[f.name] = changes[path]
        elif f.name in table:
            kwargs[f.name] = table[f.name]
    return _checked(source, cls, kwargs, (prefix.split(".")[0],), changes, axes, point)


def _checked(source, func, kwargs, sections=(), changes=None, axes=(), point=()):
    """``func(**kwargs)`` with its ParameterError reported for the file: a swept value by its
    sweep key and index, a rule involving a swept section with the sweep point."""
    try:
        return func(**kwargs)
    except ParameterError as err:
        changes = changes or {}
        reason = err.reason
        if err.key in changes:
            n, axis = next((n, a) for n, a in enumerate(axes) if err.key in a.keys)
            raise ScenarioError(source, f"{axis.where(err.key)}[{point[n]}]", reason) from None
        involved = {k: v for k, v in changes.items() if k.split(".")[0] in sections}
        if involved:
            where = ", ".join(f"{k} = {toml_value(v)}" for k, v in involved.items())
            reason += f" (at the sweep point {where})"
        raise ScenarioError(source, err.key, reason) from None

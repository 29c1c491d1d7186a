"""The design-space tables of a scenario: ``[sensitivity]`` and ``[yield]`` (docs/design_space.md).

Both are analyses of a run rather than physics of a point, so they are not sections of
:data:`~mcvar.scenario.schema.SECTIONS`: :func:`extract` takes them out of the raw scenario
before it is built, checks them and, for ``[sensitivity]``, adds the sample as the zipped
sweep dimension ``sample`` (so model evaluations are ordinary sweep points: trials on dask,
resumable); :func:`attach` keeps the checked tables in :attr:`Scenario.tables`, so the
resolved TOML (run directory, result attribute) holds them and loads back to the same
scenario.
"""

from __future__ import annotations

import dataclasses
import math

from ..cost import DESIGNS
from ..sensitivity import METHODS, OUTPUTS, SAMPLE_DIM, Parameter, Sensitivity
from ..yields import YieldSpec
from .errors import ScenarioError, type_name, unknown
from .schema import FIXED, SECTIONS, field_type, metadata, owner, type_options
from .tomlio import toml_value
from .values import checked_value

TABLES = ("sensitivity", "yield")
#: sizes of a tiny run (``--tiny``)
TINY_SAMPLES = {"sobol": 2, "morris": 2}


def extract(raw: dict, source: str, tiny: bool = False) -> tuple[dict, dict]:
    """``(raw without the analysis tables, {name: checked object})``; with ``[sensitivity]``,
    ``raw["sweep"]["zip"]["sample"]`` holds the sample (a copy of ``raw`` is returned)."""
    found = {name: raw[name] for name in TABLES if name in raw}
    if not found:
        return raw, {}
    raw = {k: v for k, v in raw.items() if k not in TABLES}
    out = {}
    if "yield" in found:
        out["yield"] = _yield(source, found["yield"])
        if "training" not in raw:
            raise ScenarioError(source, "yield", "needs a [training] workload (the final "
                                                 "accuracy of each chip)")
    if "sensitivity" in found:
        sens = _sensitivity(source, found["sensitivity"], tiny)
        for output, needs in (("final_accuracy", ("training",)),
                              ("training_energy_per_example", ("training", "cost"))):
            missing = [w for w in needs if w not in raw]
            if output in sens.outputs and missing:
                raise ScenarioError(source, "sensitivity.outputs", f"{output} needs "
                                    + " and ".join(f"[{w}]" for w in missing))
        out["sensitivity"] = sens
        raw = _with_sample(raw, sens, source)
    return raw, out


def attach(scenario, analyses: dict):
    """``scenario`` with the checked analysis tables in its ``tables`` (resolved TOML)."""
    if not analyses:
        return scenario
    tables = dict(scenario.tables)
    for name, obj in analyses.items():
        tables[name] = to_table(obj)
    return dataclasses.replace(scenario, tables=tables)


def to_table(obj) -> dict:
    """The TOML table of a checked :class:`Sensitivity` or :class:`YieldSpec`."""
    if isinstance(obj, YieldSpec):
        return dataclasses.asdict(obj)
    table = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)
             if f.name != "parameters"}
    table["outputs"] = list(obj.outputs)
    table["parameters"] = {p.path: p.declared() for p in obj.parameters}
    return table


def analyses_of(scenario) -> dict:
    """``{name: checked object}`` of the analysis tables a loaded scenario holds."""
    out = {}
    if "yield" in scenario.tables:
        out["yield"] = YieldSpec(**scenario.tables["yield"])
    if "sensitivity" in scenario.tables:
        out["sensitivity"] = _sensitivity(scenario.source, scenario.tables["sensitivity"], False)
    return out


# ------------------------------------------------------------------------------- checks

def _fields(source, where, table, allowed: dict) -> dict:
    if not isinstance(table, dict):
        raise ScenarioError(source, where, f"expected a table [{where}], got {type_name(table)}")
    for key in table:
        if key not in allowed:
            raise ScenarioError(source, f"{where}.{key}", unknown(key, list(allowed),
                                                                  f"keys of [{where}]"))
    return table


def _number(source, key, value, low, high, integer=False, low_open=False):
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    ok = ok and not isinstance(value, bool) and (value > low if low_open else value >= low) \
        and value <= high
    if not ok:
        kind = "an integer" if integer else "a number"
        bracket = "(" if low_open else "["
        raise ScenarioError(source, key, f"got {toml_value(value)}, allowed: {kind} in "
                                         f"{bracket}{low}, {high}]")
    return value


def _yield(source, table) -> YieldSpec:
    defaults = dataclasses.asdict(YieldSpec())
    t = {**defaults, **_fields(source, "yield", table, defaults)}
    _number(source, "yield.target", t["target"], 0.0, 1.0, low_open=True)
    _number(source, "yield.goal", t["goal"], 0.0, 1.0, low_open=True)
    _number(source, "yield.confidence", t["confidence"], 0.5, 0.999)
    _number(source, "yield.width", t["width"], 0.0, 1.0, low_open=True)
    if t["design"] not in DESIGNS:
        raise ScenarioError(source, "yield.design", f"got {t['design']!r}, allowed: {DESIGNS}")
    if not isinstance(t["adaptive"], bool):
        raise ScenarioError(source, "yield.adaptive", f"got {toml_value(t['adaptive'])}, "
                                                      "expected true or false")
    return YieldSpec(**t)


def _sensitivity(source, table, tiny: bool) -> Sensitivity:
    defaults = {f.name: f.default for f in dataclasses.fields(Sensitivity)
                if f.name != "parameters"}
    table = _fields(source, "sensitivity", table, {**defaults, "parameters": None})
    t = {**defaults, **{k: v for k, v in table.items() if k != "parameters"}}
    if t["method"] not in METHODS:
        raise ScenarioError(source, "sensitivity.method", f"got {toml_value(t['method'])}, "
                                                          f"allowed: {', '.join(METHODS)}")
    _number(source, "sensitivity.samples", t["samples"], 2, 2 ** 16, integer=True)
    if t["method"] == "sobol" and t["samples"] & (t["samples"] - 1):
        raise ScenarioError(source, "sensitivity.samples", f"got {t['samples']}, allowed: a "
                                                           "power of 2 (Sobol' sequence)")
    _number(source, "sensitivity.levels", t["levels"], 2, 64, integer=True)
    if t["levels"] % 2:
        raise ScenarioError(source, "sensitivity.levels", f"got {t['levels']}, allowed: an "
                                                          "even number of Morris grid levels")
    _number(source, "sensitivity.resamples", t["resamples"], 10, 10 ** 5, integer=True)
    _number(source, "sensitivity.confidence", t["confidence"], 0.5, 0.999)
    _number(source, "sensitivity.seed", t["seed"], 0, 2 ** 32 - 1, integer=True)
    outputs = t["outputs"]
    if not isinstance(outputs, (list, tuple)) or not outputs or \
            not set(outputs) <= set(OUTPUTS) or len(set(outputs)) != len(outputs):
        raise ScenarioError(source, "sensitivity.outputs", f"got {toml_value(outputs)}, allowed:"
                                                           f" distinct names from {list(OUTPUTS)}")
    if t["design"] not in DESIGNS:
        raise ScenarioError(source, "sensitivity.design", f"got {t['design']!r}, allowed: "
                                                          f"{DESIGNS}")
    params = _parameters(source, table.get("parameters"))
    if tiny:
        t["samples"] = min(t["samples"], TINY_SAMPLES[t["method"]])
    return Sensitivity(parameters=params, **{**t, "outputs": tuple(outputs)})


def _flatten(table: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for key, value in table.items():
        path = f"{prefix}{key}"
        out += _flatten(value, path + ".") if isinstance(value, dict) else [(path, value)]
    return out


def _parameters(source, table) -> tuple[Parameter, ...]:
    """The checked parameter space, in key-path order (the resolved TOML groups keys by
    section, so the order written is not kept: sorting makes the sample the same)."""
    where = "sensitivity.parameters"
    if not isinstance(table, dict) or not table:
        raise ScenarioError(source, where, "expected a table of parameters, e.g. "
                                           "device.read_noise = [0.0, 0.05]")
    params = []
    for path, spec in sorted(_flatten(table), key=lambda item: item[0]):  # TOML-proof order
        key = f"{where}.{path}"
        section = path.split(".")[0]
        if section not in SECTIONS:
            raise ScenarioError(source, key, unknown(section, list(SECTIONS), "sections"))
        if path in FIXED:
            raise ScenarioError(source, key, f"set by {FIXED[path]}; vary that")
        try:
            cls, name = owner(path)
        except LookupError as err:
            raise ScenarioError(source, key, str(err)) from None
        if not isinstance(spec, list) or len(spec) < 2:
            raise ScenarioError(source, key, f"got {toml_value(spec)}, expected [low, high] or "
                                             "a list of at least 2 choices")
        values = tuple(checked_value(source, f"{key}[{i}]", v, cls, name)
                       for i, v in enumerate(spec))
        kinds = type_options(field_type(cls, name))
        numeric = metadata(cls, name).get("choices") is None and \
            any(k in (int, float) for k in kinds) and bool not in kinds
        if numeric:
            if len(values) != 2 or not values[0] < values[1]:
                raise ScenarioError(source, key, f"got {toml_value(spec)}, expected [low, high] "
                                                 "with low < high")
            integer = metadata(cls, name).get("kind") is int
            params.append(Parameter(path, values[0], values[1], integer=integer))
        else:
            if len(set(values)) != len(values):
                raise ScenarioError(source, key, f"duplicate choices in {toml_value(spec)}")
            params.append(Parameter(path, choices=values))
    return tuple(params)


def _with_sample(raw: dict, sens: Sensitivity, source: str) -> dict:
    """``raw`` with the sample of ``sens`` as ``[sweep.zip.sample]``; a ``sample`` group
    already there (the resolved TOML of an earlier load) must be this very sample."""
    sweep = dict(raw.get("sweep", {})) if isinstance(raw.get("sweep"), dict) else {}
    groups = dict(sweep.get("zip", {})) if isinstance(sweep.get("zip"), dict) else {}
    group = {}
    for path, values in sens.values().items():
        node = group
        for part in path.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[path.split(".")[-1]] = values
    if SAMPLE_DIM in groups and not _same(groups[SAMPLE_DIM], group):
        raise ScenarioError(source, f"sweep.zip.{SAMPLE_DIM}", "set by [sensitivity] (its "
                                                               "sample); remove this group")
    groups[SAMPLE_DIM] = group
    sweep["zip"] = groups
    return {**raw, "sweep": sweep}


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and math.isclose(a, b, rel_tol=1e-12, abs_tol=0)
    return a == b

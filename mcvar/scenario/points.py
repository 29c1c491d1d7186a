"""Sweep points: their seeds, their indices and the result coordinates of the sweep.

Seeds: with ``sweep_seeds = "common"`` every point runs with the root seed (common random
numbers: the same device instances meet every sweep value); with ``"independent"`` a point's
seed is :func:`point_seed` of the root seed and the point's parameter values, which stays
the same when values are added to a sweep.
"""

from __future__ import annotations

import hashlib

import numpy as np
import xarray as xr

from .schema import metadata, owner
from .sweep import Axis, coord_name
from .tomlio import toml_value


def point_seed(seed: int, changes: dict) -> int:
    """A 63-bit seed from the root ``seed`` and the point's ``{key path: value}``."""
    text = "\n".join(f"{k}={toml_value(v)}" for k, v in sorted(changes.items()))
    words = np.frombuffer(hashlib.sha256(text.encode()).digest()[:16], dtype=np.uint32)
    state = np.random.SeedSequence([seed, *map(int, words)]).generate_state(2, np.uint32)
    return (int(state[0]) << 32 | int(state[1])) & (2**63 - 1)


def changes_at(axes, point: tuple[int, ...]) -> dict:
    """``{key path: value}`` of every swept parameter at ``point``."""
    return {k: v[i] for a, i in zip(axes, point) for k, v in zip(a.keys, a.values)}


def flat_index(point, shape) -> int:
    """Row-major index of ``point`` in a sweep of ``shape``."""
    return int(np.ravel_multi_index(point, shape)) if shape else 0


def coordinates(axes: tuple[Axis, ...], point=None) -> dict[str, xr.Variable]:
    """Sweep coordinates of the whole grid, or of one ``point`` (each dimension of length 1),
    with units (numbers and flags) and long names."""
    out = {}
    for n, axis in enumerate(axes):
        pick = slice(None) if point is None else slice(point[n], point[n] + 1)
        if axis.zipped:
            labels = axis.labels if axis.labels is not None else tuple(range(axis.size))
            out[axis.dim] = xr.Variable(axis.dim, np.asarray(labels)[pick], {
                "long_name": "sweep point of the zipped parameters " + ", ".join(axis.keys),
                **({} if axis.labels is not None else {"units": "1"})})
        for key, values in zip(axis.keys, axis.values):
            name = axis.dim if not axis.zipped else coord_name(key)
            array = _coord_values(values)
            out[name] = xr.Variable(axis.dim, array[pick],
                                    _key_attrs(key, numeric=array.dtype.kind in "iufb"))
    return out


def _key_attrs(key: str, numeric: bool) -> dict:
    """Attributes of the coordinate of swept parameter ``key`` (units for numbers and flags)."""
    meta = metadata(*owner(key))
    attrs = {"long_name": f"{meta['doc']} (swept parameter {key})"}
    if numeric:
        attrs["units"] = meta["units"]
    return attrs


def _coord_values(values: tuple) -> np.ndarray:
    """Coordinate array of sweep values (lists become comma-separated strings)."""
    if any(isinstance(v, tuple) for v in values):
        return np.asarray([",".join(map(str, v)) for v in values])
    return np.asarray(values)

"""Results as self-describing netCDF: one piece per task, combined by coordinates, summarized.

A run directory holds ``scenario.toml`` (the resolved scenario) and ``pieces/<task id>.nc``,
each written atomically (temporary file + rename) the moment its task finishes. Combining
the pieces places every piece by its sweep point and trials: trials concatenate along
``trial``, points form one dimension per sweep axis, and anything not (yet) computed is NaN.
Statistics over trials are added for the variables the registry marks (:mod:`mcvar.stats`,
``cell_methods`` set), and global attributes record the mcvar version, the scenario as TOML,
the root seed, creation time and host. The layout of result files: docs/scenarios.md.
"""

from __future__ import annotations

import datetime
import os
import socket
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from . import stats
from .cost import COMPONENTS, DESIGNS, KERNELS
from .variables import (POLARITIES, SUMMARIES, VARIABLES, annotate, interval_method, summarized,
                        summary_names)

if TYPE_CHECKING:  # reading a result file needs neither the scenario nor the workloads
    from .scenario import Scenario, Task

_LABEL_ORDER = {"kernel": KERNELS, "design": DESIGNS, "component": COMPONENTS,
                "polarity": POLARITIES}
SCENARIO_FILE = "scenario.toml"
PIECES = "pieces"
COMPRESS_FROM = 256  #: variables with at least this many values are zlib-compressed
CONVENTIONS = "CF-1.10"


def version() -> str:
    """The installed mcvar version."""
    import mcvar

    return mcvar.__version__


def sweep_dims(ds: xr.Dataset) -> list[str]:
    """The swept-parameter dimensions of a result (those the registry does not define), in
    the scenario's order."""
    order = next(iter(ds.data_vars.values())).dims if ds.data_vars else ()
    dims = [d for d in order if d not in VARIABLES]
    return dims + [d for d in ds.dims if d not in VARIABLES and d not in dims]


# -------------------------------------------------------------------- pieces

def piece_path(run_dir, task: Task) -> Path:
    return Path(run_dir) / PIECES / f"{task.id}.nc"


def make_piece(ds: xr.Dataset, scenario: Scenario, task: Task) -> xr.Dataset:
    """``ds`` with the task's sweep coordinates (each sweep dimension of length 1)."""
    coords = scenario.coords(task.point)
    ds = ds.expand_dims({dim: 1 for dim in scenario.dims}).assign_coords(coords)
    ds.attrs = {"mcvar_task": task.id, "mcvar_version": version(), "scenario_name": scenario.name}
    return ds


def write_netcdf(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to ``path`` atomically (temp file in the same folder, then rename);
    numeric variables of at least :data:`COMPRESS_FROM` values are zlib-compressed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoding = {name: {"zlib": True, "complevel": 4, "shuffle": True}
                for name, var in ds.variables.items()
                if var.dtype.kind in "fiu" and var.size >= COMPRESS_FROM}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_text(text: str, path) -> Path:
    """Write ``text`` to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


# -------------------------------------------------------------------- combining

def assemble(scenario: Scenario, run_dir) -> xr.Dataset:
    """The result of ``scenario`` from the pieces in ``run_dir`` (missing ones as NaN,
    listed in the ``missing_tasks`` attribute), with summaries and attributes."""
    by_point, missing = defaultdict(list), []
    for task in scenario.tasks():
        path = piece_path(run_dir, task)
        if path.exists():
            by_point[task.flat].append((task, xr.load_dataset(path)))
        else:
            missing.append(task.id)
    if not by_point:
        raise FileNotFoundError(f"{run_dir}: no finished pieces yet")
    flats = sorted(by_point)
    points = [_combine_point(by_point[f], scenario) for f in flats]
    if scenario.dims:
        ds = xr.concat(points, dim="point", data_vars="all", coords="different",
                       compat="equals", join="outer")
        ds = _unstack(ds, scenario, flats)
    else:
        ds = points[0]
    for dim, order in _LABEL_ORDER.items():  # outer joins sort labels: restore model order
        if dim in ds.dims:
            ds = ds.reindex({dim: [v for v in order if v in ds[dim].values]})
    ds = add_summaries(annotate(ds, scenario.dims))
    ds = ds.transpose(*scenario.dims, "quantile", "trial", ..., missing_dims="ignore")
    return finalize(ds, scenario, missing)


def _combine_point(items: list[tuple[Task, xr.Dataset]], scenario: Scenario) -> xr.Dataset:
    """One point's pieces without their sweep coordinates: trials concatenated, cost merged."""
    strip = lambda ds: ds.squeeze(list(scenario.dims), drop=True)  # noqa: E731
    blocks = sorted((t.trials.start, strip(ds)) for t, ds in items if t.trials is not None)
    parts = [strip(ds) for t, ds in items if t.trials is None]
    if blocks:
        trials = xr.concat([ds for _, ds in blocks], dim="trial", data_vars="minimal",
                           coords="minimal", compat="equals", join="outer")
        parts.append(trials.reindex(trial=np.arange(scenario.trials)))
    return xr.merge(parts, compat="equals", join="outer", combine_attrs="drop")


def _unstack(ds: xr.Dataset, scenario: Scenario, flats: list[int]) -> xr.Dataset:
    """Dimension ``point`` (the finished points, row-major indices ``flats``) -> one dimension
    per sweep axis, with the scenario's coordinates; points not finished are NaN."""
    index = np.unravel_index(flats, scenario.shape)
    if len(scenario.dims) == 1:
        ds = ds.rename(point=scenario.dims[0]).assign_coords({scenario.dims[0]: index[0]})
    else:
        midx = pd.MultiIndex.from_arrays(index, names=scenario.dims)
        ds = ds.assign_coords(xr.Coordinates.from_pandas_multiindex(midx, "point"))
        ds = ds.unstack("point")
    ds = ds.reindex({dim: np.arange(n) for dim, n in zip(scenario.dims, scenario.shape)})
    return ds.assign_coords(scenario.coords())


def add_summaries(ds: xr.Dataset, confidence: float = stats.CONFIDENCE) -> xr.Dataset:
    """Add mean, std, confidence bounds and quantiles over ``trial`` of every per-trial
    variable the registry marks ``summarize``, with units, long_name and cell_methods."""
    for name in summarized():
        if name not in ds or "trial" not in ds[name].dims:
            continue
        result = stats.summarize(ds[name], "trial", confidence=confidence,
                                 proportion=VARIABLES[name].proportion)
        for stat, target in summary_names(name).items():
            _, method, prefix = SUMMARIES[stat]
            c = 100 * confidence
            ds[target] = result[stat].assign_attrs(
                units=VARIABLES[name].units, long_name=f"{prefix.format(c=c)} {ds[name].long_name}",
                cell_methods=f"trial: {method.format(c=c, method=interval_method(name))}")
    if "quantile" in ds.coords:
        ds["quantile"].attrs.update(units="1", long_name=VARIABLES["quantile"].long_name)
    return ds


def finalize(ds: xr.Dataset, scenario: Scenario, missing=()) -> xr.Dataset:
    """Set the global attributes (provenance) of a result."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    ds.attrs = {
        "Conventions": CONVENTIONS,
        "title": f"mcvar Monte Carlo results: {scenario.name}",
        "source": f"mcvar {version()}",
        "mcvar_version": version(),
        "scenario_name": scenario.name,
        "scenario_description": scenario.settings.description,
        "scenario": scenario.to_toml(),
        "seed": scenario.seed,
        "sweep_seeds": scenario.settings.sweep_seeds,
        "trials": scenario.trials,
        "created": now,
        "host": socket.gethostname(),
        "history": f"{now} mcvar run {scenario.name} ({scenario.source})",
        "missing_tasks": " ".join(missing),
    }
    return ds


# -------------------------------------------------------------------- opening

def open_results(path) -> xr.Dataset:
    """Open a result file, or combine the pieces of a run directory (finished or not).

    A result file is opened lazily (``xarray.open_dataset``) without importing the scenario,
    workload or kernel modules; a run directory is assembled from its scenario and pieces.
    """
    path = Path(path)
    if path.is_dir():
        toml = path / SCENARIO_FILE
        if not toml.exists():
            raise FileNotFoundError(f"{path}: not a run directory (no {SCENARIO_FILE})")
        from .scenario import loads

        return assemble(loads(toml.read_text(), source=str(toml)), path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such result file or run directory")
    return xr.open_dataset(path)

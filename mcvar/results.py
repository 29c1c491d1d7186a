"""Results as self-describing netCDF: one piece per task, combined by coordinates, summarized.

A run directory holds ``scenario.toml`` (the resolved scenario) and ``pieces/<task id>.nc``,
each written atomically (temporary file, fsync, rename) the moment its task finishes. A piece
carries its task id, a digest of its scenario and a digest of its own contents (attributes
``mcvar_task``, ``mcvar_scenario``, ``mcvar_digest``), so a damaged or foreign piece is
recognised (:func:`check_piece`) instead of breaking the combination. Files are created with
the permissions the umask allows (as other tools do), not the 0600 of temporary files. Combining
the pieces places every piece by its sweep point and trials: trials concatenate along
``trial``, points form one dimension per sweep axis, and anything not (yet) computed is NaN.
Statistics over trials are added for the variables the registry marks (:mod:`mcvar.stats`,
``cell_methods`` set), and global attributes record the mcvar version, the scenario as TOML,
the root seed, creation time and host. The layout of result files: docs/scenarios.md.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import socket
import tempfile
import warnings
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


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario's TOML: pieces of another scenario are foreign."""
    return hashlib.sha256(scenario.to_toml().encode()).hexdigest()


def content_digest(ds: xr.Dataset) -> str:
    """SHA-256 of the names, dimensions, types and values of every variable of ``ds`` (not
    its attributes): the same before writing and after reading back."""
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        values = var.values
        h.update(f"{name}|{','.join(map(str, var.dims))}|{values.shape}|".encode())
        if values.dtype.kind in "OUS":  # strings: object or fixed width, as read back
            h.update("\x1f".join(map(str, values.ravel())).encode())
        else:
            h.update(values.dtype.str.encode() + np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def make_piece(ds: xr.Dataset, scenario: Scenario, task: Task, scenario_key: str) -> xr.Dataset:
    """``ds`` with the task's sweep coordinates (each sweep dimension of length 1) and the
    attributes that let :func:`check_piece` recognise it: task id, ``scenario_key`` (see
    :func:`scenario_digest`) and the digest of its contents."""
    coords = scenario.coords(task.point)
    ds = ds.expand_dims({dim: 1 for dim in scenario.dims}).assign_coords(coords)
    ds.attrs = {"mcvar_task": task.id, "mcvar_version": version(), "scenario_name": scenario.name,
                "mcvar_scenario": scenario_key, "mcvar_digest": content_digest(ds)}
    return ds


def write_piece(ds: xr.Dataset, path, task: Task, scenario_key: str) -> Path:
    """Write piece ``ds`` (from :func:`make_piece`) to ``path`` atomically, reading it back
    before it takes its place: a piece on disk always passes :func:`check_piece`."""
    def verify(tmp):
        _, problem = check_piece(tmp, task, scenario_key)
        if problem:
            raise OSError(f"{path}: piece damaged while writing ({problem})")

    return write_netcdf(ds, path, verify=verify)


def check_piece(path, task: Task, scenario_key: str) -> tuple[xr.Dataset | None, str | None]:
    """``(piece, None)`` if ``path`` holds an intact piece of ``task`` of the scenario with
    ``scenario_key``, else ``(None, what is wrong)``: unreadable (truncated, empty, not
    netCDF), another task's or scenario's piece, or contents that do not match the digest."""
    try:
        ds = xr.load_dataset(path, engine="netcdf4")
    except Exception as err:  # netCDF4/HDF5 raise OSError, ValueError, RuntimeError, ...
        return None, f"unreadable ({type(err).__name__}: {str(err).splitlines()[0][:120]})"
    attrs = ds.attrs
    if attrs.get("mcvar_task") != task.id:
        return None, f"holds task {attrs.get('mcvar_task')!r}, expected {task.id!r}"
    if attrs.get("mcvar_scenario") != scenario_key:
        return None, "belongs to another scenario (or an mcvar without piece digests)"
    if attrs.get("mcvar_digest") != content_digest(ds):
        return None, "contents do not match their digest"
    return ds, None


def write_netcdf(ds: xr.Dataset, path, verify=None) -> Path:
    """Write ``ds`` to ``path`` atomically (temp file in the same folder, fsync, rename, with
    the umask's permissions); numeric variables of at least :data:`COMPRESS_FROM` values are
    zlib-compressed. ``verify(tmp_path)``, if given, checks the written file before the
    rename (and raises if it is bad)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoding = {name: {"zlib": True, "complevel": 4, "shuffle": True}
                for name, var in ds.variables.items()
                if var.dtype.kind in "fiu" and var.size >= COMPRESS_FROM}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
        if verify is not None:
            verify(tmp)
        _commit(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_text(text: str, path) -> Path:
    """Write ``text`` to ``path`` atomically (fsync, rename, the umask's permissions)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        _commit(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _commit(tmp, path: Path) -> None:
    """Make the finished temporary file ``tmp`` durable and put it in ``path``'s place."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # a folder that cannot be opened (not on POSIX): rename is done anyway
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def umask() -> int:
    """This process's umask (read without changing it where Linux allows)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


# -------------------------------------------------------------------- combining

def assemble(scenario: Scenario, run_dir) -> xr.Dataset:
    """The result of ``scenario`` from the pieces in ``run_dir`` (missing ones as NaN,
    listed in the ``missing_tasks`` attribute), with summaries and attributes. A damaged or
    foreign piece counts as missing (with a warning); rerunning recomputes it."""
    by_point, missing = defaultdict(list), []
    key = scenario_digest(scenario)
    for task in scenario.tasks():
        path = piece_path(run_dir, task)
        ds, problem = check_piece(path, task, key) if path.exists() else (None, None)
        if ds is not None:
            by_point[task.flat].append((task, ds))
        else:
            if problem:
                warnings.warn(f"{path}: {problem}; left out (a rerun recomputes it)",
                              stacklevel=2)
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
    try:
        ds = xr.open_dataset(path, engine="netcdf4")
    except Exception as err:  # not netCDF, empty, truncated: HDF5 and xarray differ in type
        reason = re.sub(r":\s*'[^']*'$", "", str(err).splitlines()[0])[:160] if str(err) \
            else type(err).__name__  # without the file name HDF5 repeats
        raise ResultFileError(f"{path}: not a result file of mcvar (netCDF expected; "
                              f"{reason}); give a RESULT.nc or RESULT.run folder") from None
    if "mcvar_version" not in ds.attrs and not any(v in VARIABLES for v in ds.data_vars):
        ds.close()
        raise ResultFileError(f"{path}: a netCDF file, but not a result of mcvar (no "
                              "variable of mcvar's); give a RESULT.nc or RESULT.run folder")
    return ds


class ResultFileError(ValueError):
    """A file given as a result is not one (not netCDF, damaged, or not written by mcvar)."""

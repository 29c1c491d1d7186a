"""After a run: the design-space outputs a scenario's ``[sensitivity]`` and ``[yield]`` tables
ask for (docs/design_space.md), written beside the result.

* ``RESULT.sensitivity.nc`` and ``.png``: indices (:func:`mcvar.sensitivity.analyze`);
* ``RESULT.yield.nc`` and ``.png``: chip yield with Clopper-Pearson intervals and the
  Pareto front of energy per example vs yield (:mod:`mcvar.yields`).

With ``[yield] adaptive = true``, :func:`run_adaptive` replaces
:func:`mcvar.execute.run_scenario`: trials are added per point in blocks of
``trials_per_task`` (``trials`` is the cap) until the point's Clopper-Pearson interval is at
most ``width`` wide.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import xarray as xr

from .execute import RunError, available_cores, default_run_dir, execute, local_cluster
from .results import PIECES, assemble, piece_path, write_netcdf, write_text
from .scenario import Scenario
from .scenario.analyses import analyses_of


def write_analyses(scenario, ds: xr.Dataset, output) -> list[Path]:
    """Write the outputs of ``scenario``'s analysis tables for its result ``ds`` (written
    at ``output``); returns the paths written (none without such tables)."""
    specs = analyses_of(scenario)
    stem = Path(output).with_suffix("")
    written = []
    if "sensitivity" in specs:
        from .plot import plot_sensitivity
        from .sensitivity import analyze, table

        out = analyze(ds, specs["sensitivity"])
        written.append(write_netcdf(out, f"{stem}.sensitivity.nc"))
        plot_sensitivity(out, f"{stem}.sensitivity.png")
        written.append(Path(f"{stem}.sensitivity.png"))
        written.append(write_text(table(out) + "\n", f"{stem}.sensitivity.md"))
    if "yield" in specs:
        from .plot import plot_pareto
        from .yields import chip_yield, pareto_front, yield_table

        out = chip_yield(ds, specs["yield"])
        flat = out.stack(_p=list(out.chip_yield.dims)) if out.chip_yield.dims else out
        front = pareto_front(flat.energy_per_example.values.ravel(),
                             flat.chip_yield.values.ravel()) if "energy_per_example" in out \
            else None
        if front is not None:
            out["pareto"] = (out.chip_yield.dims, front.reshape(out.chip_yield.shape).astype(
                "int8"), {"units": "1", "long_name": "on the Pareto front of energy per example "
                          "vs chip yield (1) or not (0)", "flag_values": [0, 1],
                          "flag_meanings": "dominated pareto_optimal"})
        written.append(write_netcdf(out, f"{stem}.yield.nc"))
        written.append(write_text(yield_table(out) + "\n", f"{stem}.yield.md"))
        if front is not None:
            plot_pareto(out, front, f"{stem}.yield.png")
            written.append(Path(f"{stem}.yield.png"))
    return written


def is_adaptive(scenario) -> bool:
    """Whether ``scenario`` asks for adaptive trial counts (``[yield] adaptive = true``)."""
    spec = analyses_of(scenario).get("yield")
    return bool(spec and spec.adaptive)


@dataclasses.dataclass(frozen=True)
class _Round(Scenario):
    """``scenario`` restricted to some of its tasks (same resolved TOML, same run directory)."""

    chosen: frozenset = frozenset()

    def tasks(self):
        return [t for t in super().tasks() if t.id in self.chosen]


def next_tasks(scenario, run_dir: Path, spec) -> list:
    """The tasks of the next adaptive round: every cost task not done, and per point whose
    interval is still wider than ``spec.width`` its next block of trials not done."""
    from .yields import chip_yield

    tasks = [t for t in scenario.tasks() if not piece_path(run_dir, t).exists()]
    wide = np.ones(len(scenario.configurations), bool)
    if (run_dir / PIECES).exists() and any((run_dir / PIECES).iterdir()):
        ds = assemble(scenario, run_dir)
        if "test_accuracy" in ds:
            y = chip_yield(ds, spec)
            width = (y.chip_yield_high - y.chip_yield_low).transpose(*scenario.dims).values
            wide = width.ravel() > spec.width
    chosen, seen = [], set()
    for t in tasks:  # tasks() lists a point's blocks in trial order
        if t.trials is None:
            chosen.append(t)
        elif t.flat not in seen and wide[t.flat]:
            chosen.append(t)
            seen.add(t.flat)
    return chosen


def run_adaptive(scenario, output, *, run_dir=None, client=None, scheduler=None, workers=None,
                 fresh=False, warmup=True, progress=False) -> xr.Dataset:
    """Run ``scenario`` (with ``[yield]`` and ``[training]``) in rounds: each adds one block
    of ``trials_per_task`` trials to every point whose Clopper-Pearson interval is wider than
    ``[yield] width``, up to ``trials``; pieces go to ``run_dir`` as in
    :func:`mcvar.execute.run_scenario` (a rerun resumes), trials never run are listed in the
    result's ``missing_tasks``. Arguments as in ``run_scenario``; returns the result, also
    written to ``output``. Stopping when narrow enough biases the interval's coverage a
    little (docs/design_space.md)."""
    spec = analyses_of(scenario)["yield"]
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(output)
    own = None
    if client is None and scheduler is None:
        from distributed import Client

        own = local_cluster(workers or available_cores())
        client = Client(own)
    try:
        first = True
        while True:
            todo = next_tasks(scenario, run_dir, spec) if not (fresh and first) else \
                [t for t in scenario.tasks() if t.trials is None or t.trials.start == 0]
            if not todo:
                break
            subset = _Round(**{f.name: getattr(scenario, f.name)
                               for f in dataclasses.fields(Scenario)},
                            chosen=frozenset(t.id for t in todo))
            failures = execute(subset, run_dir, client=client, scheduler=scheduler,
                               fresh=fresh and first, warmup=warmup and first,
                               progress=progress)
            if failures:
                raise RunError(failures, run_dir)
            first = False
    finally:
        if own is not None:
            client.close()
            own.close()
    ds = assemble(scenario, run_dir)
    write_netcdf(ds, output)
    return ds

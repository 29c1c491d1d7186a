"""Reproduce the reference study end to end: its scenarios on dask, then a report with figures.

:func:`reproduce_study` runs ``scenarios/study_*.toml`` (:mod:`mcvar.study.plan`) into
``OUT/results/`` and writes ``OUT/report.md`` and ``OUT/figures/`` (:mod:`mcvar.study.report`):
cost of the three designs, accuracy of measured devices and periodic carry with confidence
intervals, device-requirement thresholds, and energy per training example against accuracy,
each beside the study's number. ``scripts/reproduce_study.py`` and ``mcvar study`` call it.
"""

from __future__ import annotations

import datetime
import socket
import sys
from pathlib import Path

import xarray as xr


def reproduce_study(out, *, quick: bool = False, trials: int | None = None,
                    epochs: int | None = None, train_examples: int | None = None,
                    scheduler=None, workers: int | None = None, fresh: bool = False,
                    progress: bool = True, log=print, scenario_dir=None,
                    mnist: bool = False) -> Path:
    """Run the study into directory ``out`` and write its report; returns ``out/report.md``.

    ``quick``: every training scenario at tiny sizes (a minute or two); ``trials``,
    ``epochs``, ``train_examples`` (0: whole set) override every training scenario.
    ``scheduler``/``workers``: as in :func:`mcvar.run_scenario` (default: one local cluster
    of one single-threaded worker per core for all scenarios). ``fresh`` discards earlier
    pieces; otherwise a rerun resumes. ``log`` receives the plan and progress lines.
    ``mnist``: also run the study's own MNIST experiment (``scenarios/study_mnist.toml``,
    needs ``mcvar data fetch mnist``) and add its section to the report.
    """
    from ..execute import SYNCHRONOUS, available_cores
    from ..results import version
    from .plan import estimate_seconds, run_all, study_scenarios
    from .report import Meta, write_report

    out = Path(out)
    scenarios = study_scenarios(quick=quick, trials=trials, epochs=epochs,
                                train_examples=train_examples, scenario_dir=scenario_dir,
                                mnist=mnist)
    if scheduler is None:
        n_workers = workers or available_cores()
        where = f"{_workers(n_workers)} (local, single-threaded)"
    elif scheduler == SYNCHRONOUS:
        n_workers, where = 1, "synchronous (in this process)"
    else:
        n_workers, where = None, f"dask scheduler {scheduler}"
    estimated = {key: estimate_seconds(sc) for key, sc in scenarios.items()}
    tasks = {key: len(sc.tasks()) for key, sc in scenarios.items()}
    total = sum(estimated.values())
    plan = f"{sum(tasks.values())} tasks in {len(scenarios)} scenarios, about " \
           f"{total / 60:.1f} min of single-core work"
    if n_workers:
        plan += f", about {total / n_workers / 60:.1f} min on {_workers(n_workers)}"
    log(f"study plan ({'quick' if quick else 'default'} mode): {plan}")
    for key, sc in scenarios.items():
        log(f"  {sc.name:20s} {tasks[key]:4d} tasks  ~{estimated[key] / 60:5.1f} core-min")
    seconds = run_all(scenarios, out / "results", scheduler=scheduler, workers=workers,
                      fresh=fresh, progress=progress, log=log)
    results = {key: xr.load_dataset(out / "results" / f"{sc.name}.nc")
               for key, sc in scenarios.items()}
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    meta = Meta(mode="quick" if quick else "default", command=_command(), where=where,
                seconds=seconds, estimated=estimated, workers=n_workers, version=version(),
                host=socket.gethostname(), created=now)
    path = write_report(out, scenarios, results, meta)
    log(f"wrote {path} ({sum(seconds.values()) / 60:.1f} min)")
    return path


def _command() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if name in ("reproduce_study.py", "mcvar"):
        prefix = "python scripts/reproduce_study.py" if name.endswith(".py") else "mcvar"
        return " ".join([prefix, *sys.argv[1:]])
    return "mcvar.study.reproduce_study(...)"


def _workers(n: int) -> str:
    return f"{n} worker{'s' if n != 1 else ''}"

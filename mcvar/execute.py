"""Running a scenario: tasks on dask (local cluster, existing scheduler, job queue) or in-process.

Work is split into tasks (:meth:`mcvar.scenario.Scenario.tasks`: a block of trials at one
sweep point, or a point's cost). Tasks return their result to the client, which writes it at
once as a piece of the run directory (:mod:`mcvar.results`), so workers need no shared file
system and an interrupted run loses nothing already finished. Rerunning resumes: tasks whose
piece exists and passes its check are skipped (the run directory's ``scenario.toml`` must
match); a damaged or foreign piece is set aside and computed again (:mod:`mcvar.rundir`,
which also locks the run directory against a second run). A task that raises is retried
``retries`` times; if it keeps failing, the others still complete and the failure is reported
with its sweep point. A task lost with its worker (killed, out of memory, restarted by its
nanny: dask's ``KilledWorker``, or a result that vanished with the worker) is submitted again
up to ``lost_retries`` times, each loss logged with the worker and the reason; a run whose
workers die therefore completes on the workers that remain or replace them, with the same
numbers as an undisturbed run.

Parallelism is one level only: one thread per dask worker process, Numba pinned to one thread
there (``NUMBA_NUM_THREADS=1``, applied again by each task: a worker may have imported Numba
before dask set its environment); in-process (``scheduler="synchronous"``) the kernels use every
core. Results do not depend on either: every trial's random streams derive from the root seed
and its global index. Numba's on-disk cache is filled by a warm-up in the client before local
workers start, so workers only read it; job-queue workers compile in memory instead
(``MCVAR_NUMBA_CACHE=0``), since concurrent cache writers have crashed workers.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import shutil
import signal
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from . import workloads
from .accelerate import threads_from_environment
from .results import (PIECES, SCENARIO_FILE, assemble, check_piece, make_piece, piece_path,
                      scenario_digest, write_netcdf, write_piece, write_text)
from .rundir import (RunDirectoryError, locked, make_dirs, remove_stale_temporaries,
                     set_aside)
from .scenario import Scenario, Task, check_memory, load, workers_that_fit

RETRIES = 2  #: extra attempts of a task that raises
LOST_RETRIES = 5  #: extra submissions of a task lost with its worker
log = logging.getLogger(__name__)
SYNCHRONOUS = "synchronous"
#: environment of local worker processes: one thread each, nothing oversubscribes the cores
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}
#: job-queue workers also compile in memory (no shared on-disk cache writers)
JOBQUEUE_ENV = {**WORKER_ENV, "MCVAR_NUMBA_CACHE": "0"}
CLUSTERS = ("slurm", "pbs")


@dataclass(frozen=True)
class TaskFailure:
    """A task that failed on every attempt."""

    task: Task
    point: str  #: the sweep point, e.g. "device_read_noise=0.05"
    error: str

    def __str__(self) -> str:
        trials = "cost" if self.task.trials is None else \
            f"trials {self.task.trials.start}-{self.task.trials.stop - 1}"
        where = f"{self.point}, " if self.point else ""
        return f"{self.task.id} ({where}{trials}): {self.error}"


class RunError(RuntimeError):
    """Some tasks failed; the finished pieces are kept in the run directory."""

    def __init__(self, failures: list[TaskFailure], run_dir=None):
        self.failures, self.run_dir = failures, run_dir
        lines = "\n  ".join(map(str, failures))
        kept = "" if run_dir is None else (
            f"\nFinished pieces are kept in {run_dir}: rerun to retry the failed tasks, or "
            f"open the partial result with mcvar.open_results({str(run_dir)!r})")
        super().__init__(f"{len(failures)} task(s) failed on every attempt:\n  {lines}{kept}")


def run_scenario(scenario, output=None, *, run_dir=None, overrides=(), trials=None,
                 tiny=False, client=None, scheduler=None, workers=None, fresh=False,
                 retries=RETRIES, lost_retries=LOST_RETRIES, warmup=True,
                 progress=False) -> xr.Dataset:
    """Run ``scenario`` (a :class:`~mcvar.scenario.Scenario` or a file) and return its result.

    ``output``: write the result there (netCDF, atomically); pieces then go to ``run_dir``
    (default: ``output`` with suffix ``.run``), and rerunning resumes from them. Without
    either, pieces go to a temporary directory. ``overrides``/``trials``/``tiny``: as in
    :func:`mcvar.scenario.load` (files only). Where tasks run: ``client`` (a
    ``distributed.Client``), else ``scheduler`` (``"synchronous"`` for in-process, a
    scheduler address or a scheduler file ``*.json``), else a new local cluster of ``workers``
    processes (default: one per core). ``fresh`` discards earlier pieces. ``retries``: extra
    attempts of a task that raises; ``lost_retries``: extra submissions of a task lost with
    its worker. The run directory is locked while the run writes to it
    (:class:`~mcvar.rundir.RunDirectoryLocked` if another run holds it). ``warmup`` compiles
    the kernels in this process before tasks go to workers (filling Numba's on-disk cache,
    which workers on this machine then only read). ``progress`` shows a progress bar on
    stderr. Raises :class:`RunError` if tasks keep failing (finished pieces are kept).
    """
    if not isinstance(scenario, Scenario):
        scenario = load(scenario, overrides, trials=trials, tiny=tiny)
    elif overrides or trials is not None or tiny:
        raise ValueError("overrides, trials and tiny apply to scenario files; pass a path")
    temporary = None
    if run_dir is None and output is None:
        temporary = tempfile.TemporaryDirectory(prefix=f"mcvar-{scenario.name}-")
        run_dir = temporary.name
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(output)
    try:
        if client is None and scheduler in (None, SYNCHRONOUS):  # tasks run on this machine
            check_memory(scenario)
        if output is not None:
            check_output(output)
        with locked(run_dir):
            failures = execute(scenario, run_dir, client=client, scheduler=scheduler,
                               workers=workers, fresh=fresh, retries=retries,
                               lost_retries=lost_retries, warmup=warmup, progress=progress)
            if failures:
                raise RunError(failures, None if temporary else run_dir)
            ds = assemble(scenario, run_dir)
            if output is not None:
                write_netcdf(ds, output)
        return ds
    finally:
        if temporary is not None:
            temporary.cleanup()


def default_run_dir(output) -> Path:
    """Where the pieces of ``output`` go: ``RESULT.nc`` -> ``RESULT.run``."""
    return Path(output).with_suffix(".run")


def check_output(output) -> None:
    """Raise :class:`RunDirectoryError` (one line) unless result file ``output`` can be
    written: its folder exists or can be created, is writable, and ``output`` is no folder."""
    output = Path(output)
    if output.is_dir():
        raise RunDirectoryError(f"{output}: is a folder; give a file name such as "
                                f"{output / 'result.nc'}")
    make_dirs(output.parent)


def execute(scenario: Scenario, run_dir, *, client=None, scheduler=None, workers=None,
            fresh=False, retries=RETRIES, lost_retries=LOST_RETRIES, warmup=True,
            progress=False) -> list[TaskFailure]:
    """Run the tasks of ``scenario`` whose pieces are not in ``run_dir`` yet (or are damaged:
    those are set aside); returns the tasks that failed on every attempt (see
    :func:`run_scenario` for the arguments). The caller holds the run directory's lock
    (:func:`mcvar.rundir.locked`)."""
    from rich.console import Console

    console = Console(stderr=True, quiet=not progress)
    run_dir = Path(run_dir)
    prepare_run_dir(scenario, run_dir, fresh)
    remove_stale_temporaries(run_dir)
    tasks = scenario.tasks()
    todo = missing_pieces(scenario, run_dir, tasks)
    if len(todo) < len(tasks):
        console.print(f"resuming {run_dir}: {len(tasks) - len(todo)} of {len(tasks)} tasks "
                      "already done")
    if not todo:
        return []
    synchronous = client is None and scheduler == SYNCHRONOUS
    if warmup and not synchronous:
        _warmup(scenario, console)
    bar = _progress(console, scenario.name, len(tasks), len(tasks) - len(todo))
    if synchronous:
        with bar:
            return _run_synchronous(scenario, todo, run_dir, retries, bar)
    retry = (retries, lost_retries)
    if client is not None:
        return _run_distributed(client, scenario, todo, run_dir, retry, bar, console)
    from distributed import Client

    if scheduler is not None:
        where = {"scheduler_file": scheduler} if str(scheduler).endswith(".json") else \
            {"address": scheduler}
        with Client(**where) as own:
            return _run_distributed(own, scenario, todo, run_dir, retry, bar, console)
    wanted = min(workers or available_cores(), len(todo))
    workers = workers_that_fit(scenario, wanted)
    if workers < wanted:
        log.warning("memory for %d of %d workers only: running %d", workers, wanted, workers)
    with local_cluster(workers) as cluster, \
            Client(cluster) as own:
        return _run_distributed(own, scenario, todo, run_dir, retry, bar, console)


def missing_pieces(scenario: Scenario, run_dir: Path, tasks: list[Task]) -> list[Task]:
    """The ``tasks`` without an intact piece in ``run_dir``; a damaged or foreign piece is
    reported and moved to ``run_dir/damaged/``."""
    key, todo = scenario_digest(scenario), []
    for task in tasks:
        path = piece_path(run_dir, task)
        if path.exists():
            _, problem = check_piece(path, task, key)
            if problem is None:
                continue
            moved = set_aside(run_dir, path)
            log.warning("piece %s is damaged (%s): moved to %s, computing it again",
                        path, problem, moved)
        todo.append(task)
    return todo


def prepare_run_dir(scenario: Scenario, run_dir: Path, fresh: bool = False) -> None:
    """Create ``run_dir`` for ``scenario`` or check that it belongs to it (``fresh``: start
    over, discarding its pieces)."""
    toml, pieces = run_dir / SCENARIO_FILE, run_dir / PIECES
    text = scenario.to_toml()
    if fresh:
        shutil.rmtree(pieces, ignore_errors=True)
    elif toml.exists() and toml.read_text() != text:
        old, new = toml.read_text().splitlines(), text.splitlines()
        diff = [line for line in difflib.unified_diff(old, new, lineterm="", n=0)
                if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        raise RunDirectoryError(
            f"{run_dir} holds a run of a different scenario ({'; '.join(diff[:4])}); rerun with "
            "--fresh (fresh=True) to discard its pieces, or choose another output")
    elif pieces.exists() and not toml.exists():
        raise RunDirectoryError(f"{run_dir} has pieces but no {SCENARIO_FILE}: not a run "
                                "directory of mcvar; choose another output")
    write_text(text, toml)


def run_task(config: workloads.Configuration, task: Task, retries: int = RETRIES) -> xr.Dataset:
    """Compute one task (on a worker), retrying ``retries`` times if it raises."""
    threads_from_environment()
    for attempt in range(retries + 1):
        try:
            if task.trials is None:
                return workloads.run_cost(config)
            return workloads.run_trials(config, task.trials)
        except Exception:
            if attempt == retries:
                raise


def _run_synchronous(scenario, todo, run_dir, retries, bar) -> list[TaskFailure]:
    failures, key = [], scenario_digest(scenario)
    for task in todo:
        try:
            ds = run_task(scenario.configuration(task.point), task, retries)
        except Exception as err:
            failures.append(TaskFailure(task, scenario.describe(task.point), _describe(err)))
        else:
            _save(ds, scenario, task, run_dir, key)
        bar.advance()
    return failures


def _save(ds, scenario, task, run_dir, key) -> None:
    write_piece(make_piece(ds, scenario, task, key), piece_path(run_dir, task), task, key)


def _run_distributed(client, scenario, todo, run_dir, retry, bar, console) -> list[TaskFailure]:
    """Run ``todo`` on ``client``'s workers, saving each result as it arrives; a task lost
    with its worker is submitted again (``retry = (retries, lost_retries)``)."""
    from distributed import as_completed

    retries, lost_retries = retry
    if client.run_on_scheduler(_has_dashboard):
        console.print(f"dask dashboard: {client.dashboard_link}")
    run, key = uuid.uuid4().hex[:8], scenario_digest(scenario)
    losses = dict.fromkeys((t.id for t in todo), 0)
    workers = _workers(client)

    def submit(task):
        return client.submit(run_task, scenario.configuration(task.point), task, retries,
                             key=f"mcvar-{scenario.name}-{task.id}-{run}-{losses[task.id]}",
                             pure=False)

    futures = {submit(t): t for t in todo}
    failures = []
    try:
        with bar:
            pending = as_completed(futures)
            for future in pending:
                task = futures.pop(future)
                ds, lost, error = _outcome(future)
                future.release()
                if ds is not None:
                    _save(ds, scenario, task, run_dir, key)
                elif lost:
                    now = _workers(client)
                    gone, workers = workers - now, now
                    lost += f"; workers gone: {', '.join(sorted(gone))}" if gone else ""
                    if losses[task.id] < lost_retries:
                        losses[task.id] += 1
                        log.warning("task %s lost (%s): submitted again, loss %d of at most "
                                    "%d", task.id, lost, losses[task.id], lost_retries)
                        again = submit(task)
                        futures[again] = task
                        pending.add(again)
                        continue
                    error = f"lost with its worker {lost_retries + 1} times (last: {lost})"
                if error is not None:
                    failures.append(TaskFailure(task, scenario.describe(task.point), error))
                bar.advance()
    finally:
        client.cancel(list(futures))  # interrupted: drop what has not finished
    return failures


def _outcome(future):
    """``(result, lost, error)`` of a done ``future``: the result; else why it was lost with
    its worker (to submit again); else the error the task raised on every attempt."""
    from distributed import KilledWorker

    if future.status == "error":
        err = future.exception()
        if isinstance(err, KilledWorker):
            worker = getattr(err.last_worker, "address", err.last_worker)
            return None, f"KilledWorker: its worker {worker} died while running it", None
        return None, None, _describe(err)
    if future.status != "finished":  # lost (its result died with the worker) or cancelled
        return None, f"status {future.status!r}", None
    try:
        return future.result(), None, None
    except Exception as err:  # the worker holding the result died before we fetched it
        return None, f"result not fetched: {_describe(err)}", None


def _workers(client) -> set[str]:
    """Addresses of the workers the scheduler knows now."""
    try:
        return set(client.scheduler_info().get("workers", {}))
    except Exception:  # scheduler unreachable for the moment: report no departures
        return set()


def _has_dashboard() -> bool:
    """Whether this process (the scheduler) can serve dask's dashboard (needs bokeh)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _warmup(scenario: Scenario, console) -> None:
    """Compile every workload's kernels into the on-disk cache before workers start."""
    import time

    from .accelerate import CACHE, cache_is_warm, compile_message

    if CACHE:
        cold, start = not cache_is_warm(), time.perf_counter()
        with console.status(compile_message()):
            workloads.warmup(scenario.configurations)
        if cold:
            console.print(f"kernels compiled in {time.perf_counter() - start:.0f} s (cached "
                          "for later runs)")


class _progress:
    """A rich progress bar of tasks done / total with elapsed time and ETA."""

    def __init__(self, console, name: str, total: int, done: int):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("tasks"), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), console=console,
                                 disable=console.quiet)
        self.task = self.progress.add_task(name, total=total, completed=done)

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def advance(self) -> None:
        self.progress.advance(self.task)


# -------------------------------------------------------------------- clusters

def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_cluster(workers: int):
    """A dask ``LocalCluster`` of ``workers`` single-threaded processes (dashboard when bokeh
    is installed)."""
    from distributed import LocalCluster

    with _sigint_ignored():  # inherited by the workers: Ctrl-C interrupts this process only
        return LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                            env=WORKER_ENV, dashboard_address=":0" if _has_dashboard() else None,
                            silence_logs=logging.ERROR)


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore SIGINT (Ctrl-C) while processes are started in the block (in the main thread:
    elsewhere signals cannot be changed, and are not delivered either), so that they ignore
    it too; the client shuts them down instead of each printing a KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def jobqueue_cluster(kind: str, *, queue=None, account=None, cores: int = 1,
                     memory: str = "4GB", walltime: str = "01:00:00"):
    """A dask-jobqueue cluster (``kind`` 'slurm' or 'pbs'), not yet scaled: each job runs
    ``cores`` single-threaded worker processes (extra ``mcvar[jobqueue]``)."""
    if kind not in CLUSTERS:
        raise ValueError(f"cluster {kind!r}: allowed one of {CLUSTERS}")
    try:
        import dask_jobqueue
    except ImportError:
        raise ImportError("--cluster needs dask-jobqueue: pip install 'mcvar[jobqueue]'") from None
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]
    return cls(queue=queue, account=account, cores=cores, processes=cores, memory=memory,
               walltime=walltime,
               job_script_prologue=[f"export {k}={v}" for k, v in JOBQUEUE_ENV.items()])

"""Fault injection: killed workers (local cluster and an external scheduler), damaged pieces,
concurrent and interrupted runs. Every test ends with a result identical to an undisturbed
run's, or a clear message and nothing lost. Everything a test starts is stopped by its PID."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import pytest
import xarray as xr
from click.testing import CliRunner

from mcvar.cli import main
from mcvar.execute import run_scenario
from mcvar.results import PIECES
from mcvar.rundir import DAMAGED, RunDirectoryLocked, locked
from mcvar.scenario import loads

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("fault_drill", ROOT / "scripts" / "fault_drill.py")
drill = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(drill)
#: the drill's scenario, 2 points x 4 tasks of 4 trials, each task about a second: long
#: enough to kill a worker; its worker environment; its comparison without wall times
SCENARIO, WORKER_ENV = drill.SCENARIO, drill.ENV
deterministic, stop = drill.deterministic, drill.stop
TASKS = 8


def scenario():
    return loads(SCENARIO, source="faults.toml")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The result file of an undisturbed run in this process (its run directory next to it)."""
    out = tmp_path_factory.mktemp("finished") / "r.nc"
    run_scenario(scenario(), out, scheduler="synchronous")
    return out


@pytest.fixture(scope="module")
def reference(finished):
    """The undisturbed result."""
    return deterministic(xr.load_dataset(finished))


def copy_of(finished: Path, folder: Path) -> Path:
    """A copy of the finished run (result file and run directory) in ``folder``."""
    shutil.copytree(finished.with_suffix(".run"), folder / "r.run")
    shutil.copy2(finished, folder / "r.nc")
    return folder / "r.nc"


def identical(ds: xr.Dataset, reference: xr.Dataset) -> None:
    xr.testing.assert_identical(deterministic(ds), reference)
    assert not ds.attrs["missing_tasks"]


def pieces(run_dir: Path) -> list[Path]:
    return sorted((run_dir / PIECES).glob("*.nc"))


def wait_for(condition, timeout: float = 600.0, what: str = "") -> None:
    """Poll ``condition`` until it holds (a bound against hangs, not a timing assertion)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


# -------------------------------------------------------------------- damaged pieces

def _truncate(path, _other):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path, _other):
    path.write_bytes(b"")


def _random(path, _other):
    path.write_bytes(os.urandom(path.stat().st_size))


def _swap(path, other):  # two tasks' files exchanged: each is a valid piece of the other
    a, b = path.read_bytes(), other.read_bytes()
    path.write_bytes(b)
    other.write_bytes(a)


def _foreign(path, _other):  # the same task of another scenario (another seed)
    alien = loads(SCENARIO.replace("seed = 5", "seed = 6").replace("trials = 16", "trials = 4"),
                  source="alien.toml")
    run_dir = path.parent.parent.with_name("alien.run")
    run_scenario(alien, run_dir=run_dir, scheduler="synchronous")
    path.write_bytes((run_dir / PIECES / path.name).read_bytes())


@pytest.mark.parametrize("damage", [_truncate, _empty, _random, _swap, _foreign],
                         ids=["truncated", "emptied", "random", "swapped", "foreign"])
def test_damaged_pieces_are_set_aside_and_recomputed(tmp_path, finished, reference, damage,
                                                     caplog):
    out = copy_of(finished, tmp_path)
    run_dir = out.with_suffix(".run")
    first, second = pieces(run_dir)[:2]
    damage(first, second)
    damaged = {first.name, second.name} if damage is _swap else {first.name}
    with caplog.at_level(logging.WARNING, logger="mcvar.execute"):
        identical(run_scenario(scenario(), out, scheduler="synchronous"), reference)
    identical(xr.load_dataset(out), reference)
    assert {p.name for p in (run_dir / DAMAGED).iterdir()} == damaged  # kept, not deleted
    reported = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(reported) == len(damaged) and all(first.parent.name in r for r in reported)


def test_stale_temporary_files_are_removed_by_the_next_run(tmp_path, finished, reference):
    out = copy_of(finished, tmp_path)
    run_dir = out.with_suffix(".run")
    stale = [run_dir / PIECES / ".p00000_t000000-000003.nc.abc123.tmp",
             run_dir / ".scenario.toml.x.tmp"]
    for path in stale:
        path.write_bytes(b"half a piece")
    identical(run_scenario(scenario(), out, scheduler="synchronous"), reference)
    assert not any(p.exists() for p in stale)


def test_files_follow_the_umask(tmp_path, finished):
    out = copy_of(finished, tmp_path)
    run_dir = out.with_suffix(".run")
    redone = pieces(run_dir)[0]
    redone.unlink()
    old = os.umask(0o027)
    try:
        run_scenario(scenario(), out, scheduler="synchronous")
    finally:
        os.umask(old)
    files = [out, run_dir / "scenario.toml", redone]  # the files this run wrote
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o640)}


# -------------------------------------------------------------------- concurrent runs

HOLD = """
import sys, time
from mcvar.rundir import locked
with locked(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_second_run_to_the_same_output_stops_at_once_until_the_first_dies(tmp_path, finished,
                                                                         reference):
    out = tmp_path / "r.nc"
    run_dir = out.with_suffix(".run")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        path = tmp_path / "faults.toml"
        path.write_text(SCENARIO)
        result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--scheduler",
                                           "synchronous", "-q"])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "in use by another mcvar run" in lines[0] and \
            f"pid {holder.pid}" in lines[0], result.output
        assert not (run_dir / PIECES).exists() and not out.exists()  # nothing computed
        with pytest.raises(RunDirectoryLocked):
            run_scenario(scenario(), out, scheduler="synchronous")
    finally:
        stop(holder)  # a crash (SIGKILL) releases the lock
    shutil.copytree(finished.with_suffix(".run"), run_dir, dirs_exist_ok=True)  # no rerun
    identical(run_scenario(scenario(), out, scheduler="synchronous"), reference)


def test_lock_is_released_when_the_run_ends(tmp_path):
    with locked(tmp_path / "a.run"):
        pass
    with locked(tmp_path / "a.run"):  # again, in the same process: no leftover lock
        pass


# -------------------------------------------------------------------- interrupted runs

def test_run_killed_mid_way_resumes_to_the_same_result(tmp_path, reference):
    path, out = tmp_path / "faults.toml", tmp_path / "r.nc"
    path.write_text(SCENARIO)
    run = subprocess.Popen([sys.executable, "-m", "mcvar", "run", str(path), "-o", str(out),
                            "--scheduler", "synchronous", "-q"], cwd=ROOT,
                           start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(pieces(out.with_suffix(".run"))) >= 2 or run.poll() is not None,
                 what="two pieces")
        assert run.poll() is None, "the run ended before it could be killed"
    finally:
        stop(run)
    done = pieces(out.with_suffix(".run"))
    assert 2 <= len(done) < TASKS and not out.exists()
    identical(run_scenario(scenario(), out, scheduler="synchronous"), reference)
    assert not list(out.with_suffix(".run").rglob("*.tmp"))


# -------------------------------------------------------------------- killed workers

def _kill_when_pieces(run_dir: Path, pids, killed: list) -> threading.Thread:
    """A thread that SIGKILLs ``pids()`` once the first piece is saved (mid-run), and
    records in ``killed`` how many pieces were saved then."""
    def kill():
        wait_for(lambda: len(pieces(run_dir)) >= 1, what="the first piece")
        done = len(pieces(run_dir))
        for pid in pids():
            os.kill(pid, signal.SIGKILL)
        killed.append(done)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_worker_killed_on_a_local_cluster_loses_nothing(tmp_path, reference, caplog):
    from distributed import Client, LocalCluster

    out = tmp_path / "r.nc"
    killed = []
    # allowed-failures 0: the scheduler gives up on a task at the first death of its worker
    # (KilledWorker), so the run's own resubmission is what saves it
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None, env=WORKER_ENV) as cluster, \
            Client(cluster) as client, caplog.at_level(logging.WARNING, "mcvar.execute"):
        client.run(lambda: __import__("mcvar.workloads"))  # workers ready before the clock
        thread = _kill_when_pieces(out.with_suffix(".run"),
                                   lambda: list(client.run(os.getpid).values()), killed)
        ds = run_scenario(scenario(), out, client=client)
        thread.join(timeout=300)
    identical(ds, reference)
    assert killed and killed[0] < TASKS, "the workers were not killed mid-run"
    lost = [r.getMessage() for r in caplog.records if " lost (" in r.getMessage()]
    assert lost and all("submitted again" in m for m in lost)


def _start_workers(scheduler_file: Path, n: int = 2) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
         str(scheduler_file), "--nworkers", str(n), "--nthreads", "1", "--no-dashboard",
         "--host", "127.0.0.1"], env={**os.environ, **WORKER_ENV}, cwd=ROOT,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_group_killed_on_an_external_scheduler_loses_nothing(tmp_path, reference):
    from distributed import Client

    file, out = tmp_path / "scheduler.json", tmp_path / "r.nc"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(file)], cwd=ROOT,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = []
    try:
        wait_for(file.exists, what="the scheduler file")
        started.append(_start_workers(file))
        with Client(scheduler_file=str(file)) as client:
            client.wait_for_workers(2, timeout=300)
            killed = []

            def kill_group_and_replace():
                os.killpg(started[0].pid, signal.SIGKILL)  # nannies and workers at once
                started.append(_start_workers(file))
                return []

            thread = _kill_when_pieces(out.with_suffix(".run"), kill_group_and_replace, killed)
            ds = run_scenario(scenario(), out, scheduler=str(file))
            thread.join(timeout=300)
        identical(ds, reference)
        assert killed and killed[0] < TASKS, "the workers were not killed mid-run"
    finally:
        for process in [*started, scheduler]:
            stop(process)

"""Execution: identical results whatever the scheduler, workers or bundling; resume after an
interruption; retries; failures reported with their sweep point; run-directory checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xarray as xr

from mcvar import workloads
from mcvar.execute import (JOBQUEUE_ENV, RunDirectoryError, RunError, jobqueue_cluster,
                           local_cluster, run_scenario)
from mcvar.results import PIECES, open_results
from mcvar.scenario import loads
from mcvar.variables import nondeterministic, summary_names

SMALL = """
name = "small"
seed = 9
trials = 5
trials_per_task = 2
[tile]
rows = 8
cols = 6
[device]
model = "soft_bounds"
dw_min = 0.01
dw_min_std = 0.2
dw_min_dtod = 0.2
[kernels]
reads = 20
updates = 10
[training]
hidden = [5]
epochs = 2
train_examples = 30
test_examples = 30
[cost]
designs = ["analog_reram"]
[sweep]
device.read_noise = [0.0, 0.05]
"""
TRIAL_TASKS = 6  # 2 points x 3 blocks of at most 2 trials


def deterministic(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without wall times (and their summaries) and without global attributes."""
    drop = [n for name in nondeterministic() for n in (name, *summary_names(name).values())]
    out = ds.drop_vars(drop, errors="ignore")
    out.attrs = {}
    return out


@pytest.fixture(scope="module")
def reference():
    return deterministic(run_scenario(loads(SMALL, source="small.toml"), scheduler="synchronous"))


def count_calls(monkeypatch, fail=None):
    """Count run_trials calls; ``fail(call_number, trials)`` may raise."""
    calls = []
    real = workloads.run_trials

    def wrapped(config, trials):
        calls.append(trials)
        if fail is not None:
            fail(len(calls), trials, config)
        return real(config, trials)

    monkeypatch.setattr(workloads, "run_trials", wrapped)
    return calls


def test_reference_is_complete(reference):
    assert dict(reference.sizes)["trial"] == 5 and reference.test_accuracy.notnull().all()
    assert reference.error_rms.notnull().all() and reference.attrs == {}


@pytest.mark.parametrize("workers", [1, 2])
def test_local_cluster_gives_the_synchronous_result(tmp_path, reference, workers):
    ds = run_scenario(loads(SMALL, source="small.toml"), tmp_path / "r.nc", workers=workers)
    xr.testing.assert_identical(deterministic(ds), reference)
    xr.testing.assert_identical(deterministic(xr.load_dataset(tmp_path / "r.nc")), reference)


WORKER_THREADS_SCRIPT = """
import numba  # imported before the workers start, as by every script that uses mcvar
from distributed import Client
from mcvar.accelerate import threads_from_environment
from mcvar.execute import local_cluster

def threads():
    threads_from_environment()  # what run_task does first
    return numba.get_num_threads()

if __name__ == "__main__":
    with local_cluster(2) as cluster, Client(cluster) as client:
        print(sorted(client.run(threads).values()))
"""


def test_tasks_use_one_numba_thread_when_the_main_script_imported_numba(tmp_path):
    """Spawned workers import the main script's modules before dask sets their environment,
    so NUMBA_NUM_THREADS=1 alone left each worker's kernels on every core (a training epoch
    in two workers then took 4x as long); run_task applies it to the task's thread."""
    import subprocess
    import sys

    script = tmp_path / "workers.py"
    script.write_text(WORKER_THREADS_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert out.strip().splitlines()[-1] == "[1, 1]"


THREADS_SCRIPT = """
import math
import os
import sys

import numba
import numpy as np

import mcvar
from mcvar.accelerate import threads_from_environment


@numba.njit(parallel=True, cache=True)
def thread_ids(n):
    out = np.empty(n, np.int64)
    for i in numba.prange(n):
        s = 0.0
        for k in range(20000):  # enough work that every thread of the pool takes a share
            s += math.sqrt(k + i)
        out[i] = numba.get_thread_id() + 0 * int(s)  # (s used: the work stays)
    return out


pool_started, value = sys.argv[1] == "started", sys.argv[2]
if pool_started:
    thread_ids(64)  # the pool starts with NUMBA_NUM_THREADS as the process started
if value == "unset":
    numba.set_num_threads(1)  # not the pool's size, so that "left alone" shows
if value == "unset":
    os.environ.pop("NUMBA_NUM_THREADS", None)
else:
    os.environ["NUMBA_NUM_THREADS"] = value  # as a dask nanny sets it after numba's import
threads_from_environment()
print(numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS,
      " ".join(map(str, sorted(set(thread_ids(64))))))
print(os.path.dirname(os.path.dirname(os.path.abspath(mcvar.__file__))))
"""


@pytest.mark.parametrize("pool, value, threads, pool_size", [
    ("fresh", "1", 1, 1),  # the pool starts with one thread
    ("started", "1", 1, 2),  # the pool already runs two: the calling thread uses one
    ("started", "unset", 1, 2),  # unset: the thread count is left alone
    ("started", "4", 2, 2),  # more than the pool has: all of the pool, no error
])
def test_threads_from_environment(tmp_path_factory, pool, value, threads, pool_size):
    """A process whose Numba was imported with two threads (NUMBA_NUM_THREADS=2, whatever the
    machine has) and whose environment then changes, as a spawned dask worker's: after
    threads_from_environment() the calling thread's parallel kernels run on at most
    NUMBA_NUM_THREADS threads (the threads that run a prange loop are counted)."""
    import subprocess
    import sys

    folder = tmp_path_factory.getbasetemp() / "threads_script"  # one compiled cache for all
    folder.mkdir(exist_ok=True)
    script = folder / "threads.py"
    script.write_text(THREADS_SCRIPT)
    root = str(Path(__file__).resolve().parents[1])  # this checkout's mcvar, not an installed one
    env = dict(os.environ, NUMBA_NUM_THREADS="2",
               PYTHONPATH=os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    out = subprocess.run([sys.executable, str(script), pool, value], capture_output=True,
                         text=True, timeout=300, env=env, check=True).stdout.split()
    assert out[-1] == root  # (the script prints where mcvar came from)
    out = out[:-1]
    assert (int(out[0]), int(out[1])) == (threads, pool_size)
    used = {int(t) for t in out[2:]}
    assert used <= set(range(threads)) and len(used) >= 1
    if threads == 1:
        assert used == {0}


def test_local_workers_run_one_numba_thread_each():
    from distributed import Client

    def threads():
        import numba

        return numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS

    with local_cluster(2) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert set(client.run(threads).values()) == {(1, 1)}
        assert all(w["nthreads"] == 1 for w in client.scheduler_info()["workers"].values())


@pytest.mark.parametrize("per_task", [1, 5])
def test_bundling_does_not_change_results(reference, per_task):
    text = SMALL.replace("trials_per_task = 2", f"trials_per_task = {per_task}")
    ds = run_scenario(loads(text, source="small.toml"), scheduler="synchronous")
    xr.testing.assert_identical(deterministic(ds), reference)


class Interrupt(BaseException):
    """Stands for Ctrl-C (pytest reserves KeyboardInterrupt): not an Exception, not retried."""


def test_interrupted_run_resumes_to_the_same_result(tmp_path, reference, monkeypatch):
    def interrupt(call, trials, config):
        if call == 3:
            raise Interrupt

    calls = count_calls(monkeypatch, interrupt)
    with pytest.raises(Interrupt):
        run_scenario(loads(SMALL, source="small.toml"), tmp_path / "r.nc",
                     scheduler="synchronous")
    pieces = sorted((tmp_path / "r.run" / PIECES).glob("*.nc"))
    assert len(pieces) == 2 and not (tmp_path / "r.nc").exists()
    assert not list((tmp_path / "r.run" / PIECES).glob(".*"))  # no partial temp files
    partial = open_results(tmp_path / "r.run")  # what is finished can be read already
    assert int(partial.test_accuracy.notnull().any("epoch").sum()) == 4
    assert len(partial.attrs["missing_tasks"].split()) == TRIAL_TASKS - 2 + 2  # + 2 cost tasks

    monkeypatch.undo()
    calls = count_calls(monkeypatch)
    ds = run_scenario(loads(SMALL, source="small.toml"), tmp_path / "r.nc",
                      scheduler="synchronous")
    assert len(calls) == TRIAL_TASKS - 2  # finished tasks were skipped
    xr.testing.assert_identical(deterministic(ds), reference)


def test_task_that_raises_once_is_retried(reference, monkeypatch):
    def once(call, trials, config):
        if call == 2:
            raise OSError("transient")

    calls = count_calls(monkeypatch, once)
    ds = run_scenario(loads(SMALL, source="small.toml"), scheduler="synchronous")
    assert len(calls) == TRIAL_TASKS + 1
    xr.testing.assert_identical(deterministic(ds), reference)


def _always_fails_at_noise(config, trials):
    if config.device.read_noise == 0.05 and trials.start == 2:
        raise ValueError("broken block")


def test_failing_task_is_reported_with_its_point_and_the_rest_completes(tmp_path, reference,
                                                                       monkeypatch):
    calls = count_calls(monkeypatch, lambda call, trials, config:
                        _always_fails_at_noise(config, trials))
    with pytest.raises(RunError) as info:
        run_scenario(loads(SMALL, source="small.toml"), tmp_path / "r.nc",
                     scheduler="synchronous", retries=1)
    (failure,) = info.value.failures
    assert "device_read_noise=0.05" in str(failure) and "trials 2-3" in str(failure)
    assert "ValueError: broken block" in str(info.value) and str(tmp_path / "r.run") in str(
        info.value)
    assert len(calls) == TRIAL_TASKS + 1  # the failing task ran twice (retries=1)
    partial = open_results(tmp_path / "r.run")
    assert partial.attrs["missing_tasks"] == failure.task.id
    missing = partial.test_accuracy.sel(device_read_noise=0.05, trial=[2, 3])
    assert missing.isnull().all()
    assert partial.test_accuracy.sel(device_read_noise=0.0).notnull().all()

    monkeypatch.undo()
    ds = run_scenario(loads(SMALL, source="small.toml"), tmp_path / "r.nc",
                      scheduler="synchronous")
    xr.testing.assert_identical(deterministic(ds), reference)


def test_dask_client_path_retries_and_reports_failures(tmp_path, reference, monkeypatch):
    from distributed import Client, LocalCluster

    count_calls(monkeypatch, lambda call, trials, config: _always_fails_at_noise(config, trials))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with pytest.raises(RunError, match="device_read_noise=0.05, trials 2-3"):
            run_scenario(loads(SMALL, source="small.toml"), tmp_path / "r.nc", client=client)
        monkeypatch.undo()
        ds = run_scenario(loads(SMALL, source="small.toml"), tmp_path / "r.nc", client=client)
    xr.testing.assert_identical(deterministic(ds), reference)


def test_changed_scenario_is_refused_unless_fresh(tmp_path):
    small = SMALL.replace("[tile]", "[tile]\nmapping = \"offset\"")
    run_scenario(loads(small, source="small.toml"), tmp_path / "r.nc", scheduler="synchronous")
    changed = loads(small.replace("seed = 9", "seed = 10"), source="small.toml")
    with pytest.raises(RunDirectoryError, match=r"-seed = 9; \+seed = 10.*--fresh"):
        run_scenario(changed, tmp_path / "r.nc", scheduler="synchronous")
    ds = run_scenario(changed, tmp_path / "r.nc", scheduler="synchronous", fresh=True)
    assert ds.attrs["seed"] == 10
    (tmp_path / "other.run" / PIECES).mkdir(parents=True)
    with pytest.raises(RunDirectoryError, match="not a run directory"):
        run_scenario(changed, tmp_path / "other.nc", scheduler="synchronous")


def test_jobqueue_cluster_pins_threads_and_compiles_in_memory():
    pytest.importorskip("dask_jobqueue")
    with jobqueue_cluster("slurm", queue="short", account="proj", cores=4, memory="8GB",
                          walltime="00:30:00") as cluster:
        script = cluster.job_script()
    for key, value in JOBQUEUE_ENV.items():
        assert f"export {key}={value}" in script
    assert "-p short" in script and "-A proj" in script and "00:30:00" in script
    assert "--nworkers 4" in script and "--nthreads 1" in script
    with pytest.raises(ValueError, match="allowed one of"):
        jobqueue_cluster("lsf")

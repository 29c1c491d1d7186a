"""Digits (64-36-10) test accuracy over device instances: float64, ideal device, ENODe, TaOx,
TaOx with periodic carry written exactly, as CrossSim v2.0 writes it (one open-loop step) and
with a calibrated reset (the reference study's comparison at digits scale, mcvar's settings).

    python scripts/digits_accuracy.py [--trials 4] [--epochs 5] [--json rows.json]

Runs ``scenarios/digits_accuracy.toml`` through the normal scenario path (dask local cluster,
one single-threaded worker per core; ``--scheduler synchronous`` runs in this process), with
the trial and epoch counts given here. Prints, per configuration, the final test accuracy's
mean, 95% confidence interval of the mean (logit t, mcvar.stats), min and max over trials, and the median
wall time of an epoch (measured inside the workers, all configurations in the same run, so the
float64 twin's time is the baseline). ``--json`` writes those rows with keys config, trials,
epochs, mean, ci_low, ci_high, min, max, s_per_epoch.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mcvar.execute import run_scenario
from mcvar.stats import proportion_interval

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "digits_accuracy.toml"
CONFIGS = {"float64": "numeric", "ideal device": "ideal", "ENODe": "enode", "TaOx": "taox",
           "TaOx + carry (exact)": "taox_carry_exact",
           "TaOx + carry (v2.0 open-loop)": "taox_carry_open_loop",
           "TaOx + carry (calibrated reset)": "taox_carry_calibrated"}


def rows(ds) -> list[dict]:
    """One row per configuration from a digits_accuracy result Dataset."""
    out = []
    for label, config in CONFIGS.items():
        point = ds.sel(device_kind=label)
        final = point.test_accuracy.isel(epoch=-1).values
        n = int(np.isfinite(final).sum())
        mean, std = float(np.nanmean(final)), float(np.nanstd(final, ddof=1)) if n > 1 else np.nan
        low, high = proportion_interval(mean, std, n)
        out.append(dict(config=config, trials=n, epochs=int(point.sizes["epoch"]), mean=mean,
                        ci_low=float(low), ci_high=float(high), min=float(np.nanmin(final)),
                        max=float(np.nanmax(final)),
                        s_per_epoch=float(np.nanmedian(point.epoch_wall_time.values))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4, help="device instances per config")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs")
    parser.add_argument("--train-examples", type=int, default=0,
                        help="training examples per epoch (0: all 3823)")
    parser.add_argument("--scheduler", default=None, help="'synchronous' or a dask address")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = parser.parse_args()
    overrides = [f"training.epochs={args.epochs}",
                 f"training.train_examples={args.train_examples}"]
    ds = run_scenario(SCENARIO, overrides=overrides, trials=args.trials,
                      scheduler=args.scheduler, progress=True)
    table = rows(ds)
    print(f"{'config':22s} {'trials':>6s} {'mean':>7s} {'95% CI':>17s} {'min':>7s} {'max':>7s}"
          f" {'s/epoch':>8s}")
    for r in table:
        print(f"{r['config']:22s} {r['trials']:6d} {r['mean']:7.4f} [{r['ci_low']:.4f}, "
              f"{r['ci_high']:.4f}] {r['min']:7.4f} {r['max']:7.4f} {r['s_per_epoch']:8.3f}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()

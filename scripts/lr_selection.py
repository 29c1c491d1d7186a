"""Learning rate per device configuration, chosen on a validation split (digits).

    python scripts/lr_selection.py [--trials 4] [--epochs 10] [--json rows.json]

Runs ``scenarios/lr_selection_digits.toml``: each configuration (ENODe, TaOx, TaOx + exact
carry) at every swept learning rate, trained on the training digits less a held-out
validation split. Per configuration it picks the rate with the best mean final validation
accuracy and reports the test accuracy at that rate: mean and 95% confidence interval of the
mean over trials (logit t, mcvar.stats). The test set plays no part in the choice.
``--json`` writes rows with keys config, lr, trials, epochs, validation_mean, mean, ci_low,
ci_high, and per rate the mean validation accuracy (``validation_by_lr``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mcvar.execute import run_scenario
from mcvar.stats import proportion_interval

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "lr_selection_digits.toml"


def select(ds) -> list[dict]:
    """Per configuration: the rate of the best mean final validation accuracy and the test
    accuracy there."""
    out = []
    final = ds.isel(epoch=-1)
    for config in ds.config.values:
        point = final.sel(config=config)
        val = point.validation_accuracy.mean("trial")
        best = int(np.nanargmax(val.values))
        chosen = point.isel(training_lr=best)
        test = chosen.test_accuracy.values
        n = int(np.isfinite(test).sum())
        mean = float(np.nanmean(test))
        std = float(np.nanstd(test, ddof=1)) if n > 1 else np.nan
        low, high = proportion_interval(mean, std, n)
        out.append(dict(config=str(config), lr=float(ds.training_lr.values[best]), trials=n,
                        epochs=int(ds.sizes["epoch"]), validation_mean=float(val.values[best]),
                        mean=mean, ci_low=float(low), ci_high=float(high),
                        validation_by_lr={f"{lr:g}": float(v) for lr, v in
                                          zip(ds.training_lr.values, val.values)}))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4, help="device instances per point")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs")
    parser.add_argument("--scheduler", default=None, help="'synchronous' or a dask address")
    parser.add_argument("--output", type=Path, default=None,
                        help="also write the result (netCDF) here (resumable)")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = parser.parse_args(argv)
    ds = run_scenario(SCENARIO, args.output, overrides=[f"training.epochs={args.epochs}"],
                      trials=args.trials, scheduler=args.scheduler, progress=True)
    table = select(ds)
    print(f"{'config':18s} {'lr':>7s} {'val':>7s} {'test':>7s} {'95% CI':>17s}   validation by lr")
    for r in table:
        by = " ".join(f"{k}:{v:.3f}" for k, v in r["validation_by_lr"].items())
        print(f"{r['config']:18s} {r['lr']:7.4f} {r['validation_mean']:7.4f} {r['mean']:7.4f} "
              f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]   {by}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()

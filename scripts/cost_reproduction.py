#!/usr/bin/env python
"""Reproduce the reference study's energy/latency numbers with mcvar's tile cost model.

    python scripts/cost_reproduction.py [--json FILE] [--plot FILE.png]

Prints each quantity, the study's number, ours and their ratio (the issue's tolerance in the
last column). ``--json`` writes the rows (keys quantity, unit, study, mcvar, ratio);
``--plot`` draws energy per MAC and training-step latency against array size N x N for the
three designs (technology otherwise at its defaults).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a checkout works uninstalled

from mcvar.cost import DESIGNS, kernel_costs
from mcvar.cost.reference import reproduction

SIZES = [2 ** k for k in range(5, 13)]  # 32 ... 4096


def print_table(rows: list[dict]) -> None:
    header = f"{'quantity':<30} {'unit':>4} {'study':>11} {'mcvar':>11} {'ratio':>7} {'tol':>5}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['quantity']:<30} {r['unit']:>4} {r['study']:>11.4g} {r['mcvar']:>11.4g} "
              f"{r['ratio']:>7.3f} {r['tolerance']:>5.0%}")


def plot(path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    ds = xr.concat([kernel_costs(rows=n, cols=n) for n in SIZES], dim="rows",
                   data_vars="all", coords="different", compat="equals", join="outer")
    fig, (ax_e, ax_t) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for design in DESIGNS:
        sel = ds.sel(design=design)
        ax_e.loglog(SIZES, sel.energy_per_mac * 1e15, "o-", label=design)
        ax_t.loglog(SIZES, sel.step_latency * 1e6, "o-", label=design)
    ax_e.set(xlabel="array size N (N x N tile)", ylabel="energy per MAC [fJ]",
             title="training step (vmm + mvm + opu)")
    ax_t.set(xlabel="array size N (N x N tile)", ylabel="latency [us]",
             title="training step (vmm + mvm + opu)")
    for ax in (ax_e, ax_t):
        ax.set_xticks(SIZES, [str(n) for n in SIZES])
        ax.grid(True, which="both", alpha=0.3)
    ax_e.legend()
    fig.savefig(path, dpi=120)
    print(f"figure written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="draw cost against array size")
    args = parser.parse_args()
    rows = reproduction()
    print_table(rows)
    if args.json:
        keys = ("quantity", "unit", "study", "mcvar", "ratio")
        with open(args.json, "w") as f:
            json.dump([{k: r[k] for k in keys} for r in rows], f, indent=1)
    if args.plot:
        plot(args.plot)


if __name__ == "__main__":
    main()

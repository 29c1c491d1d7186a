"""After a run: the design-space outputs a scenario's ``[sensitivity]`` and ``[yield]`` tables
ask for (docs/design_space.md), written beside the result.

* ``RESULT.sensitivity.nc`` and ``.png``: indices (:func:`mcvar.sensitivity.analyze`);
* ``RESULT.yield.nc`` and ``.png``: chip yield with Clopper-Pearson intervals and the
  Pareto front of energy per example vs yield (:mod:`mcvar.yields`).
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from .results import write_netcdf, write_text
from .scenario.analyses import analyses_of


def write_analyses(scenario, ds: xr.Dataset, output) -> list[Path]:
    """Write the outputs of ``scenario``'s analysis tables for its result ``ds`` (written
    at ``output``); returns the paths written (none without such tables)."""
    specs = analyses_of(scenario)
    stem = Path(output).with_suffix("")
    written = []
    if "sensitivity" in specs:
        from .plot import plot_sensitivity
        from .sensitivity import analyze, table

        out = analyze(ds, specs["sensitivity"])
        written.append(write_netcdf(out, f"{stem}.sensitivity.nc"))
        plot_sensitivity(out, f"{stem}.sensitivity.png")
        written.append(Path(f"{stem}.sensitivity.png"))
        written.append(write_text(table(out) + "\n", f"{stem}.sensitivity.md"))
    if "yield" in specs:
        from .plot import plot_pareto
        from .yields import chip_yield, pareto_front, yield_table

        out = chip_yield(ds, specs["yield"])
        flat = out.stack(_p=list(out.chip_yield.dims)) if out.chip_yield.dims else out
        front = pareto_front(flat.energy_per_example.values.ravel(),
                             flat.chip_yield.values.ravel()) if "energy_per_example" in out \
            else None
        if front is not None:
            out["pareto"] = (out.chip_yield.dims, front.reshape(out.chip_yield.shape).astype(
                "int8"), {"units": "1", "long_name": "on the Pareto front of energy per example "
                          "vs chip yield (1) or not (0)", "flag_values": [0, 1],
                          "flag_meanings": "dominated pareto_optimal"})
        written.append(write_netcdf(out, f"{stem}.yield.nc"))
        written.append(write_text(yield_table(out) + "\n", f"{stem}.yield.md"))
        if front is not None:
            plot_pareto(out, front, f"{stem}.yield.png")
            written.append(Path(f"{stem}.yield.png"))
    return written

"""How the analog design's advantage extrapolates with the tile size, with and without the
design rules (:mod:`mcvar.cost.rules`).

``fixed``: the study's constants at every size (31 MOhm, 10 pF), as :func:`kernel_costs`
prices them; ``sized``: the analog tile's on-resistance and integrator capacitor sized by the
rules at each size (:func:`mcvar.cost.rules.sized`). The digital designs keep their constants
(a digital read senses one device per bit line, far below the line-current limit).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from .model import kernel_costs
from .rules import RULES, margins, sized
from .technology import Technology

SIZES = (256, 512, 1024, 2048, 4096)  #: square tile sizes of the README's table
VARIANTS = ("fixed", "sized")
DIGITAL = ("digital_reram", "sram")


def scaling(sizes=SIZES, tech: Technology | None = None) -> xr.Dataset:
    """Training-step ratios digital / analog over square tiles ``sizes`` and both variants.

    Returns a Dataset over (``tile_size``, ``variant``, ``design``): ``energy_ratio`` and
    ``latency_ratio`` [1] (digital design's training-step energy or latency over the analog
    tile's); over (``tile_size``, ``variant``): ``analog_step_energy`` [J],
    ``analog_tile_area`` [m2], ``on_resistance`` [Ohm], ``integrator_capacitance`` [F]; over
    (``tile_size``, ``variant``, ``design_rule``): ``rule_margin`` [1].
    """
    tech = Technology() if tech is None else tech
    shape = (len(sizes), len(VARIANTS))
    energy_ratio, latency_ratio = (np.zeros(shape + (len(DIGITAL),)) for _ in range(2))
    step, area, r_on, c_int = (np.zeros(shape) for _ in range(4))
    margin = np.zeros(shape + (len(RULES),))
    for i, n in enumerate(sizes):
        fixed = dataclasses.replace(tech, rows=int(n), cols=int(n))
        digital = kernel_costs(fixed, designs=DIGITAL)
        for j, t in enumerate((fixed, sized(fixed))):
            analog = kernel_costs(t, designs="analog_reram").sel(design="analog_reram")
            energy_ratio[i, j] = digital.step_energy.values / float(analog.step_energy)
            latency_ratio[i, j] = digital.step_latency.values / float(analog.step_latency)
            step[i, j], area[i, j] = float(analog.step_energy), float(analog.tile_area)
            r_on[i, j], c_int[i, j] = t.on_resistance, t.integrator_capacitance
            margin[i, j] = margins(t)
    dims = ("tile_size", "variant")
    ds = xr.Dataset(
        {"energy_ratio": (dims + ("design",), energy_ratio),
         "latency_ratio": (dims + ("design",), latency_ratio),
         "analog_step_energy": (dims, step), "analog_tile_area": (dims, area),
         "on_resistance": (dims, r_on), "integrator_capacitance": (dims, c_int),
         "rule_margin": (dims + ("design_rule",), margin)},
        coords={"tile_size": np.asarray(sizes), "variant": list(VARIANTS),
                "design": list(DIGITAL), "design_rule": list(RULES)},
        attrs={"title": "mcvar: digital / analog training-step ratios vs tile size, with and "
                        "without the design rules", "source": "mcvar.cost.scaling"})
    long = {"tile_size": ("1", "rows = cols of the square tile"),
            "variant": (None, "fixed: the study's constants at every size; sized: "
                              "on-resistance and integrator capacitor sized by the design rules"),
            "design": (None, "digital design compared with the analog tile"),
            "design_rule": (None, "design rule of the analog tile"),
            "energy_ratio": ("1", "training-step energy of the digital design over the analog "
                                  "tile's"),
            "latency_ratio": ("1", "training-step latency of the digital design over the "
                                   "analog tile's"),
            "analog_step_energy": ("J", "training-step energy of the analog tile"),
            "analog_tile_area": ("m2", "area of the analog tile"),
            "on_resistance": ("Ohm", "device on-resistance of the analog tile"),
            "integrator_capacitance": ("F", "integrating capacitor per line of the analog tile"),
            "rule_margin": ("1", "design-rule margin, 1 - demand / limit (negative: violated)")}
    for name, (units, long_name) in long.items():
        ds[name].attrs["long_name"] = long_name
        if units:
            ds[name].attrs["units"] = units
    return ds


def scaling_table(ds: xr.Dataset) -> str:
    """Markdown table of :func:`scaling`: ratios and rule margins per size and variant."""
    head = ("| N | variant | R_on [MOhm] | C_int [pF] | energy dig. ReRAM / analog | energy SRAM "
            "/ analog | latency dig. ReRAM / analog | latency SRAM / analog | margins "
            + " / ".join(RULES) + " |")
    lines = [head, "|" + " --- |" * 9]
    for n in ds.tile_size.values:
        for v in ds.variant.values:
            p = ds.sel(tile_size=n, variant=v)
            e, lat = p.energy_ratio.values, p.latency_ratio.values
            m = " / ".join(f"{x:+.0%}" for x in p.rule_margin.values)
            lines.append(f"| {n} | {v} | {float(p.on_resistance) / 1e6:.1f} | "
                         f"{float(p.integrator_capacitance) * 1e12:.1f} | {e[0]:.0f} | "
                         f"{e[1]:.0f} | {lat[0]:.0f} | {lat[1]:.1f} | {m} |")
    return "\n".join(lines)

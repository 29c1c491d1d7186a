"""The reference study's cost numbers and the model's reproduction of them.

Study: M. J. Marinella et al., "Multiscale co-design analysis of energy, latency, area, and
accuracy of a ReRAM analog neural training accelerator", IEEE JETCAS 8(1), 2018
(arXiv:1707.09952). Ratios and energy per MAC are the abstract's; per-kernel latencies and
VMM energies come from a secondary summary of its Table V (docs/cost.md, 'Calibration check').
Ratios are taken over the training step (vmm + mvm + opu); energy per MAC is the step
energy over its 3 rows cols MACs (the reading that makes 12.8 nJ per VMM and 11 fJ per MAC
agree; a VMM alone gives 12.2 fJ).
"""

from __future__ import annotations

import xarray as xr

from .model import DESIGNS, KERNELS, kernel_costs
from .technology import Technology

SHORT_NAMES = {"analog_reram": "analog", "digital_reram": "digital_reram", "sram": "sram"}

# per-kernel latency [s], design -> (vmm, mvm, opu)
STUDY_LATENCY = {"analog_reram": (0.384e-6, 0.384e-6, 0.512e-6),
                 "digital_reram": (176e-6, 176e-6, 340e-6),
                 "sram": (4e-6, 32e-6, 8e-6)}

# tolerances of the issue: ratios and per-kernel latencies 5 %, everything else 10 %
TIGHT, LOOSE = 0.05, 0.10


def _rows(ds: xr.Dataset):
    """(quantity, unit, study value, model value, tolerance) of every reproduced number."""
    step_e, step_t = ds.step_energy, ds.step_latency
    for design in DESIGNS:
        for kernel, study in zip(KERNELS, STUDY_LATENCY[design]):
            model = float(ds.kernel_latency.sel(design=design, kernel=kernel))
            yield f"latency_{kernel}_{SHORT_NAMES[design]}", "s", study, model, TIGHT
    for design, latency_ratio, energy_ratio in (("digital_reram", 540.0, 270.0),
                                                ("sram", 34.0, 430.0)):
        ratio_t = float(step_t.sel(design=design) / step_t.sel(design="analog_reram"))
        ratio_e = float(step_e.sel(design=design) / step_e.sel(design="analog_reram"))
        yield f"latency_ratio_{design}", "1", latency_ratio, ratio_t, TIGHT
        yield f"energy_ratio_{design}", "1", energy_ratio, ratio_e, TIGHT
    yield ("energy_per_mac_analog", "J", 11e-15,
           float(ds.energy_per_mac.sel(design="analog_reram")), LOOSE)
    for design, study in (("analog_reram", 12.8e-9), ("digital_reram", 2140e-9)):
        yield (f"energy_vmm_{SHORT_NAMES[design]}", "J", study,
               float(ds.kernel_energy.sel(design=design, kernel="vmm")), LOOSE)


def reproduction(tech: Technology | None = None) -> list[dict]:
    """Rows ``{quantity, unit, study, mcvar, ratio, tolerance}`` comparing the model with the
    study (``ratio = mcvar / study``; the issue's ``tolerance`` on ``|ratio - 1|``)."""
    return compare(kernel_costs(tech))


def compare(ds: xr.Dataset) -> list[dict]:
    """The rows of :func:`reproduction` from a cost result ``ds`` of one tile (the output of
    :func:`kernel_costs`, or one sweep point of a scenario's cost result)."""
    return [dict(quantity=q, unit=u, study=s, mcvar=m, ratio=m / s, tolerance=tol)
            for q, u, s, m, tol in _rows(ds)]

"""Read periphery: DAC input quantisation, output noise, ADC clipping and quantisation.

Units (docs/reads.md). Inputs are clipped to ``[-inp_bound, inp_bound]`` and,
with ``dac_bits = b > 0``, quantised to ``2**(b-1) - 1`` levels per sign (signed, uniform,
zero included); with ``noise_management = 'abs_max'`` (aihwkit's default) each input vector
is first divided by ``max|x| / inp_bound`` and the output multiplied back, so small vectors
(backpropagated errors) keep their resolution. Column outputs are expressed in *output units* ``I_u = V_read (g_max - g_min)``:
the current of one full-swing weight driven by a full-scale input (the normalisation aihwkit
uses for ``out_noise`` and ``out_bound``). Output noise ``out_noise * I_u * N(0, 1)`` is added
at every conversion; the ADC clips to ``[-out_bound, out_bound] I_u`` and, with
``adc_bits = b > 0``, quantises to ``2**(b-1) - 1`` levels per sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import ParameterError, Parameters, param, validate

OUT_BOUND_MODES = ("worst_case", "calibrated")
MAX_BITS = 24


def _check_bits(key: str, bits) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int) or not (bits == 0 or 2 <= bits <= MAX_BITS):
        raise ParameterError(key, f"got {bits!r}, allowed: 0 (ideal, no quantisation) or an "
                                  f"integer in [2, {MAX_BITS}]")


def levels(bits: int) -> float:
    """Quantisation levels per sign for ``bits`` (0 -> 0.0, meaning ideal)."""
    return float(2 ** (bits - 1) - 1) if bits else 0.0


@dataclass(frozen=True)
class Periphery(Parameters):
    """DAC, ADC and output-noise settings of a tile's read path."""

    dac_bits: int = param(0, units="1", kind=int, doc="input DAC bits (0: ideal analog input)")
    inp_bound: float = param(1.0, units="1", low=0.0, low_open=True,
                             doc="input full scale x_max; inputs are clipped to +-inp_bound")
    adc_bits: int = param(0, units="1", kind=int, doc="output ADC bits (0: ideal, no quantisation)")
    out_bound: float | str = param("worst_case", units="1", kind=(int, float, str),
                                   doc="ADC full scale [I_u]: a number, 'worst_case' (every "
                                       "input at full scale on full-swing weights) or "
                                       "'calibrated' (percentile of observed outputs)")
    calibration_percentile: float = param(99.9, units="percent", low=50.0, high=100.0,
                                          doc="percentile of |outputs| used by 'calibrated'")
    out_noise: float = param(0.0, units="1", low=0.0,
                             doc="output-referred noise std at every conversion [I_u]")
    noise_management: str = param("abs_max", units="1", choices=("abs_max", "none"),
                                  doc="'abs_max': each input vector is scaled so its largest "
                                      "|x| uses the full DAC range and the output is scaled back "
                                      "(aihwkit's default); 'none': inputs clipped as they are")
    subtraction: str = param("analog", units="1", choices=("analog", "digital"),
                             doc="subtract differential/reference currents before the ADC "
                                 "(analog, one conversion) or after (digital, two conversions)")

    def __post_init__(self):
        validate(self, "periphery.")
        _check_bits("periphery.dac_bits", self.dac_bits)
        _check_bits("periphery.adc_bits", self.adc_bits)
        if isinstance(self.out_bound, str):
            if self.out_bound not in OUT_BOUND_MODES:
                raise ParameterError("periphery.out_bound", f"got {self.out_bound!r}, allowed: a "
                                                            f"positive number or one of {OUT_BOUND_MODES}")
        elif not self.out_bound > 0:
            raise ParameterError("periphery.out_bound", f"got {self.out_bound!r}, allowed: (0, inf) [I_u]")

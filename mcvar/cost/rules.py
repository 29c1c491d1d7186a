"""Design rules of the analog ReRAM tile: what must hold at every size for the design to exist.

The cost model's defaults are the study's 1024 x 1024 design; its constants stay fixed when
the tile size or precision changes, which physics does not allow everywhere. Three rules
(docs/cost.md, "Design rules"), for the longest line of ``N = max(rows, cols)`` devices, all
in the on state (``G = 1 / on_resistance``) at full-scale input (worst case):

* ``line_current``: the line current ``I = N V_r / R_on`` must stay under the electromigration
  limit ``line_current_limit`` (study: 33 uA per metal-1 line; it set 31 MOhm for N = 1024);
* ``integrator_swing``: the integrator's full-scale output ``V_fs = I T_in / C_int``
  (``T_in = 2^b_in t_lsb``) must stay within the supply ``V_dd`` (a rail-to-rail output, the
  most generous reading);
* ``ir_drop``: a line driven from one end, each of its ``N`` cells drawing ``V_r / R_on``
  through wire segments of ``r_w`` (``wire_resistance``), drops ``r_w (V_r / R_on) N (N + 1) / 2``
  at its far end; that fraction of ``V_r``, ``r_w N (N + 1) / (2 R_on)``, must stay under
  ``ir_drop_limit``.

Each rule's margin is ``1 - demand / limit`` [1] (negative: violated). :func:`sized` applies
the rules as the study applied the first one at N = 1024: the on-resistance at the limit of
the stricter of ``line_current`` and ``ir_drop``, the integrator capacitor just holding the
full-scale charge within the supply.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .technology import Technology

RULES = ("line_current", "integrator_swing", "ir_drop")


def _line(t: Technology) -> int:
    return max(t.rows, t.cols)


def line_current(t: Technology) -> float:
    """Worst-case current of the longest line [A]: all its devices on at full input."""
    return _line(t) * t.read_voltage / t.on_resistance


def integrator_voltage(t: Technology) -> float:
    """Full-scale integrator output [V]: the worst-case line charge over ``T_in`` on ``C_int``."""
    return line_current(t) * 2 ** t.input_bits * t.input_lsb_time / t.integrator_capacitance


def ir_drop(t: Technology) -> float:
    """Worst-case IR drop at the far end of the longest line, as a fraction of ``V_r`` [1]."""
    n = _line(t)
    return t.wire_resistance * n * (n + 1) / (2 * t.on_resistance)


def margins(t: Technology) -> np.ndarray:
    """``1 - demand / limit`` of each rule in :data:`RULES` order [1]; negative: violated."""
    return 1.0 - np.array([line_current(t) / t.line_current_limit,
                           integrator_voltage(t) / t.supply_voltage,
                           ir_drop(t) / t.ir_drop_limit])


def sized(t: Technology) -> Technology:
    """``t`` with ``on_resistance`` and ``integrator_capacitance`` sized by the rules.

    ``R_on = max(N V_r / I_max, r_w N (N + 1) / (2 f_ir))``: the smallest resistance meeting
    both line rules (the study's choice of resistance, applied at every size);
    ``C_int = N V_r T_in / (R_on V_dd)``: the smallest capacitor holding the full-scale
    charge within the supply. Every rule then has a margin >= 0 (up to rounding).
    """
    n = _line(t)
    r_on = max(n * t.read_voltage / t.line_current_limit,
               t.wire_resistance * n * (n + 1) / (2 * t.ir_drop_limit))
    charge = n * t.read_voltage / r_on * 2 ** t.input_bits * t.input_lsb_time
    return dataclasses.replace(t, on_resistance=r_on,
                               integrator_capacitance=charge / t.supply_voltage)

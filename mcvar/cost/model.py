"""Energy, latency and area of one tile's kernels for three designs, by circuit component.

Kernels: ``vmm`` (forward read ``y = W^T x``: inputs on the rows, outputs on the columns),
``mvm`` (transposed read ``z = W d``: columns driven, rows read) and ``opu`` (parallel
outer-product update). Designs (docs/cost.md):

* ``analog_reram``: 1T1R array; inputs as pulse widths, currents integrated and converted
  by a ramp ADC (one shared ramp, a comparator per line); updates in sign phases with rows
  coded in time and columns in voltage height, high-voltage drivers.
* ``digital_reram``: the same devices holding ``weight_bits`` binary bit planes, read one
  line at a time by sense amplifiers, MACs in ``mac_units`` digital units; updates as
  read-modify-write.
* ``sram``: the weights in SRAM, the same MAC datapath.

Symbols (fields of :class:`~mcvar.cost.Technology`): ``c = wire_capacitance +
device_capacitance`` per cell on a line [F], ``G = 1/on_resistance`` [S], ``V_r``, ``V_w``,
``V_dd``, ``V_hv`` [V], ``f`` clock [Hz], ``e_g`` gate energy, ``e_io`` energy per bit moved,
``e_mac = mac_energy_per_bit2 b_in b_w`` [J], ``P_c`` control power [W], ``a_x``, ``a_g``,
``a_u`` input, conductance and update activities [1], ``P`` MAC units. A read kernel drives
``n_in`` lines and reads ``n_out`` (vmm: rows, cols; mvm: cols, rows); every line crosses
the other dimension's cells, so the array holds ``n_in n_out`` cells of capacitance ``c``.

Analog read (``T_in = 2^b_in t_lsb``, ``T_adc = 2^b_adc t_ramp``, mean device charge
``q = V_r G a_g a_x T_in`` [C]):
    array        n_in n_out (V_r q + c V_r^2)         device conduction + line charging
    drivers      n_in (2^b_in + b_in) e_g             pulse-width DAC against a shared Gray
                                                      counter: one gate load per row per slot
    integrators  n_out (n_in q V_dd + I_int V_dd (T_in + T_adc))   charge + op-amp bias
    adc          n_out (2^b_adc (e_cmp + e_g) + c_cmp V_dd^2)      comparators, counter bus
                                                                   to the latches, ramp line
    control      P_c (T_in + T_adc) + (n_in b_in + n_out b_adc) e_io
    latency      drivers T_in (integration), adc T_adc
Analog update (``T_ph = 2^(b_u - 1) t_ulsb``, ``T = n_ph T_ph``):
    array           rows cols (V_w^2 G a_g a_u T_ph + 2 n_ph c V_w V_hv)   device + lines
    update_drivers  n_ph (rows + cols) k_hv c_drv V_hv^2 + cols I_vdac V_hv T
                    + rows (n_ph 2^(b_u-1) + b_u) e_g       HV drivers, column voltage
                                                            drivers, row time coders
    control         P_c T + (rows + cols) b_u e_io
    latency         update_drivers T
Digital ReRAM read: ``n_acc`` line accesses (vmm: rows) of ``n_w`` words (vmm: cols), each
access senses ``m = n_w b_w`` bit lines of capacitance ``C_bl = n_acc c``; the cell current
``I = V_r G`` develops the sense margin in ``t_dev = C_bl dV / I``:
    array        n_acc m (C_bl V_r^2 + a_g V_r I t_dev)   bit-line charging + cell current
    drivers      n_acc m c V_dd^2                         word lines
    sense_amps   n_acc m I_sa V_dd t_dev                  bias while the bit line develops
    mac_units    n_acc n_w e_mac
    control      P_c T + (n_acc b_in + n_w b_adc) e_io
    latency      array n_acc t_dev, sense_amps n_acc n_oh / f, mac_units n_acc ceil(n_w/P)/f
Digital ReRAM update (row by row: read as vmm, one MAC per weight, write back in
``n_wp`` polarity phases of ``t_wp``): the vmm terms plus
    array           rows m (n_wp C_bl V_w V_hv + a_u V_w^2 G t_wp)
    update_drivers  rows m I_wd V_hv n_wp t_wp,     latency rows n_wp t_wp
SRAM (``N_b = rows cols b_w`` bits, bit line spans the rows; ``cycles = ceil(rows cols / P)``):
    vmm   array N_b rows c_s V_dd dV_s, sense_amps N_b e_p, mac_units rows cols e_mac;
          latency mac_units cycles / f
    mvm   the same energies; the transposed port is bit-serial (one bit of P words per
          cycle): latency mac_units cycles / f + array (b_w - 1) cycles / f
    opu   read + write: array N_b rows c_s V_dd (dV_s + V_dd), sense_amps 2 N_b e_p;
          latency mac_units cycles / f + array cycles / f
    control P_c T + bits moved e_io, as for digital ReRAM.
Area (``L = rows + cols`` lines; ``A_*`` area fields, ``k_hv = hv_area_factor``):
    analog         array rows cols pitch^2, drivers L (b_in A_gate + A_drv),
                   integrators L (C_int / capacitor_density + A_opamp),
                   adc L (A_cmp + b_adc A_gate) + 2 A_opamp (ramps),
                   update_drivers L k_hv A_drv + cols A_opamp (column voltage drivers)
    digital ReRAM  array b_w rows cols pitch^2, drivers L A_drv, sense_amps b_w L A_sa,
                   update_drivers b_w L k_hv A_drv
    SRAM           array N_b A_sram, drivers L A_drv, sense_amps 2 P b_w A_sa (two ports)
    digital both   mac_units P b_in b_w mac_area_per_bit2; every design control_area.

Latency by component is the component's share of the critical path: the components of a
kernel run one after another, so their latencies sum to the kernel latency. Area has no
kernel dimension: the hardware is shared by the three kernels (read periphery on both
sides of the analog and digital-ReRAM arrays, so vmm and mvm cost the same on a square
tile). Not modelled: wire resistance (line RC ~ N^2 r c / 2 = 28 ps at N = 1024, well
below the 1 ns input LSB), leakage apart from ``control_power``, I/O beyond the tile.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import xarray as xr

from . import rules
from .technology import Technology
from .variables import annotate

DESIGNS = ("analog_reram", "digital_reram", "sram")
KERNELS = ("vmm", "mvm", "opu")
COMPONENTS = ("array", "drivers", "integrators", "adc", "sense_amps", "update_drivers",
              "mac_units", "control")

Costs = dict[str, float]  # component -> value; missing components are zero


def _cell_capacitance(t: Technology) -> float:
    return t.wire_capacitance + t.device_capacitance


def _control(t: Technology, latency: Costs, bits_moved: int) -> float:
    return t.control_power * sum(latency.values()) + bits_moved * t.io_energy_per_bit


def _mac_energy(t: Technology) -> float:
    return t.mac_energy_per_bit2 * t.input_bits * t.weight_bits


# --- analog ReRAM ----------------------------------------------------------------------

def _analog_read(t: Technology, n_in: int, n_out: int) -> tuple[Costs, Costs]:
    vdd, c = t.supply_voltage, _cell_capacitance(t)
    t_in = 2 ** t.input_bits * t.input_lsb_time
    t_adc = 2 ** t.adc_bits * t.ramp_step_time
    charge = t.read_voltage / t.on_resistance * t.conductance_activity * t.input_activity * t_in
    latency = {"drivers": t_in, "adc": t_adc}
    energy = {
        "array": n_in * n_out * (t.read_voltage * charge + c * t.read_voltage ** 2),
        "drivers": n_in * (2 ** t.input_bits + t.input_bits) * t.gate_energy,
        "integrators": n_out * (n_in * charge * vdd
                                + t.integrator_bias_current * vdd * (t_in + t_adc)),
        "adc": n_out * (2 ** t.adc_bits * (t.comparator_energy + t.gate_energy)
                        + t.comparator_input_capacitance * vdd ** 2),
        "control": _control(t, latency, n_in * t.input_bits + n_out * t.adc_bits),
    }
    return energy, latency


def _analog_update(t: Technology, rows: int, cols: int) -> tuple[Costs, Costs]:
    vhv, c, phases = t.update_supply_voltage, _cell_capacitance(t), t.update_phases
    slots = 2 ** (t.update_bits - 1)
    t_phase = slots * t.update_lsb_time
    t_update = phases * t_phase
    dose = t.write_voltage ** 2 / t.on_resistance * t.conductance_activity * t.update_activity
    latency = {"update_drivers": t_update}
    energy = {
        "array": rows * cols * (dose * t_phase + 2 * phases * c * t.write_voltage * vhv),
        "update_drivers": (phases * (rows + cols) * t.hv_area_factor * t.driver_capacitance
                           * vhv ** 2
                           + cols * t.update_dac_bias_current * vhv * t_update
                           + rows * (phases * slots + t.update_bits) * t.gate_energy),
        "control": _control(t, latency, (rows + cols) * t.update_bits),
    }
    return energy, latency


def _analog_area(t: Technology, rows: int, cols: int) -> Costs:
    lines = rows + cols  # read periphery and update drivers on both sides
    return {
        "array": rows * cols * t.cell_pitch ** 2,
        "drivers": lines * (t.input_bits * t.gate_area + t.driver_area),
        "integrators": lines * (t.integrator_capacitance / t.capacitor_density + t.opamp_area),
        "adc": lines * (t.comparator_area + t.adc_bits * t.gate_area) + 2 * t.opamp_area,
        "update_drivers": lines * t.hv_area_factor * t.driver_area + cols * t.opamp_area,
        "control": t.control_area,
    }


def _analog_reram(t: Technology, rows: int, cols: int):
    kernels = {"vmm": _analog_read(t, rows, cols), "mvm": _analog_read(t, cols, rows),
               "opu": _analog_update(t, rows, cols)}
    return kernels, _analog_area(t, rows, cols)


# --- digital ReRAM ---------------------------------------------------------------------

def _reram_access(t: Technology, n_acc: int, n_words: int) -> tuple[Costs, Costs]:
    """Energy and latency of reading ``n_acc`` lines of ``n_words`` words each."""
    vdd, c, vr = t.supply_voltage, _cell_capacitance(t), t.read_voltage
    bits = n_words * t.weight_bits
    c_bitline = n_acc * c
    current = vr / t.on_resistance
    t_develop = c_bitline * t.sense_margin / current
    latency = {
        "array": n_acc * t_develop,
        "sense_amps": n_acc * t.sense_overhead_cycles / t.clock_frequency,
        "mac_units": n_acc * math.ceil(n_words / t.mac_units) / t.clock_frequency,
    }
    energy = {
        "array": n_acc * bits * (c_bitline * vr ** 2
                                 + t.conductance_activity * vr * current * t_develop),
        "drivers": n_acc * bits * c * vdd ** 2,
        "sense_amps": n_acc * bits * t.sense_amp_bias_current * vdd * t_develop,
        "mac_units": n_acc * n_words * _mac_energy(t),
    }
    return energy, latency


def _reram_update(t: Technology, rows: int, cols: int) -> tuple[Costs, Costs]:
    """Read-modify-write: each row is read, updated by the MAC units (one MAC per weight:
    ``w + eta x_i d_j``) and written back in ``write_phases`` polarity phases."""
    energy, latency = _reram_access(t, rows, cols)
    vhv, vw = t.update_supply_voltage, t.write_voltage
    bits = cols * t.weight_bits
    c_bitline = rows * _cell_capacitance(t)
    write_time = t.write_phases * t.write_pulse_time
    energy["array"] += rows * bits * (t.write_phases * c_bitline * vw * vhv
                                      + t.update_activity * vw ** 2 / t.on_resistance
                                      * t.write_pulse_time)
    energy["update_drivers"] = rows * bits * t.write_driver_bias_current * vhv * write_time
    latency["update_drivers"] = rows * write_time
    energy["control"] = _control(t, latency, (rows + cols) * t.input_bits)
    return energy, latency


def _digital_reram(t: Technology, rows: int, cols: int):
    kernels = {}
    for kernel, (n_acc, n_words) in {"vmm": (rows, cols), "mvm": (cols, rows)}.items():
        energy, latency = _reram_access(t, n_acc, n_words)
        energy["control"] = _control(t, latency, n_acc * t.input_bits + n_words * t.adc_bits)
        kernels[kernel] = energy, latency
    kernels["opu"] = _reram_update(t, rows, cols)
    area = {
        "array": t.weight_bits * rows * cols * t.cell_pitch ** 2,
        "drivers": (rows + cols) * t.driver_area,
        "sense_amps": t.weight_bits * (rows + cols) * t.sense_amp_area,
        "update_drivers": t.weight_bits * (rows + cols) * t.hv_area_factor * t.driver_area,
        "mac_units": _mac_area(t),
        "control": t.control_area,
    }
    return kernels, area


def _mac_area(t: Technology) -> float:
    return t.mac_units * t.input_bits * t.weight_bits * t.mac_area_per_bit2


# --- SRAM ------------------------------------------------------------------------------

def _sram(t: Technology, rows: int, cols: int):
    vdd, f = t.supply_voltage, t.clock_frequency
    bits = rows * cols * t.weight_bits
    c_bitline = rows * t.sram_bitline_capacitance
    read_bitline = bits * c_bitline * vdd * t.sram_read_swing
    write_bitline = bits * c_bitline * vdd ** 2
    cycles = math.ceil(rows * cols / t.mac_units)
    macs = rows * cols * _mac_energy(t)
    io_read = rows * t.input_bits + cols * t.adc_bits
    memory_bound = {"vmm": 0, "mvm": (t.weight_bits - 1) * cycles, "opu": cycles}
    kernels = {}
    for kernel in KERNELS:
        latency = {"mac_units": cycles / f, "array": memory_bound[kernel] / f}
        update = kernel == "opu"
        energy = {
            "array": read_bitline + (write_bitline if update else 0.0),
            "sense_amps": (2 if update else 1) * bits * t.sram_periphery_energy,
            "mac_units": macs,
            "control": _control(t, latency, (rows + cols) * t.input_bits if update else io_read),
        }
        kernels[kernel] = energy, latency
    area = {
        "array": bits * t.sram_cell_area,
        "drivers": (rows + cols) * t.driver_area,
        "sense_amps": 2 * t.mac_units * t.weight_bits * t.sense_amp_area,
        "mac_units": _mac_area(t),
        "control": t.control_area,
    }
    return kernels, area


_DESIGN_MODELS = {"analog_reram": _analog_reram, "digital_reram": _digital_reram, "sram": _sram}


def _check_designs(designs) -> tuple[str, ...]:
    designs = (designs,) if isinstance(designs, str) else tuple(designs)
    if not designs:
        raise ValueError(f"designs: got an empty selection, allowed: any of {DESIGNS}")
    for name in designs:
        if name not in DESIGNS:
            raise ValueError(f"designs: unknown design {name!r}, allowed: {DESIGNS}")
    if len(set(designs)) != len(designs):
        raise ValueError(f"designs: got duplicates in {designs}")
    return designs


def tile_technology(tech: Technology | None, rows: int | None, cols: int | None) -> Technology:
    """``tech`` (default: the study's) with the tile size overridden where given (validated)."""
    if tech is None:
        tech = Technology()
    elif not isinstance(tech, Technology):
        raise ValueError(f"tech: got {type(tech).__name__}, expected mcvar.cost.Technology")
    changes = {k: v for k, v in {"rows": rows, "cols": cols}.items() if v is not None}
    return dataclasses.replace(tech, **changes) if changes else tech


def kernel_costs(tech: Technology | None = None, *, designs=DESIGNS, rows: int | None = None,
                 cols: int | None = None) -> xr.Dataset:
    """Energy [J], latency [s] and area [m^2] of one tile's kernels, by component.

    ``tech`` defaults to the calibrated 14/16 nm :class:`Technology`; ``rows``/``cols``
    override its tile size. Returns a Dataset with dims (``design``, ``kernel``,
    ``component``): ``energy`` and ``latency`` by component (summing over ``component``
    gives ``kernel_energy`` and ``kernel_latency``), ``area`` (design, component) and its
    sum ``tile_area``, ``macs`` per kernel, ``kernel_energy_per_mac``, and per design the
    training step (vmm + mvm + opu) ``step_energy``, ``step_latency`` and
    ``energy_per_mac = step_energy / sum(macs)``. With ``analog_reram``, the analog tile's
    design rules (:mod:`mcvar.cost.rules`) over ``design_rule``: ``rule_margin`` [1] and
    ``rule_feasible`` (1: met, 0: violated), and the demands ``line_current`` [A],
    ``integrator_voltage`` [V], ``ir_drop`` [1]. Scalar coordinates ``rows``, ``cols``;
    global attributes ``tech_<field>`` record every technology constant.
    """
    designs = _check_designs(designs)
    t = tile_technology(tech, rows, cols)
    shape = (len(designs), len(KERNELS), len(COMPONENTS))
    energy, latency = np.zeros(shape), np.zeros(shape)
    area = np.zeros(shape[::2])
    for d, design in enumerate(designs):
        kernels, design_area = _DESIGN_MODELS[design](t, t.rows, t.cols)
        for k, kernel in enumerate(KERNELS):
            kernel_energy, kernel_latency = kernels[kernel]
            for c, component in enumerate(COMPONENTS):
                energy[d, k, c] = kernel_energy.get(component, 0.0)
                latency[d, k, c] = kernel_latency.get(component, 0.0)
        for c, component in enumerate(COMPONENTS):
            area[d, c] = design_area.get(component, 0.0)

    dims = ("design", "kernel", "component")
    ds = xr.Dataset(
        {"energy": (dims, energy), "latency": (dims, latency), "area": (dims[::2], area),
         "macs": ("kernel", np.full(len(KERNELS), t.rows * t.cols, dtype=np.int64))},
        coords={"design": list(designs), "kernel": list(KERNELS),
                "component": list(COMPONENTS), "rows": t.rows, "cols": t.cols},
        attrs={"title": "mcvar analytical tile cost model (energy, latency, area)",
               "source": "mcvar.cost.kernel_costs", **t.attrs()})
    ds["kernel_energy"] = ds.energy.sum("component")
    ds["kernel_latency"] = ds.latency.sum("component")
    ds["tile_area"] = ds.area.sum("component")
    ds["kernel_energy_per_mac"] = ds.kernel_energy / ds.macs
    ds["step_energy"] = ds.kernel_energy.sum("kernel")
    ds["step_latency"] = ds.kernel_latency.sum("kernel")
    ds["energy_per_mac"] = ds.step_energy / ds.macs.sum("kernel")
    if "analog_reram" in designs:
        _add_rules(ds, t)
    return annotate(ds)


def _add_rules(ds: xr.Dataset, t: Technology) -> None:
    """The analog tile's design-rule demands, margins and flags (:mod:`.rules`), in place."""
    margin = rules.margins(t)
    ds.coords["design_rule"] = list(rules.RULES)
    ds["line_current"] = rules.line_current(t)
    ds["integrator_voltage"] = rules.integrator_voltage(t)
    ds["ir_drop"] = rules.ir_drop(t)
    ds["rule_margin"] = ("design_rule", margin)
    ds["rule_feasible"] = ("design_rule", (margin >= 0).astype(np.int8))

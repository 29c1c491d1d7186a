"""Technology description of the cost model: every constant named, with units and provenance.

A :class:`Technology` is a frozen dataclass; its defaults describe the reference study's
14/16 nm design (a 1024 x 1024 tile; docs/cost.md). Change a constant with
``dataclasses.replace(tech, on_resistance=10e6)`` (validated again) or build your own.

Every field carries metadata: ``units``, ``doc``, the allowed range (``low``/``high``,
``low_open``) or ``kind``, and ``source``, which says where the default comes from:

* ``study``: stated by the reference study (Marinella et al., IEEE JETCAS 2018);
* ``crosssim``: CrossSim's circuit defaults for a 14 nm, 80 nm-pitch array;
* ``estimate``: a typical 14/16 nm value chosen here (no calibration target);
* ``physics``: fixed by how the device or circuit works;
* ``fitted: <target>``: the one parameter set so that the model reproduces ``<target>``
  of the study's secondary per-kernel summary (Table V) or abstract; every other term in
  that target comes from physics (C V^2, I V t, cycles x energy per cycle).

Fitted parameters and the one target each was chosen for (all other outputs are
predictions of the formulas in :mod:`mcvar.cost.model`):

=============================  ============================================  ==============
parameter                      target                                        value
=============================  ============================================  ==============
``ramp_step_time``             analog VMM/MVM latency 0.384 us               0.5 ns
``update_lsb_time``            analog OPU latency 0.512 us                   16 ns
``sense_overhead_cycles``      digital ReRAM VMM/MVM latency 176 us          8
``write_pulse_time``           digital ReRAM OPU latency 340 us              80 ns
``comparator_energy``          analog VMM energy 12.8 nJ                     18.6 fJ
``update_dac_bias_current``    analog energy per MAC 11 fJ (3 kernels)       7.3 uA
``sense_amp_bias_current``     digital ReRAM VMM energy 2140 nJ              1.27 uA
``write_driver_bias_current``  energy ratio digital ReRAM / analog 270x      0.49 uA
``sram_periphery_energy``      energy ratio SRAM / analog 430x               0.4 pJ
=============================  ============================================  ==============

The SRAM latencies (4/32/8 us) and both latency ratios follow from the clock, the 256 MAC
units and the access pattern without any fitted constant. Consistency checks of the study's
constants: ``on_resistance`` is :func:`electromigration_on_resistance` for 1024 devices at
1 V (31 MOhm), and the 10 pF integrator holds the full-scale charge of a 1024-row read
(1024 x 32 nA x 256 ns = 8.5 pC, 0.85 V).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..params import describe_range, param, validate


def electromigration_on_resistance(devices_per_line: int, voltage: float = 1.0,
                                   line_current_limit: float = 33e-6) -> float:
    """Smallest on-resistance [Ohm] for which ``devices_per_line`` devices at ``voltage`` [V]
    stay within a line's electromigration current limit [A] (study: 33 uA per metal-1 line)."""
    return voltage * devices_per_line / line_current_limit


def _positive(default: float, *, units: str, doc: str, source: str):
    """A positive physical constant (range ``(0, inf)``)."""
    return param(default, units=units, doc=doc, source=source, low=0.0, low_open=True)


def _bits(default: int, doc: str, source: str):
    return param(default, units="1", doc=doc, source=source, low=1, high=16, kind=int)


def _count(default: int, doc: str, source: str):
    return param(default, units="1", doc=doc, source=source, low=1, kind=int)


def _fraction(default: float, doc: str, source: str):
    return param(default, units="1", doc=doc, source=source, low=0.0, high=1.0, low_open=True)


@dataclass(frozen=True)
class Technology:
    """Constants of one crossbar tile and its digital baselines (defaults: 14/16 nm study).

    Fields are grouped: tile and precision, array and device, analog periphery, digital
    logic, digital ReRAM, SRAM, area. Each field's metadata holds its units, allowed range
    and source; :meth:`parameters` returns them, and the list below is generated from them.
    """

    # --- tile and precision -------------------------------------------------------------
    rows: int = _count(1024, "tile rows (inputs of the forward VMM)", "study")
    cols: int = _count(1024, "tile columns (outputs of the forward VMM)", "study")
    input_bits: int = _bits(8, "input precision: pulse-width code of the analog design, "
                               "operand width of the digital MACs", "study")
    adc_bits: int = _bits(8, "output precision: ramp ADC resolution (analog), output word "
                             "moved out of the tile (all designs)", "study")
    weight_bits: int = _bits(8, "stored weight precision of the digital designs (one binary "
                                "cell per bit)", "study")
    update_bits: int = _bits(4, "analog update drive: sign + (update_bits - 1) magnitude bits, "
                                "rows coded in time, columns in voltage height", "study")

    # --- array and device ---------------------------------------------------------------
    read_voltage: float = _positive(1.0, units="V", doc="voltage across a device during a read",
                                source="study (~1 V)")
    write_voltage: float = _positive(1.0, units="V", doc="voltage across a device during an update "
                                 "pulse", source="study (~1 V)")
    on_resistance: float = _positive(31e6, units="Ohm", doc="device on-state resistance; the study "
                                 "sets it by electromigration: 33 uA per metal-1 line shared by "
                                 "1024 devices -> 32 nA each -> 31 MOhm at 1 V", source="study")
    line_current_limit: float = _positive(33e-6, units="A", doc="electromigration limit of the "
                                      "current one metal-1 line carries (design rule "
                                      "line_current)", source="study")
    wire_resistance: float = _positive(1.0, units="Ohm", doc="line resistance per cell crossed "
                                   "(design rule ir_drop)", source="estimate (~12.5 Ohm/um of a "
                                   "14/16 nm metal-1 line x 80 nm pitch)")
    ir_drop_limit: float = _fraction(0.05, "largest worst-case IR drop along a line, as a fraction "
                                           "of the read voltage (design rule ir_drop)",
                                     "estimate (design margin chosen here)")
    wire_capacitance: float = _positive(15.2e-18, units="F", doc="line capacitance per cell crossed "
                                    "(80 nm pitch)", source="crosssim")
    device_capacitance: float = _positive(35.4e-18, units="F", doc="device + access-transistor "
                                      "capacitance per cell on a line", source="crosssim")
    cell_pitch: float = _positive(80e-9, units="m", doc="ReRAM cell pitch; cell area = pitch^2",
                              source="crosssim")
    input_activity: float = _fraction(0.5, "mean |x| / x_max: mean pulse-width fraction of a "
                                           "driven line", "estimate")
    conductance_activity: float = _fraction(0.5, "mean G / G_on of the array (binary cells: "
                                                 "fraction of cells on)", "estimate")
    update_activity: float = _fraction(0.25, "mean fraction of the full-scale write dose a cell "
                                             "receives per update (analog: pulse time x V^2 "
                                             "fraction; digital: fraction of bits switched)",
                                       "estimate")

    # --- analog periphery ---------------------------------------------------------------
    input_lsb_time: float = _positive(1e-9, units="s", doc="pulse width of one input LSB",
                                  source="study")
    ramp_step_time: float = _positive(0.5e-9, units="s", doc="ramp ADC step (counter period): an "
                                  "adc_bits conversion takes 2^adc_bits steps",
                                  source="fitted: analog VMM/MVM latency 0.384 us")
    integrator_capacitance: float = _positive(10e-12, units="F", doc="integrating capacitor per "
                                          "output line (sets integrator area)", source="crosssim")
    integrator_bias_current: float = _positive(10e-6, units="A", doc="quiescent current of one "
                                           "integrator op-amp (class AB, sinks the 33 uA "
                                           "full-scale line current)", source="estimate")
    comparator_energy: float = _positive(18.6e-15, units="J", doc="energy of one clocked comparator "
                                     "decision (one per column per ramp step)",
                                     source="fitted: analog VMM energy 12.8 nJ")
    comparator_input_capacitance: float = _positive(1e-15, units="F", doc="comparator input "
                                                "capacitance loading the shared ramp line",
                                                source="estimate")
    update_lsb_time: float = _positive(16e-9, units="s", doc="update pulse time of one magnitude LSB "
                                   "(rows are coded in time)",
                                   source="fitted: analog OPU latency 0.512 us")
    update_phases: int = _count(4, "update sign phases: (row sign) x (column sign)", "study")
    update_dac_bias_current: float = _positive(7.3e-6, units="A", doc="bias of one column "
                                           "voltage-level driver (columns are coded in voltage "
                                           "height) for the whole update",
                                           source="fitted: analog energy per MAC 11 fJ")
    hv_area_factor: float = _positive(8.0, units="1", doc="area (and input capacitance) of a "
                                  "high-voltage update driver relative to a logic driver",
                                  source="study")

    # --- digital logic (all designs) ----------------------------------------------------
    supply_voltage: float = _positive(0.8, units="V", doc="core logic / analog supply",
                                  source="estimate (14/16 nm core)")
    update_supply_voltage: float = _positive(1.8, units="V", doc="supply of the high-voltage "
                                         "(thick-oxide) update and write drivers",
                                         source="estimate")
    clock_frequency: float = _positive(1e9, units="Hz", doc="digital clock", source="study (~1 GHz)")
    gate_energy: float = _positive(0.5e-15, units="J", doc="energy of one gate-equivalent load "
                               "toggling, local wiring included", source="estimate")
    driver_capacitance: float = _positive(1e-15, units="F", doc="internal capacitance of a logic "
                                      "line driver", source="estimate")
    io_energy_per_bit: float = _positive(10e-15, units="J", doc="moving one bit between the tile "
                                     "and its digital buffers", source="estimate")
    control_power: float = _positive(1e-3, units="W", doc="sequencer, clock tree and leakage of a "
                                 "tile's control, drawn for the whole kernel", source="estimate")
    mac_units: int = _count(256, "parallel digital MAC units (digital designs; also the adders "
                                 "summing partial outputs of split layers)", "study")
    mac_energy_per_bit2: float = _positive(2e-15, units="J", doc="energy of a MAC per bit product "
                                       "(input_bits x weight_bits), pipeline registers included",
                                       source="estimate (8x8 bit MAC ~0.13 pJ)")
    adder_energy_per_bit: float = _positive(2.5e-15, units="J", doc="energy of one full-adder bit "
                                        "(partial sums of layers split over tiles)",
                                        source="estimate (~5 gate equivalents)")

    # --- digital ReRAM ------------------------------------------------------------------
    sense_margin: float = _positive(0.1, units="V", doc="bit-line swing a sense amplifier resolves; "
                                "sensing takes C_line sense_margin / I_on", source="estimate")
    sense_overhead_cycles: int = param(8, units="1", doc="clock cycles per row access beyond "
                                       "bit-line development (decode, precharge, latch)",
                                       source="fitted: digital ReRAM VMM latency 176 us",
                                       low=0, kind=int)
    sense_amp_bias_current: float = _positive(1.27e-6, units="A", doc="bias of one current-mode "
                                          "sense amplifier while its bit line develops",
                                          source="fitted: digital ReRAM VMM energy 2140 nJ")
    write_pulse_time: float = _positive(80e-9, units="s", doc="duration of one write (SET or RESET) "
                                    "pulse", source="fitted: digital ReRAM OPU latency 340 us")
    write_phases: int = _count(2, "write phases per row (SET and RESET need opposite "
                                  "polarities)", "physics (bipolar device)")
    write_driver_bias_current: float = _positive(0.49e-6, units="A", doc="bias of one bit-line write "
                                             "driver (compliance current source) during a pulse",
                                             source="fitted: energy ratio digital ReRAM 270x")

    # --- SRAM ---------------------------------------------------------------------------
    sram_bitline_capacitance: float = _positive(0.15e-15, units="F", doc="SRAM bit-line capacitance "
                                            "per cell (bit line spans the tile's rows)",
                                            source="estimate")
    sram_read_swing: float = _positive(0.1, units="V", doc="SRAM bit-line swing on a read",
                                   source="estimate")
    sram_periphery_energy: float = _positive(0.4e-12, units="J", doc="per bit accessed: sense amp, "
                                         "column mux, decoders and transport to the MAC units",
                                         source="fitted: energy ratio SRAM 430x")

    # --- area ---------------------------------------------------------------------------
    sram_cell_area: float = _positive(0.07e-12, units="m2", doc="6T SRAM bit cell",
                                  source="estimate (16 nm high-density cell)")
    gate_area: float = _positive(0.2e-12, units="m2", doc="gate equivalent (NAND2)",
                             source="estimate")
    driver_area: float = _positive(0.5e-12, units="m2", doc="logic line driver", source="estimate")
    capacitor_density: float = _positive(10e-3, units="F/m2", doc="MIM capacitance per area "
                                     "(10 fF/um^2)", source="estimate")
    opamp_area: float = _positive(20e-12, units="m2", doc="op-amp (integrator, ramp generator, "
                              "column voltage driver)", source="estimate")
    comparator_area: float = _positive(5e-12, units="m2", doc="clocked comparator",
                                   source="estimate")
    sense_amp_area: float = _positive(2e-12, units="m2", doc="sense amplifier", source="estimate")
    mac_area_per_bit2: float = _positive(1.2e-12, units="m2", doc="MAC unit area per bit product",
                                     source="estimate (~6 gate equivalents)")
    control_area: float = _positive(10e-9, units="m2", doc="tile control (sequencer, buffers)",
                                source="estimate")

    def __post_init__(self):
        validate(self, "Technology.")

    @classmethod
    def parameters(cls) -> list[dict]:
        """Every field as ``{name, default, units, range, source, doc}`` (for docs)."""
        return [dict(name=f.name, default=f.default, units=f.metadata["units"],
                     range=describe_range(f.metadata), source=f.metadata["source"],
                     doc=f.metadata["doc"]) for f in dataclasses.fields(cls)]

    def attrs(self, prefix: str = "tech_") -> dict[str, float | int]:
        """Flat ``{prefix + name: value}`` for netCDF global attributes (provenance)."""
        return {prefix + f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @staticmethod
    def units() -> dict[str, str]:
        """``{name: units}`` of every field."""
        return {f.name: f.metadata["units"] for f in dataclasses.fields(Technology)}


if Technology.__doc__:  # None under python -OO
    Technology.__doc__ += "\n    Parameters ``name [units] = default (source): meaning``:\n\n" + "\n".join(
        f"    * ``{p['name']}`` [{p['units']}] = {p['default']!r} ({p['source']}): {p['doc']}"
        for p in Technology.parameters())

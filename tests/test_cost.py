"""Tests of the tile cost model: reproduction of the study, scaling laws, validation, metadata."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import xarray as xr

from mcvar.cost import COMPONENTS, DESIGNS, KERNELS, Technology, kernel_costs, network_costs
from mcvar.cost.reference import STUDY_LATENCY, reproduction
from mcvar.cost.technology import electromigration_on_resistance
from mcvar.cost.variables import VARIABLES

DEFAULT = kernel_costs()
ROWS = {r["quantity"]: r for r in reproduction()}


# --- reproduction of the reference study (tolerances from the issue) ---------------------

@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("kernel", KERNELS)
def test_per_kernel_latency_within_5_percent(design, kernel):
    study = STUDY_LATENCY[design][KERNELS.index(kernel)]
    model = float(DEFAULT.kernel_latency.sel(design=design, kernel=kernel))
    assert model == pytest.approx(study, rel=0.05)


@pytest.mark.parametrize("quantity, study", [
    ("latency_ratio_digital_reram", 540), ("latency_ratio_sram", 34),
    ("energy_ratio_digital_reram", 270), ("energy_ratio_sram", 430)])
def test_ratios_within_5_percent(quantity, study):
    assert ROWS[quantity]["study"] == study
    assert ROWS[quantity]["mcvar"] == pytest.approx(study, rel=0.05)


def test_ratios_are_ratios_of_training_step_sums():
    step_t = DEFAULT.kernel_latency.sum("kernel")
    step_e = DEFAULT.kernel_energy.sum("kernel")
    for design in ("digital_reram", "sram"):
        assert ROWS[f"latency_ratio_{design}"]["mcvar"] == pytest.approx(
            float(step_t.sel(design=design) / step_t.sel(design="analog_reram")), rel=1e-12)
        assert ROWS[f"energy_ratio_{design}"]["mcvar"] == pytest.approx(
            float(step_e.sel(design=design) / step_e.sel(design="analog_reram")), rel=1e-12)


def test_energy_targets_within_10_percent():
    analog = DEFAULT.sel(design="analog_reram")
    assert float(analog.kernel_energy.sel(kernel="vmm")) == pytest.approx(12.8e-9, rel=0.10)
    assert float(DEFAULT.kernel_energy.sel(design="digital_reram", kernel="vmm")) == \
        pytest.approx(2140e-9, rel=0.10)
    per_mac = float(analog.kernel_energy.sum() / (3 * 1024 * 1024))
    assert per_mac == pytest.approx(11e-15, rel=0.10)
    assert float(analog.energy_per_mac) == pytest.approx(per_mac, rel=1e-12)


def test_every_reproduction_row_within_its_tolerance():
    assert len(ROWS) == 16
    for row in ROWS.values():
        assert abs(row["ratio"] - 1) <= row["tolerance"], row


def test_default_on_resistance_is_the_electromigration_limit():
    limit = electromigration_on_resistance(1024, voltage=Technology().read_voltage)
    assert Technology().on_resistance == pytest.approx(limit, rel=0.01)


# --- scaling laws -----------------------------------------------------------------------

def _component(ds, design, kernel, component, var="energy"):
    return float(ds[var].sel(design=design, kernel=kernel, component=component))


@pytest.mark.parametrize("n", [64, 1024])
def test_doubling_n_quadruples_analog_array_energy(n):
    small, big = kernel_costs(rows=n, cols=n), kernel_costs(rows=2 * n, cols=2 * n)
    for kernel in KERNELS:
        ratio = (_component(big, "analog_reram", kernel, "array")
                 / _component(small, "analog_reram", kernel, "array"))
        assert ratio == pytest.approx(4.0, rel=1e-12)
    # the analog kernel latency does not grow with N (all lines in parallel)
    np.testing.assert_allclose(big.kernel_latency.sel(design="analog_reram"),
                               small.kernel_latency.sel(design="analog_reram"), rtol=1e-12)


def test_digital_memory_energy_grows_as_n_cubed_and_latency_as_n_squared_over_parallelism():
    small, big = kernel_costs(rows=256, cols=256), kernel_costs(rows=512, cols=512)
    # bit lines twice as long and four times as many bits: every digital-ReRAM bit-line term x 8
    assert (_component(big, "digital_reram", "vmm", "array")
            / _component(small, "digital_reram", "vmm", "array")) == pytest.approx(8, rel=1e-12)
    assert (_component(big, "sram", "vmm", "array")
            / _component(small, "sram", "vmm", "array")) == pytest.approx(8, rel=1e-12)
    # the MAC datapath: N^2 / parallelism cycles
    for design in ("digital_reram", "sram"):
        assert (_component(big, design, "vmm", "mac_units", "latency")
                / _component(small, design, "vmm", "mac_units", "latency")) == \
            pytest.approx(4, rel=1e-12)
    wide = kernel_costs(Technology(mac_units=512), rows=512, cols=512)
    assert float(wide.kernel_latency.sel(design="sram", kernel="vmm")) == pytest.approx(
        float(big.kernel_latency.sel(design="sram", kernel="vmm")) / 2, rel=1e-12)


def _adc_reference(t: Technology, n_out: int) -> tuple[float, float]:
    """Ramp ADC by hand: 2^b steps, a comparator decision and a counter-bus load per column
    per step, and the ramp line charged once."""
    steps = 2 ** t.adc_bits
    energy = n_out * (steps * (t.comparator_energy + t.gate_energy)
                      + t.comparator_input_capacitance * t.supply_voltage ** 2)
    return energy, steps * t.ramp_step_time


def test_fewer_adc_bits_lower_adc_energy_and_latency_as_the_model_says():
    previous = None
    for bits in range(1, 11):
        t = Technology(adc_bits=bits, rows=128, cols=96)
        ds = kernel_costs(t, designs="analog_reram")
        energy = _component(ds, "analog_reram", "vmm", "adc")
        latency = _component(ds, "analog_reram", "vmm", "adc", "latency")
        ref_energy, ref_latency = _adc_reference(t, n_out=96)
        assert energy == pytest.approx(ref_energy, rel=1e-12)
        assert latency == pytest.approx(ref_latency, rel=1e-12)
        assert _component(ds, "analog_reram", "mvm", "adc") == pytest.approx(
            _adc_reference(t, n_out=128)[0], rel=1e-12)
        if previous is not None:
            assert energy > previous[0] and latency > previous[1]
        previous = energy, latency


def test_four_bit_inputs_and_outputs_gain_about_an_order_of_magnitude():
    full = float(DEFAULT.kernel_energy.sel(design="analog_reram", kernel="vmm"))
    low = kernel_costs(Technology(input_bits=4, adc_bits=4), designs="analog_reram")
    gain = full / float(low.kernel_energy.sel(design="analog_reram", kernel="vmm"))
    assert 5 < gain < 30


def test_on_resistance_and_read_voltage_move_array_terms_as_ohms_law():
    base = Technology()
    double_r = kernel_costs(dataclasses.replace(base, on_resistance=2 * base.on_resistance))
    # digital read: the bit line develops through half the current -> twice the time
    assert _component(double_r, "digital_reram", "vmm", "array", "latency") == pytest.approx(
        2 * _component(DEFAULT, "digital_reram", "vmm", "array", "latency"), rel=1e-12)
    # analog read: device conduction V^2/R halves, line charging c V^2 does not change
    cell = base.wire_capacitance + base.device_capacitance
    c_line = 1024 * 1024 * cell * base.read_voltage ** 2
    device = _component(DEFAULT, "analog_reram", "vmm", "array") - c_line
    assert _component(double_r, "analog_reram", "vmm", "array") - c_line == pytest.approx(
        device / 2, rel=1e-9)
    half_v = kernel_costs(dataclasses.replace(base, read_voltage=0.5))
    assert _component(half_v, "analog_reram", "vmm", "array") == pytest.approx(
        (device + c_line) / 4, rel=1e-9)


def test_update_bits_set_analog_update_latency():
    for bits in (1, 2, 4, 6):
        t = Technology(update_bits=bits)
        ds = kernel_costs(t, designs="analog_reram")
        assert float(ds.kernel_latency.sel(design="analog_reram", kernel="opu")) == pytest.approx(
            t.update_phases * 2 ** (bits - 1) * t.update_lsb_time, rel=1e-12)


def _all_outputs(t: Technology) -> np.ndarray:
    tile = kernel_costs(t)
    net = network_costs((2 * t.rows, t.cols + 1), t, design="analog_reram")
    return np.concatenate([tile.energy.values.ravel(), tile.latency.values.ravel(),
                           tile.area.values.ravel(), tile.rule_margin.values,
                           [float(net.training_energy_per_example),
                            float(net.training_time_per_example)]])


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Technology)])
def test_every_parameter_moves_the_model(name):
    small = Technology(rows=64, cols=48)
    value = getattr(small, name)
    meta = Technology.__dataclass_fields__[name].metadata
    if meta["kind"] is int:
        changed = value + 1
    elif meta["high"] is not None:
        changed = value * 0.8
    else:
        changed = value * 1.25
    moved = _all_outputs(dataclasses.replace(small, **{name: changed}))
    assert np.any(moved != _all_outputs(small))


def test_fitted_parameters_move_their_targets():
    targets = {"ramp_step_time": "latency_vmm_analog",
               "update_lsb_time": "latency_opu_analog",
               "sense_overhead_cycles": "latency_vmm_digital_reram",
               "write_pulse_time": "latency_opu_digital_reram",
               "comparator_energy": "energy_vmm_analog",
               "update_dac_bias_current": "energy_per_mac_analog",
               "sense_amp_bias_current": "energy_vmm_digital_reram",
               "write_driver_bias_current": "energy_ratio_digital_reram",
               "sram_periphery_energy": "energy_ratio_sram"}
    fitted = {f.name for f in dataclasses.fields(Technology)
              if f.metadata["source"].startswith("fitted")}
    assert fitted == set(targets)
    for name, quantity in targets.items():
        t = dataclasses.replace(Technology(), **{name: 2 * getattr(Technology(), name)})
        moved = {r["quantity"]: r["mcvar"] for r in reproduction(t)}[quantity]
        assert moved > 1.01 * ROWS[quantity]["mcvar"], name


def test_outputs_positive_and_finite_over_a_parameter_sweep():
    grid = itertools.product([1, 7, 64, 4096], [1, 4, 16], [1e3, 31e6, 1e10], [0.05, 1.0, 3.0])
    for n, bits, r_on, volts in grid:
        t = Technology(rows=n, cols=max(1, n // 2), input_bits=bits, adc_bits=bits,
                       update_bits=bits, weight_bits=bits, on_resistance=r_on,
                       read_voltage=volts, write_voltage=volts)
        ds = kernel_costs(t)
        for var in ("energy", "latency", "area"):
            values = ds[var].values
            assert np.all(np.isfinite(values)) and np.all(values >= 0), (var, t)
        for var in ("kernel_energy", "kernel_latency", "tile_area", "energy_per_mac"):
            assert np.all(np.isfinite(ds[var].values)) and np.all(ds[var].values > 0), (var, t)


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field", [
    ({"device_capacitance": -1e-18}, "device_capacitance"),
    ({"integrator_capacitance": 0.0}, "integrator_capacitance"),
    ({"input_bits": 0}, "input_bits"),
    ({"adc_bits": 17}, "adc_bits"),
    ({"update_bits": 2.5}, "update_bits"),
    ({"weight_bits": True}, "weight_bits"),
    ({"on_resistance": float("nan")}, "on_resistance"),
    ({"read_voltage": float("inf")}, "read_voltage"),
    ({"input_activity": 1.5}, "input_activity"),
    ({"clock_frequency": "1 GHz"}, "clock_frequency"),
    ({"sense_overhead_cycles": -1}, "sense_overhead_cycles"),
    ({"rows": 0}, "rows"),
])
def test_bad_technology_is_a_clear_error(changes, field):
    with pytest.raises(ValueError, match=rf"Technology\.{field}: got .*allowed range"):
        Technology(**changes)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="designs: unknown design 'tpu'.*analog_reram"):
        kernel_costs(designs=("analog_reram", "tpu"))
    with pytest.raises(ValueError, match="designs: got duplicates"):
        kernel_costs(designs=("sram", "sram"))
    with pytest.raises(ValueError, match=r"Technology\.cols"):
        kernel_costs(cols=-3)
    with pytest.raises(ValueError, match="tech: got dict"):
        kernel_costs({"rows": 3})
    with pytest.raises(ValueError, match="layer_sizes"):
        network_costs((784,))
    with pytest.raises(ValueError, match="layer_sizes"):
        network_costs((784, 0, 10))
    with pytest.raises(ValueError, match="examples_per_epoch"):
        network_costs((4, 3), examples_per_epoch=0)
    with pytest.raises(ValueError, match="examples_per_epoch"):
        network_costs((4, 3), examples_per_epoch=True)
    with pytest.raises(ValueError, match="design: unknown design 'gpu'"):
        network_costs((4, 3), design="gpu")


# --- results: metadata and netCDF -------------------------------------------------------

def _check_metadata(ds: xr.Dataset):
    for name, var in ds.variables.items():
        assert var.attrs["long_name"], name
        if var.dtype.kind != "U":
            assert var.attrs["units"] in ("J", "s", "m2", "1", "A", "V"), name
    assert ds.attrs["tech_on_resistance"] == Technology().on_resistance


def test_kernel_costs_dataset_layout_metadata_and_netcdf(tmp_path):
    ds = DEFAULT
    assert ds.energy.dims == ("design", "kernel", "component")
    assert list(ds.component.values) == list(COMPONENTS)
    assert ds.area.dims == ("design", "component")
    np.testing.assert_allclose(ds.kernel_energy, ds.energy.sum("component"), rtol=1e-15)
    _check_metadata(ds)
    path = tmp_path / "cost.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), ds)


def test_technology_documents_every_field():
    for p in Technology.parameters():
        assert p["units"] and p["doc"] and p["source"], p["name"]
    assert set(Technology.units()) == {f.name for f in dataclasses.fields(Technology)}


# --- network mapping --------------------------------------------------------------------

def test_network_tiles_utilisation_and_cost_against_a_hand_computation(tmp_path):
    sizes, rows, cols = (784, 300, 10), 256, 128
    t = Technology()
    net = network_costs(sizes, design="digital_reram", tile_rows=rows, tile_cols=cols,
                        examples_per_epoch=1000)
    tile = kernel_costs(t, designs="digital_reram", rows=rows, cols=cols)
    e_tile = tile.kernel_energy.sel(design="digital_reram").values
    t_tile = tile.kernel_latency.sel(design="digital_reram").values

    expected_energy = expected_time = expected_inference = 0.0
    cells = weights = 0
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        k, m = math.ceil((n_in + 1) / rows), math.ceil(n_out / cols)
        assert int(net.tiles[layer]) == k * m
        assert float(net.tile_utilisation[layer]) == pytest.approx(
            (n_in + 1) * n_out / (k * m * rows * cols), rel=1e-12)
        fwd_adds, bwd_adds = (k - 1) * n_out, (m - 1) * n_in
        fwd_e = fwd_adds * (t.adc_bits + math.ceil(math.log2(k))) * t.adder_energy_per_bit
        bwd_e = bwd_adds * (t.adc_bits + math.ceil(math.log2(m))) * t.adder_energy_per_bit \
            if m > 1 else 0.0
        fwd_t = math.ceil(fwd_adds / t.mac_units) / t.clock_frequency
        bwd_t = math.ceil(bwd_adds / t.mac_units) / t.clock_frequency
        expected_energy += k * m * e_tile.sum() + fwd_e + bwd_e
        expected_time += t_tile.sum() + fwd_t + bwd_t
        expected_inference += k * m * e_tile[0] + fwd_e
        cells += k * m * rows * cols
        weights += (n_in + 1) * n_out
    assert float(net.training_energy_per_example) == pytest.approx(expected_energy, rel=1e-12)
    assert float(net.training_time_per_example) == pytest.approx(expected_time, rel=1e-12)
    assert float(net.inference_energy_per_example) == pytest.approx(expected_inference,
                                                                    rel=1e-12)
    assert float(net.utilisation) == pytest.approx(weights / cells, rel=1e-12)
    assert float(net.training_energy_per_epoch) == pytest.approx(1000 * expected_energy,
                                                                 rel=1e-12)
    assert float(net.training_time_per_epoch) == pytest.approx(1000 * expected_time, rel=1e-12)
    _check_metadata(net)
    net.to_netcdf(tmp_path / "net.nc")


@pytest.mark.parametrize("design", ["analog_reram", "sram"])
def test_carry_digits_multiply_reads_not_updates_and_price_the_readout(design):
    """Periodic carry with k digits: every tile has k copies; vmm and mvm read all of them and
    add the k outputs like partial sums, the opu updates one; the readout of the k - 1 lower
    digits (one full-tile vmm per row, every ``carry_every`` examples) is reported apart."""
    sizes, rows, cols, k, every = (300, 40, 10), 128, 32, 3, 10
    t = Technology()
    one = network_costs(sizes, design=design, tile_rows=rows, tile_cols=cols)
    net = network_costs(sizes, design=design, tile_rows=rows, tile_cols=cols, carry_digits=k,
                        carry_every=every)
    tile = kernel_costs(t, designs=design, rows=rows, cols=cols).sel(design=design)
    e_tile, t_tile = tile.kernel_energy.values, tile.kernel_latency.values
    energy = time = readout = 0.0
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        r, c = math.ceil((n_in + 1) / rows), math.ceil(n_out / cols)
        assert int(net.tiles[layer]) == k * r * c == k * int(one.tiles[layer])
        fwd, bwd = (k * r - 1) * n_out, (k * c - 1) * n_in
        energy += (k * r * c * (e_tile[0] + e_tile[1]) + r * c * e_tile[2]
                   + fwd * (t.adc_bits + math.ceil(math.log2(k * r))) * t.adder_energy_per_bit
                   + bwd * (t.adc_bits + math.ceil(math.log2(k * c))) * t.adder_energy_per_bit)
        time += (t_tile.sum() + math.ceil(fwd / t.mac_units) / t.clock_frequency
                 + math.ceil(bwd / t.mac_units) / t.clock_frequency)
        readout += (k - 1) * (n_in + 1) * c * e_tile[0] / every
    assert float(net.training_energy_per_example) == pytest.approx(energy, rel=1e-12)
    assert float(net.training_time_per_example) == pytest.approx(time, rel=1e-12)
    assert float(net.carry_readout_energy_per_example) == pytest.approx(readout, rel=1e-12)
    assert float(net.utilisation) == pytest.approx(float(one.utilisation), rel=1e-12)
    assert float(one.carry_readout_energy_per_example) == 0.0
    with pytest.raises(ValueError, match="carry_digits"):
        network_costs(sizes, carry_digits=0)


def test_network_on_single_tiles_has_no_partial_sums_and_omits_epochs_when_not_asked():
    net = network_costs((64, 36, 10))
    assert int(net.total_tiles) == 2
    assert float(net.partial_sum_energy.sum()) == 0.0
    step = float(DEFAULT.step_energy.sel(design="analog_reram"))
    assert float(net.training_energy_per_example) == pytest.approx(2 * step, rel=1e-12)
    assert "training_energy_per_epoch" not in net
    assert set(net.variables) <= set(VARIABLES)


def test_cost_section_holds_a_technology_whose_tile_comes_from_the_scenario():
    from mcvar.params import ParameterError
    from mcvar.periphery import Periphery
    from mcvar.tile import TileSpec
    from mcvar.workloads import Cost

    cost = Cost(technology=Technology(on_resistance=1e7))
    tech = cost.technology_for(TileSpec(rows=8, cols=4), Periphery(dac_bits=0, adc_bits=5))
    assert (tech.rows, tech.cols, tech.input_bits, tech.adc_bits, tech.on_resistance) == (
        8, 4, Technology().input_bits, 5, 1e7)
    with pytest.raises(ParameterError, match="cost.technology.rows: set by tile.rows"):
        Cost(technology=Technology(rows=8))
    with pytest.raises(ParameterError, match="expected mcvar.cost.Technology"):
        Cost(technology=(("on_resistance", 1e7),))


# --- design rules ------------------------------------------------------------------------

def test_design_rules_at_the_study_point_and_at_twice_its_size():
    """The issue's numbers: 33 uA and 0.85 V at N = 1024; 66 uA and 1.69 V at N = 2048 on the
    fixed 10 pF; the IR drop grows as N (N + 1) / 2 (1.7 % -> 6.8 % with 1 Ohm per cell)."""
    study = kernel_costs()
    assert float(study.line_current) == pytest.approx(1024 / 31e6, rel=1e-12)
    assert float(study.integrator_voltage) == pytest.approx(1024 / 31e6 * 256e-9 / 10e-12)
    assert float(study.integrator_voltage) == pytest.approx(0.846, abs=1e-3)
    assert float(study.ir_drop) == pytest.approx(1024 * 1025 / 2 / 31e6)
    margin = dict(zip(study.design_rule.values, study.rule_margin.values))
    assert margin["line_current"] == pytest.approx(1 - 1024 / 31e6 / 33e-6)
    assert margin["integrator_swing"] == pytest.approx(1 - 0.846 / 0.8, abs=2e-3)
    assert margin["ir_drop"] == pytest.approx(1 - 0.01693 / 0.05, abs=1e-3)
    np.testing.assert_array_equal(study.rule_feasible.values, [0, 0, 1])  # 0.1 %, 5.7 % over
    big = kernel_costs(rows=2048, cols=2048)
    assert float(big.line_current) == pytest.approx(2 * float(study.line_current))
    assert float(big.integrator_voltage) == pytest.approx(1.69, abs=0.01)
    assert float(big.ir_drop) / float(study.ir_drop) == pytest.approx(2048 * 2049 / 1024 / 1025)
    assert not big.rule_feasible.values.any()
    assert "design_rule" not in kernel_costs(designs="sram").dims
    assert kernel_costs().rule_feasible.attrs["flag_meanings"] == "violated met"


@pytest.mark.parametrize("n", [64, 1024, 3000, 4096])
def test_sized_technology_meets_every_rule_at_its_limit(n):
    from mcvar.cost.rules import margins, sized

    t = sized(Technology(rows=n, cols=n // 2))
    m = margins(t)
    assert np.all(m >= -1e-12)
    assert min(m[0], m[2]) == pytest.approx(0, abs=1e-12)  # resistance at the stricter limit
    assert m[1] == pytest.approx(0, abs=1e-12)  # capacitor just holds the full scale


def test_scaling_keeps_the_study_ratios_and_lists_both_variants():
    from mcvar.cost.scaling import scaling, scaling_table

    ds = scaling((512, 1024, 2048))
    at = ds.sel(tile_size=1024)
    np.testing.assert_allclose(at.energy_ratio.sel(variant="fixed"), [270, 434], rtol=0.035)
    # sizing by the rules moves the study point by the rounding of 31.03 to 31 MOhm only
    np.testing.assert_allclose(at.energy_ratio.sel(variant="sized"),
                               at.energy_ratio.sel(variant="fixed"), rtol=2e-3)
    np.testing.assert_allclose(ds.latency_ratio.sel(variant="sized"),
                               ds.latency_ratio.sel(variant="fixed"))  # R, C set no latency
    fixed = ds.rule_margin.sel(variant="fixed", tile_size=2048)
    assert (fixed < 0).all() and (ds.rule_margin.sel(variant="sized") > -1e-12).all()
    # larger tiles need larger resistance: less conduction energy, larger ratio
    assert float(ds.energy_ratio.sel(tile_size=2048, variant="sized", design="sram")) > \
        float(ds.energy_ratio.sel(tile_size=2048, variant="fixed", design="sram"))
    assert scaling_table(ds).count("\n") == 1 + 2 * 3

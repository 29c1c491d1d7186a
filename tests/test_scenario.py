"""Scenario files: loading, sweeps, seeds, tasks, TOML round trip, and every kind of bad input."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mcvar import scenario as sc
from mcvar.cost import Technology
from mcvar.devices import Device
from mcvar.params import ParameterError
from mcvar.periphery import Periphery
from mcvar.scenario import ScenarioError, dumps_toml, load, loads, parse_override
from mcvar.tile import Pulsing
from mcvar.training import Training
from mcvar.variables import annotate

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.toml"))

BASE = """
name = "base"
seed = 3
trials = 5
[device]
model = "soft_bounds"
[kernels]
reads = 10
updates = 10
[sweep]
device.read_noise = [0.0, 0.01, 0.02]
[sweep.zip.kind]
labels = ["a", "b"]
device.dw_min_std = [0.0, 0.3]
periphery.adc_bits = [0, 6]
"""


#: every shipped scenario: its sweep dimensions and their sizes
SHIPPED = {
    "adc_bits": {"periphery_adc_bits": 6}, "array_size": {"size": 5},
    "carry_fidelity": {"config": 6},
    "carry_settings": {"variant": 7}, "cost_reproduction": {}, "d2d_variation": {"d2d": 5},
    "digits_accuracy": {"device_kind": 7}, "lr_selection_digits": {"training_lr": 5, "config": 3},
    "nonlinearity": {"device_model": 2, "device_nonlinearity": 4},
    "quickstart": {"device_kind": 3}, "read_noise": {"device_read_noise": 6},
    "study_cost": {"size": 7, "periphery_adc_bits": 5}, "study_d2d": {"d2d": 6},
    "study_digits": {"device_kind": 8}, "study_file_types": {"device_kind": 8},
    "study_mnist": {"device_kind": 7},
    "study_nonlinearity": {"device_model": 2, "device_nonlinearity": 6},
    "study_read_noise": {"device_read_noise": 6}, "study_write_noise": {"device_write_noise": 6},
    "write_noise": {"device_write_noise": 6},
    "sensitivity_digits": {"device_kind": 2, "sample": 32 * (5 + 2)},
    "yield_digits": {"device_kind": 2, "converter_bits": 3, "training_carry_digits": 2},
}


def test_every_shipped_scenario_is_listed():
    assert {p.stem for p in SCENARIOS} == set(SHIPPED)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates_and_expands_to_its_points(path):
    s = load(path)
    assert dict(zip(s.dims, s.shape)) == SHIPPED[path.stem]
    assert len(s.configurations) == len(s.points()) == math.prod(s.shape)
    for point in s.points():  # every swept value reaches its point's configuration
        config = s.configuration(point)
        for axis, i in zip(s.axes, point):
            for key, values in zip(axis.keys, axis.values):
                value = config
                for part in key.split("."):
                    value = getattr(value, part)
                assert value == values[i], (point, key)
    if "sensitivity" not in s.tables:  # a sample may repeat points (binned integers)
        assert len(set(s.configurations)) == len(s.configurations)  # no two points alike


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_loads_and_round_trips(path):
    s = load(path)
    assert s.name == path.stem
    again = loads(s.to_toml(), source="resolved")
    assert again.configurations == s.configurations and again.axes == s.axes
    assert again.to_toml() == s.to_toml()
    tiny = load(path, tiny=True)
    assert tiny.trials <= 2 and tiny.dims == s.dims
    if "sensitivity" not in s.tables:  # --tiny shrinks a sensitivity sample, nothing else
        assert tiny.shape == s.shape


def test_cartesian_and_zipped_sweep():
    s = loads(BASE, source="base.toml")
    assert s.dims == ("device_read_noise", "kind") and s.shape == (3, 2)
    assert len(s.configurations) == 6
    c = s.configuration((2, 1))  # row-major: read noise outer, zipped group inner
    assert (c.device.read_noise, c.device.dw_min_std, c.periphery.adc_bits) == (0.02, 0.3, 6)
    assert s.configurations[1] == s.configuration((0, 1))
    assert s.describe((1, 0)) == "device_read_noise=0.01, kind=a"
    coords = s.coords()
    assert list(coords["kind"].values) == ["a", "b"]
    assert coords["periphery_adc_bits"].dims == ("kind",)
    assert coords["device_read_noise"].attrs["units"] == "1"
    assert "swept parameter device.read_noise" in coords["device_read_noise"].attrs["long_name"]
    assert list(s.coords((1, 0))["device_read_noise"].values) == [0.01]


def test_flag_sweep_coordinates_have_units_so_results_assemble():
    text = BASE.replace('model = "soft_bounds"', 'model = "lookup"').replace(
        "device.dw_min_std = [0.0, 0.3]", "device.read_noise = [0.0, 0.3]").replace(
        "[sweep]\ndevice.read_noise = [0.0, 0.01, 0.02]\n", "") + """
[pulsing]
rule = "continuous"
aggregate = true
[sweep.zip.update]
labels = ["aggregated", "calibrated"]
pulsing.calibrated = [false, true]
"""
    s = loads(text, source="t.toml")
    coords = s.coords()
    assert coords["pulsing_calibrated"].attrs["units"] == "1"
    assert list(coords["pulsing_calibrated"].values) == [False, True]
    annotate(xr.Dataset(coords=coords), s.dims)  # raised KeyError for a bool coordinate


def test_unlabelled_zip_and_tuple_values():
    text = BASE.replace('labels = ["a", "b"]\n', "") + """
[training]
epochs = 1
[sweep.zip.net]
training.hidden = [[16], [36, 12]]
training.lr = [0.1, 0.05]
"""
    s = loads(text, source="t.toml")
    assert list(s.coords()["kind"].values) == [0, 1]
    assert list(s.coords()["training_hidden"].values) == ["16", "36,12"]
    assert s.configuration((0, 0, 1)).training.hidden == (36, 12)
    assert isinstance(s.configuration((0, 0, 0)).training.lr, float)


def test_ints_become_floats_where_fields_are_float():
    s = loads(BASE.replace("[device]", "[device]\ndw_min = 1"), source="t")
    assert s.configurations[0].device.dw_min == 1.0 and isinstance(
        s.configurations[0].device.dw_min, float)


def test_common_seeds_by_default_and_independent_seeds_on_request():
    common = loads(BASE, source="t")
    assert {c.seed for c in common.configurations} == {3}
    independent = loads(BASE.replace("trials = 5", 'trials = 5\nsweep_seeds = "independent"'),
                        source="t")
    seeds = [c.seed for c in independent.configurations]
    assert len(set(seeds)) == len(seeds) and all(0 <= x < 2**63 for x in seeds)
    # a point's seed depends on its values, not its position: extending a sweep keeps it
    longer = loads(BASE.replace("[0.0, 0.01, 0.02]", "[0.05, 0.0, 0.01, 0.02]").replace(
        "trials = 5", 'trials = 5\nsweep_seeds = "independent"'), source="t")
    assert longer.configuration((1, 0)).seed == independent.configuration((0, 0)).seed


@pytest.mark.parametrize("trials, per, expected", [(5, 0, 1), (5, 2, 2), (300, 0, 14),
                                                   (3, 10, 3)])
def test_tasks_cover_every_trial_once(trials, per, expected):
    text = BASE.replace("trials = 5", f"trials = {trials}\ntrials_per_task = {per}")
    s = loads(text, source="t")
    assert s.trials_per_task == expected
    tasks = s.tasks()
    assert len({t.id for t in tasks}) == len(tasks)
    for flat, point in enumerate(s.points()):
        covered = sorted(i for t in tasks if t.flat == flat for i in t.trials)
        assert covered == list(range(trials)) and all(t.point == point for t in tasks
                                                       if t.flat == flat)
    if per == 0:  # automatic bundling keeps the task count modest
        assert len(tasks) <= sc.TARGET_TASKS + math.prod(s.shape)


def test_cost_adds_one_task_per_point():
    s = loads(BASE + "[cost]\n", source="t")
    cost = [t for t in s.tasks() if t.trials is None]
    assert len(cost) == 6 and cost[0].id == "p00000_cost"


def test_overrides_and_tiny():
    assert parse_override("device.read_noise=0.02") == ("device.read_noise", 0.02)
    assert parse_override("device.model=linear") == ("device.model", "linear")
    assert parse_override("sweep.periphery.adc_bits=[4, 8]") == ("sweep.periphery.adc_bits", [4, 8])
    s = loads(BASE, source="t", overrides=["device.dw_min=0.01", "sweep.device.read_noise=[0.1]",
                                           "kernels.transposed=false"], trials=7)
    assert s.shape == (1, 2) and s.trials == 7
    assert s.configurations[0].device.dw_min == 0.01
    assert s.configurations[0].kernels.kernels == ("vmm", "opu")
    tiny = loads(BASE + "[training]\nepochs = 30\n", source="t", tiny=True)
    c = tiny.configurations[0]
    assert tiny.trials == 2 and c.kernels.reads == 10 and c.kernels.updates == 10
    assert (c.training.epochs, c.training.train_examples, c.training.test_examples) == (1, 40, 40)


def test_dumps_toml_round_trips_nested_values():
    table = {"a": 1, "b": -2.5e-12, "c": "x \"y\"\n", "d": [1, 2], "e": True, "f": float("inf"),
             "t": {"u": [[1], [2, 3]], "v": {"w": "z"}}}
    assert tomllib.loads(dumps_toml(table)) == table


def test_frozen_configuration():
    s = loads(BASE, source="t")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.configurations[0].device.read_noise = 1.0


# ---------------------------------------------------------------- bad input

BAD = [
    # (replace in BASE, or append, key in the message, what the message must say)
    (("[device]", "[device]\nreadnoise = 0.1"), "device.readnoise",
     "unknown key (did you mean 'read_noise'?); allowed keys of [device]:"),
    (("seed = 3", "seed = 3\ncolour = 1"), "colour", "allowed top-level keys"),
    (("[device]", "[device]\ndw_min = \"big\""), "device.dw_min",
     "got 'big', expected a number; allowed range (0, inf) [1]"),
    (("[device]", "[device]\ndw_min = -0.1"), "device.dw_min", "allowed range (0, inf) [1]"),
    (("reads = 10", "reads = 2.5"), "kernels.reads", "expected int; allowed range [0, 1e+09] (integer) [1]"),
    (("model = \"soft_bounds\"", "model = \"ohmic\""), "device.model",
     "allowed: one of 'linear'"),
    (("[device]", "[device]\nread_noise_model = 3"), "device.read_noise_model", "allowed: one of"),
    (("[device]", "[device]\nw_max = [1, 2]"), "device.w_max", "to sweep it, give the list as "
                                                               "sweep.device.w_max"),
    (("trials = 5", "trials = 0"), "trials", "allowed range [1, 1e+09]"),
    (("[0.0, 0.01, 0.02]", "[]"), "sweep.device.read_noise", "empty list"),
    (("[0.0, 0.01, 0.02]", "[0.0, 0.01, 0.01]"), "sweep.device.read_noise", "duplicate values"),
    (("[0.0, 0.01, 0.02]", "[0.0, -0.01]"), "sweep.device.read_noise[1]",
     "allowed range [0, inf) [1]"),
    (("[0.0, 0.01, 0.02]", "0.01"), "sweep.device.read_noise", "expected a list"),
    (("periphery.adc_bits = [0, 6]", "periphery.adc_bits = [0, 6, 8]"), "sweep.zip.kind",
     "zipped lists differ in length"),
    (("periphery.adc_bits = [0, 6]", "periphery.adc_bits = [0, 30]"),
     "sweep.zip.kind.periphery.adc_bits[1]", "allowed: 0 (ideal, no quantisation)"),
    (("labels = [\"a\", \"b\"]", "labels = [\"a\"]"), "sweep.zip.kind.labels", "expected 2"),
    (("device.read_noise = [", "device.readnoise = ["), "sweep.device.readnoise",
     "unknown key (did you mean 'read_noise'?)"),
    (("device.read_noise = [", "training.lr = ["), "sweep.training.lr",
     "the scenario does not have"),
    (("[device]", "[device]\nread_noise = 0.1"), "device.read_noise",
     "given as a value and swept (sweep.device.read_noise)"),
    (("[device]", "[device]\np_stuck_on = 0.6\np_stuck_off = 0.6"), "device.p_stuck_on",
     "p_stuck_on + p_stuck_off must be <= 1"),
    (("model = \"soft_bounds\"", "model = \"lookup\"\ng_min = 1e-9"), "device.g_min",
     "must lie inside every measured device's range"),
    (("[device]", "[pulsing]\nrule = \"continuous\"\n[device]"), "pulsing.rule",
     "needs pulsing.aggregate = true"),
    (("reads = 10\nupdates = 10", "reads = 0\nupdates = 0"), "kernels.reads", "nothing to measure"),
    (("[kernels]", "[cost.technology]\nrows = 8\n[kernels]"), "cost.technology.rows",
     "set by tile.rows"),
    (("[kernels]", "[cost.technology]\non_resistance = -1\n[kernels]"),
     "cost.technology.on_resistance", "allowed range (0, inf) [Ohm]"),
    (("[kernels]", "[cost]\ndesigns = [\"tpu\"]\n[kernels]"), "cost.designs",
     "names from ('analog_reram'"),
    (("name = \"base\"", "name = \"a b\""), "name", "letters, digits"),
    (("[device]", "[periphery]\ndac_bits = [8]\n[device]"), "periphery.dac_bits",
     "allowed: 0 (ideal, no quantisation) or an integer in [2, "),
    (("[device]", "[periphery]\nadc_bits = 6.5\n[device]"), "periphery.adc_bits",
     "allowed: 0 (ideal, no quantisation) or an integer in [2, "),
    (("seed = 3", "seed = 3\ntrials = 4"), "trials", "given twice (again on line"),
    (("[kernels]", "[device]\nmodel = \"linear\"\n[kernels]"), "device", "given twice"),
    (("[0.0, 0.01, 0.02]", str([i / 1e6 for i in range(20_000)])), "sweep.device.read_noise",
     "the sweep has 40,000 points (20,000 x 2); allowed at most 10,000"),
]


@pytest.mark.parametrize("change, key, message", BAD, ids=[b[1] + "-" + str(i)
                                                            for i, b in enumerate(BAD)])
def test_bad_scenario_names_file_key_and_what_is_allowed(tmp_path, change, key, message):
    old, new = change
    assert old in BASE
    path = tmp_path / "bad.toml"
    path.write_text(BASE.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load(path)
    err = info.value
    assert err.key == key and err.source == str(path)
    assert str(err).startswith(f"{path}: {key}: ")
    assert message in str(err), str(err)
    assert "\n" not in str(err)


def test_cross_field_error_at_a_sweep_point_names_the_point(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(BASE.replace("[device]", "[device]\np_stuck_off = 0.5").replace(
        "[sweep]", "[sweep]\ndevice.p_stuck_on = [0.1, 0.7]"))
    with pytest.raises(ScenarioError, match=r"sweep.device.p_stuck_on\[1\]: p_stuck_on \+ "):
        load(path)


@pytest.mark.parametrize("text, message", [
    ("name = \"x\"\ntrials = [1,\n", "invalid TOML"),
    ("name = \"x\"\n[device]\n", "no workload"),
    ("name = \"x\"\ndevice = 3\n[kernels]\n", r"device: expected a table \[device\]"),
])
def test_bad_files(tmp_path, text, message):
    path = tmp_path / "f.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message) as info:
        load(path)
    assert str(info.value).startswith(str(path))


def test_binary_file_is_not_a_scenario(tmp_path):
    path = tmp_path / "b.toml"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(ScenarioError, match=r"b.toml: not a text file \(byte 0x80 at offset "
                                            r"128 is not UTF-8\); a scenario is a TOML file"):
        load(path)


def test_sweep_is_counted_before_it_is_expanded_or_checked():
    axis = str(list(range(1, 1001)))  # 10^9 points: refused by their count, in no time
    text = f"[kernels]\n[sweep]\nkernels.reads = {axis}\nkernels.updates = {axis}\n" \
           f"[sweep.zip.g]\ndevice.read_noise = {[i / 1e3 for i in range(1000)]}\n"
    with pytest.raises(ScenarioError, match=r"1,000,000,000 points \(1,000 x 1,000 x 1,000\)"):
        loads(text, source="big.toml")


def test_tiny_checks_the_values_as_given_before_shrinking_them():
    text = BASE.replace("trials = 5", "trials = 1000000000000")
    with pytest.raises(ScenarioError, match=r"trials: got 1000000000000, allowed range"):
        loads(text, tiny=True)
    assert loads(BASE, tiny=True).trials == sc.TINY["trials"]


def test_tile_too_big_for_this_machine_is_refused_before_allocating():
    from mcvar.scenario import check_memory, workers_that_fit
    from mcvar.scenario.memory import BASE as WORKER, BYTES_PER_CELL

    big = loads(BASE.replace("[device]", "[tile]\nrows = 16384\ncols = 16384\n[device]"))
    need = WORKER + BYTES_PER_CELL * 16384 ** 2
    with pytest.raises(ScenarioError, match=r"tile: a 16384 x 16384 tile needs about 86.5 GB "
                                            r"per kernels task.* 8.0 GB available; allowed"):
        check_memory(big, available=8e9)
    check_memory(big, available=need)
    assert workers_that_fit(big, 4, available=2.5 * need) == 2
    assert workers_that_fit(big, 4, available=0.5 * need) == 1


def test_missing_file_and_bad_override(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="expected KEY=VALUE"):
        loads(BASE, overrides=["read_noise"])


def test_clashing_coordinate_names_are_rejected():
    text = BASE + "[sweep.zip.trial]\ndevice.w_max = [1.0, 2.0]\n"
    with pytest.raises(ScenarioError, match="clashes with a result variable"):
        loads(text, source="t")


def test_sweep_of_tile_size_validates_cost_bits():
    text = BASE.replace("periphery.adc_bits = [0, 6]", "periphery.adc_bits = [0, 20]") + "[cost]\n"
    with pytest.raises(ScenarioError, match="periphery.adc_bits.*cost model covers 1..16 bits"):
        loads(text, source="t")
    assert np.isfinite(loads(BASE + "[cost]\n", source="t").configurations[0].kernels.lr)


@pytest.mark.parametrize("cls, field, good, bad", [
    (Device, "read_noise", 0.05, -1.0), (Periphery, "adc_bits", 6, 30),
    (Pulsing, "bl", 15, 0), (Training, "epochs", 2, 0)])
def test_replace_returns_a_validated_copy(cls, field, good, bad):
    base = cls()
    changed = base.replace(**{field: good})
    assert type(changed) is cls and getattr(changed, field) == good and base == cls()
    with pytest.raises(ParameterError, match=field):
        base.replace(**{field: bad})


def test_technology_is_a_nested_table_set_swept_and_written_back():
    text = BASE + """[cost.technology]
on_resistance = 10000000
[sweep.cost.technology]
read_voltage = [0.5, 1]
"""
    s = loads(text, source="t")
    assert s.dims[-1] == "technology_read_voltage" and s.shape == (3, 2, 2)
    tech = s.configuration((0, 0, 1)).cost.technology
    assert isinstance(tech, Technology) and tech.on_resistance == 1e7
    assert tech.read_voltage == 1.0 and isinstance(tech.read_voltage, float)
    assert tech.mac_units == Technology().mac_units  # defaults elsewhere
    used = s.configuration((0, 1, 0)).cost.technology_for(s.configurations[0].tile,
                                                          s.configuration((0, 1, 0)).periphery)
    assert (used.on_resistance, used.read_voltage, used.adc_bits) == (1e7, 0.5, 6)
    resolved = s.tables["cost"]["technology"]
    assert resolved["on_resistance"] == 1e7 and "read_voltage" not in resolved
    assert "rows" not in resolved and "adc_bits" not in resolved  # set by tile and periphery
    again = loads(s.to_toml(), source="resolved")
    assert again.configurations == s.configurations and again.to_toml() == s.to_toml()
    coords = s.coords()
    assert coords["technology_read_voltage"].attrs["units"] == "V"
    with pytest.raises(ScenarioError, match=r"cost.technology.on_resistance: given as a value "
                                            r"and swept \(sweep.cost.technology.on_resistance"):
        loads(text.replace("read_voltage = [0.5, 1]", "on_resistance = [1e6, 1e7]"), source="t")
    with pytest.raises(ScenarioError, match=r"cost.technology.ohms: unknown key.*allowed keys "
                                            r"of \[cost.technology\]"):
        loads(text.replace("on_resistance", "ohms"), source="t")
    with pytest.raises(ScenarioError, match=r"sweep.cost.technology.cols: set by tile.cols"):
        loads(text.replace("read_voltage", "cols"), source="t")


def test_values_take_the_type_of_their_field_hint():
    # out_bound: float | str (a union); g_min: float | None (optional); hidden: tuple
    s = loads(BASE.replace("[kernels]", "[periphery]\nout_bound = 3\n[kernels]").replace(
        'model = "soft_bounds"', 'model = "soft_bounds"\ng_min = 1'), source="t")
    periphery, device = s.configurations[0].periphery, s.configurations[0].device
    assert periphery.out_bound == 3.0 and isinstance(periphery.out_bound, float)
    assert device.g_min == 1.0 and isinstance(device.g_min, float)
    s = loads(BASE.replace("[kernels]", '[periphery]\nout_bound = "calibrated"\n[kernels]'),
              source="t")
    assert s.configurations[0].periphery.out_bound == "calibrated"
    with pytest.raises(ScenarioError, match=r"periphery.out_bound: got a list, expected a "
                                            r"single value"):
        loads(BASE.replace("[kernels]", "[periphery]\nout_bound = [3]\n[kernels]"), source="t")
    with pytest.raises(ScenarioError, match=r"training.hidden: got 16 \(integer\), expected a "
                                            r"list"):
        loads(BASE + "[training]\nhidden = 16\n", source="t")

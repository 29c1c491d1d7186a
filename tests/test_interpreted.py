"""The kernels run as plain Python (``NUMBA_DISABLE_JIT=1``) and give the compiled results.

Compiled kernels are opaque to coverage tools and debuggers, and Numba's typing can hide a
kernel that does not mean in Python what it computes compiled (integer widths, casts,
``prange``). This test runs one small workload that touches every kernel entry point twice:
compiled in the test process, and interpreted in a subprocess with ``NUMBA_DISABLE_JIT=1``,
then compares every array of the two runs (:func:`compare`), and checks a few interpreted
results against the NumPy twins of ``reference.py`` as well.

The workload (sizes kept tiny: interpreted Philox costs tens of microseconds per block):
Philox uniforms and ziggurat normals; forward and transposed reads of both weight mappings
with DAC/ADC, output noise, additive and multiplicative read noise, analog and digital
subtraction, abs-max noise management, the exact per-device noise path and the batched
(prange) path, a calibrated ADC; updates of every pulse rule on every step model and a
lookup device, aggregated and not, calibrated, through the serial and the row-shared
parallel kernel; Monte Carlo read and update statistics; one small training epoch with
periodic carry (pulses and write-verify) and the float64 twin's epoch.

Tolerance: random numbers are integer Philox words, the same in both runs, and + - * / and
sqrt are correctly rounded in both; only libm functions (exp, log, pow in the ziggurat's
tail, the exponential and soft-bounds device models, sigmoid/softmax) may differ in the last
bit between LLVM's and CPython's calls, and a stochastic rounding near a threshold could then
flip; NumPy's own vectorised exp/log (interpreted array code) may differ from libm's too.
On the machine this test was written on the two runs agree bitwise (all 215 arrays); the
test allows a difference of ``RTOL`` times each array's largest magnitude on floats and
requires histogram counts to be equal.

Run time: about 12 s on a busy 2-core machine (the interpreted subprocess 6-7 s of it) once
the kernels are compiled and cached. Run the interpreted workload alone, e.g. under
coverage, with ``NUMBA_DISABLE_JIT=1 python tests/test_interpreted.py out.npz`` (it covers
97 % of the kernels' statements).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
#: relative difference allowed between interpreted and compiled floats (see module docstring)
RTOL = 1e-12


def workload() -> dict[str, np.ndarray]:
    """Every kernel entry point on tiny sizes; every number it produced, by name."""
    sys.path[:0] = [str(TESTS)] if str(TESTS) not in sys.path else []
    import reference as ref
    from conftest import seeded

    from mcvar import montecarlo as mc
    from mcvar.accelerate import get_threads, set_threads
    from mcvar import tile as tile_module
    from mcvar.devices import Device
    from mcvar.kernels import rng
    from mcvar.periphery import Periphery
    from mcvar.tile import Pulsing, Tile, TileSpec
    from mcvar.training import Training, train

    out = {}
    r = seeded(20, 6)

    # ---- random numbers (words, uniforms, ziggurat normals with their rare slow path)
    key = rng.stream_key(7, 1, 2, 3)
    out["uniforms"] = rng.uniforms(key, (5, 3), op=4)
    out["normals"] = rng.normals(key, 2000, op=5)  # ~1.5 % take the rejection branch
    out["philox_reference"] = np.array(
        [ref.uniform_words(int(key), e, 4, 0) for e in range(4)]).ravel()[:15]

    # ---- reads
    read_cases = {
        "balanced_additive": (TileSpec(9, 5), Device(read_noise=0.05),
                              Periphery(dac_bits=5, adc_bits=6, out_noise=0.02)),
        "balanced_multiplicative_digital": (
            TileSpec(9, 5), Device(read_noise=0.05, read_noise_model="multiplicative",
                                   p_stuck_on=0.1, w_max_dtod=0.1),
            Periphery(dac_bits=4, adc_bits=5, out_noise=0.02, subtraction="digital",
                      noise_management="none")),
        "offset_analog": (TileSpec(7, 6, "offset"), Device(read_noise=0.03),
                          Periphery(dac_bits=6, adc_bits=7, out_noise=0.01)),
        "offset_digital_multiplicative": (
            TileSpec(7, 6, "offset"), Device(read_noise=0.03, read_noise_model="multiplicative"),
            Periphery(adc_bits=7, out_noise=0.01, subtraction="digital")),
    }
    for name, (spec, device, periphery) in read_cases.items():
        tile = Tile(spec, device, periphery, seed=3, tile=1)
        tile.program(0.7 * (2 * r.random((spec.rows, spec.cols)) - 1))
        X = r.uniform(-1, 1, (11, spec.rows))  # > one block of 8 vectors: the batched kernel
        Xt = r.uniform(-1, 1, (3, spec.cols))
        out[f"read_{name}_G"] = tile.G
        out[f"read_{name}_forward"] = tile.read(X)
        out[f"read_{name}_forward_one"] = tile.read(X[0])
        out[f"read_{name}_transposed"] = tile.read(Xt, transpose=True)
        out[f"read_{name}_exact"] = tile.read(X[:2], exact_noise=True)
        out[f"read_{name}_exact_transposed"] = tile.read(Xt[:2], transpose=True,
                                                         exact_noise=True)
    calibrated = Tile(TileSpec(9, 5), Device(), Periphery(adc_bits=6, out_bound="calibrated"),
                      seed=4)
    calibrated.program(0.5 * (2 * r.random((9, 5)) - 1), noise=False)
    out["read_calibrated_bound"] = np.array([calibrated.calibrate_adc(r.uniform(-1, 1, (20, 9)))])
    out["read_calibrated"] = calibrated.read(r.uniform(-1, 1, (4, 9)))

    # noise-free reads through DAC and ADC against the NumPy twin
    for mapping, subtraction in (("balanced", "analog"), ("offset", "digital")):
        periphery = Periphery(dac_bits=5, adc_bits=6, subtraction=subtraction)
        tile = Tile(TileSpec(6, 4, mapping), Device(), periphery, seed=5)
        tile.program(0.6 * (2 * r.random((6, 4)) - 1), noise=False)
        for transpose in (False, True):
            X = r.uniform(-1, 1, (3, 4 if transpose else 6))
            got = tile.read(X, transpose=transpose)
            want = ref.read(X, tile.G, tile.g_ref, tile.inst.g_range, transpose=transpose,
                            subtraction=subtraction, dac_bits=5, adc_bits=6,
                            out_bound=tile.read_config(transpose).out_bound, abs_max=True)
            out[f"read_reference_{mapping}_{transpose}"] = np.stack([got, want])

    # ---- updates: every rule on every step model and a lookup device
    steps = dict(dw_min=0.02, dw_min_std=0.3, dw_min_dtod=0.2, w_max_dtod=0.1, up_down=0.1,
                 write_noise=0.02, write_noise_std=0.5, p_stuck_off=0.05)
    devices = {model: Device(model=model, **steps) for model in
               ("linear", "linear_step", "soft_bounds", "exponential", "crosssim_asymmetric",
                "crosssim_symmetric")}
    devices["proportional_noise"] = Device(model="soft_bounds", write_noise_model="proportional",
                                           **steps)
    devices["inverse_noise"] = Device(model="exponential", write_noise_model="inverse", **steps)
    devices["lookup"] = Device(model="lookup", p_stuck_on=0.1)
    rules = [Pulsing(rule=rule, bl=8, n_max=8) for rule in
             ("deterministic", "stochastic", "pulse_train", "implicit")]
    rules += [Pulsing(rule="stochastic", bl=8, n_max=8, aggregate=True),
              Pulsing(rule="continuous", aggregate=True)]
    for name, device in devices.items():
        pulsings = rules + ([Pulsing(rule="continuous", aggregate=True, calibrated=True)]
                            if name == "lookup" else [])
        for k, pulsing in enumerate(pulsings):
            tile = Tile(TileSpec(5, 4, "offset" if k == 2 else "balanced"), device,
                        pulsing=pulsing, seed=6, tile=k)
            tile.program(0.5 * (2 * r.random((5, 4)) - 1), noise=False)
            for op in range(3):
                if op == 2:  # the row-shared parallel kernel on the same tile
                    tile_module._PARALLEL_CELLS, saved = 0, tile_module._PARALLEL_CELLS
                try:
                    tile.update(r.normal(size=5), r.normal(size=4), 0.1)
                finally:
                    if op == 2:
                        tile_module._PARALLEL_CELLS = saved
            tag = f"update_{name}_{pulsing.rule}_{pulsing.aggregate}_{pulsing.calibrated}"
            out[tag + "_G"], out[tag + "_offset"] = tile.G, tile.offset
            out[tag + "_pulses"] = tile.pulses

    # ---- Monte Carlo statistics
    for name, rule in (("soft_bounds", "stochastic"), ("lookup", "pulse_train")):
        tile = Tile(TileSpec(6, 5), devices[name], Periphery(adc_bits=7, out_noise=0.02),
                    Pulsing(rule=rule, bl=8, n_max=8), seed=8)
        tile.program(mc.random_weights(tile), noise=False)
        narrow = np.linspace(-0.01, 0.01, 21)  # most errors beyond the end bins
        for tag, stats in (("read", mc.read_errors(tile, 12, batch=7, edges=narrow)),
                           ("read_transposed", mc.read_errors(tile, 5, transpose=True)),
                           ("update", mc.update_errors(tile, 3, lr=0.5))):
            out[f"mc_{name}_{tag}"] = np.array([stats.mean, stats.std, stats.max_abs,
                                                stats.signal_rms, stats.slope, *stats.pulses])
            out[f"mc_{name}_{tag}_counts"] = stats.counts
        out[f"mc_{name}_G"] = tile.G

    # ---- training: one tiny epoch with periodic carry, and the float64 twin
    # (layer 0 on 2 tiles of up to 40 rows; updates row-shared over the threads, and on one
    # thread the serial kernel)
    small = Training(hidden=(3,), epochs=1, train_examples=12, test_examples=20, lr=0.2,
                     carry_digits=2, carry_every=4, carry_threshold=0.2)
    threads = get_threads()
    for tag, training, device, mapping, n_threads in (
            ("verify", small, Device(model="soft_bounds", dw_min=0.01, read_noise=0.02,
                                     program_noise=0.01, p_stuck_on=0.05), "offset", threads),
            ("pulses", small.replace(carry_write="open_loop", carry_reset="blind"), Device(model="lookup"), "balanced",
             1),
            ("numeric", small.replace(backend="numeric", carry_digits=1), Device(), "balanced",
             threads)):
        set_threads(n_threads)
        try:
            result = train(training, TileSpec(40, 10, mapping), device,
                           Periphery(dac_bits=6, adc_bits=7),
                           Pulsing(rule="stochastic", aggregate=True), seed=9)
        finally:
            set_threads(threads)
        out[f"train_{tag}"] = np.concatenate([result.train_loss, result.train_accuracy,
                                              result.test_accuracy, result.pulses.ravel()])
    return out


def compare(interpreted: dict, compiled: dict) -> None:
    """Same names and shapes; integers and booleans equal; floats to ``RTOL`` relative
    (to the largest magnitude of the array, so values near zero do not inflate it)."""
    assert interpreted.keys() == compiled.keys()
    for name, want in compiled.items():
        got = interpreted[name]
        assert got.shape == want.shape and got.dtype == want.dtype, name
        if want.dtype.kind in "iub" or name.endswith("_counts"):
            assert np.array_equal(got, want), name
        else:
            scale = max(np.abs(want[np.isfinite(want)]).max(initial=0.0), 1e-300)
            assert np.array_equal(np.isfinite(got), np.isfinite(want)), name
            np.testing.assert_allclose(got, want, rtol=0, atol=RTOL * scale, err_msg=name)


@pytest.mark.interpreted
def test_interpreted_kernels_equal_compiled(tmp_path):
    """NUMBA_DISABLE_JIT=1: the kernels as Python give the compiled results (module docstring);
    they ran at all (numbers that are not trivially zero), and agree with the NumPy twins."""
    target = tmp_path / "interpreted.npz"
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, __file__, str(target)], env=env, cwd=ROOT, check=True,
                   timeout=600)
    with np.load(target) as f:
        interpreted = dict(f)
    compiled = {k: np.asarray(v) for k, v in workload().items()}
    compare(interpreted, compiled)
    assert np.abs(compiled["read_balanced_additive_forward"]).max() > 0
    assert compiled["update_lookup_stochastic_False_False_pulses"].min() > 0
    assert compiled["mc_lookup_update"][-2:].min() > 0  # pulses (up, down)
    assert compiled["train_pulses"][-2:].min() > 0
    for name, pair in interpreted.items():
        if name.startswith("read_reference"):
            np.testing.assert_allclose(pair[0], pair[1], rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(interpreted["uniforms"].ravel(),
                                  interpreted["philox_reference"])


if __name__ == "__main__":  # the interpreted run: NUMBA_DISABLE_JIT=1 python tests/... out.npz
    sys.path.insert(0, str(ROOT))
    from numba import config

    if not config.DISABLE_JIT:
        sys.exit("run with NUMBA_DISABLE_JIT=1")
    with warnings.catch_warnings():  # Philox's uint32 additions wrap on purpose
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        results = workload()
    np.savez(sys.argv[1], **results)

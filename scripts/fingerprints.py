"""Fingerprints of a broad, fixed set of seeded computations (a refactoring's safety net).

Prints one SHA-256 of the raw bytes (dtype, shape and values) per result: tiles of every
device model (step models, TaOx and ENODe lookup tables, stuck cells, d2d variation) under
every pulse rule, both mappings, aggregated and pulse by pulse, on a small tile and on one
above the parallel-update threshold (conductances, write-noise offsets and pulse counts
after a few updates); forward and transposed reads (output-referred and exact noise, DAC/ADC,
digital subtraction, calibrated ADC, batches of one block and of many); Monte Carlo read and
update statistics; training on the packaged digits data (ideal device, TaOx, ENODe
calibrated, TaOx with periodic carry written by write-verify and by pulses) and the float64
twin. Only public APIs are used, so the script runs unchanged before and after a refactor.

    python scripts/fingerprints.py --json base.json      # record
    python scripts/fingerprints.py --compare base.json   # exit 1 on any mismatch

Run it with ``NUMBA_NUM_THREADS=1`` and with 2 threads: the numbers must not depend on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcvar import montecarlo  # noqa: E402
from mcvar.devices import Device  # noqa: E402
from mcvar.periphery import Periphery  # noqa: E402
from mcvar.tile import Pulsing, Tile, TileSpec  # noqa: E402
from mcvar.training import Training, train  # noqa: E402

RULES = ("deterministic", "stochastic", "pulse_train", "implicit", "continuous")
SIZES = ((9, 7), (70, 130), (130, 130))  # 130 x 130 is above the parallel-update threshold

#: every device model, with noise, d2d variation and stuck cells spread over them
DEVICES = {
    "linear": Device(model="linear", dw_min=0.01, dw_min_std=0.3, dw_min_dtod=0.2,
                     w_max_dtod=0.1, w_min_dtod=0.1, write_noise=0.01, read_noise=0.02),
    "linear_step": Device(model="linear_step", dw_min=0.01, gamma_up=0.5, gamma_down=0.3,
                          gamma_up_dtod=0.1, up_down=0.1, up_down_dtod=0.05,
                          write_noise_std=0.5, read_noise=0.02,
                          read_noise_model="multiplicative"),
    "soft_bounds": Device(model="soft_bounds", dw_min=0.01, dw_min_std=0.2, p_stuck_on=0.05,
                          p_stuck_off=0.05, write_noise=0.02, write_noise_model="proportional"),
    "exponential": Device(model="exponential", dw_min=0.01, nu_up=2.0, nu_down=1.0,
                          nonlinearity_dtod=0.1, write_noise=0.02, write_noise_model="inverse",
                          program_noise=0.01),
    "crosssim_asymmetric": Device(model="crosssim_asymmetric", dw_min=0.01, nonlinearity=2.0,
                                  dw_min_std=0.1, nonlinearity_dtod=0.1),
    "crosssim_symmetric": Device(model="crosssim_symmetric", dw_min=0.01, nonlinearity=1.5,
                                 dw_min_dtod=0.1, p_stuck_off=0.1),
    "taox": Device(model="lookup", table="TaOx", write_noise_std=0.3, read_noise=0.01,
                   p_stuck_on=0.03),
    "enode": Device(model="lookup", table="ENODe", write_noise=0.01, read_noise=0.01,
                    read_noise_model="multiplicative"),
}


def digest(value) -> str:
    a = np.ascontiguousarray(np.asarray(value))
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def pulsings(model: str):
    for rule in RULES:
        for aggregate in (False, True):
            if rule == "continuous" and not aggregate:
                continue
            yield f"{rule}{'-agg' if aggregate else ''}", Pulsing(rule=rule, aggregate=aggregate,
                                                                   bl=15, n_max=20)
            if model == "lookup" and aggregate:
                yield f"{rule}-cal", Pulsing(rule=rule, aggregate=True, calibrated=True,
                                             bl=15, n_max=20)


def updates(out: dict) -> None:
    for dname, device in DEVICES.items():
        for rows, cols in SIZES:
            for mapping in ("balanced", "offset"):
                spec = TileSpec(rows=rows, cols=cols, mapping=mapping)
                for pname, pulsing in pulsings(device.model):
                    tile = Tile(spec, device, Periphery(), pulsing, seed=11, trial=2, tile=3)
                    tile.program(montecarlo.random_weights(tile, 0.4))
                    gen = np.random.default_rng(5)
                    counts = []
                    for _ in range(3):
                        x = gen.uniform(-1, 1, rows)
                        d = gen.normal(0, 0.3, cols)
                        counts.append(tile.update(x, d, lr=0.05))
                    name = f"update/{dname}/{rows}x{cols}/{mapping}/{pname}"
                    out[name + "/G"] = digest(tile.G)
                    out[name + "/offset"] = digest(tile.offset)
                    out[name + "/counts"] = digest(np.array(counts))
                    out[name + "/weights"] = digest(tile.weights())


PERIPHERIES = {
    "ideal": Periphery(),
    "converters": Periphery(dac_bits=6, adc_bits=8, out_noise=0.02),
    "digital": Periphery(dac_bits=7, adc_bits=9, subtraction="digital", out_noise=0.01),
    "no-nm": Periphery(adc_bits=8, noise_management="none", inp_bound=2.0),
    "calibrated": Periphery(dac_bits=8, adc_bits=8, out_bound="calibrated"),
}


def reads(out: dict) -> None:
    for dname in ("linear", "linear_step", "taox", "enode"):
        device = DEVICES[dname]
        for rows, cols in SIZES:
            for mapping in ("balanced", "offset"):
                spec = TileSpec(rows=rows, cols=cols, mapping=mapping)
                for per_name, per in PERIPHERIES.items():
                    tile = Tile(spec, device, per, Pulsing(), seed=4, trial=1, tile=2)
                    tile.program(montecarlo.random_weights(tile, 0.6))
                    gen = np.random.default_rng(9)
                    if per.out_bound == "calibrated":
                        for transpose, k in ((False, rows), (True, cols)):
                            tile.calibrate_adc(gen.uniform(-1, 1, (64, k)), transpose)
                    name = f"read/{dname}/{rows}x{cols}/{mapping}/{per_name}"
                    for transpose, k in ((False, rows), (True, cols)):
                        tag = "T" if transpose else "F"
                        for batch in (1, 5, 37):
                            X = gen.uniform(-1.2, 1.2, (batch, k))
                            out[f"{name}/{tag}/b{batch}"] = digest(tile.read(X, transpose))
                        if rows * cols < 1000:
                            X = gen.uniform(-1, 1, (6, k))
                            out[f"{name}/{tag}/exact"] = digest(
                                tile.read(X, transpose, exact_noise=True))
                    tile.update(gen.uniform(-1, 1, rows), gen.normal(0, 0.3, cols), lr=0.05)
                    out[f"{name}/after-update"] = digest(tile.read(gen.uniform(-1, 1, (9, rows))))


def stats_digest(s) -> str:
    return digest(np.concatenate([[s.operations, s.samples, s.mean, s.std, s.max_abs,
                                   s.signal_rms, s.slope], s.edges, s.counts, s.pulses]))


def statistics(out: dict) -> None:
    cases = {
        "linear-stoch": (DEVICES["linear"], Pulsing(), TileSpec(rows=24, cols=40)),
        "softb-train-offset": (DEVICES["soft_bounds"], Pulsing(rule="pulse_train", bl=31),
                               TileSpec(rows=33, cols=20, mapping="offset")),
        "taox-agg": (DEVICES["taox"], Pulsing(rule="stochastic", aggregate=True),
                     TileSpec(rows=20, cols=24)),
        "enode-cal": (DEVICES["enode"], Pulsing(rule="continuous", aggregate=True,
                                                calibrated=True), TileSpec(rows=17, cols=12)),
        "taox-pulses-big": (DEVICES["taox"], Pulsing(rule="stochastic"),
                            TileSpec(rows=70, cols=130)),
    }
    for name, (device, pulsing, spec) in cases.items():
        tile = Tile(spec, device, Periphery(dac_bits=8, adc_bits=8), pulsing, seed=2, trial=5)
        tile.program(montecarlo.random_weights(tile, 0.5))
        r = montecarlo.read_errors(tile, 300, batch=128)
        out[f"mc/{name}/vmm"] = stats_digest(r)
        r = montecarlo.read_errors(tile, 200, transpose=True)
        out[f"mc/{name}/mvm"] = stats_digest(r)
        u = montecarlo.update_errors(tile, 40, lr=0.02)
        out[f"mc/{name}/opu"] = stats_digest(u)
        out[f"mc/{name}/G"] = digest(tile.G)
        out[f"mc/{name}/read-after"] = digest(tile.read(np.linspace(-1, 1, spec.rows)))


def trainings(out: dict) -> None:
    small = TileSpec(rows=40, cols=24)
    conv = Periphery(dac_bits=8, adc_bits=8)
    base = Training(hidden=(30,), epochs=2, train_examples=300, test_examples=200)
    ideal = Device(model="linear", dw_min=0.001)
    cases = {
        "ideal": (base, TileSpec(rows=128, cols=128, weight_bound=8.0), ideal, Periphery(),
                  Pulsing(rule="continuous", aggregate=True, n_max=1 << 20)),
        "ideal-tiled": (base, small, ideal, conv, Pulsing()),
        "taox": (base, small, DEVICES["taox"], conv,
                 Pulsing(rule="continuous", aggregate=True)),
        "enode-cal": (base, small, DEVICES["enode"],
                      Periphery(dac_bits=8, adc_bits=8, out_bound="calibrated"),
                      Pulsing(rule="continuous", aggregate=True, calibrated=True)),
        "taox-carry-verify": (dataclasses.replace(base, carry_digits=2, carry_every=7), small,
                              Device(model="lookup", read_noise=0.01, program_noise=0.01),
                              conv, Pulsing(rule="continuous", aggregate=True)),
        "taox-carry-pulses": (dataclasses.replace(base, carry_digits=2, carry_every=7, carry_write="open_loop", carry_reset="blind"),
                              small, DEVICES["taox"], conv, Pulsing(rule="stochastic",
                                                                    aggregate=True)),
        "softb-offset": (dataclasses.replace(base, hidden=(20, 12)), TileSpec(rows=30, cols=16,
                                                                 mapping="offset"),
                         DEVICES["soft_bounds"], Periphery(adc_bits=8, subtraction="digital"),
                         Pulsing(rule="pulse_train")),
        "numeric": (dataclasses.replace(base, backend="numeric", hidden=(20, 12)), small, ideal, conv,
                    Pulsing()),
    }
    for name, (training, spec, device, per, pulsing) in cases.items():
        r = train(training, spec, device, per, pulsing, seed=7, trial=1)
        out[f"train/{name}/loss"] = digest(r.train_loss)
        out[f"train/{name}/train_acc"] = digest(r.train_accuracy)
        out[f"train/{name}/test_acc"] = digest(r.test_accuracy)
        out[f"train/{name}/pulses"] = digest(r.pulses)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the fingerprints to this file")
    parser.add_argument("--compare", type=Path, help="compare with fingerprints in this file")
    parser.add_argument("--only", default="", help="comma-separated groups "
                        "(updates, reads, statistics, trainings); default all")
    args = parser.parse_args(argv)
    groups = {"updates": updates, "reads": reads, "statistics": statistics,
              "trainings": trainings}
    chosen = args.only.split(",") if args.only else list(groups)
    out: dict[str, str] = {}
    for g in chosen:
        t0 = time.perf_counter()
        groups[g](out)
        print(f"# {g}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    if not args.compare:
        for k, v in out.items():
            print(v, k)
        return 0
    base = json.loads(args.compare.read_text())
    bad = [k for k in out if base.get(k) != out[k]]
    group_of = {"update": "updates", "read": "reads", "mc": "statistics", "train": "trainings"}
    missing = [k for k in base if k not in out and group_of[k.split("/")[0]] in chosen]
    for k in bad:
        print(f"MISMATCH {k}: {base.get(k)} != {out[k]}")
    print(f"{len(out)} fingerprints, {len(bad)} mismatches"
          + (f", {len(missing)} of the base not computed" if missing else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Reproducibility: same seed -> bitwise the same; independent of thread count, batch split
and the interleaving of other streams; different seeds differ (docs/random.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from conftest import seeded

from mcvar import montecarlo as mc
from mcvar import tile as tile_module
from mcvar.datasets import load_dataset, standardize
from mcvar.devices import Device
from mcvar.kernels import write as wk
from mcvar.network import CrossbarNetwork
from mcvar.periphery import Periphery
from mcvar.streams import Stream
from mcvar.tile import Pulsing, Tile, TileSpec
from mcvar.training import Training, example_orders, initial_weights, network_sizes

NOISY_DEVICE = Device(model="soft_bounds", dw_min=0.01, dw_min_std=0.3, write_noise=0.02,
                      write_noise_std=0.5, read_noise=0.04, program_noise=0.01, w_max_dtod=0.1,
                      dw_min_dtod=0.2, p_stuck_on=0.02, p_stuck_off=0.02)
NOISY_PERIPHERY = Periphery(out_noise=0.03, adc_bits=8, dac_bits=6)


def noisy_tile(seed=1, trial=0, tile=0, rule="stochastic", mapping="balanced", rows=20, cols=9,
               device=NOISY_DEVICE):
    return Tile(TileSpec(rows, cols, mapping), device, NOISY_PERIPHERY, Pulsing(rule=rule, bl=20),
                seed=seed, trial=trial, tile=tile)


def history(tile):
    """A fixed sequence of programming, reads and updates; everything it produced."""
    r = seeded(0)
    R, C = tile.spec.rows, tile.spec.cols
    tile.program(0.5 * (2 * r.random((R, C)) - 1))
    out = [tile.G.copy(), tile.read(r.uniform(-1, 1, (17, R))),
           tile.read(r.uniform(-1, 1, (5, C)), transpose=True),
           tile.read(r.uniform(-1, 1, (3, R)), exact_noise=True)]
    for _ in range(4):
        tile.update(r.normal(size=R), r.normal(size=C), 0.05)
    out += [tile.G.copy(), tile.offset.copy(), tile.pulses.copy()]
    out.append(np.array([mc.update_errors(tile, 6, lr=0.05).std]))
    out.append(tile.G.copy())
    return out


@pytest.mark.parametrize("rule", ["stochastic", "pulse_train"])
def test_same_seed_bitwise_identical(rule):
    for a, b in zip(history(noisy_tile(rule=rule)), history(noisy_tile(rule=rule))):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("changed", [dict(seed=2), dict(trial=1), dict(tile=1)])
def test_different_seed_trial_or_tile_differ(changed):
    base, other = history(noisy_tile()), history(noisy_tile(**changed))
    for a, b in zip(base, other):
        assert not np.array_equal(a, b)


#: a tile above the parallel-update threshold (asserted by the test), of 130 rows: the two
#: threads' row shares (65 : 65) and the serial path's single share differ
BIG = dict(rows=130, cols=130)
#: a small network with carry by pulses, layer 0 (65 rows) on two tiles of up to 40 rows; few
#: examples: on a busy machine a parallel region can stall for milliseconds
NETWORK = dict(training=Training(epochs=1, hidden=(12,), train_examples=20, test_examples=50,
                                 carry_digits=2, carry_every=5, carry_write="open_loop", carry_reset="blind"),
               spec=TileSpec(rows=40, cols=20),
               periphery=Periphery(dac_bits=6, adc_bits=6, out_noise=0.01))
NETWORK_DEVICES = {
    "lookup": (Device(model="lookup", table="ENODe", read_noise=0.02, program_noise=0.01),
               Pulsing(rule="stochastic", aggregate=True)),
    "soft_bounds": (NOISY_DEVICE, Pulsing(rule="pulse_train", bl=20)),
}


def thread_run() -> dict[str, np.ndarray]:
    """Everything the big tile's :func:`history` (three pulse rules) and a training epoch of
    :data:`NETWORK` (two devices) produce with this process's Numba thread count."""
    out = {"threads": np.array([numba.get_num_threads()])}
    for rule in ("stochastic", "pulse_train", "deterministic"):
        for i, a in enumerate(history(noisy_tile(rule=rule, **BIG))):
            out[f"tile_{rule}_{i}"] = a
    data = load_dataset("digits")
    x_train, x_test = standardize(data.x_train, data.x_test)
    training, spec = NETWORK["training"], NETWORK["spec"]
    sizes = network_sizes(training, data.n_features, data.n_classes)
    order = example_orders(len(data.y_train), training.train_examples, 1, 3, 0)[0]
    for name, (device, pulsing) in NETWORK_DEVICES.items():
        net = CrossbarNetwork(training, spec, device, NETWORK["periphery"], pulsing, sizes,
                              initial_weights(sizes, 3, 0, spec.weight_bound), seed=3, trial=0)
        out[f"train_{name}_stats"] = net.train_epoch(x_train, data.y_train, order, 0.05)
        out[f"train_{name}_accuracy"] = np.array([net.evaluate(x_test[:50], data.y_test[:50])])
        for l, W in enumerate(net.weights()):
            out[f"train_{name}_weights_{l}"] = W
    return out


@pytest.fixture(scope="module")
def thread_runs(tmp_path_factory):
    """:func:`thread_run` in subprocesses started with NUMBA_NUM_THREADS=1 and 2 (whatever
    the machine has, so the comparison never skips), importing this checkout's mcvar."""
    folder = tmp_path_factory.mktemp("threads")
    tests = Path(__file__).resolve().parent
    path = os.pathsep.join([str(tests.parent), str(tests),
                            *filter(None, [os.environ.get("PYTHONPATH")])])
    runs = {}
    for n in (1, 2):
        target = folder / f"threads{n}.npz"
        env = dict(os.environ, NUMBA_NUM_THREADS=str(n), PYTHONPATH=path)
        subprocess.run([sys.executable, __file__, str(target)], env=env, cwd=tests.parent,
                       check=True, timeout=900)
        with np.load(target) as f:
            runs[n] = dict(f)
        assert runs[n].pop("threads")[0] == n
    return runs[1], runs[2]


def test_tile_one_and_two_threads_identical(thread_runs):
    """A tile above the parallel threshold: with 2 threads its updates share the rows out
    (update_rank1), with 1 they run serially; reads of several vector blocks, update
    sequences of several row blocks. Bitwise the same for every pulse rule."""
    assert BIG["rows"] * BIG["cols"] >= tile_module._PARALLEL_CELLS  # else both are serial
    one, two = thread_runs
    names = [k for k in one if k.startswith("tile_")]
    assert len(names) == 3 * len(history(noisy_tile()))
    for name in names:
        assert np.array_equal(one[name], two[name]), name


def test_training_one_and_two_threads_identical(thread_runs):
    """A training epoch shares each example's update rows over the threads (1 thread: the
    serial kernel): bitwise the same weights, loss, correct count, pulses and accuracy, with
    carry by pulses, for a lookup device (aggregated) and a step model (bit streams)."""
    one, two = thread_runs
    names = [k for k in one if k.startswith("train_")]
    assert len(names) == 2 * 4
    for name in names:
        assert np.array_equal(one[name], two[name]), name
    for device in NETWORK_DEVICES:
        assert one[f"train_{device}_stats"][2:].min() > 0  # pulses (up, down) were applied


def test_batch_split_equals_one_call():
    """Vector b of a batch uses operation op0 + b: one call of 23 vectors equals calls of
    10 and 13, for both noise paths and both directions (op counters continue)."""
    X = seeded(1).uniform(-1, 1, (23, 20))
    Xt = seeded(2).uniform(-1, 1, (23, 9))
    for exact in (False, True):
        a, b = noisy_tile(), noisy_tile()
        whole = a.read(X, exact_noise=exact), a.read(Xt, transpose=True, exact_noise=exact)
        parts = (np.concatenate([b.read(X[:10], exact_noise=exact),
                                 b.read(X[10:], exact_noise=exact)]),
                 np.concatenate([b.read(Xt[:13], transpose=True, exact_noise=exact),
                                 b.read(Xt[13:], transpose=True, exact_noise=exact)]))
        for w, p in zip(whole, parts):
            assert np.array_equal(w, p)


def test_streams_do_not_shift_each_other():
    """Forward reads are the same whether transposed reads and programming-noise draws happen
    in between or not (each kind of draw has its own stream and counter)."""
    X = seeded(3).uniform(-1, 1, (6, 20))
    a, b = noisy_tile(), noisy_tile()
    a.program(np.zeros((20, 9)), noise=False)
    b.program(np.zeros((20, 9)), noise=False)
    ya = [a.read(X[i]) for i in range(6)]
    yb = []
    for i in range(6):
        b.read(np.ones(9), transpose=True)
        yb.append(b.read(X[i]))
    assert np.array_equal(np.array(ya), np.array(yb))
    assert not np.array_equal(ya[0], ya[1])  # the noise is fresh per read


def _state_copy(tile, op):
    """The tile's state with copies of its conductances, offsets and counters, at update ``op``."""
    ops = tile.ops.copy()
    ops[Stream.UPDATE_NOISE] = op
    return tile.state._replace(G=tile.G.copy(), offset=tile.offset.copy(), ops=ops)


@pytest.mark.parametrize("rule", ["deterministic", "stochastic", "pulse_train", "implicit",
                                  "continuous"])
@pytest.mark.parametrize("model", ["soft_bounds", "exponential", "lookup"])
def test_update_one_equals_update_rank1(rule, model):
    """The serial kernel equals the parallel one bitwise (state, offsets, pulse counts),
    however the rows are shared out."""
    extra = dict(dw_min_std=0.3, nu_up=1.0, nu_down=2.0) if model != "lookup" else {}
    device = Device(model=model, write_noise=0.02, write_noise_std=0.5, dw_min_dtod=0.1, **extra)
    tile = Tile(TileSpec(12, 7), device,
                pulsing=Pulsing(rule=rule, bl=20, aggregate=rule == "continuous"), seed=5)
    tile.program(0.4 * (2 * seeded(4).random((12, 7)) - 1))
    r = seeded(5)
    for op in range(3):
        x, d = r.normal(size=12), r.normal(size=7)
        cfg = tile.update_config(5 * 2 * tile.inst.dw_siemens / tile.inst.g_range)  # ~5 pulses
        s1, c1 = _state_copy(tile, op), np.zeros(2)
        wk.update_one(s1, x, d, cfg, c1)
        G1, off1 = s1.G, s1.offset
        assert s1.ops[Stream.UPDATE_NOISE] == op + 1
        for shares in (1, 2, 5, 40):  # (more shares than rows: one row each)
            s2, c2 = _state_copy(tile, op), np.zeros(2)
            wk.update_rank1(s2, x, d, cfg, c2, shares)
            assert np.array_equal(G1, s2.G) and np.array_equal(off1, s2.offset)
            assert np.array_equal(c1, c2) and np.array_equal(s1.ops, s2.ops)
        assert not np.array_equal(G1, tile.G)
        tile.G[...] = G1
        tile.offset[...] = off1


if __name__ == "__main__":  # a thread_runs subprocess: python tests/test_reproducibility.py out.npz
    np.savez(sys.argv[1], **thread_run())

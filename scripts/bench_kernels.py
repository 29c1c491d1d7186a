"""Time mcvar's read and update kernels against plain-NumPy references of the same math.

    python scripts/bench_kernels.py [--repeats 7] [--threads N] [--million 1000000]
                                    [--quick] [--json FILE]

Every row times one mcvar entry point and a plain-NumPy reference of the same math in the
same run: each is called once first (compile / warm-up, excluded), then timed ``--repeats``
times; a repeat calls the function often enough to last a minimum time and the row reports
the **median** per-call time. mcvar is called through its public entry points, as users call
it: ``Tile.read`` (output-referred read noise; ``exact_noise=True`` for mcvar's per-device
path), ``Tile.update``, and for the long Monte Carlo run ``montecarlo.read_errors`` and
``montecarlo.update_errors`` (compiled loops). Their per-call Python overhead (input checks,
a small output array) is included; inputs, tiles and reference buffers are built before the
clock starts, so no large input, output or buffer array is allocated inside a timed call
(mcvar's exact read allocates its per-vector noisy planes inside the kernel, as for users).

NumPy references (slow twins, written here from docs/reads.md and docs/updates.md):

* read (balanced pair, analog subtraction, additive read noise, ``abs_max`` noise
  management): scale by max|x|, DAC clip + quantise; per-device read noise drawn with
  NumPy's Generator for every weight and every vector (the pair's two device noises drawn as
  one normal of the pair's variance ``2 sigma^2``: the same distribution with half the random
  numbers, the faster honest reference); matmul; output noise; ADC clip + quantise.
* update (soft bounds, balanced push-pull, stochastic rounding): pulse counts by the same
  rule, then pulses applied one at a time, vectorised over the cells that still have pulses
  (loop over the pulse index), each step ``rate (bound - G)`` with its own c2c factor
  ``1 + dw_min_std xi`` and a clip to the cell's own bounds; d2d arrays (bounds, steps) and
  stuck cells are the tile's; CrossSim write noise and aihwkit's write-noise offsets after
  the pulses when switched on.

For the ``--million`` run the reference is the per-operation NumPy time of a short run
(one batch of reads, a few hundred updates) extrapolated to the full count; mcvar's time
is the wall time of the whole run, synthetic inputs and error statistics included (one run).

Columns: reference and mcvar are seconds per call; ops/s is mcvar's vectors/s for reads and
rank-1 updates/s for updates. random/s is the number of normals and uniforms the mcvar call
consumes for noise and rounding (synthetic inputs excluded), divided by its time:

* output-referred read: one normal per output (device and output noise in one variance);
* exact read: ``2 rows cols + rows`` (every device and the reference conductances) plus one
  per output; the reference read draws ``rows cols`` plus one per output (printed below the
  table);
* update: ``rows cols`` rounding uniforms, one normal per pulse on a free cell (c2c) and,
  with write noise, two per pulsed free cell: tallied by the reference, which draws exactly
  those.

Targets (the engine issue's, for the 2-core development machine) are printed with met / not
met. They depend on the machine: the header names the CPU and measures the two figures the
issue quotes for its machine (float32 GEMM GFLOP/s, NumPy normals per second on one thread),
so runs on different machines can be compared. The machine is shared and noisy (another
process on the second core makes every parallel region wait for a descheduled thread): the
load average is printed at the start and the end; compare runs made under the same load.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's mcvar
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))  # its NumPy twins

from mcvar import montecarlo as mc  # noqa: E402
from mcvar.devices import Device  # noqa: E402
from mcvar.periphery import Periphery  # noqa: E402
from mcvar.tile import Pulsing, Tile, TileSpec  # noqa: E402
from reference import quantize  # noqa: E402  (tests/reference.py: the one NumPy twin)

LR, D_STD = 0.01, 0.1  #: training-like update: x ~ U(-1, 1), d ~ N(0, D_STD^2), learning rate
READ_DEVICE = Device(read_noise=0.02)
PERIPHERY = Periphery(dac_bits=8, adc_bits=8, out_noise=0.06)
UPDATE_DEVICE = Device(dw_min=0.002, dw_min_std=0.3, dw_min_dtod=0.3, w_min_dtod=0.3,
                       w_max_dtod=0.3)
NOISY_DEVICE = UPDATE_DEVICE.replace(up_down_dtod=0.01, write_noise=0.01, write_noise_std=0.5,
                                     read_noise=0.02, program_noise=0.01, p_stuck_on=0.005,
                                     p_stuck_off=0.005)
PULSING = Pulsing(rule="stochastic")


# ------------------------------------------------------------------------------------------
# NumPy references


class NumpyRead:
    """Noisy reads of a balanced tile with per-weight noise drawn for every vector."""

    def __init__(self, tile: Tile, transpose: bool, gen: np.random.Generator):
        dev, per = tile.device, tile.periphery
        if (tile.planes != 2 or per.subtraction != "analog"
                or dev.read_noise_model != "additive"):
            raise ValueError("NumpyRead covers balanced tiles, analog subtraction, additive noise")
        W = ((tile.G[0] + tile.offset[0]) - (tile.G[1] + tile.offset[1])) / tile.inst.g_range
        self.W = np.ascontiguousarray(W.T if transpose else W)  # (K, N), output units
        self.sigma = math.sqrt(2.0) * dev.read_noise  # the pair's two devices
        self.cfg = tile.read_config(transpose)
        self.dac_bits, self.adc_bits = per.dac_bits, per.adc_bits
        self.gen = gen
        self.noisy = np.empty_like(self.W)

    def __call__(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Read ``X`` (B, K) into ``Y`` (B, N) [weight x input units]."""
        c = self.cfg
        peak = np.abs(X).max(axis=1, keepdims=True)
        scale = np.where(peak > 0, peak / c.inp_bound, 1.0) if c.abs_max else np.ones_like(peak)
        xq = quantize(X / scale, c.inp_bound, self.dac_bits) / c.inp_bound
        for b in range(X.shape[0]):
            self.gen.standard_normal(out=self.noisy)  # fresh noise on every weight
            self.noisy *= self.sigma
            self.noisy += self.W
            np.dot(xq[b], self.noisy, out=Y[b])
        Y += c.out_noise * self.gen.standard_normal(Y.shape)
        Y[...] = quantize(Y, c.out_bound, self.adc_bits) * (c.out_scale * scale)

    def randoms(self, batch: int) -> int:
        """Normals one call of ``batch`` vectors draws."""
        return batch * (self.W.size + self.W.shape[1])


class NumpySoftBounds:
    """Pulsed rank-1 updates of a balanced soft-bounds tile, pulse by pulse (on copies)."""

    def __init__(self, tile: Tile, lr: float, gen: np.random.Generator):
        dev, cells, inst = tile.device, tile.cells, tile.inst
        if tile.planes != 2 or dev.model != "soft_bounds" or tile.pulsing.rule != "stochastic":
            raise ValueError("NumpySoftBounds covers balanced soft-bounds tiles with "
                             "stochastic rounding")
        if dev.write_noise > 0 and dev.write_noise_model != "independent":
            raise ValueError("NumpySoftBounds covers the 'independent' write-noise model")
        self.G, self.offset = tile.G.copy(), tile.offset.copy()
        self.lo, self.hi = cells.g_lo, cells.g_hi
        g0 = inst.g_zero  # soft bounds: dG_up = D_up (g_hi - G)/(g_hi - g0), mirror down
        self.rate_up = cells.step_up / (cells.g_hi - g0)
        self.rate_down = cells.step_down / (g0 - cells.g_lo)
        self.free = cells.stuck == 0
        dw_pulse = 2.0 * tile.spec.weight_bound * dev.dw_min / (dev.w_max - dev.w_min)
        self.per_unit = lr / dw_pulse  # pulses per unit x d
        self.n_max = tile.pulsing.n_max
        self.c2c = dev.dw_min_std
        self.wn, self.g_range = dev.write_noise, inst.g_range
        self.offset_std = dev.write_noise_std * inst.dw_siemens
        self.gen = gen
        self._req, self._v, self._n, self._u = (np.empty(self.G.shape[1:]) for _ in range(4))
        self._plus = np.empty(self.G.shape[1:], bool)
        self.calls = 0  #: updates applied
        self.pulses = 0.0  #: device pulses applied (both planes, stuck cells included)
        self.drawn = 0  #: random numbers drawn

    def __call__(self, x: np.ndarray, d: np.ndarray) -> None:
        """Apply ``lr outer(x, d)`` (x: rows, d: cols) to the copies ``G``, ``offset``."""
        self.calls += 1
        req, v, n, u, plus = self._req, self._v, self._n, self._u, self._plus
        np.multiply.outer(x, d, out=req)
        np.abs(req, out=v)
        v *= self.per_unit  # real pulse count
        np.floor(v, out=n)
        v -= n
        self.gen.random(out=u)
        n += u < v  # stochastic rounding: one more pulse with probability v - floor(v)
        np.minimum(n, self.n_max, out=n)
        self.drawn += n.size
        self.pulses += 2.0 * n.sum()
        np.greater(req, 0.0, out=plus)
        self._pulse_plane(0, plus, n)
        self._pulse_plane(1, ~plus, n)  # push-pull: plane 1 moves the other way

    def _pulse_plane(self, p, up, n):
        idx = np.flatnonzero((n > 0) & self.free[p])
        k = n.ravel()[idx]
        order = np.argsort(-k, kind="stable")  # cells with most pulses first
        idx, k, up = idx[order], k[order], up.ravel()[idx[order]]
        G = self.G[p].ravel()
        lo, hi = self.lo[p].ravel()[idx], self.hi[p].ravel()[idx]
        rate = np.where(up, self.rate_up[p].ravel()[idx], self.rate_down[p].ravel()[idx])
        bound = np.where(up, hi, lo)
        g = G[idx]
        g_before = g.copy()
        for t in range(int(k[0]) if k.size else 0):  # pulse t on every cell with k > t
            m = np.count_nonzero(k > t)
            dg = rate[:m] * (bound[:m] - g[:m])
            if self.c2c > 0:
                dg *= 1.0 + self.c2c * self.gen.standard_normal(m)
                self.drawn += m
            np.clip(g[:m] + dg, lo[:m], hi[:m], out=g[:m])
        if self.wn > 0 or self.offset_std > 0:
            z = self.gen.standard_normal((2, g.size))
            self.drawn += z.size
            if self.wn > 0:  # CrossSim 'independent': sigma_wn sqrt(|dG| range)
                sd = self.wn * np.sqrt(np.abs(g - g_before) * self.g_range)
                np.clip(g + sd * z[0], lo, hi, out=g)
            if self.offset_std > 0:  # aihwkit write_noise_std: read-visible offset
                self.offset[p].ravel()[idx] = self.offset_std * z[1]
        G[idx] = g


# ------------------------------------------------------------------------------------------
# timing


def median_seconds(fn, repeats: int, min_time: float) -> float:
    """Median over ``repeats`` of the per-call time of ``fn`` (warm-up call excluded)."""
    fn()
    t = time.perf_counter()
    fn()
    single = max(time.perf_counter() - t, 1e-7)
    number = max(1, math.ceil(min_time / single))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return float(np.median(times))


@dataclass
class Row:
    """One benchmark row (JSON keys as in the engine issue, plus ``random_per_s``)."""

    kernel: str
    rows: int
    cols: int
    batch: int
    reference_s: float  #: NumPy reference time per call [s]
    mcvar_s: float  #: mcvar time per call [s]
    ops: int  #: vectors or updates per call
    randoms: float  #: random numbers one call consumes
    note: str = ""
    targets: list = field(default_factory=list)  #: (text, met) pairs

    @property
    def speedup(self) -> float:
        return self.reference_s / self.mcvar_s

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.mcvar_s

    def record(self) -> dict:
        keys = ("kernel", "rows", "cols", "batch", "reference_s", "mcvar_s")
        out = {k: getattr(self, k) for k in keys}
        out.update(speedup=self.speedup, ops_per_s=self.ops_per_s,
                   random_per_s=self.randoms / self.mcvar_s)
        return out


def programmed_tile(rows, cols, device, *, seed, noise=False) -> Tile:
    """A tile with uniform weights in +-0.5 (the trial's WORKLOAD stream)."""
    tile = Tile(TileSpec(rows, cols), device, PERIPHERY, PULSING, seed=seed)
    tile.program(mc.random_weights(tile, 0.5), noise=noise)
    return tile


def update_inputs(rows, cols, gen, count=64):
    """``count`` training-like (x, d) pairs, cycled through by the update rows."""
    return [(gen.uniform(-1.0, 1.0, rows), gen.normal(0.0, D_STD, cols)) for _ in range(count)]


def cycling(pairs, fn):
    """A call of ``fn(x, d)`` with the next pair of ``pairs`` (round robin)."""
    pool = itertools.cycle(pairs)
    return lambda: fn(*next(pool))


# ------------------------------------------------------------------------------------------
# rows


def read_row(rows, cols, batch, *, transpose=False, exact=False, repeats, min_time, seed):
    """Tile.read of ``batch`` uniform inputs against NumpyRead (per-device noise)."""
    tile = programmed_tile(rows, cols, READ_DEVICE, seed=seed)
    gen = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    k_in, n_out = (cols, rows) if transpose else (rows, cols)
    X = gen.uniform(-1.0, 1.0, (batch, k_in))
    ref = NumpyRead(tile, transpose, gen)
    Y = np.empty((batch, n_out))
    t_ref = median_seconds(lambda: ref(X, Y), repeats, min_time)
    t_mc = median_seconds(lambda: tile.read(X, transpose=transpose, exact_noise=exact),
                          repeats, min_time)
    if exact:
        drawn = batch * (2 * rows * cols + rows + n_out)
    else:
        drawn = batch * n_out  # output-referred: one normal per output
    name = "read" + (" transposed" if transpose else "") + (" exact_noise" if exact else "")
    return Row(name, rows, cols, batch, t_ref, t_mc, batch, drawn,
               note=f"reference draws {ref.randoms(batch) // batch} normals/vector, "
                    f"mcvar {drawn // batch}")


def update_row(rows, cols, *, repeats, min_time, seed):
    """Tile.update of training-like rank-1 updates against NumpySoftBounds."""
    tile = programmed_tile(rows, cols, UPDATE_DEVICE, seed=seed)
    gen = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    pairs = update_inputs(rows, cols, gen)
    ref = NumpySoftBounds(tile, LR, gen)
    t_ref = median_seconds(cycling(pairs, ref), repeats, min_time)
    t_mc = median_seconds(cycling(pairs, lambda x, d: tile.update(x, d, LR)), repeats, min_time)
    # one more pass over the input pool for both: pulses and random numbers per update
    ref.calls = ref.pulses = ref.drawn = 0
    before = tile.pulses.sum()
    for x, d in pairs:
        ref(x, d)
        tile.update(x, d, LR)
    mc_pulses = (tile.pulses.sum() - before) / len(pairs)
    return Row("update", rows, cols, 1, t_ref, t_mc, 1, ref.drawn / ref.calls,
               note=f"device pulses/update: mcvar {mc_pulses:.0f}, reference "
                    f"{ref.pulses / ref.calls:.0f}")


def million_rows(n, *, repeats, seed, rows=64, cols=36, read_batch=4096):
    """``n`` reads then ``n`` updates of a tile with every noise source on (one timed run)."""
    def fresh():
        return programmed_tile(rows, cols, NOISY_DEVICE, seed=seed, noise=True)

    warm = fresh()  # compile / load every kernel involved
    mc.read_errors(warm, 10)
    mc.update_errors(warm, 10, lr=LR, d_std=D_STD)
    tile = fresh()
    t = time.perf_counter()
    reads = mc.read_errors(tile, n, batch=read_batch)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    updates = mc.update_errors(tile, n, lr=LR, d_std=D_STD)
    t_update = time.perf_counter() - t

    gen = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    ref_tile = fresh()
    batch = min(read_batch, n)
    X = gen.uniform(-1.0, 1.0, (batch, rows))
    Y = np.empty((batch, cols))
    ref_read = NumpyRead(ref_tile, False, gen)
    ref_read_s = median_seconds(lambda: ref_read(X, Y), repeats, 0.0) / batch
    ref_update = NumpySoftBounds(ref_tile, LR, gen)
    chunk = update_inputs(rows, cols, gen, count=min(n, 200))
    ref_update_s = median_seconds(lambda: [ref_update(x, d) for x, d in chunk],
                                  repeats, 0.0) / len(chunk)

    read_draws, update_draws = n * cols, n * ref_update.drawn / ref_update.calls
    total, limit = t_read + t_update, 30.0 * n / 1_000_000
    return [
        Row("read_errors (montecarlo)", rows, cols, batch, ref_read_s * n, t_read, n,
            read_draws, note=f"reference: per-vector NumPy time x n; mcvar: wall time, "
                             f"{reads.seconds:.3g} s of it in Tile.read"),
        Row("update_errors (montecarlo)", rows, cols, 1, ref_update_s * n, t_update, n,
            update_draws, note=f"reference: per-update NumPy time x n; mcvar: wall time; "
                               f"{updates.pulses.sum() / n:.0f} device pulses/update"),
        Row(f"total {n} reads + {n} updates", rows, cols, 1, (ref_read_s + ref_update_s) * n,
            total, 2 * n, read_draws + update_draws,
            note="every noise source on (read, output, DAC/ADC, c2c, d2d, write noise, "
                 "write_noise_std, stuck cells); ops = reads + updates",
            targets=[(f"< {limit:g} s (30 s per 1,000,000 each)", total < limit)]),
    ]


# ------------------------------------------------------------------------------------------
# output


def si(v: float) -> str:
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g} {unit}"
    return f"{v:.3g}"


def seconds(v: float) -> str:
    for mult, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "us")):
        if v * mult >= 1.0:
            return f"{v * mult:.3g} {unit}"
    return f"{v * 1e9:.3g} ns"


def print_table(rows: list[Row]) -> None:
    head = ("kernel", "size", "batch", "reference", "mcvar", "speed-up", "ops/s", "random/s")
    lines = [(r.kernel, f"{r.rows}x{r.cols}", str(r.batch), seconds(r.reference_s),
              seconds(r.mcvar_s), f"{r.speedup:.1f}x", si(r.ops_per_s),
              si(r.randoms / r.mcvar_s)) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    print(fmt.format(*head))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print(fmt.format(*line))
    print()
    for r in rows:
        if r.note:
            print(f"  {r.kernel} {r.rows}x{r.cols}: {r.note}")
    print("\nTargets (engine issue, 2-core development machine):")
    for r in rows:
        for text, met in r.targets:
            where = f"{r.kernel} {r.rows}x{r.cols}:"
            print(f"  {where:44s} {text:40s} {'met' if met else 'NOT MET'}")


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_figures(quick: bool) -> tuple[float, float]:
    """(float32 GEMM GFLOP/s with NumPy's threads, NumPy normals M/s on one thread): the
    figures the engine issue quotes for its machine (~250, ~130), to compare machines by."""
    n = 512 if quick else 2048
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    gemm = median_seconds(lambda: a @ a, 3, 0.0 if quick else 0.2)
    out = np.empty(1 << (16 if quick else 22))
    gen = np.random.default_rng(1)
    normal = median_seconds(lambda: gen.standard_normal(out=out), 3, 0.0 if quick else 0.2)
    return 2 * n**3 / gemm / 1e9, out.size / normal / 1e6


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed repeats (default 7, quick 3)")
    parser.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS,
                        help="Numba threads (default: all)")
    parser.add_argument("--million", type=int, default=None,
                        help="reads and updates of the long run (default 1000000, quick 2000)")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke test")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 7)
    million = args.million if args.million is not None else (2000 if args.quick else 1_000_000)
    min_time = 0.01 if args.quick else 0.2
    if repeats < 1:
        parser.error(f"--repeats {repeats}: allowed range [1, inf)")
    if million < 1:
        parser.error(f"--million {million}: allowed range [1, inf)")
    most = numba.config.NUMBA_NUM_THREADS
    if not 1 <= args.threads <= most:
        parser.error(f"--threads {args.threads}: allowed range [1, {most}]")
    numba.set_num_threads(args.threads)
    print(f"mcvar kernels vs NumPy: {args.threads} Numba thread(s) of {os.cpu_count()} CPUs "
          f"({platform.machine()}), numpy {np.__version__}, numba {numba.__version__}; "
          f"median of {repeats} repeats; load average {os.getloadavg()[0]:.2f}")
    gflops, normals = machine_figures(args.quick)
    print(f"machine: {cpu_name()}; float32 GEMM {gflops:.0f} GFLOP/s, NumPy normals "
          f"{normals:.0f} M/s per thread (the engine issue's machine: ~250 and ~130)\n")

    opts = dict(repeats=repeats, min_time=min_time)
    rows = [read_row(256, 256, 32, seed=1, **opts)]
    rows[0].targets = [(">= 50x the NumPy reference", rows[0].speedup >= 50),
                       (">= 150,000 vectors/s", rows[0].ops_per_s >= 150_000)]
    rows.append(read_row(256, 256, 32, exact=True, seed=1, **opts))
    rows.append(read_row(256, 256, 32, transpose=True, seed=1, **opts))
    rows.append(read_row(64, 36, 1, seed=2, **opts))
    rows.append(update_row(256, 256, seed=3, **opts))
    rows[-1].targets = [(">= 2,000 updates/s", rows[-1].ops_per_s >= 2000),
                        (">= 4x the NumPy reference", rows[-1].speedup >= 4)]
    rows.append(update_row(64, 36, seed=4, **opts))
    rows.extend(million_rows(million, repeats=repeats, seed=5))
    print_table(rows)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps([r.record() for r in rows], indent=1))


if __name__ == "__main__":
    main()

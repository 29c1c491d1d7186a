"""Time the lookup-table sampling kernels called once per pulse inside a jitted loop.

    python scripts/bench_lookup.py [--n 2000000] [--repeats 7]

Times, on the packaged TaOx and ENODe tables, ``lut_step`` (uniform-spacing guess corrected by
stepping, bin-major ``quantiles`` layout), ``lut_mean`` and ``lut_aggregate``, and a
NumPy ``np.interp`` reference (slow twin) on a subsample. Inputs are random (device, direction,
G in the device's measured range, u), i.e. random table access: the cache-unfriendly case of a
tile whose cells sit at unrelated conductances. Compile time is excluded (warm-up call); medians
of ``--repeats`` runs are printed in ns per call.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's mcvar

from mcvar.accelerate import jit  # noqa: E402
from mcvar.kernels import lut  # noqa: E402
from mcvar.lookup import load_table_set  # noqa: E402


@jit
def run_step(gb, up, dg, mu, dev, dirn, G, u):
    acc = 0.0
    for n in range(G.size):
        acc += lut.lut_step(gb, up, dg, mu, dev[n], dirn[n], G[n], u[n])
    return acc


@jit
def run_mean(gb, mu, dev, dirn, G):
    acc = 0.0
    for n in range(G.size):
        acc += lut.lut_mean(gb, mu, dev[n], dirn[n], G[n])
    return acc


@jit
def run_aggregate(gb, up, dg, mu, dev, dirn, G, u):
    acc = 0.0
    for n in range(G.size):
        acc += lut.lut_aggregate(gb, up, dg, mu, dev[n], dirn[n], G[n], 3.7, u[n])
    return acc


@jit
def run_baseline(gb, up, dg, mu, dev, dirn, G, u):
    acc = 0.0
    for n in range(G.size):
        acc += G[n] * u[n] + dev[n] + dirn[n]
    return acc


def _median_ns(fn, args, n, repeats):
    fn(*args)  # compile / warm up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return 1e9 * float(np.median(times)) / n


def _reference(s, d, direction, G, u):
    col = [
        np.interp(u, s.u_points[d, direction], s.dg[d, direction, :, k]) for k in range(s.n_bins)
    ]
    return np.interp(G, s.g_bins[d, direction], col)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="calls per timed run")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(np.random.SeedSequence([2024, 7]))
    variants = {
        "lut_step (guess+step, shipped)": run_step,
        "loop overhead only": run_baseline,
    }
    for name in ("TaOx", "ENODe"):
        s = load_table_set(name)
        for label, devices in (("all devices", s.n_devices), ("device 0 only", 1)):
            if name == "ENODe" and devices == 1 and label != "all devices":
                continue
            dev = rng.integers(0, devices, args.n)
            dirn = rng.integers(0, 2, args.n)
            G = rng.uniform(s.g_range[dev, 0], s.g_range[dev, 1])
            u = rng.uniform(0.0, 1.0, args.n)
            arrays = (s.g_bins, s.u_points, s.quantiles, s.mu, dev, dirn, G, u)
            print(f"{name} ({s.n_devices} dev, K={s.n_bins}, M={s.n_cdf_points}), {label}:")
            for vname, fn in variants.items():
                print(f"  {vname:40s} {_median_ns(fn, arrays, args.n, args.repeats):7.1f} ns/call")
            mean_args = (s.g_bins, s.mu, dev, dirn, G)
            agg_args = (s.g_bins, s.u_points, s.quantiles, s.mu, dev, dirn, G, u)
            print(
                f"  {'lut_mean':40s} {_median_ns(run_mean, mean_args, args.n, args.repeats):7.1f} ns/call"
            )
            print(
                f"  {'lut_aggregate':40s} {_median_ns(run_aggregate, agg_args, args.n, args.repeats):7.1f} ns/call"
            )
            n_ref = 200
            t = time.perf_counter()
            for j in range(n_ref):
                _reference(s, dev[j], dirn[j], G[j], u[j])
            print(
                f"  {'NumPy np.interp reference':40s} {1e9 * (time.perf_counter() - t) / n_ref:7.0f} ns/call"
            )


if __name__ == "__main__":
    main()

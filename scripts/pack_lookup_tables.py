"""Convert CrossSim's measured lookup tables (text) into mcvar's packaged compact files.

Run once from the repository root; the outputs under ``mcvar/data/lookup/`` are committed
(rerunning rewrites identical bytes):

    python scripts/pack_lookup_tables.py [--source ../shared/data/crosssim/lookup_tables]

Reads ``TaOx/device_01..08`` and ``ENODe`` with :func:`mcvar.lookup.table_set_from_crosssim`,
writes ``TaOx.npz`` and ``ENODe.npz`` (byte-reproducible), copies CrossSim's BSD-3 ``LICENSE``
next to them, then reads the packaged files back and checks them against the text tables.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's mcvar, not an installed one

from mcvar import lookup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "crosssim" / "lookup_tables",
        help="CrossSim lookup_tables folder (with TaOx/ and ENODe/); its parent holds LICENSE",
    )
    args = parser.parse_args()
    out_dir = lookup.packaged_path("TaOx").parent
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.source.parent / "LICENSE", out_dir / "LICENSE")

    for name in lookup.PACKAGED_SETS:
        text = lookup.table_set_from_crosssim(args.source / name, name=name)
        text = lookup.LookupTableSet(
            name=name,
            device_names=text.device_names,
            g_bins=text.g_bins,
            u_points=text.u_points,
            dg=text.dg,
            source=lookup.CROSSSIM_SOURCE + f", folder lookup_tables/{name}",
            license=lookup.CROSSSIM_LICENSE,
        )
        path = lookup.packaged_path(name)
        lookup.save_table_set(text, path)

        packed = lookup.read_table_set(path)
        assert packed.device_names == text.device_names
        assert np.array_equal(packed.g_bins, text.g_bins)
        assert np.array_equal(packed.u_points, text.u_points)
        assert np.array_equal(packed.dg, text.dg.astype(np.float32).astype(np.float64))
        rel = np.abs(packed.dg - text.dg) / np.abs(text.dg).max(axis=2, keepdims=True)
        rel_mu = np.abs(packed.mu - text.mu).max() / np.abs(text.mu).max()
        print(
            f"{name}: {packed.n_devices} device(s), K={packed.n_bins} G bins, M={packed.n_cdf_points} "
            f"CDF points -> {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB); "
            f"float32 error <= {rel.max():.1e} of the largest |dG| in a column, mu {rel_mu:.1e}"
        )


if __name__ == "__main__":
    main()

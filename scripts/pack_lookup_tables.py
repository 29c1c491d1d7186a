"""Convert CrossSim's measured lookup tables (text) into mcvar's packaged compact files.

Run once from the repository root; the outputs under ``mcvar/data/lookup/`` are committed
(rerunning rewrites identical bytes):

    python scripts/pack_lookup_tables.py --source CROSSSIM_DATA/lookup_tables

``--source`` (or the environment variable ``MCVAR_CROSSSIM_DATA``, the data folder itself, to
which ``lookup_tables`` is appended) is a local copy of the lookup tables of Sandia's CrossSim
data repository (github.com/sandialabs/cross-sim-data, commit
2ebec1f27cf1c7c05c7a779b42e16036a765023f), laid out as ``TaOx/device_01 .. device_08/`` (CrossSim's
``TaOx_all/1..8``) and ``ENODe/``, each folder holding one ``dG_increasing*`` and one
``dG_decreasing*`` text table (optionally ``.gz``); the folder's parent holds CrossSim's
``LICENSE``.

Reads ``TaOx/device_01..08`` and ``ENODe`` with :func:`mcvar.lookup.table_set_from_crosssim`,
writes ``TaOx.npz`` and ``ENODe.npz`` (byte-reproducible), copies CrossSim's BSD-3 ``LICENSE``
next to them, then reads the packaged files back and checks them against the text tables.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's mcvar, not an installed one

from mcvar import lookup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = os.environ.get("MCVAR_CROSSSIM_DATA")
    parser.add_argument(
        "--source",
        type=Path,
        default=Path(data) / "lookup_tables" if data else None,
        required=not data,
        help="CrossSim lookup_tables folder (with TaOx/device_01..08/ and ENODe/, each holding "
             "dG_increasing* and dG_decreasing*); its parent holds CrossSim's LICENSE. "
             "Default: $MCVAR_CROSSSIM_DATA/lookup_tables",
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

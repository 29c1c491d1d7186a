#!/usr/bin/env python
"""Reproduce the reference study end to end and write a report (the same as `mcvar study`).

    python scripts/reproduce_study.py --out DIR [--quick] [--trials N] [--epochs N]
        [--train-examples N] [--scheduler ADDRESS|synchronous] [--workers N] [--fresh]
        [--mnist]

Runs scenarios/study_*.toml through the normal scenario path (one local dask cluster, one
single-threaded worker per core, unless --scheduler says otherwise) into DIR/results/*.nc and
writes DIR/report.md with figures in DIR/figures/. The default sizes take about 25 minutes on
2 cores; --quick runs every training scenario at a tiny size (a minute or two). Rerunning the
same command resumes; a changed setting needs --fresh or another DIR. --mnist adds the study's
own experiment, MNIST 784-300-10 (scenarios/study_mnist.toml; by default 2 trials of 1 epoch of
10,000 examples and the 10,000 test images: about half an hour on 2 idle cores; needs
`python -m mcvar data fetch mnist` once) as section 5 of the report.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a checkout works uninstalled

from mcvar.cli import main  # noqa: E402

if __name__ == "__main__":
    main(["study", *sys.argv[1:]], prog_name="reproduce_study.py")

"""One place for every Numba option used by mcvar's kernels.

* ``njit`` (nopython) always, ``nogil`` so dask worker threads can run kernels concurrently,
  ``error_model="numpy"`` so division by zero gives inf/nan instead of raising.
* No fastmath: NaN must propagate so bad states are caught, and results must be bitwise
  reproducible (no reassociation, no FMA contraction that differs between code paths).
* On-disk caching is a switch, on by default (compiling every kernel takes a minute or
  more on a small machine): ``MCVAR_NUMBA_CACHE=0`` turns it off. Several processes
  compiling into one cache directory at once has crashed dask/SLURM workers, so the
  execution layer compiles everything in the client first and workers only read the cache.
* Numba's cache checks only the source file of each function, not the kernels it calls in
  other files; a stale caller would run old code. So the cache lives in a directory named
  after a hash of every kernel source (under ``NUMBA_CACHE_DIR`` if set, else the user's
  cache directory): any change to any kernel starts a fresh cache.
* ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain Python (for debuggers and coverage;
  ``prange`` becomes ``range``, typed lists become lists), far slower; its numbers equal
  the compiled ones up to the last bits of libm functions (tests/test_interpreted.py).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

CACHE = os.environ.get("MCVAR_NUMBA_CACHE", "1") != "0"


def _cache_dir() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([here / "accelerate.py", *(here / "kernels").glob("*.py")]):
        digest.update(path.read_bytes())
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "mcvar-numba")
    return os.path.join(base, digest.hexdigest()[:16])


if CACHE:
    numba.config.CACHE_DIR = _cache_dir()

_OPTIONS = dict(nogil=True, error_model="numpy", cache=CACHE)


def jit(func=None, *, parallel: bool = False, inline: str = "never"):
    """Compile ``func`` with mcvar's options; ``parallel`` enables ``prange``.

    With Numba's JIT disabled, ``func`` itself, with ``func.py_func`` set to it as a
    compiled kernel has (so ``jit(kernel.py_func)`` works either way).
    """

    def wrap(f):
        if numba.config.DISABLE_JIT:  # interpreted: keep ``.py_func`` as compiled kernels have
            f.py_func = f
            return f
        return numba.njit(parallel=parallel, inline=inline, **_OPTIONS)(f)

    return wrap(func) if func is not None else wrap


def set_threads(n: int) -> None:
    """Use ``n`` Numba threads in parallel kernels (results do not depend on it)."""
    numba.set_num_threads(int(n))


def get_threads() -> int:
    """Number of Numba threads parallel kernels use now."""
    return numba.get_num_threads()


def threads_from_environment() -> None:
    """Make the calling thread use at most ``NUMBA_NUM_THREADS`` Numba threads, if it is set.

    Numba reads the variable when imported; a dask worker process spawned from a script that
    imports mcvar imports Numba before the nanny sets the worker's environment, so it would
    start a thread per core and every worker would run its parallel kernels on all cores.
    """
    n = os.environ.get("NUMBA_NUM_THREADS")
    if not n:
        return
    try:  # read the variable again before the thread pool starts
        numba.config.reload_config()
    except RuntimeError:  # the pool already runs with another size: use part of it
        pass
    set_threads(max(1, min(int(n), get_threads())))

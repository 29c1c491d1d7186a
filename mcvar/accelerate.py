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
  cache directory ``$XDG_CACHE_HOME/mcvar-numba`` or ``~/.cache/mcvar-numba``): any change
  to any kernel starts a fresh cache. It is outside the installation, so it survives
  reinstalls of an editable checkout and is shared by every run of one installation; each
  installation (virtual environment, checkout) compiles once, as Numba keys cache entries on
  the source file's directory and modification time (sharing between installations is not
  possible with Numba's cache). :func:`compile_message` says which case a run is in.
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

#: typical first-compile time of every kernel a scenario reaches [s] (2-core VM; 1-3 min)
FIRST_COMPILE_S = (60, 180)


def cache_location() -> str | None:
    """Directory of this installation's compiled kernels, or None with caching off."""
    if not CACHE:
        return None
    from numba.core.caching import UserProvidedCacheLocator

    kernels = Path(__file__).resolve().parent / "kernels" / "__init__.py"
    return os.path.join(numba.config.CACHE_DIR,
                        UserProvidedCacheLocator.get_suitable_cache_subpath(str(kernels)))


def cache_is_warm() -> bool:
    """Whether this installation's kernels were compiled into the cache before (index files
    exist; a kernel changed since is still recompiled, by Numba)."""
    where = cache_location()
    return where is not None and os.path.isdir(where) and any(
        name.endswith(".nbi") for name in os.listdir(where))


def compile_message() -> str:
    """One line for people: what happens before the first task runs and how long it takes."""
    low, high = (s // 60 for s in FIRST_COMPILE_S)
    if numba.config.DISABLE_JIT:
        return "Numba JIT disabled (NUMBA_DISABLE_JIT=1): kernels run as Python, slowly"
    if not CACHE:
        return (f"compiling mcvar's Numba kernels in memory (MCVAR_NUMBA_CACHE=0: not cached; "
                f"usually {low}-{high} min)")
    if cache_is_warm():
        return f"loading compiled kernels from {cache_location()}"
    return (f"compiling mcvar's Numba kernels (first run of this installation only; usually "
            f"{low}-{high} min, then cached in {cache_location()})")


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

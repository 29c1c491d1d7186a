"""The run directory of one output: its lock, its stale temporary files, its damaged pieces.

A run writes ``RESULT.run/`` (:mod:`mcvar.results` describes the files) while holding an
exclusive ``flock`` on ``RESULT.run/.lock``: a second run to the same output stops at once
with :class:`RunDirectoryLocked`. The kernel releases the lock when the process ends, even
by SIGKILL, so a crashed run never blocks the next one. Holding the lock, a run knows that
every ``*.tmp`` file there is left over from a killed run and removes it; a piece that fails
its check is moved to ``RESULT.run/damaged/`` (kept for inspection, never deleted) and
computed again.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import tempfile
from pathlib import Path

from .results import PIECES

LOCK_FILE = ".lock"
DAMAGED = "damaged"  #: sub-folder of set-aside pieces


class RunDirectoryError(ValueError):
    """The run directory or output cannot be used (another scenario's, not writable, ...)."""


class RunDirectoryLocked(RunDirectoryError):
    """Another process is running into the same run directory."""


@contextlib.contextmanager
def locked(run_dir):
    """Hold the exclusive lock of ``run_dir`` (created if missing) for the ``with`` block;
    raise :class:`RunDirectoryLocked` at once if another process holds it."""
    run_dir = Path(run_dir)
    make_dirs(run_dir)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise RunDirectoryLocked(
                f"{run_dir} is in use by another mcvar run ({holder}); wait for it to finish, "
                "or choose another --output / --run-dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        yield run_dir
    finally:
        os.close(fd)  # closing releases the flock


def make_dirs(path) -> Path:
    """Create folder ``path`` (and its parents), or raise :class:`RunDirectoryError` with a
    one-line reason (a parent is a file, no permission, read-only file system)."""
    path = Path(path)
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise RunDirectoryError(f"{blocking}: is a file, not a folder; choose another "
                                "--output / --run-dir")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunDirectoryError(f"{path}: cannot create the folder ({_reason(err)}); choose "
                                "another --output / --run-dir") from None
    check_writable(path)
    return path


def check_writable(folder) -> None:
    """Raise :class:`RunDirectoryError` unless a file can be created in existing ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunDirectoryError(f"{folder}: not a folder; choose another --output / --run-dir")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".mcvar-probe-", suffix=".tmp")
    except OSError as err:
        raise RunDirectoryError(f"{folder}: cannot write there ({_reason(err)}); choose "
                                "another --output / --run-dir") from None
    os.close(fd)
    os.remove(probe)


def _reason(err: OSError) -> str:
    return err.strerror or type(err).__name__


def remove_stale_temporaries(run_dir) -> list[Path]:
    """Remove the ``*.tmp`` files a killed run left in ``run_dir`` and its pieces (call it
    holding the lock: no live run is writing them); returns what was removed."""
    run_dir = Path(run_dir)
    stale = [p for folder in (run_dir, run_dir / PIECES) if folder.is_dir()
             for p in folder.glob(".*.tmp")]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def set_aside(run_dir, path) -> Path:
    """Move damaged file ``path`` into ``run_dir/damaged/`` (a new name if one is there
    already) and return where it went."""
    folder = Path(run_dir) / DAMAGED
    folder.mkdir(exist_ok=True)
    target, n = folder / Path(path).name, 1
    while target.exists():
        target, n = folder / f"{Path(path).name}.{n}", n + 1
    os.replace(path, target)
    return target

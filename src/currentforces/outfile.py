"""Output files: atomic writes and one writer per file.

* :func:`atomic_write` writes to a hidden temporary file next to the
  destination, ``.NAME.<12 hex digits>.tmp``, created with mode 0o666
  masked by the umask (the permissions of any other new file), and renames
  it over the destination with :func:`os.replace`.  A crash leaves the old
  file or the new one, never a mixture.
* :class:`OutputLock` guards an output file against a second writer: a lock
  file ``NAME.lock`` next to it, created exclusively and holding the pid and
  host name of its owner.  A lock whose owner is not running any more on
  this host (a killed run) is stale and is taken over; taking a lock also
  removes the temporary files that a killed writer left behind.

* :func:`write_checkpoint` and :func:`read_checkpoint` store named arrays
  with a parameter fingerprint in a NumPy ``.npz`` file (atomically) and
  read them back only for the same fingerprint.

Nothing here knows about NetCDF or the physics; :mod:`currentforces.io`
and the dynamics checkpoints write through :func:`atomic_write`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError, OutputLockedError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "OutputLock",
    "atomic_write",
    "check_output_path",
    "lock_path",
    "read_checkpoint",
    "temporary_files",
    "write_checkpoint",
]

_TMP_HEX = 12


def _temporary_re(name):
    return re.compile(re.escape(f".{name}.") + f"[0-9a-f]{{{_TMP_HEX}}}" + re.escape(".tmp"))


def temporary_files(path: str | os.PathLike[str]) -> list[Path]:
    """Temporary files of :func:`atomic_write` for ``path`` that exist now
    (a list of Paths; written by a running or a killed writer)."""
    path = Path(path)
    pattern = _temporary_re(path.name)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return [path.parent / n for n in sorted(names) if pattern.fullmatch(n)]


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    """Create or replace the file ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        Destination; its folder must exist.
    write : callable
        ``write(tmp)`` writes the whole contents to the path ``tmp`` (an
        empty file that exists already).

    Returns
    -------
    Path

    Notes
    -----
    The temporary file is flushed to disk (:func:`os.fsync`) before the
    rename; it is removed if ``write`` raises (including
    ``KeyboardInterrupt``).  Only ``SIGKILL`` or a power cut can leave it
    behind; :class:`OutputLock` removes such leftovers.
    """
    path = Path(path)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(_TMP_HEX // 2)}.tmp"
        try:
            # 0o666 & ~umask, like any other new file (mkstemp would give 0o600)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
        os.close(fd)
        break
    try:
        write(str(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_checkpoint(path: str | os.PathLike[str], fingerprint: np.ndarray, **arrays: object) -> Path:
    """Write ``arrays`` and the parameter ``fingerprint`` to ``path`` (NumPy .npz), atomically.

    Parameters
    ----------
    path : str or Path
        Destination; written as given (no ``.npz`` is appended).
    fingerprint : ndarray
        The parameters the state belongs to; :func:`read_checkpoint` refuses
        the file for any other fingerprint.
    **arrays
        The state, by name (``fingerprint`` is reserved).

    Returns
    -------
    Path
    """

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays, fingerprint=fingerprint)

    return atomic_write(path, write)


def read_checkpoint(path: str | os.PathLike[str], fingerprint: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays of a file of :func:`write_checkpoint`, by name (copies, without the fingerprint).

    Raises
    ------
    InputError
        If the file was written with another ``fingerprint`` (other
        parameters: resuming would not continue the same run).
    """
    with np.load(os.fspath(path)) as data:
        stored = data["fingerprint"]
        if stored.shape != fingerprint.shape or not np.array_equal(stored, fingerprint):
            raise InputError(f"checkpoint {path!s} was written with different parameters")
        return {name: data[name].copy() for name in data.files if name != "fingerprint"}


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of the output file ``path``: ``NAME.lock`` next to it."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that ``path`` can be written; create its folder.

    Raises
    ------
    InputError
        ``path`` is empty or a directory, or its folder cannot be created;
        the message names the path and what to do.
    """
    text = os.fspath(path)
    if not text.strip():
        raise InputError("output file: the path is empty; give a file name such as 'run.nc'")
    path = Path(text)
    if path.is_dir():
        raise InputError(f"output file {text!r} is a directory; give a file name such as {str(path / 'run.nc')!r}")
    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(
            f"output file {text!r}: {str(path.parent)!r} is a file, not a folder; choose another output file"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"output file {text!r}: cannot create its folder {str(path.parent)!r} "
            f"({exc.strerror}); choose another output file"
        ) from None
    return path


def _alive(pid):
    """Whether process ``pid`` runs on this host (True when it cannot be told)."""
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) would signal on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class OutputLock:
    """Exclusive right to write an output file, held by this process.

    Use as a context manager around everything that writes ``path``::

        with OutputLock("run.nc"):
            ...  # read, compute, write run.nc

    Parameters
    ----------
    path : str or Path
        The output file (it need not exist; its folder is created).

    Raises
    ------
    OutputLockedError
        Another running process holds the lock (the message names its pid,
        host and the lock file to delete if that process is gone).
    InputError
        The folder cannot be created or written (the message names it).

    Notes
    -----
    The lock file is created with ``O_CREAT | O_EXCL`` (atomic on local
    file systems and NFSv3+) and holds ``{"pid": ..., "host": ...}``.  It is
    stale when its host is this host and its pid does not run; a lock of
    another host is never taken over (its pid cannot be checked from here).
    A stale lock is moved aside under a name of this process before it is
    deleted, and only if the file moved is the stale one (same inode), so two
    runs that find the same stale lock cannot both take it.  The lock is
    released (its file deleted) on leaving the ``with`` block, by a return,
    an exception or ``KeyboardInterrupt``; a ``SIGKILL`` leaves it behind,
    stale, for the next run to take over.  On entry, temporary files of
    :func:`atomic_write` older than the new lock (left by a killed writer;
    every writer holds the lock) are deleted.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._text = os.fspath(path)
        self.path = Path(path)
        self.lock: Path | None = None
        self._held: int | None = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def acquire(self) -> OutputLock:
        check_output_path(self._text)
        self.lock = lock = lock_path(self.path)
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(10):
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                self._take_over_if_stale(me["host"])
                continue
            except OSError as exc:
                raise InputError(
                    f"output file {str(self.path)!r}: cannot write in its folder "
                    f"{str(self.path.parent)!r} ({exc.strerror}); choose a writable folder"
                ) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(me))
            self._held = os.stat(lock).st_ino
            self._remove_stale_temporaries()
            return self
        raise OutputLockedError(
            f"output file {str(self.path)!r}: could not take the lock {str(self.lock)!r} "
            "(it keeps reappearing); is another run starting?"
        )

    def _owner(self):
        """(owner dict or None, inode) of the current lock file; (None, None) if it is gone."""
        try:
            with open(self.lock) as fh:
                ino = os.fstat(fh.fileno()).st_ino
                text = fh.read()
        except FileNotFoundError:
            return None, None
        try:
            owner = json.loads(text)
            owner = {"pid": int(owner["pid"]), "host": str(owner["host"])}
        except (ValueError, KeyError, TypeError):
            owner = None  # being written this instant, or not ours: never taken over
        return owner, ino

    def _take_over_if_stale(self, host):
        owner, ino = self._owner()
        if ino is None:
            return  # released meanwhile: try again
        if owner is None or owner["host"] != host or _alive(owner["pid"]):
            who = "an unreadable lock" if owner is None else f"process {owner['pid']} on host {owner['host']!r}"
            raise OutputLockedError(
                f"output file {str(self.path)!r} is being written by {who} (lock file {str(self.lock)!r}); "
                "wait for that run to finish or choose another output file; if no such run is active, "
                "delete the lock file"
            )
        aside = self.lock.with_name(f"{self.lock.name}.stale.{os.getpid()}")
        try:
            os.replace(self.lock, aside)
        except FileNotFoundError:
            return  # another run took it over first
        if os.stat(aside).st_ino != ino:  # pragma: no cover - lost a race: put the new lock back
            try:
                os.link(aside, self.lock)
            except FileExistsError:
                pass
        os.remove(aside)

    def _remove_stale_temporaries(self):
        since = os.stat(self.lock).st_mtime_ns
        for tmp in temporary_files(self.path):
            try:
                if os.stat(tmp).st_mtime_ns <= since:
                    os.remove(tmp)
            except FileNotFoundError:  # pragma: no cover
                pass

    def release(self) -> None:
        """Delete the lock file if it is still this process's (idempotent)."""
        if self._held is None or self.lock is None:  # (the lock is set whenever held)
            return
        owner, ino = self._owner()
        if ino == self._held and owner is not None and owner["pid"] == os.getpid():
            os.remove(self.lock)
        self._held = None

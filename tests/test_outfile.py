"""Output files: one writer per file (a lock next to it, stale locks of
killed runs taken over), atomic writes with the usual permissions, leftovers
of killed writers removed."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from currentforces.errors import InputError, OutputLockedError
from currentforces.outfile import (
    OutputLock,
    atomic_write,
    lock_path,
    read_checkpoint,
    temporary_files,
    write_checkpoint,
)

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _holder(path):
    """A second process that takes the lock on ``path`` and waits on stdin."""
    code = textwrap.dedent(f"""
        import sys
        from currentforces.outfile import OutputLock
        with OutputLock({str(path)!r}):
            print("held", flush=True)
            sys.stdin.read()
    """)
    p = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert p.stdout.readline().strip() == "held"
    return p


def test_second_process_is_refused_and_takes_over_after_a_kill(tmp_path):
    path = tmp_path / "run.nc"
    other = _holder(path)
    try:
        with pytest.raises(OutputLockedError, match=f"process {other.pid} on host"):
            OutputLock(path).acquire()
    finally:
        other.kill()  # SIGKILL: no clean-up runs, the lock file stays behind
        other.wait()
    assert json.loads(lock_path(path).read_text())["pid"] == other.pid  # left behind, stale
    with OutputLock(path) as lock:  # the owner is dead: taken over
        assert json.loads(lock.lock.read_text()) == {"pid": os.getpid(), "host": socket.gethostname()}
    assert not lock_path(path).exists()


def test_clean_exit_of_the_other_process_releases(tmp_path):
    path = tmp_path / "run.nc"
    other = _holder(path)
    other.communicate("")  # stdin closed: leaves the with block normally
    assert other.returncode == 0 and not lock_path(path).exists()


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_released_on_exception_and_interrupt(tmp_path, exc):
    path = tmp_path / "run.nc"
    with pytest.raises(exc), OutputLock(path):
        assert lock_path(path).exists()
        raise exc
    assert not lock_path(path).exists()


def test_lock_of_another_host_or_unreadable_is_never_taken(tmp_path):
    # the pid of another host cannot be checked from here: a dead-looking pid
    # there may be a live run
    path = tmp_path / "run.nc"
    lock_path(path).write_text(json.dumps({"pid": 2**22 + 12345, "host": "elsewhere.example"}))
    with pytest.raises(OutputLockedError, match="elsewhere.example"):
        OutputLock(path).acquire()
    lock_path(path).write_text("")  # being written this instant, or foreign
    with pytest.raises(OutputLockedError, match="unreadable lock"):
        OutputLock(path).acquire()


def test_release_leaves_a_lock_that_is_not_ours(tmp_path):
    path = tmp_path / "run.nc"
    lock = OutputLock(path).acquire()
    os.remove(lock.lock)  # someone deleted it by hand and another run took it
    lock.lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    lock.release()
    assert lock.lock.exists()


def test_bad_output_paths_are_named(tmp_path):
    (tmp_path / "afile").write_text("x")
    for path, what in [
        ("", "the path is empty"),
        (str(tmp_path), "is a directory"),
        (str(tmp_path / "afile" / "run.nc"), "is a file, not a folder"),
    ]:
        with pytest.raises(InputError, match=what):
            OutputLock(path).acquire()


def test_stale_temporaries_are_removed_and_others_kept(tmp_path):
    path = tmp_path / "run.nc"
    stale = tmp_path / ".run.nc.0123456789ab.tmp"  # what a SIGKILLed atomic_write leaves
    stale.write_bytes(b"half a file")
    keep = [tmp_path / ".run.nc.notours.tmp", tmp_path / ".other.nc.0123456789ab.tmp", tmp_path / "run.nc.tmp"]
    for p in keep:
        p.write_bytes(b"")
    assert temporary_files(path) == [stale]
    with OutputLock(path):
        assert not stale.exists()
    assert all(p.exists() for p in keep)


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_honours_the_umask(tmp_path, umask, mode):
    # expected: 0o666 & ~umask, what open(..., "w") gives any new file
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "a.bin", lambda tmp: Path(tmp).write_bytes(b"data"))
        with OutputLock(tmp_path / "a.bin") as lock:
            lock_mode = lock.lock.stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == mode
    assert lock_mode == mode
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_checkpoint_round_trip_and_fingerprint(tmp_path):
    # expected: the arrays come back bit for bit under the name given (no ".npz" appended, no temporary
    # left); any other fingerprint (value or length) is refused, as the dynamics' resume contract requires
    path = tmp_path / "state.ckpt"
    fp = np.array([1.0, 2.0, 0.5])
    x = np.arange(6.0).reshape(2, 3) / 7
    write_checkpoint(path, fp, positions=x, step=3)
    assert [p.name for p in tmp_path.iterdir()] == ["state.ckpt"]
    data = read_checkpoint(path, fp.copy())
    assert sorted(data) == ["positions", "step"]
    assert np.array_equal(data["positions"], x) and int(data["step"]) == 3
    for other in (np.array([1.0, 2.0, 0.25]), fp[:2]):
        with pytest.raises(InputError, match="different parameters"):
            read_checkpoint(path, other)

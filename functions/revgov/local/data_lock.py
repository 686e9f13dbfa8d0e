"""One `revgov dev` per embedded database: an exclusive lock on `<data file>.lock`, held while the stack runs.

A second stack on the same file would run a second event router and scheduler over it (every scheduled sweep twice)
and its `--reset` would delete the database under the first. The lock is a BSD `flock` on a file of its own, never
on the database (SQLite's POSIX locks on the database are dropped when any descriptor of that file is closed); the
kernel releases it when the process ends, however it ends, so a killed stack leaves nothing stale behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..adapters.private_files import private_dir

# A restart as the README shows it (`kill %1`, then `make run &`) starts while the stopping stack winds down, which
# takes at most STOP_GRACE_SECONDS (5 s, revgov.cli): the new one waits that long and a little more before refusing.
WAIT_SECONDS = 8.0
_POLL_SECONDS = 0.1


class DataFileInUse(RuntimeError):
    """Another live process serves this database."""


@dataclass
class DataFileLock:
    path: Path
    _fd: int | None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def hold(data_file: Path, *, wait_seconds: float | None = None) -> DataFileLock:
    """Take the data file's lock, waiting up to `wait_seconds` (WAIT_SECONDS) for a stack that is stopping."""
    path = Path(f"{data_file}.lock")
    private_dir(path.parent)
    try:  # never through a link: in a directory others can write to, one planted there would be truncated (CWE-59)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        if not path.is_symlink():
            raise
        raise DataFileInUse(
            f"{path} is a symbolic link, not the lock file of {data_file}: remove it (or give this stack its own "
            "--data-file in a directory only you can write to)"
        ) from error
    deadline = time.monotonic() + (WAIT_SECONDS if wait_seconds is None else wait_seconds)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                raise DataFileInUse(
                    f"{data_file} is in use by another revgov dev ({holder}): stop it first (Ctrl-C or SIGTERM), "
                    "or give this one its own --data-file"
                ) from None
            time.sleep(_POLL_SECONDS)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
    return DataFileLock(path, fd)

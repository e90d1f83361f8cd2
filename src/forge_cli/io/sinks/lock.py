"""One run at a time per set of output files: an OS lock on a small file beside them.

Two runs writing the same results file interleave their lines (measured before this lock: 1,000
records gave 999 lines, 4 of them broken JSON, 6 records lost and 5 duplicated, both runs exit 0).
So a run takes an exclusive lock on ``.<results name>.lock`` before it writes anything, and a second
run stops at once with one line naming the first.

The lock is the kernel's (``flock`` on POSIX, ``msvcrt.locking`` on Windows), not the file's
existence: the kernel drops it when the process ends however it ends, kill -9 included, so a lock
file left behind by a killed run never blocks a later one and no pid has to be probed. The file's
text (pid, host, start time, command) only tells the second run whom it met. The owner removes the
file when it is done, while still holding the lock; a run that locked a file which is no longer the
one at that path (it was removed in between) lets it go and tries again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from forge_cli.core.errors import OutputError

__all__ = ["OutputLock", "lock_path"]

#: where the Windows lock byte sits: past any text the holder writes, which stays readable
_WINDOWS_LOCK_OFFSET = 1 << 20
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_ATTEMPTS = 5


def lock_path(results: Path) -> Path:
    """The lock file of a run whose results go to ``results`` (hidden, beside it)."""
    return results.with_name(f".{results.name}.lock")


def _try_lock(fd: int) -> bool:
    """Take the lock without waiting; False when another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    # POSIX: closing the descriptor releases the flock


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _holder(fd: int) -> str:
    """What the run holding the lock wrote about itself (empty while it is still writing it)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 4096).decode("utf-8", "replace")
    except OSError:
        return ""
    return " ".join(text.split())


class OutputLock:
    """An exclusive, non-blocking lock on the outputs of one run (see the module docstring)."""

    def __init__(self, results: Path, command: str) -> None:
        self.path = lock_path(results)
        self.results = results
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise OutputError naming the run that holds it."""
        for _ in range(_ATTEMPTS):
            try:
                fd = os.open(self.path, _FLAGS, 0o644)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise OutputError(
                        f"{self.path} is a symbolic link: forge does not follow links when it "
                        "writes; remove it"
                    ) from None
                raise OutputError(
                    f"cannot write in {self.path.parent}: {exc.strerror or exc}; choose "
                    "another --out-dir"
                ) from None
            try:
                locked = _try_lock(fd)
            except OSError as exc:  # a file system without locks (ENOLCK)
                os.close(fd)
                raise OutputError(
                    f"cannot lock {self.path} against other runs: {exc.strerror or exc}; "
                    "choose another --out-dir"
                ) from None
            if not locked:
                other = _holder(fd) or "pid unknown"
                os.close(fd)
                raise OutputError(
                    f"{self.results} is being written by another forge run ({other}): wait for "
                    "it to end, or give this run another --out-dir"
                )
            if _same_file(fd, self.path):
                self._fd = fd
                self._describe(fd)
                return
            _unlock(fd)  # the holder we waited on removed it: take the new one
            os.close(fd)
        raise OutputError(f"cannot lock {self.path}: it keeps being replaced by other runs")

    def _describe(self, fd: int) -> None:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        text = f"pid {os.getpid()} on {socket.gethostname()}, started {started}, {self.command}\n"
        with contextlib.suppress(OSError):  # the lock holds without the description
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, text.encode("utf-8", "replace"))

    def release(self) -> None:
        """Remove the lock file and let the lock go; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if sys.platform == "win32":  # pragma: no cover - an open file cannot be removed there
            _unlock(fd)
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # while still held: a run waiting on this file sees it is gone
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

"""What every output writer shares: whole lines only, written to the OS in one piece.

The promise is that a run stopped at any moment leaves files made only of whole lines, so a re-run, ``wc -l`` or ``jq`` never trips over half a record. That rules out Python's
buffered text files, which flush whenever their buffer fills, mid-line. Instead each row is encoded
to complete bytes first, complete lines are kept in a small buffer, and the buffer goes to the OS in
one ``os.write`` of whole lines (64 KiB at a time, on ``flush()`` and on ``close()``). What reached
the OS survives the death of the process; what was still buffered is simply redone by the next run,
whose cache makes it free. One case is beyond a user-space writer: a SIGKILL that lands inside the
``write`` system call itself, which Linux may end early at a page boundary. Errors, Ctrl-C and SIGTERM
all go through ``close()``.

Files are truncated on open: a re-run rewrites its outputs rather than appending duplicates. A
symbolic link is never followed: opening one fails (ELOOP), so a link planted where an output goes
cannot make forge overwrite the file it points to. A ``write`` that raises (a full disk) did not take
its row; rows taken before it and not yet on disk are ``pending`` until a flush gets them out, or
``discard`` drops them when the run gives up.

A format's writer subclasses ``Sink`` and implements ``_encode`` (one row to one complete line);
the buffering, the cut-back after a short write and the closing are all here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import orjson

__all__ = ["Sink", "lenient_dumps"]

#: buffered bytes that trigger a write to the OS
_BUFFER_LIMIT = 64 * 1024
_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_TRUNC
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)


def _json_default(value: Any) -> Any:
    """Write what orjson does not know (Path, Decimal, sets) as text rather than fail the row."""
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _scrub(value: Any) -> Any:
    """Replace lone surrogates (undecodable input bytes) so the row can still be UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def lenient_dumps(value: Any, option: int = 0) -> bytes:
    """JSON of any row value: unknown types as text, undecodable characters replaced."""
    try:
        return orjson.dumps(value, default=_json_default, option=option)
    except orjson.JSONEncodeError:
        # almost always a surrogate from an input that was not valid UTF-8; one bad row must not
        # end the run, so retry once with the offending characters replaced
        return orjson.dumps(_scrub(value), default=_json_default, option=option)


class Sink:
    """One output file, written whole lines at a time (see the module docstring for why).

    Every writer is built as ``cls(path, columns)``: ``columns`` are the fields a row is expected to
    carry, in order (the results' or the failures' fields); a format with a header uses them, one
    without ignores them.
    """

    #: False for a writer that keeps rows instead of writing a file: ``--format`` does not offer it
    writes_file: ClassVar[bool] = True
    #: extension (without the dot) of the files written, when it is not the format's name
    extension: ClassVar[str | None] = None

    path: Path
    count: int
    columns: tuple[str, ...]

    def __init__(self, path: Path, columns: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self.count = 0
        self.columns = tuple(columns)
        self._chunks: list[bytes] = []
        self._size = 0
        #: bytes of whole lines in the file
        self._offset = 0
        #: rows taken by write() that are still in the buffer
        self.pending = 0
        self._fd: int | None = self._open_fd()

    def _open_fd(self) -> int:
        """The descriptor written to: the file at ``path``, created or truncated, never a link."""
        return os.open(self.path, _OPEN_FLAGS, 0o644)

    def _encode(self, row: dict[str, Any]) -> bytes:
        """One complete line, newline included."""
        raise NotImplementedError

    def write(self, row: dict[str, Any]) -> None:
        if self._fd is None:
            raise ValueError(f"write to closed sink {self.path}")
        line = self._encode(row)  # may raise: then nothing was buffered
        if self._size + len(line) > _BUFFER_LIMIT and self._chunks:
            # drain before taking the row, so that a failing write (a full disk) leaves this row
            # out: the caller knows exactly which rows it handed over
            self._drain()
        self._chunks.append(line)
        self.count += 1
        self.pending += 1
        self._size += len(line)
        if self._size > _BUFFER_LIMIT:  # this one line fills the buffer alone: out it goes
            try:
                self._drain()
            except OSError:
                self._chunks.clear()  # not taken after all, as the exception says
                self._size = 0
                self.pending -= 1
                self.count -= 1
                raise

    def _buffer_line(self, line: bytes) -> None:
        """Queue a line that is not a row (a CSV header)."""
        self._chunks.append(line)
        self._size += len(line)

    def _drain(self) -> None:
        fd = self._fd
        if not self._chunks or fd is None:
            return
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)  # short writes happen (signals, full disks): loop
                view = view[written:]
        except OSError as exc:
            # a full disk can stop us after part of a line: cut the file back to its last whole
            # line and keep the lines buffered, so a later flush (or close) can try again
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._offset)
                os.lseek(fd, self._offset, os.SEEK_SET)
            self._chunks[:] = [data]
            if exc.errno is not None and exc.filename is None:
                # os.write names no file: say which one, for the one line the user reads
                raise OSError(exc.errno, exc.strerror, str(self.path)) from exc
            raise
        self._offset += len(data)
        self._chunks.clear()
        self._size = 0
        self.pending = 0

    def flush(self) -> None:
        """Hand every buffered line to the OS: after this, a reader (or a crash) sees them all."""
        self._drain()

    def sync(self) -> None:
        """Flush, then ask the OS to put the file on the disk (before it is renamed into place)."""
        self._drain()
        if self._fd is not None:
            os.fsync(self._fd)

    def discard(self) -> int:
        """Drop the rows not yet written and close: how many were dropped.

        For a run that stops on a write error: it counts these rows as not written, so they must
        not reach the file later through ``close``.
        """
        dropped, self.pending = self.pending, 0
        self.count -= dropped
        self._chunks.clear()
        self._size = 0
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        return dropped

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self._drain()
        finally:
            fd, self._fd = self._fd, None
            os.close(fd)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # a forgotten close() must not silently drop the buffered lines
        if getattr(self, "_fd", None) is not None:
            with contextlib.suppress(Exception):
                self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self.path)!r} rows={self.count}>"

"""``--out -``: a run's results on standard output, in any output format, for pipes.

Results written to stdout cannot be written aside and renamed into place, and need no lock: a
pipe has one writer. So this writer is the format's own, on a duplicate of descriptor 1 (closing
it leaves stdout open for the summary of ``--json-summary`` and anything else), with the same
whole-lines promise: lines reach the pipe whole, 64 KiB at a time, so ``jq`` or ``head`` downstream
never sees half a record. ``sync`` only flushes (a pipe cannot be synced to a disk).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from forge_cli.core.errors import OutputError
from forge_cli.io.sinks.base import Sink
from forge_cli.io.sinks.registry import writer_for

__all__ = ["STDOUT_NAME", "stdout_sink"]

#: what messages call the results when they go to stdout
STDOUT_NAME = "<stdout>"


class _ToStdout(Sink):
    """Mixed in before a format's writer: write to a copy of fd 1 instead of opening a file."""

    def _open_fd(self) -> int:
        sys.stdout.flush()  # what Python buffered before comes first
        try:
            return os.dup(sys.stdout.fileno())
        except (OSError, io.UnsupportedOperation, AttributeError, ValueError):
            raise OutputError(
                "--out -: standard output is not a file or pipe here; give --out-dir"
            ) from None

    def sync(self) -> None:
        self.flush()


def stdout_sink(fmt: str, columns: Sequence[str]) -> Sink:
    """A writer of format ``fmt`` on standard output."""
    writer = writer_for(fmt)
    on_stdout = type(f"Stdout{writer.__name__}", (_ToStdout, writer), {})
    sink: Sink = on_stdout(Path(STDOUT_NAME), columns)
    return sink

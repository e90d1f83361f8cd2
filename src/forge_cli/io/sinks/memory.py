"""Rows kept in a list, for a command that answers on stdout instead of writing files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from forge_cli.io.sinks.base import Sink

__all__ = ["MemorySink"]


class MemorySink(Sink):
    """Rows kept in a list: for a command that answers on stdout instead of writing files."""

    writes_file: ClassVar[bool] = False

    def __init__(self, path: Path | None = None, columns: Sequence[str] = ()) -> None:
        # no file, on purpose: nothing to open or leave behind (a path given is not used)
        self.path = Path("<memory>")
        self.count = 0
        self.columns = tuple(columns)
        self.rows: list[dict[str, Any]] = []
        self.pending = 0
        self._fd = None

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.count += 1

    def flush(self) -> None:
        return None

    def discard(self) -> int:
        return 0  # every row is kept at once: none is ever pending

    def close(self) -> None:
        return None

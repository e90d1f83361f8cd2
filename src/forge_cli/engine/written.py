"""The run's two writers, and counts of what they truly wrote.

A record counts as done or failed when its row is handed to a writer. A file writer keeps up to
64 KiB of whole lines before they reach the OS, so when a write fails (a full disk: measured before
this, 541 records were counted as failed that were written nowhere) the rows it still holds never
reach the file. ``Written`` remembers the class of each of the newest rows, and after a write error
takes exactly the unwritten ones off the counts, so the summary counts what is in the files and
nothing else. The first write error is kept; from then on nothing more is written or counted, and
the runner is told so that it stops at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from forge_cli.core.models import Complexity, RowWriter
from forge_cli.engine.stats import RunStats

__all__ = ["Written"]

#: rows a writer can hold unwritten, at most (a 64 KiB buffer of lines of 4 bytes or more)
TAGS = 16_384

#: what a row counted: its class (None: an input record that could not be used) and cache hit
Tag = tuple[Complexity | None, bool]


class Written:
    """Results and failures writers that count only what they wrote (see the module docstring)."""

    def __init__(
        self,
        results: RowWriter,
        failures: RowWriter,
        stats: RunStats,
        on_error: Callable[[], None] = lambda: None,
    ) -> None:
        self.results = results
        self.failures = failures
        self.stats = stats
        #: the first write that failed; nothing is written after it
        self.error: OSError | None = None
        self._on_error = on_error
        self._result_tags: deque[Tag] = deque(maxlen=TAGS)
        self._failure_tags: deque[Tag] = deque(maxlen=TAGS)

    def result(self, row: dict[str, Any], cls: Complexity, hit: bool) -> None:
        if not self._put(self.results, row):
            return
        self._result_tags.append((cls, hit))
        stats = self.stats
        stats.done += 1
        stats.done_by_class[cls] += 1
        if hit:
            stats.cached += 1
            stats.cached_by_class[cls] += 1

    def failure(self, row: dict[str, Any], cls: Complexity | None) -> None:
        """A failed record's row; ``cls`` None for an input record the reader could not use."""
        if not self._put(self.failures, row):
            return
        self._failure_tags.append((cls, False))
        stats = self.stats
        stats.failed += 1
        if cls is None:
            stats.input_failed += 1
        else:
            stats.failed_by_class[cls] += 1

    def _put(self, writer: RowWriter, row: dict[str, Any]) -> bool:
        if self.error is not None:
            return False
        try:
            writer.write(row)
        except OSError as exc:
            self._failed(exc)
            self._on_error()
            return False
        return True

    def _failed(self, exc: OSError) -> None:
        if self.error is None:
            self.error = exc
            self.stats.aborted = (
                f"cannot write {exc.filename or 'the outputs'}: {exc.strerror or exc}"
            )

    def flush(self) -> None:
        """Get every row out; after a write error, uncount the rows that never reached a file."""
        for writer in (self.results, self.failures):
            try:
                writer.flush()
            except OSError as exc:
                self._failed(exc)
        if self.error is None:
            return
        stats = self.stats
        for _ in range(self.results.discard()):
            stats.done -= 1
            if not self._result_tags:
                continue  # more rows than tags: only a format of one-byte lines gets here
            cls, hit = self._result_tags.pop()
            assert cls is not None
            stats.done_by_class[cls] -= 1
            if hit:
                stats.cached -= 1
                stats.cached_by_class[cls] -= 1
        for _ in range(self.failures.discard()):
            stats.failed -= 1
            if not self._failure_tags:
                continue
            cls, _hit = self._failure_tags.pop()
            if cls is None:
                stats.input_failed -= 1
            else:
                stats.failed_by_class[cls] -= 1

"""What the provider reports of a run's jobs: a Rich table on a terminal, plain lines elsewhere.

A batch run waits minutes to hours; what a person wants to see meanwhile is the provider's own
word on each job (validating, in progress, how many requests done and failed, when it expires),
refreshed at every poll. In pipes and CI a line per job is printed only when what it reports
changes, so a log stays short however long the wait.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from forge_cli.app.batch.journal import JobEntry, Journal

__all__ = ["JobsView", "job_line", "jobs_table"]


def _expiry(entry: JobEntry) -> str:
    if entry.expires_at is None or entry.status in ("completed", "cancelled", "failed"):
        return ""
    left = entry.expires_at - time.time()
    if left <= 0:
        return "expired" if entry.status == "expired" else "window over"
    hours, rest = divmod(int(left), 3600)
    return f"expires in {hours}h{rest // 60:02d}m"


def job_line(entry: JobEntry) -> str:
    """One job in one line: ``fj-.. batch_.. in_progress 120/500 done, 2 failed, expires in ..``."""
    ident = entry.batch_id or "(not created)"
    counts = f"{entry.completed}/{entry.total or entry.requests} done, {entry.failed} failed"
    tail = f", {_expiry(entry)}" if _expiry(entry) else ""
    collected = (
        f"; collected: {entry.answered} answers, {entry.unanswered} to ask again"
        if entry.state == "collected"
        else ""
    )
    return f"{entry.key} {ident} {entry.status}: {counts}{tail}{collected}"


def jobs_table(journal: Journal, title: str = "") -> Table:
    table = Table(title=title or f"batch jobs of {journal.path.name}")
    for column in ("job", "provider id", "status", "done", "failed", "requests", "expiry"):
        table.add_column(column)
    for entry in journal.jobs:
        table.add_row(
            entry.key,
            entry.batch_id or "-",
            entry.status + (" (collected)" if entry.state == "collected" else ""),
            str(entry.completed),
            str(entry.failed),
            str(entry.total or entry.requests),
            _expiry(entry),
        )
    return table


class JobsView:
    """Shows the journal's jobs after each poll; a context manager around the wait."""

    def __init__(self, err: Console, *, live: bool, quiet: bool) -> None:
        self.err = err
        self.quiet = quiet
        self.live = live and not quiet and sys.stderr.isatty()
        self._screen: Live | None = None
        self._last: dict[str, str] = {}

    def __enter__(self) -> JobsView:
        if self.live:
            self._screen = Live(console=self.err, refresh_per_second=2, transient=False)
            self._screen.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._screen is not None:
            self._screen.__exit__(exc_type, exc, tb)

    def show(self, journal: Journal) -> None:
        if self.quiet:
            return
        if self._screen is not None:
            self._screen.update(jobs_table(journal))
            return
        for entry in journal.jobs:
            line = job_line(entry)
            shown = line.split(", expires in")[0]  # the countdown alone is no news
            if self._last.get(entry.key) != shown:
                self._last[entry.key] = shown
                self.err.print(f"forge: batch: {line}", markup=False, highlight=False)

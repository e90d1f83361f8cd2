"""Running a task to results and failures files, with the live view and the summary.

Shared by ``forge classify`` and ``forge commit-msg --range`` so both get the same output files,
progress, summary and exit codes; the run itself is ``assemble.run_task``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import orjson
from rich.console import Console

from forge_cli.app.assemble import Notify, assemble, run_assembled
from forge_cli.app.settings import RunSettings
from forge_cli.core.models import Failure, Item
from forge_cli.engine.runner import FAILURE_FIELDS, result_columns
from forge_cli.engine.stats import RunStats
from forge_cli.io.sinks import open_sink, output_paths
from forge_cli.tasks.base import Task
from forge_cli.ui.live import progress_view, summary_table

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def run_to_files(
    settings: RunSettings,
    *,
    task: Task,
    records: Iterable[Item | Failure],
    source_name: str,
    total_hint: int | None,
    err: Console,
    pack: int | None = None,
) -> int:
    """Run every record into results and failures files; print the summary; the exit code."""
    results_path, failures_path = output_paths(source_name, settings.out_dir, settings.format)
    notify: Notify = lambda line: err.print(f"forge: {line}")  # noqa: E731

    def view(stats: RunStats) -> AbstractAsyncContextManager[None]:
        stats.total_hint = total_hint
        return progress_view(stats, live=not settings.no_progress)

    # the chain is built before any file is opened: a usage error leaves no empty outputs behind
    with (
        assemble(settings, task, pack=pack, notify=notify) as assembly,
        open_sink(results_path, settings.format, result_columns(task)) as results,
        open_sink(failures_path, settings.format, FAILURE_FIELDS) as failures,
    ):
        outcome = run_assembled(assembly, records, results, failures, view=view)
    stats = outcome.stats
    if outcome.interrupted:
        err.print(
            f"forge: interrupted after {stats.finished_records:,} records; run the same "
            "command again to finish: answers already received are cached."
        )
        # the shell's convention, 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM
        return 128 + outcome.signal
    _report(settings, stats, results_path, failures_path, err)
    if outcome.error is not None:
        err.print(f"forge: error: {outcome.error}", style="red", markup=False, highlight=False)
        err.print(
            f"forge: the {stats.failed:,} records not answered are in {failures_path}; run again "
            "once the provider works: answers already received come from the cache.",
            markup=False,
            highlight=False,
        )
        return EXIT_USAGE
    return EXIT_FAILURES if stats.failed else EXIT_OK


def _report(
    settings: RunSettings, stats: RunStats, results: Path, failures: Path, err: Console
) -> None:
    if settings.json_summary:
        summary = {**stats.summary(), "results": str(results), "failures": str(failures)}
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    err.print(summary_table(stats, str(results), str(failures)))

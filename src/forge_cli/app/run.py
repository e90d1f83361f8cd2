"""Running a task to results and failures files, with the live view and the summary.

Shared by ``forge classify`` and ``forge commit-msg --range`` so both get the same output files,
progress, summary and exit codes; the run itself is ``assemble.run_task``. The files are locked for
the run and written aside, then put in place once every record is accounted for
(``io.sinks.outputs``): an interrupted, killed or disk-full run leaves earlier outputs as they were.
"""

from __future__ import annotations

import contextlib
import errno
import sys
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import orjson
from rich.console import Console

from forge_cli.app.assemble import Notify, assemble, run_assembled
from forge_cli.app.settings import RunSettings
from forge_cli.core.errors import StalledError, UsageError
from forge_cli.core.models import Failure, Item
from forge_cli.engine.rows import FAILURE_FIELDS, result_columns
from forge_cli.engine.stats import RunStats
from forge_cli.io.sinks import RunFiles, output_paths
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
    command: str | None = None,
) -> int:
    """Run every record into results and failures files; print the summary; the exit code.

    ``command`` is how a second run on the same outputs hears of this one (default: the task's
    name and the input's).
    """
    results_path, failures_path = output_paths(source_name, settings.out_dir, settings.format)
    to_stdout = settings.out == "-"
    if to_stdout and settings.json_summary:
        raise UsageError("--out - gives stdout to the results: drop --json-summary")
    notify: Notify = lambda line: err.print(f"forge: {line}")  # noqa: E731

    def view(stats: RunStats) -> AbstractAsyncContextManager[None]:
        stats.total_hint = total_hint
        if settings.quiet:
            return contextlib.nullcontext()
        return progress_view(stats, live=not settings.no_progress)

    # the lock first, so a second run stops before any work; the chain is built before any file
    # is opened, so a usage error leaves no empty files behind
    command = command or f"forge {task.name} {source_name}"
    with RunFiles(
        results_path, failures_path, command=command, results_to_stdout=to_stdout
    ) as files:
        if files.existing and not settings.quiet:
            names = " and ".join(path.name for path in files.existing)
            notify(f"{names} from an earlier run will be replaced when this run ends")
        with assemble(settings, task, pack=pack, notify=notify) as assembly:
            results, failures = files.open(settings.format, result_columns(task), FAILURE_FIELDS)
            outcome = run_assembled(assembly, records, results, failures, view=view)
            if not outcome.interrupted and outcome.write_error is None:
                files.publish()  # every record read is in one of the two files
    stats = outcome.stats
    partial_results, partial_failures = files.partials
    if outcome.interrupted:
        err.print(
            f"forge: interrupted after {stats.finished_records:,} records, which are in "
            f"{partial_results} and {partial_failures}; run the same command again to finish: "
            "answers already received are cached.",
            markup=False,
            highlight=False,
        )
        # the shell's convention, 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM
        return 128 + outcome.signal
    if outcome.write_error is not None:
        _report(settings, stats, partial_results, partial_failures, err)
        err.print(f"forge: error: {_write_failure(outcome.write_error, stats)}", markup=False)
        return EXIT_USAGE
    _report(settings, stats, files.results_name, failures_path, err)
    if outcome.error is not None:
        # why each provider was dropped is on its own line already, printed when it happened
        err.print(
            f"forge: error: no provider left; the {stats.failed:,} records not answered are in "
            f"{failures_path}; run again once the provider works: answers already received come "
            "from the cache.",
            markup=False,
            highlight=False,
        )
        # providers that stalled may come back (some records failed: 1); a refused key or an
        # unknown model is the command line's to fix (2)
        return EXIT_FAILURES if isinstance(outcome.error, StalledError) else EXIT_USAGE
    return EXIT_FAILURES if stats.failed else EXIT_OK


def _write_failure(exc: OSError, stats: RunStats) -> str:
    """The one line of a run stopped by a write error: why, and where every record read is."""
    reason = exc.strerror or str(exc)
    unwritten = stats.read - stats.finished_records
    if exc.errno == errno.EPIPE:
        # --out - into a reader that stopped reading (`| head`): not the disk's fault
        return (
            f"the reader of {exc.filename or 'stdout'} closed it (broken pipe); stopped with "
            f"{stats.done:,} results written there and {stats.failed:,} failures in the .partial "
            f"file, {unwritten:,} records read but not written. Answers already received are "
            "cached."
        )
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        reason = f"the disk is full ({reason})"
    return (
        f"cannot write {exc.filename or 'the outputs'}: {reason}; stopped with {stats.done:,} "
        f"results and {stats.failed:,} failures written to the .partial files, {unwritten:,} "
        "records read but not written; earlier outputs are left as they were. Free some space "
        "and run the same command again: answers already received are cached."
    )


def _report(
    settings: RunSettings, stats: RunStats, results: Path, failures: Path, err: Console
) -> None:
    if settings.json_summary:
        summary = {**stats.summary(), "results": str(results), "failures": str(failures)}
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    if not settings.quiet:
        err.print(summary_table(stats, str(results), str(failures)))

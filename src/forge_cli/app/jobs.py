"""``forge jobs list | status | collect | cancel``: the batch jobs recorded in journals.

A journal (``app/batch/journal.py``) holds everything needed to act on its jobs later, from
another shell or after a reboot: the command's settings (never a key: only the name of the
variable holding it), the folder it ran in and each job's provider id. ``collect`` runs the
recorded command again, which is exactly what resumes a batch run; ``cancel`` stops the jobs at
the provider, and the next collect asks what they left unanswered synchronously.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
from rich.console import Console

from forge_cli.app.assemble import chain_configs, price_table
from forge_cli.app.batch.journal import Journal
from forge_cli.app.batch.submit import update_entry
from forge_cli.app.batch.view import job_line, jobs_table
from forge_cli.app.settings import ClassifySettings, CommitSettings, RunSettings, validate
from forge_cli.core.errors import UsageError
from forge_cli.providers.batch import ACTIVE, BatchApi, batch_api
from forge_cli.providers.registry import build_provider

__all__ = ["cancel_jobs", "collect_jobs", "find_journals", "jobs_status", "list_jobs"]

SETTINGS: dict[str, type[RunSettings]] = {
    "classify": ClassifySettings,
    "commit-msg": CommitSettings,
}


def find_journals(where: Path | None) -> list[Path]:
    """The journal ``where`` names, or every journal in that folder (default: this one)."""
    where = where or Path.cwd()
    if where.is_dir():
        return sorted(where.glob("*.jobs.json"))
    if where.name.endswith(".jobs.json") and where.exists():
        return [where]
    raise UsageError(f"{where}: no batch journal there (a NAME.jobs.json file or its folder)")


def _one(where: Path | None) -> Journal:
    paths = find_journals(where)
    if len(paths) != 1:
        found = ", ".join(p.name for p in paths) or "none"
        raise UsageError(f"name one batch journal (found: {found})")
    journal = Journal.load(paths[0])
    assert journal is not None
    return journal


def recorded_settings(journal: Journal, **changes: object) -> RunSettings:
    model = SETTINGS.get(journal.command)
    if model is None:
        raise UsageError(f"{journal.path}: unknown command {journal.command!r}")
    return validate(model, {**journal.settings, **changes})


@contextlib.contextmanager
def _api(journal: Journal) -> Iterator[BatchApi]:
    settings = recorded_settings(journal)
    config = chain_configs(settings)[0]
    provider = build_provider(config, price_table(settings))
    api = batch_api(provider, config.preset, timeout=settings.timeout)
    try:
        yield api
    finally:
        api.close()
        asyncio.run(provider.aclose())


def list_jobs(where: Path | None, *, json_output: bool = False) -> int:
    """What every journal says of its jobs, without asking the provider."""
    journals = [j for p in find_journals(where) if (j := Journal.load(p)) is not None]
    if json_output:
        for journal in journals:
            row = {
                "journal": str(journal.path),
                "command": journal.command,
                "provider": journal.provider,
                "jobs": [job_line(entry) for entry in journal.jobs],
            }
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return 0
    console = Console()
    if not journals:
        console.print("no batch journals here")
    for journal in journals:
        console.print(
            jobs_table(journal, f"{journal.path} ({journal.command}, {journal.provider})")
        )
    return 0


def jobs_status(where: Path | None, *, json_output: bool = False) -> int:
    """Ask the provider about every job not yet collected, and record what it says."""
    for path in find_journals(where):
        journal = Journal.load(path)
        if journal is None:
            continue
        with _api(journal) as api:
            for entry in journal.pending:
                if entry.batch_id is not None:
                    update_entry(entry, api.retrieve(entry.batch_id))
        journal.save()
    return list_jobs(where, json_output=json_output)


def cancel_jobs(where: Path | None, err: Console) -> int:
    """Stop the journal's running jobs; jobs never created are dropped from the submission."""
    journal = _one(where)
    with _api(journal) as api:
        for entry in journal.pending:
            if entry.batch_id is None and entry.state == "creating":
                since = entry.creating_at or 0.0
                found = api.find(entry.key, requests=entry.requests, since=since)
                if found is not None:
                    entry.batch_id, entry.state = found.id, "submitted"
            if entry.batch_id is None:
                # never reached the provider: nothing to stop, nothing to collect
                entry.state, entry.status, entry.unanswered = "collected", "cancelled", entry.items
            elif entry.status in ACTIVE or entry.state == "submitted":
                job = api.retrieve(entry.batch_id)
                if job.status in ACTIVE and job.status != "cancelling":
                    job = api.cancel(entry.batch_id)
                update_entry(entry, job)
            err.print(f"forge: batch: {job_line(entry)}", markup=False, highlight=False)
            journal.save()
    err.print(
        f"forge: collect with `forge jobs collect {journal.path}`: what the jobs answered is "
        "kept, the rest is asked synchronously",
        markup=False,
        highlight=False,
    )
    return 0


def collect_jobs(where: Path | None, err: Console, *, no_wait: bool = False) -> int:
    """Run the journal's command again, in its folder: that collects and writes the outputs."""
    journal = _one(where)
    settings = recorded_settings(journal, batch=True, no_wait=no_wait, dry_run=False)
    if journal.cwd:
        os.chdir(journal.cwd)
    if journal.command == "classify":
        from forge_cli.app.classify import run_classify

        assert isinstance(settings, ClassifySettings)
        return run_classify(settings, err)
    from forge_cli.app.commit_msg import run_commit_msg

    assert isinstance(settings, CommitSettings)
    return run_commit_msg(settings, err)

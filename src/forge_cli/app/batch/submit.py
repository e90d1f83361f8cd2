"""Cut the planned packs into jobs within the provider's limits, and submit each exactly once.

Every job is written down (input file, manifest, journal entry in state ``intent``) before the
first byte goes to the provider; then each step of a submission is recorded around the call that
makes it (``journal.py`` says why). ``submit_pending`` is also what a resumed run calls: it picks
each job up at the state its journal entry says, and a job that may have been created by a run
killed before it wrote the id down is looked up by its key before anything is created again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from forge_cli.app.batch.journal import JobEntry, Journal
from forge_cli.app.batch.plan import PlannedPack
from forge_cli.providers.batch import BatchApi, BatchJob

__all__ = ["record_jobs", "submit_pending"]

#: seconds the provider's clock may be behind this machine's, when a job is looked up by time
CLOCK_SLACK = 300.0


def record_jobs(
    journal: Journal,
    packs: Iterable[PlannedPack],
    api: BatchApi,
    *,
    max_requests: int | None = None,
) -> list[JobEntry]:
    """Write the input and manifest of each job (at most ``max_requests`` requests and the
    provider's byte limit each) and record them in the journal; nothing is sent yet."""
    limit = min(api.max_requests, max_requests or api.max_requests)
    entries: list[JobEntry] = []
    lines: list[bytes] = []
    manifest: dict[str, list[list[str]]] = {}  # custom_id -> [[pack id, cache key, record id]]
    size = items = 0

    def close() -> None:
        nonlocal size, items
        if not lines:
            return
        entry = JobEntry(JobEntry.new_key(), journal.round, requests=len(lines), items=items)
        journal.write_job_files(entry, b"".join(lines), dict(manifest))
        entries.append(entry)
        lines.clear()
        manifest.clear()
        size = items = 0

    for number, pack in enumerate(packs):
        custom_id = f"r{journal.round}-{number}"
        line = api.line(custom_id, pack.request)
        if lines and (len(lines) >= limit or size + len(line) > api.max_bytes):
            close()
        lines.append(line)
        manifest[custom_id] = [list(t) for t in zip(pack.ids, pack.keys, pack.records, strict=True)]
        size += len(line)
        items += len(pack.ids)
    close()
    journal.jobs.extend(entries)
    journal.save()
    return entries


def submit_pending(
    journal: Journal, api: BatchApi, *, notify: Callable[[str], None] = lambda line: None
) -> None:
    """Bring every job of the journal to ``submitted`` (or later), each created once."""
    for entry in journal.jobs:
        if entry.state in ("submitted", "collected"):
            continue
        if entry.state == "creating":
            # the create call may have reached the provider before this run was killed
            found = api.find(entry.key, requests=entry.requests, since=entry.creating_at or 0.0)
            if found is not None:
                _created(journal, entry, found)
                notify(f"found job {found.id} ({entry.key}) created by an interrupted run")
                continue
        data = journal.job_file(entry, ".jsonl").read_bytes()
        if entry.state == "intent" or entry.file_id is None:
            entry.file_id = api.upload(data, f"{entry.key}.jsonl")
            entry.state = "uploaded"
            journal.save()
        entry.state = "creating"
        entry.creating_at = time.time() - CLOCK_SLACK
        journal.save()
        _created(journal, entry, api.create(entry.file_id, entry.key, data))


def _created(journal: Journal, entry: JobEntry, job: BatchJob) -> None:
    entry.batch_id = job.id
    entry.state = "submitted"
    update_entry(entry, job)
    journal.save()


def update_entry(entry: JobEntry, job: BatchJob) -> None:
    """What the provider reports of the job, kept in its entry."""
    entry.status = job.status
    entry.total, entry.completed, entry.failed = job.total, job.completed, job.failed
    entry.expires_at = job.expires_at

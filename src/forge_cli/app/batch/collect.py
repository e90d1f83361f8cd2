"""A finished job's answers through the task's own checks into the cache.

Each answer is parsed by the task exactly as a synchronous answer is (``Task.parse``: missing,
duplicated and invalid ids are refused one by one), and the good ones go into the dedup cache
under the keys the manifest recorded. The synchronous pass that follows then writes every record
from the cache, and asks again (synchronously) only what has no good answer: items a job left
out, answered badly, or never ran because it expired or was cancelled. Putting answers in the
cache twice (a run killed mid-collect and resumed) is harmless; the entry is marked collected only
once every answer is in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forge_cli.app.batch.journal import JobEntry, Journal
from forge_cli.app.batch.submit import update_entry
from forge_cli.engine.cache import ResultCache
from forge_cli.providers.batch import BatchApi, BatchJob
from forge_cli.tasks.base import Task

__all__ = ["collect_job"]


def collect_job(
    journal: Journal,
    entry: JobEntry,
    job: BatchJob,
    api: BatchApi,
    *,
    task: Task,
    cache: ResultCache,
    notify: Callable[[str], None] = lambda line: None,
) -> None:
    """Put a terminal job's good answers in the cache; count what is left to ask again."""
    update_entry(entry, job)
    manifest = journal.manifest(entry)
    order = list(manifest)  # the job's input order, for answers that come back without ids
    answered = tokens_in = tokens_out = 0
    seen: set[str] = set()
    for outcome in api.answers(job):
        custom_id = outcome.custom_id
        if custom_id not in manifest and outcome.index is not None:
            custom_id = order[outcome.index] if 0 <= outcome.index < len(order) else ""
        pack = manifest.get(custom_id)
        if pack is None or custom_id in seen:
            continue
        seen.add(custom_id)
        completion = outcome.completion
        if completion is None:
            continue
        tokens_in += completion.tokens_in
        tokens_out += completion.tokens_out
        ids = [entry[0] for entry in pack]
        parsed = task.parse(completion.content, ids, completion.logprobs, completion.confidences)
        good: list[tuple[str, dict[str, Any]]] = [
            (
                key,
                {"answer": parsed.answers[local], "provider": api.name, "model": completion.model},
            )
            for local, key, *_ in pack
            if local in parsed.answers
        ]
        cache.set_many(good)
        answered += len(good)
    if job.status in ("failed",) and job.errors:
        notify(f"job {job.id} failed: {'; '.join(job.errors[:3])}")
    entry.answered, entry.unanswered = answered, entry.items - answered
    entry.tokens_in, entry.tokens_out = tokens_in, tokens_out
    entry.state = "collected"
    journal.save()

"""``--batch``: submit through the provider's batch API, wait or return, collect, write the outputs.

The run is the synchronous one with the calls moved: records are planned as the engine would send
them (``plan.py``), sent as jobs (``submit.py``), and the answers put in the cache (``collect.py``).
The outputs are then written by the ordinary synchronous path (``app/run.py``: the same writers,
output lock, summary and exit codes), where every batch answer is a cache hit and whatever has no
good answer yet (left out, answered badly, expired, cancelled, a record the source could not
read) is asked synchronously or written to failures, exactly as in a synchronous run. So every
record ends in exactly one output file, and the invariant is the engine's, not a second copy of it.
``--batch-reask batch`` sends what is left in a follow-up job first (up to ``MAX_ROUNDS`` rounds).

Running the same command again (or ``forge jobs collect``) resumes from the journal; with
``--no-wait`` it returns after submitting, or after one look at the jobs.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
from rich.console import Console

from forge_cli.app.assemble import Assembly, assemble, chain_configs
from forge_cli.app.batch.collect import collect_job
from forge_cli.app.batch.journal import Journal, journal_path
from forge_cli.app.batch.plan import PlanCounts, plan_packs
from forge_cli.app.batch.submit import record_jobs, submit_pending, update_entry
from forge_cli.app.batch.view import JobsView, job_line
from forge_cli.app.run import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, run_to_files
from forge_cli.app.settings import RunSettings
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Failure, Item
from forge_cli.io.sinks import output_paths
from forge_cli.providers.batch import BatchApi, batch_api
from forge_cli.providers.catalog.batch_offers import batch_prices
from forge_cli.tasks.base import Task

__all__ = ["MAX_ROUNDS", "BatchRun", "run_batch"]

#: batch rounds at most with ``--batch-reask batch``; what is left after them is asked synchronously
MAX_ROUNDS = 3

Records = Callable[[], Iterable[Item | Failure]]


@dataclass(slots=True)
class BatchRun:
    """One batch command: its settings, task and input (read again for each pass)."""

    settings: RunSettings
    command: str
    task: Task
    records: Records
    source_name: str
    total_hint: int | None
    err: Console
    pack: int | None = None
    #: how a second run on the same outputs hears of this one (``run_to_files``' ``command``)
    label: str | None = None

    def notify(self, line: str) -> None:
        if not self.settings.quiet:
            self.err.print(f"forge: {line}", markup=False, highlight=False)


def run_batch(run: BatchRun) -> int:
    """Submit, follow and collect the jobs of ``run``, then write its outputs; the exit code."""
    settings = run.settings
    if run.source_name in ("-", "<stdin>", ""):
        raise UsageError("--batch reads its input again when it collects: give a file, not stdin")
    results_path, _ = output_paths(run.source_name, settings.out_dir, settings.format)
    path = journal_path(results_path)
    journal = Journal.load(path)
    with assemble(settings, run.task, pack=run.pack, notify=run.notify) as assembly:
        try:
            if assembly.cache is None:
                raise UsageError(
                    "--batch needs the cache: collected answers reach the outputs through it "
                    "(drop --no-cache)"
                )
            if assembly.screen is not None:
                raise UsageError("--batch with --cascade is not supported yet")
            member = assembly.chain.members[0]
            preset = chain_configs(settings)[0].preset
            api = batch_api(member.provider, preset, timeout=settings.timeout)
            fingerprint = f"{run.task.fingerprint()}|{assembly.chain.identity}"
            if journal is not None and journal.fingerprint != fingerprint:
                raise UsageError(
                    f"{path} holds jobs of a run with other settings (task, labels, provider or "
                    f"model); finish that run first with `forge jobs collect {path}` (after "
                    f"`forge jobs cancel {path}` not to wait for them), then run again"
                )
            if journal is None:
                journal = Journal(
                    path,
                    run.command,
                    settings.model_dump(mode="json"),
                    fingerprint,
                    member.name,
                    member.provider.model,
                    cwd=str(Path.cwd()),
                )
            try:
                state = _follow(run, journal, api, assembly)
            finally:
                api.close()
        finally:
            asyncio.run(assembly.chain.aclose())
        if state == "done":
            _report(run, journal, preset, member.provider.price_in, member.provider.price_out)
    if state == "interrupted":
        run.err.print(
            f"forge: interrupted; the jobs go on at the provider. Run the same command again, "
            f"or `forge jobs collect {path}`, to collect them.",
            markup=False,
            highlight=False,
        )
        return EXIT_INTERRUPTED
    if state == "pending":
        if settings.json_summary:
            lines = [job_line(entry) for entry in journal.jobs]
            summary = {"batch": "pending", "journal": str(path), "jobs": lines}
            sys.stdout.write(orjson.dumps(summary).decode() + "\n")
        run.notify(
            f"{len(journal.pending)} batch jobs pending; run the same command again, or "
            f"`forge jobs collect {path}`, to collect them"
        )
        return EXIT_OK
    code = run_to_files(
        settings,
        task=run.task,
        records=run.records(),
        source_name=run.source_name,
        total_hint=run.total_hint,
        err=run.err,
        pack=run.pack,
        command=run.label,
    )
    if code in (EXIT_OK, EXIT_FAILURES):
        journal.remove()  # every record is in the outputs; the jobs are spent
    return code


def _follow(run: BatchRun, journal: Journal, api: BatchApi, assembly: Assembly) -> str:
    """Submit what the journal lacks, poll until every job is collected: "done", "pending"
    (``--no-wait``) or "interrupted"."""
    settings = run.settings
    assert assembly.cache is not None
    try:
        if not journal.jobs and not journal.path.exists():
            _plan(run, journal, api, assembly)
        submit_pending(journal, api, notify=run.notify)
        with JobsView(run.err, live=not settings.no_progress, quiet=settings.quiet) as view:
            while True:
                for entry in journal.pending:
                    assert entry.batch_id is not None
                    job = api.retrieve(entry.batch_id)
                    update_entry(entry, job)
                    if job.terminal:
                        collect_job(
                            journal,
                            entry,
                            job,
                            api,
                            task=run.task,
                            cache=assembly.cache,
                            notify=run.notify,
                        )
                journal.save()
                view.show(journal)
                if not journal.pending:
                    if not _next_round(run, journal, api, assembly):
                        return "done"
                    submit_pending(journal, api, notify=run.notify)
                    continue
                if settings.no_wait:
                    return "pending"
                time.sleep(settings.batch_poll)
    except KeyboardInterrupt:
        return "interrupted"


def _plan(run: BatchRun, journal: Journal, api: BatchApi, assembly: Assembly) -> int:
    """Record the jobs for every record without a cached answer; how many jobs."""
    assert assembly.cache is not None
    counts = PlanCounts()
    packs = plan_packs(
        run.records(),
        task=run.task,
        cache=assembly.cache,
        fingerprint=journal.fingerprint,
        limits=assembly.limits,
        counts=counts,
    )
    entries = record_jobs(journal, packs, api, max_requests=run.settings.batch_max_requests)
    requests = sum(entry.requests for entry in entries)
    run.notify(
        f"batch round {journal.round}: {counts.records:,} records, {counts.cached:,} cached, "
        f"{counts.duplicates:,} duplicates, {counts.to_ask:,} texts in {requests:,} requests, "
        f"{len(entries)} jobs (journal {journal.path})"
    )
    return len(entries)


def _next_round(run: BatchRun, journal: Journal, api: BatchApi, assembly: Assembly) -> bool:
    """With ``--batch-reask batch``: what the last round left unanswered, in new jobs."""
    if run.settings.batch_reask != "batch" or journal.round >= MAX_ROUNDS:
        return False
    if not any(e.unanswered for e in journal.jobs if e.round == journal.round):
        return False
    journal.round += 1
    return _plan(run, journal, api, assembly) > 0


def _report(
    run: BatchRun, journal: Journal, preset: str, price_in: float, price_out: float
) -> None:
    jobs = journal.jobs
    tokens_in = sum(e.tokens_in for e in jobs)
    tokens_out = sum(e.tokens_out for e in jobs)
    answered = sum(e.answered for e in jobs)
    unanswered = sum(e.unanswered for e in jobs if e.round == journal.round)
    sync_cost = (tokens_in * price_in + tokens_out * price_out) / 1e6
    prices = batch_prices(preset, price_in, price_out) or (price_in, price_out)
    cost = (tokens_in * prices[0] + tokens_out * prices[1]) / 1e6
    run.notify(
        f"batch: {len(jobs)} jobs, {sum(e.requests for e in jobs):,} requests, {answered:,} "
        f"answers in the cache, {unanswered:,} left to ask synchronously; tokens "
        f"{tokens_in:,} in, {tokens_out:,} out; est. ${cost:.4f} at batch prices "
        f"(${sync_cost:.4f} synchronously)"
    )

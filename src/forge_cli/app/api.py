"""forge as a library: run a task on records with a provider chain, get the rows back.

The same assembly as the command line (``assemble.run_task``): chain, retries, breaker, cache and
packing all apply. Settings are taken from the arguments only, never from forge.toml or FORGE_*
variables, so a script behaves the same wherever it runs; pass ``settings=resolve(...)`` to opt in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from forge_cli.app.assemble import run_task
from forge_cli.app.settings import RunSettings, validate
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Failure, Item
from forge_cli.engine.stats import RunStats
from forge_cli.io.sinks import MemorySink
from forge_cli.tasks.base import Task
from forge_cli.tasks.registry import make_task

Record = str | Mapping[str, Any] | Item


@dataclass(slots=True)
class RunResult:
    """Every record ends in exactly one of ``results`` and ``failures`` (rows as in the files)."""

    results: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    stats: RunStats


def run(
    task: str | Task,
    records: Iterable[Record],
    *,
    task_options: Mapping[str, Any] | None = None,
    settings: RunSettings | None = None,
    pack: int | None = None,
    **options: Any,
) -> RunResult:
    """Run ``task`` (a name such as "classify", or a Task) on ``records``.

    Records are texts, mappings with a ``text`` field (``id`` and other fields are kept), or Items.
    ``options`` are run settings by name (``provider="groq,offline"``, ``concurrency=16``,
    ``no_cache=True``, ...); ``task_options`` go to the task (``labels=[...]`` for classify).
    """
    if isinstance(task, str):
        task = make_task(task, **(task_options or {}))
    elif task_options:
        raise UsageError("task_options apply to a task given by name")
    # a setting passed here is the caller's own choice, as a typed flag is: it wins over a
    # preset's (``concurrency=1`` stays 1 on a local server whose preset says 4)
    given = {name: "run() argument" for name in options}
    if settings is None:
        settings = validate(RunSettings, {"no_progress": True, **options, "setting_sources": given})
    elif options:
        sources = {**settings.setting_sources, **given}
        settings = settings.model_copy(update={**options, "setting_sources": sources})
    results, failures = MemorySink(), MemorySink()
    outcome = run_task(task, as_items(records), settings, results, failures, pack=pack)
    if outcome.interrupted:
        raise KeyboardInterrupt
    return RunResult(results.rows, failures.rows, outcome.stats)


def as_items(records: Iterable[Record]) -> Iterator[Item | Failure]:
    """Records of any accepted shape as numbered Items; one without text becomes a Failure."""
    for line, record in enumerate(records, 1):
        if isinstance(record, Item):
            yield record
        elif isinstance(record, str):
            yield Item(id=str(line), line=line, text=record)
        else:
            fields = dict(record)
            text = fields.pop("text", None)
            rid = str(fields.pop("id", line))
            if not isinstance(text, str) or not text.strip():
                yield Failure(rid, line, "InputError", "record has no text field")
            else:
                yield Item(id=rid, line=line, text=text, extra=fields)

"""``--variant NAME:key=value,...``: classify the gold texts once per variant, the normal way.

A variant is a set of classify settings given as flags: each is resolved like ``forge classify``
would resolve them (defaults < forge.toml < FORGE_* < the flags given to eval < the variant's own),
the task is built by classify's own ``make_task`` and the run goes through ``assemble.run_task``
into memory. Every variant is prepared (its settings validated, its task built) before any of them
calls anything (its provider chain built and closed again), so a typo or a missing key in the
last one costs nothing.

The gold columns being scored are taken out of each record before the run: the answer must never
reach the prompt, the cache key, the urgency hook or the results rows it is compared with.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from forge_cli.app.assemble import Notify, build_chain, run_task
from forge_cli.app.classify import make_task, redacting
from forge_cli.app.config_files import LoadedConfig
from forge_cli.app.settings import ClassifySettings, resolve
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Failure, Item
from forge_cli.engine.stats import RunStats
from forge_cli.io.sinks import MemorySink
from forge_cli.io.sources import open_source
from forge_cli.tasks.base import Task

__all__ = ["Prepared", "Ran", "Variant", "parse_variant", "prepare", "run_prepared", "variant_keys"]

#: classify settings a variant may not set: they decide what is read and where output goes, which
#: eval owns (the join needs every variant to read the same records under the same ids)
_NOT_PER_VARIANT = frozenset(
    {
        "input",
        "id_field",
        "input_format",
        "dry_run",
        "out_dir",
        "format",
        "json_summary",
        "no_progress",
        "provider_tables",
        "prices",
        "setting_sources",
    }
)
_NAME = re.compile(r"^[\w.\-]+$")


def variant_keys() -> list[str]:
    """The settings a variant may set (classify's, minus what eval decides)."""
    return sorted(set(ClassifySettings.model_fields) - _NOT_PER_VARIANT)


@dataclass(frozen=True, slots=True)
class Variant:
    """One row of the comparison: a name and the classify settings it changes."""

    name: str
    #: setting -> its value as typed (a list where the key was given more than once)
    flags: Mapping[str, str | list[str]]

    def describe(self) -> str:
        parts = [
            f"{key}={one}"
            for key, value in self.flags.items()
            for one in ([value] if isinstance(value, str) else value)
        ]
        return ",".join(parts) or "(eval's own settings)"


def parse_variant(text: str) -> Variant:
    """``NAME:key=value,key=value``; a part without ``=`` continues the value before it, so
    ``labels=a,b,c`` and ``provider=groq,offline`` (a chain) keep their commas. A key given twice
    is a list, for the settings a flag may repeat (``field=queue=A,B,field=type=C,D``)."""
    name, colon, spec = text.partition(":")
    name = name.strip()
    if not name or "=" in name or not _NAME.match(name):
        raise UsageError(
            f"--variant {text!r}: start with a name of letters, digits, _, - or . "
            "(NAME:key=value,key=value)"
        )
    values: dict[str, list[str]] = {}
    last: list[str] | None = None
    allowed = set(variant_keys())
    for part in spec.split(",") if colon and spec.strip() else []:
        key, eq, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if not eq:
            if last is None:
                raise UsageError(f"--variant {name}: {part!r} is not key=value")
            last[-1] += "," + part
            continue
        if key not in allowed:
            raise UsageError(
                f"--variant {name}: unknown setting {key!r} (one of: {', '.join(sorted(allowed))})"
            )
        last = values.setdefault(key, [])
        last.append(value.strip())
    flags = {key: found[0] if len(found) == 1 else found for key, found in values.items()}
    return Variant(name, flags)


@dataclass(slots=True)
class Prepared:
    """A variant ready to run: its resolved settings and its task."""

    variant: Variant
    settings: ClassifySettings
    task: Task


@dataclass(slots=True)
class Ran:
    """What a variant's run produced, in memory."""

    prepared: Prepared
    #: id -> results row (without the id)
    rows: dict[str, dict[str, Any]]
    failed: set[str]
    stats: RunStats
    #: the error that stopped the run early (no provider of the chain could answer)
    error: str | None
    interrupted: bool


def prepare(
    variant: Variant,
    *,
    gold: str,
    id_field: str,
    input_format: str | None,
    base_flags: Mapping[str, Any],
    loaded: LoadedConfig,
) -> Prepared:
    """Resolve the variant's classify settings and build its task; UsageError names the variant."""
    flags = {
        **base_flags,
        **variant.flags,
        "input": gold,
        "id_field": id_field,
        "input_format": input_format,
    }
    try:
        settings = resolve(ClassifySettings, "classify", flags, loaded=loaded)
        task = make_task(settings)
        # built and closed at once (no call is made): a missing key or a bad URL is found now,
        # not after the variants before it have run
        asyncio.run(build_chain(settings, RunStats()).aclose())
    except (UsageError, ValueError) as exc:
        raise UsageError(f"--variant {variant.name}: {exc}") from None
    return Prepared(variant, settings, task)


View = Callable[[RunStats], AbstractAsyncContextManager[Any]]


def run_prepared(
    prepared: Prepared,
    *,
    hide: Collection[str],
    stdin: bytes | None = None,
    notify: Notify | None = None,
    view: View | None = None,
) -> Ran:
    """Classify the gold records with the variant's settings, into memory.

    ``hide``: gold columns taken out of every record first. ``stdin``: the gold's bytes when it was
    read from stdin (read once by eval, replayed to each variant).
    """
    settings = prepared.settings
    source = open_source(
        settings.input,
        fmt=settings.input_format,
        text_field=settings.text_field,
        id_field=settings.id_field,
        max_record_bytes=settings.max_record_bytes,
        stdin=io.BytesIO(stdin) if stdin is not None else None,
    )
    results, failures = MemorySink(), MemorySink()
    with source:
        records: Iterable[Item | Failure] = _without(source, frozenset(hide))
        if settings.redact != "none":
            records = redacting(records, pii=settings.redact == "pii")
        outcome = run_task(
            prepared.task,
            records,
            settings,
            results,
            failures,
            pack=settings.pack,
            notify=notify,
            view=view,
        )
    rows: dict[str, dict[str, Any]] = {}
    for row in results.rows:
        rows.setdefault(str(row["id"]), {k: v for k, v in row.items() if k != "id"})
    failed = {str(row["id"]) for row in failures.rows if row.get("id") is not None}
    error = str(outcome.error) if outcome.error is not None else None
    return Ran(prepared, rows, failed, outcome.stats, error, outcome.interrupted)


def _without(records: Iterable[Item | Failure], hide: frozenset[str]) -> Iterator[Item | Failure]:
    for record in records:
        if hide and record.extra:
            record.extra = {k: v for k, v in record.extra.items() if k not in hide}
        yield record

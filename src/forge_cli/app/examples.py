"""``--examples FILE``: read the user's labelled records with forge's own readers (JSONL, CSV,
stdin) into the example pool the classification task chooses from.

Reading happens here, before any work, so a file that cannot be used ends the command with one line
naming it; what each record's labels mean is the task's business (``tasks.classify.examples``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from forge_cli.core.errors import InputError, UsageError
from forge_cli.core.models import Failure
from forge_cli.io.sources import Source, open_source
from forge_cli.tasks.classify.examples import ExamplePool, label_examples
from forge_cli.tasks.classify.fields import Field


def read_examples(
    path: str,
    fields: Sequence[Field],
    *,
    per_label: int,
    budget: int,
    text_field: str | None = None,
    max_record_bytes: int = 1_000_000,
    redact: str = "none",
    warn: Callable[[str], None] = lambda line: None,
) -> ExamplePool:
    """The pool of usable examples in ``path``; every problem is one ``warn`` line naming the file.

    Example texts go to the provider like the records do, so ``redact`` masks them the same way.
    """
    try:
        source = open_source(path, text_field=text_field, max_record_bytes=max_record_bytes)
    except InputError as exc:
        raise InputError(f"--examples: {exc}") from None
    unreadable: list[Failure] = []
    with source:
        labelled = label_examples(_records(source, unreadable, redact), fields)
    if unreadable:
        count = len(unreadable)
        what = "record is" if count == 1 else "records are"
        warn(f"{source.name}: {count} {what} not usable as examples: {unreadable[0].message}")
    for line in labelled.warnings:
        warn(f"{source.name}: {line}")
    if not labelled.examples:
        names = ", ".join(f.name for f in fields)
        raise UsageError(
            f"--examples {source.name}: no usable example (each needs a text and a column named "
            f"like a field: {names})"
        )
    return ExamplePool(labelled.examples, fields, per_label=per_label, budget=budget)


def _records(
    source: Source, unreadable: list[Failure], redact: str
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    clean = _redactor(redact)
    for record in source:
        if isinstance(record, Failure):
            unreadable.append(record)
            continue
        yield clean(record.text), record.extra


def _redactor(mode: str) -> Callable[[str], str]:
    if mode == "none":
        return lambda text: text
    # imported only when asked for, as classify does: the detectors are many modules
    from forge_cli.redact import redact

    return lambda text: redact(text, pii=mode == "pii").text

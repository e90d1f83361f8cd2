"""Gold, results and failures files read into rows keyed by id, with forge's own readers.

``open_source`` is built for classify's inputs: it picks the text field, takes the id out of the
record, and turns a record without text into a Failure that still carries the record's fields.
That is all eval needs of a gold file (the labels are the record's other fields), so JSONL, CSV, a
JSON array and stdin work as they do for classify. A file forge wrote (results, failures) has no
text, and its answer columns may have any name, ``text`` included: it is read with ``id`` as the
text field and an id field no record has (``_NO_ID``), so every other column stays a field and
the id is taken as written. A failure whose id is null is then left out, never given a line number
of this file that could match some gold record. Records the format cannot read (malformed JSON,
invalid UTF-8, over the size limit) are counted, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from forge_cli.core.errors import InputError
from forge_cli.core.models import Item
from forge_cli.engine.rows import ENGINE_FIELDS
from forge_cli.io.sources import Source, open_source

__all__ = ["Table", "answer_columns", "failures_path_for", "read_table"]

#: an id field no record has, to read a file forge wrote (see the module docstring)
_NO_ID = "\x00forge-eval: no such field"
#: what the engine puts in front of the answer in every results row
_LEADING = ("id", "line")


@dataclass(slots=True)
class Table:
    """The records of one file: id -> fields (the id itself left out), in file order."""

    name: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: every field seen, in the order first seen
    columns: list[str] = field(default_factory=list)
    #: records whose id was already taken (the first one is kept)
    duplicates: int = 0
    #: records the reader could not read at all (malformed, bad encoding, too large)
    unreadable: int = 0


def read_table(
    path: str,
    *,
    id_field: str | None = "id",
    text_field: str | None = None,
    fmt: str | None = None,
    max_record_bytes: int = 1_000_000,
    stdin: BinaryIO | None = None,
) -> Table:
    """Every record of ``path`` (or ``-``) by id. Raises InputError when the file cannot be used.

    ``id_field`` and ``text_field`` name the id and the text as classify reads them (a record
    without an id is known by its line number; the text is left out of the fields). ``id_field``
    None reads a file forge wrote, joined on its ``id`` column.
    """
    own = id_field is None
    try:
        source = open_source(
            path,
            fmt=fmt,
            text_field="id" if own else text_field,
            id_field=_NO_ID if own else id_field,
            max_record_bytes=max_record_bytes,
            stdin=stdin,
            need_text=False,  # gold labels need no text; a record without one is still read
        )
    except InputError as exc:
        if own and "--text-field" in str(exc):  # a CSV whose header has no id column
            raise InputError(f"{path}: no 'id' column to join the gold on") from None
        raise
    return _collect(source, own)


def _collect(source: Source, own: bool) -> Table:
    table = Table(name=source.name)
    seen: dict[str, None] = {}
    with source:
        for record in source:
            if isinstance(record, Item):  # for a file forge wrote, the "text" is the id
                rid: str | None = record.text if own else record.id
            elif record.error == "MissingText" and not own:
                rid = record.id
            else:
                table.unreadable += 1
                continue
            if rid is None:
                table.unreadable += 1
            elif rid in table.rows:
                table.duplicates += 1
            else:
                table.rows[rid] = record.extra
                seen.update(dict.fromkeys(record.extra))
    table.columns = list(seen)
    return table


def failures_path_for(results: str) -> Path | None:
    """The failures file written next to a results file (``x.results.jsonl`` -> ``x.failures.jsonl``)."""
    if results == "-":
        return None
    path = Path(results)
    stem, dot, extension = path.name.rpartition(".")
    if not dot or not stem.endswith(".results"):
        return None
    candidate = path.with_name(f"{stem.removesuffix('.results')}.failures.{extension}")
    return candidate if candidate.is_file() else None


def answer_columns(row_columns: list[str]) -> list[str]:
    """The answer fields of a results row, from its column order alone.

    A row forge wrote is ``id, line, <the task's answer fields>, complexity, provider, ...`` and then
    the input's own fields passed through, so the answers are what stands before the first engine
    column: an input field that happens to be named like a gold column (the gold itself, passed
    through) is never mistaken for an answer. A file forge did not write has no engine columns:
    every column but the id is then an answer.
    """
    engine = set(ENGINE_FIELDS)
    if not engine.intersection(row_columns):
        return [c for c in row_columns if c not in _LEADING]
    answers: list[str] = []
    for column in row_columns:
        if column in engine:
            break
        if column not in _LEADING:
            answers.append(column)
    return answers

"""What every input reader shares: the Source protocol, the record rules and the failure records.

A reader only turns its format into records (``dict`` per record, with its physical line); the rules
that make an Item of a record — which field is the text, the id, what is left as extra —
live here once, so every format applies them alike. So do the Failures a bad record becomes: each
names the file and the line, so the run goes on and the user can find it.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import orjson

from forge_cli.core.models import Failure, Item
from forge_cli.core.text import describe

__all__ = ["TEXT_FIELDS", "Opening", "Source", "count_lines", "describe", "id_text"]

#: the fields looked at for the text, in order, when --text-field does not name one
TEXT_FIELDS = ("text", "ticket", "body", "description", "message")

if TYPE_CHECKING:
    #: a buffered binary reader (peek, bounded readline); generic in typeshed only
    Stream: TypeAlias = "io.BufferedReader[Any]"
else:
    Stream: TypeAlias = io.BufferedReader

#: buffer of the binary reader: large enough that readline rarely goes back to the OS
BUFFER = 1 << 18
#: chunk used to skip the rest of an oversized record (readline joins its pieces: keep it small)
SKIP_CHUNK = 1 << 16
#: chunk size used to count lines
_COUNT_CHUNK = 1 << 20
#: lone surrogates are what ``errors="surrogateescape"`` turns undecodable bytes into
SURROGATE = re.compile("[\udc80-\udcff]")


def count_lines(path: str | os.PathLike[str]) -> int:
    """Count newline-terminated lines in 1 MiB binary chunks: fast, constant memory, no decoding."""
    total = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(_COUNT_CHUNK):
            total += chunk.count(b"\n")
    return total


def id_text(value: Any) -> str:
    """A record's id as text: a string as it is, a number as written, anything else (true, an
    array, an object) as its JSON, so an output row shows what the input held, never Python's
    ``repr`` of it (``['a', 1]``)."""
    if type(value) is str:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class Opening:
    """Everything a reader is opened with, so adding a reader never changes ``open_source``."""

    #: ``"<stdin>"`` or the path as the user gave it
    name: str
    #: None for stdin
    path: str | None
    stream: Stream
    #: the input's first bytes, as many as the reader's ``sniff_bytes`` asked for (else b"")
    prefix: bytes
    text_field: str | None = None
    id_field: str | None = None
    max_record_bytes: int = 1_000_000
    #: every record must have a text: an input whose columns show none is refused up front
    #: (False for a table read for its other columns, such as eval's gold labels)
    need_text: bool = True


class Source:
    """One input (a file or stdin) that yields its records, in input order, as Items or Failures.

    A source is consumed once: it streams from an open handle. ``close()`` (or leaving a ``with``
    block) releases the handle if iteration is abandoned early; iterating to the end closes it too.

    A reader for a new format subclasses this, sets ``format`` and ``extensions``, implements
    ``__iter__`` with ``_record`` and the failure helpers, and is registered in ``registry``.
    """

    #: the name ``--input-format`` takes
    format: ClassVar[str]
    #: file extensions (lower case, with the dot) that mean this format
    extensions: ClassVar[tuple[str, ...]] = ()
    #: bytes of the input's start the reader wants in ``Opening.prefix`` (0: it needs none, and a
    #: pipe can start streaming as soon as its format is known)
    sniff_bytes: ClassVar[int] = 0
    #: lines at the top that are no record (a CSV header), for ``count_hint``
    header_lines: ClassVar[int] = 0

    name: str
    #: column names, cleaned, where the format has a header (None otherwise)
    columns: list[str] | None = None

    @classmethod
    def open(cls, opening: Opening) -> Source:
        """Build the reader; raise InputError for what makes the whole input unusable."""
        return cls(opening)

    def __init__(self, opening: Opening) -> None:
        self.name = opening.name
        self._path = opening.path
        self._stream = opening.stream
        path = opening.path
        self._label = "<stdin>" if path is None else os.path.basename(path) or path
        self._text_field = opening.text_field
        self._id_field = opening.id_field or "id"
        self._max = max(1, opening.max_record_bytes)
        self._id_re = re.compile(
            rb'"' + re.escape(self._id_field.encode()) + rb'"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+))'
        )

    def __iter__(self) -> Iterator[Item | Failure]:
        raise NotImplementedError

    def count_hint(self) -> int | None:
        """Lines of a regular file, for progress; None where counting would consume the input."""
        if self._path is None:
            return None
        try:
            if not stat.S_ISREG(os.stat(self._path).st_mode):
                return None
            lines = count_lines(self._path)
        except OSError:
            return None
        return max(0, lines - self.header_lines)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.format})>"

    # -- shared record rules -------------------------------------------------------------------

    def _where(self, line: int) -> str:
        return f"{self._label}:{line}"

    def _record(self, rec: dict[str, Any], line: int, empty_is_null: bool) -> Item | Failure:
        """Apply the text/id/extra rules to one parsed record (``rec`` is consumed).

        ``empty_is_null``: CSV has no null, so an empty cell counts as absent there (for the id and
        the choice of text field), while JSON's ``""`` is a present, empty value.
        """
        id_field = self._id_field
        raw_id = rec.pop(id_field, None)
        if raw_id is None or (raw_id == "" and empty_is_null):
            rid = str(line)
        else:
            rid = id_text(raw_id)
            if not rid:
                rid = str(line)

        name = self._text_field
        value: Any = None
        if name is not None:
            value = rec.get(name)
            if value is None or (empty_is_null and value == ""):
                where = "is missing" if value is None else "is empty"
                return self._no_text(rid, line, f"field {name!r} {where}", rec)
        else:
            for candidate in TEXT_FIELDS:
                value = rec.get(candidate)
                if value is not None and not (empty_is_null and value == ""):
                    name = candidate
                    break
            else:
                return self._no_text(rid, line, f"none of {', '.join(TEXT_FIELDS)} is present", rec)

        kind = type(value)
        if kind is str:
            text = value.strip()
        elif kind is int or kind is float:
            text = str(value)
        else:
            return self._no_text(rid, line, f"{name!r} is {describe(value)}, not text", rec)
        if not text:
            return self._no_text(rid, line, f"{name!r} is empty", rec)
        del rec[name]

        return Item(rid, line, text, rec)

    # -- failure records -----------------------------------------------------------------------

    def _no_text(self, rid: str, line: int, why: str, rec: dict[str, Any]) -> Failure:
        return Failure(
            id=rid,
            line=line,
            error="MissingText",
            message=f"{self._where(line)}: no text: {why}",
            extra=rec,
        )

    def _malformed(self, rid: str | None, line: int, why: str) -> Failure:
        """A record the format cannot read; ``why`` starts with what kind of malformed it is."""
        return Failure(
            id=rid, line=line, error="MalformedRecord", message=f"{self._where(line)}: {why}"
        )

    def _not_a_record(self, value: Any, line: int) -> Failure:
        """A JSON value that is neither an object nor a string where a record was expected."""
        return self._malformed(
            None,
            line,
            f"malformed record: expected a JSON object or string, got {describe(value)}",
        )

    def _bad_encoding(self, rid: str | None, line: int, at: int, bad_line: int) -> Failure:
        """Invalid UTF-8 at byte ``at`` of physical line ``bad_line`` of the record at ``line``."""
        return Failure(
            id=rid,
            line=line,
            error="InvalidEncoding",
            message=f"{self._where(bad_line)}: invalid UTF-8 at byte {at}",
        )

    def _too_large(self, line: int, size: int, prefix: bytes) -> Failure:
        return Failure(
            id=self._recover_id(prefix),
            line=line,
            error="RecordTooLarge",
            message=(
                f"{self._where(line)}: record too large: {size:,} bytes "
                f"(limit {self._max:,}; raise --max-record-bytes to accept it)"
            ),
        )

    def _recover_id(self, raw: bytes) -> str | None:
        """Best-effort id of a record that cannot be parsed, so its failure row can be traced."""
        m = self._id_re.search(raw)
        if m is None:
            return None
        if m.group(2) is not None:
            return m.group(2).decode()
        try:
            found = orjson.loads(b'"' + m.group(1) + b'"')
        except orjson.JSONDecodeError:
            return m.group(1).decode("utf-8", "replace")
        return found if isinstance(found, str) and found else None

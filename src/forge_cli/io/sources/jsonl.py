"""JSONL: one JSON object (or bare string) per line, read one bounded line at a time.

A run may hold millions of tickets, so nothing here reads a whole input: records come one at a time
from a bounded ``readline(limit)``, which also caps how much of an oversized record is ever held
(``max_record_bytes`` plus one chunk). A ``.json`` file that turns out to be one JSON array is handed
to ``json_array`` instead: exports write those, and users call them JSON all the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import ClassVar

import orjson

from forge_cli.core.models import Failure, Item
from forge_cli.io.sources.base import SKIP_CHUNK, Opening, Source, id_text
from forge_cli.io.sources.json_array import JsonArraySource, starts_array
from forge_cli.io.sources.sniff import BOM

__all__ = ["JsonlSource"]


class JsonlSource(Source):
    format: ClassVar[str] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson", ".json")

    @classmethod
    def open(cls, opening: Opening) -> Source:
        stream = opening.stream
        if stream.peek(3).startswith(BOM):
            stream.read(3)  # JSON forbids a BOM; editors on Windows still write one
        if starts_array(stream):
            return JsonArraySource(opening)
        return cls(opening)

    def __iter__(self) -> Iterator[Item | Failure]:
        stream = self._stream
        readline = stream.readline
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        record = self._record
        maximum = self._max
        limit = maximum + 2  # room for the line's own newline (and a CR before it)
        line = 0
        try:
            while True:
                raw = readline(limit)
                if not raw:
                    return
                line += 1
                if len(raw) > maximum and self._record_size(raw) > maximum:
                    yield self._skip_large(raw, line)
                    continue
                try:
                    rec = loads(raw)
                except decode_error as exc:
                    if not raw.isspace():
                        yield self._bad_line(raw, line, exc)
                    continue
                kind = type(rec)
                if kind is dict:
                    yield record(rec, line, False)
                elif kind is str:
                    text = rec.strip()
                    if text:
                        yield Item(id=str(line), line=line, text=text)
                    else:
                        yield self._no_text(str(line), line, "the string is empty", {})
                else:
                    yield self._not_a_record(rec, line)
        finally:
            self.close()

    @staticmethod
    def _record_size(raw: bytes) -> int:
        """Length without the line ending; an unterminated line may be longer than what was read."""
        if raw.endswith(b"\r\n"):
            return len(raw) - 2
        if raw.endswith(b"\n"):
            return len(raw) - 1
        return len(raw)

    def _skip_large(self, prefix: bytes, line: int) -> Failure:
        """Consume the rest of an oversized line in chunks; only its first part is ever held."""
        size = len(prefix)
        readline = self._stream.readline
        tail = prefix
        while not tail.endswith(b"\n"):
            tail = readline(SKIP_CHUNK)
            if not tail:
                break
            size += len(tail)
        if tail.endswith(b"\n"):
            size -= 2 if tail.endswith(b"\r\n") else 1
        return self._too_large(line, size, prefix)

    def _bad_line(self, raw: bytes, line: int, exc: orjson.JSONDecodeError) -> Failure:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            rid: str | None = None
            with contextlib.suppress(orjson.JSONDecodeError):
                rec = orjson.loads(raw.decode("utf-8", "replace"))
                if isinstance(rec, dict) and rec.get(self._id_field) is not None:
                    rid = id_text(rec[self._id_field])
            return self._bad_encoding(rid or self._recover_id(raw), line, bad.start + 1, line)
        return self._malformed(
            self._recover_id(raw), line, f"malformed JSON: {exc.msg} at column {exc.colno}"
        )

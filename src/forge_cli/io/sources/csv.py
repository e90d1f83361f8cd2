"""CSV (and TSV): a header row names the fields, then one record per row, streamed.

csv.reader is fed physical lines by a generator that counts them, so a record spanning lines (a
quoted newline) keeps the number of the line it starts on, and a runaway record (an unclosed quote)
is abandoned after ``max_record_bytes`` instead of being buffered to the end of the file.

A quote that is never closed would make csv.reader swallow the rows after it into one field,
silently. The reader runs strict, so such a quote shows up where csv finds text after a closing
quote, where the file ends inside one, or as a record over several lines wider than the header;
the record then fails, naming the line where its quote opened, and the lines after that one are
read again as the records they are. A quirk on one line (``"a"b``) is still read as the lenient
reader always did. What no reader can tell is a stray quote that pairs cleanly with a later row's
quote: that is legal CSV, one field over several lines.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import deque
from collections.abc import Iterator
from typing import ClassVar

from forge_cli.core.errors import InputError
from forge_cli.core.models import Failure, Item
from forge_cli.io.sources.base import SKIP_CHUNK, SURROGATE, TEXT_FIELDS, Opening, Source
from forge_cli.io.sources.sniff import SNIFF_BYTES, sniff_delimiter

__all__ = ["CsvSource"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _TooLarge(Exception):
    """Raised out of the CSV line feed to abandon a record that outgrew ``max_record_bytes``."""

    def __init__(self, size: int, prefix: bytes) -> None:
        super().__init__(size)
        self.size = size
        self.prefix = prefix


class CsvSource(Source):
    format: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".tsv")
    sniff_bytes: ClassVar[int] = SNIFF_BYTES  # the delimiter sniffer's sample
    header_lines: ClassVar[int] = 1

    @classmethod
    def open(cls, opening: Opening) -> Source:
        """Choose the delimiter, read the header, and check --text-field against it."""
        tsv = opening.path is not None and os.path.splitext(opening.path)[1].lower() == ".tsv"
        delimiter = "\t" if tsv else sniff_delimiter(opening.prefix)
        source = cls(opening, delimiter=delimiter)
        # a CSV's columns are known up front: a missing text column is said once, not per row
        columns = source.columns or []
        shown = ", ".join(map(_printable, columns[:12])) + (", ..." if len(columns) > 12 else "")
        text_field = opening.text_field
        if text_field and text_field not in columns:
            source.close()
            raise InputError(
                f"{opening.name}: no column {text_field!r} for --text-field (columns: {shown})"
            )
        if not text_field and opening.need_text and not set(TEXT_FIELDS) & set(columns):
            source.close()
            raise InputError(
                f"{opening.name}: no text column: none of {', '.join(TEXT_FIELDS)} "
                f"(columns: {shown}); name it with --text-field"
            )
        return source

    def __init__(self, opening: Opening, *, delimiter: str) -> None:
        super().__init__(opening)
        self.delimiter = delimiter
        # the csv module's own limit is global; ours (per record, below) is the one that matters
        if csv.field_size_limit() < self._max + 1:
            csv.field_size_limit(self._max + 1)
        self._text = io.TextIOWrapper(
            self._stream, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        # per-record state shared between the line feed and the record loop
        self._lines_done = 0
        self._rec_chars = 0
        self._rec_quotes = 0
        self._bad_at: tuple[int, int] | None = None
        #: the physical lines of the record being read, to read again after an unclosed quote
        self._rec_lines: list[str] = []
        #: lines to feed before reading on: what followed an unclosed quote
        self._replay: deque[str] = deque()
        self._feed = self._lines()
        self._reader = csv.reader(self._feed, delimiter=delimiter, strict=True)
        self._columns = self._read_header()
        self.columns = self._columns

    def close(self) -> None:
        self._text.close()

    def _lines(self) -> Iterator[str]:
        """Feed physical lines to csv.reader while bounding the size of the record being built.

        csv.reader would buffer an unclosed quote up to the end of the file; counting here lets a
        runaway record be abandoned after ``max_record_bytes`` (chars, checked against bytes only
        when it could matter). Quote parity then finds where that record ends, so reading resumes
        at the next one.
        """
        limit = self._max + 1
        maximum = self._max
        quote = '"'
        rec_lines = self._rec_lines
        replay = self._replay
        readline = self._text.readline
        while True:
            line = replay.popleft() if replay else readline(limit)
            if not line:
                return
            size = self._rec_chars + len(line)
            if size > maximum // 4 and self._byte_size(line, size) > maximum:
                self._skip_record(line)
                return  # unreachable: _skip_record raises
            self._rec_chars = size
            self._rec_quotes += line.count(quote)
            if not line.isascii() and self._bad_at is None:
                m = SURROGATE.search(line)
                if m is not None:
                    at = len(line[: m.start()].encode("utf-8", "surrogateescape")) + 1
                    self._bad_at = (self._lines_done + 1, at)
            if line[-1] in "\r\n":
                self._lines_done += 1
            rec_lines.append(line)
            yield line

    def _next_line(self, limit: int) -> str:
        """The next physical line (at most ``limit`` characters): a line to read again first."""
        if self._replay:
            return self._replay.popleft()
        return self._text.readline(limit)

    def _byte_size(self, line: str, size: int) -> int:
        if size > self._max:
            return size
        # chars under-count multi-byte text; only encode when the record is near the limit
        return size - len(line) + len(line.encode("utf-8", "surrogateescape"))

    def _skip_record(self, line: str) -> None:
        """Discard the rest of an oversized record (to where its quotes balance) and raise."""
        size = self._rec_chars
        quotes = self._rec_quotes
        prefix = line[:4096].encode("utf-8", "surrogateescape")
        readline = self._next_line
        while True:
            size += len(line)
            quotes += line.count('"')
            if line[-1] in "\r\n":
                self._lines_done += 1
                if quotes % 2 == 0:
                    break
            line = readline(SKIP_CHUNK)
            if not line:
                break
        raise _TooLarge(size, prefix)

    def _start_record(self) -> int:
        self._rec_chars = 0
        self._rec_quotes = 0
        self._bad_at = None
        self._rec_lines.clear()
        return self._lines_done + 1

    def _restart(self, lines_done: int, replay: list[str]) -> None:
        """Read on from physical line ``lines_done + 1``, feeding ``replay`` first."""
        self._replay.extendleft(reversed(replay))
        self._lines_done = lines_done
        self._feed = self._lines()
        self._reader = csv.reader(self._feed, delimiter=self.delimiter, strict=True)

    def _read_header(self) -> list[str]:
        where = self._label
        while True:
            line = self._start_record()
            try:
                row = next(self._reader)
            except StopIteration:
                raise InputError(f"{where}: empty CSV file: a header row is required") from None
            except _TooLarge as exc:
                raise InputError(
                    f"{where}: the CSV header is larger than {self._max:,} bytes"
                ) from exc
            except csv.Error as exc:
                lines = self._rec_lines
                broken = _broken_quote(lines, self.delimiter)
                lenient = None if broken else _lenient_row("".join(lines), self.delimiter)
                if lenient is None:
                    why = f"the quote opened on line {line} is never closed" if broken else exc
                    raise InputError(f"{where}:{line}: unreadable CSV header: {why}") from exc
                row = lenient
            if any(cell.strip() for cell in row):
                break
        names: list[str] = []
        seen: set[str] = set()
        for i, cell in enumerate(row, 1):
            name = SURROGATE.sub("\ufffd", cell.strip()) or f"column_{i}"
            base, n = name, 1
            while name in seen:
                n += 1
                name = f"{base}_{n}"
            seen.add(name)
            names.append(name)
        return names

    def __iter__(self) -> Iterator[Item | Failure]:
        columns = self._columns
        width = len(columns)
        record = self._record
        start_record = self._start_record
        reader = self._reader
        try:
            while True:
                line = start_record()
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except _TooLarge as exc:
                    yield self._too_large(line, exc.size, exc.prefix)
                    self._restart(self._lines_done, [])
                    reader = self._reader
                    continue
                except csv.Error as exc:
                    lenient = self._after_error(line, exc)
                    reader = self._reader
                    if isinstance(lenient, Failure):
                        yield lenient
                        continue
                    row = lenient
                if not row or (not row[0].strip() and not any(c.strip() for c in row)):
                    continue  # blank line (or a row of empty cells): not a record
                if self._bad_at is not None:
                    bad_line, at = self._bad_at
                    yield self._bad_encoding(self._csv_id(row, columns), line, at, bad_line)
                    continue
                if len(row) > width:
                    if any(row[width:]) and len(self._rec_lines) > 1:
                        # a quote that ran over lines into a row wider than the header: a
                        # quote never closed that met the next row's opening quote
                        yield self._unclosed(line, f"{len(row)} fields, the header has {width}")
                        reader = self._reader
                        continue
                    if any(row[width:]):
                        yield self._malformed(
                            self._csv_id(row, columns),
                            line,
                            f"malformed CSV: {len(row)} fields but the header has {width}",
                        )
                        continue
                    del row[width:]  # trailing empty cells (a trailing delimiter) are harmless
                yield record(dict(zip(columns, row, strict=False)), line, True)
        finally:
            self.close()

    def _after_error(self, line: int, exc: csv.Error) -> list[str] | Failure:
        """What a record csv's strict rules refused is: a failure, or the row csv's lenient rules
        read from it (a quirk such as ``"a"b``, as forge always read it).

        A quote never closed (``_broken_quote``) fails the record, naming the line it opened on,
        and the lines after that one are read again as the records they are.
        """
        lines = list(self._rec_lines)
        if _broken_quote(lines, self.delimiter):
            return self._unclosed(line, str(exc))
        row = _lenient_row("".join(lines), self.delimiter)
        if row is None:
            return self._malformed(None, line, f"malformed CSV: {exc}")
        return row

    def _unclosed(self, line: int, why: str) -> Failure:
        """Fail the record at ``line``, whose quote was never closed, and read again the lines
        the quote ran over, as the records they are."""
        lines = list(self._rec_lines)
        self._restart(line, lines[1:])
        return self._malformed(
            self._csv_id(_lenient_row(lines[0], self.delimiter) or [], self._columns),
            line,
            f"malformed CSV: the quote opened on line {line} is never closed ({why}); "
            "the lines after it are read as records",
        )

    def _csv_id(self, row: list[str], columns: list[str]) -> str | None:
        try:
            value = row[columns.index(self._id_field)]
        except (ValueError, IndexError):
            return None
        return SURROGATE.sub("\ufffd", value) or None


def _printable(name: str) -> str:
    """A column name for a one-line message: line breaks and other controls as escapes."""
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], name)


def _lenient_row(text: str, delimiter: str) -> list[str] | None:
    """The one row csv's lenient rules read from ``text``; None when they read none or several."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _broken_quote(lines: list[str], delimiter: str) -> bool:
    """Whether a record csv's strict rules refused was broken by a quote never closed.

    Such a quote makes csv run on past the end of its line: the record spans lines (a field that
    does so necessarily opens on the record's first line, so that is where the quote is), or the
    file ends inside the quote. Text after a closing quote on one line (``"a"b``) is a quirk csv
    reads leniently instead.
    """
    if len(lines) > 1:
        return True
    quoted, start = False, True  # inside a quoted field; at the start of a field
    text = lines[0] if lines else ""
    i, size = 0, len(text)
    while i < size:
        c = text[i]
        if quoted:
            if c == '"':
                if i + 1 < size and text[i + 1] == '"':
                    i += 2
                    continue
                quoted = False
        elif c == '"' and start:
            quoted = True
        start = not quoted and c == delimiter
        i += 1
    return quoted

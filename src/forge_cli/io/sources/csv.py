"""CSV (and TSV): a header row names the fields, then one record per row, streamed.

csv.reader is fed physical lines by a generator that counts them, so a record spanning lines (a
quoted newline) keeps the number of the line it starts on, and a runaway record (an unclosed quote)
is abandoned after ``max_record_bytes`` instead of being buffered to the end of the file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from typing import ClassVar

from forge_cli.core.errors import InputError
from forge_cli.core.models import Failure, Item
from forge_cli.io.sources.base import SKIP_CHUNK, SURROGATE, Opening, Source
from forge_cli.io.sources.sniff import SNIFF_BYTES, sniff_delimiter

__all__ = ["CsvSource"]


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
        text_field = opening.text_field
        if text_field and source.columns is not None and text_field not in source.columns:
            # a CSV's columns are known up front: say so once instead of failing every row
            source.close()
            shown = ", ".join(source.columns[:12]) + (", ..." if len(source.columns) > 12 else "")
            raise InputError(
                f"{opening.name}: no column {text_field!r} for --text-field (columns: {shown})"
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
        self._feed = self._lines()
        self._reader = csv.reader(self._feed, delimiter=delimiter)
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
        readline = self._text.readline
        limit = self._max + 1
        maximum = self._max
        quote = '"'
        while True:
            line = readline(limit)
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
            yield line

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
        readline = self._text.readline
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
        return self._lines_done + 1

    def _read_header(self) -> list[str]:
        where = self._label
        while True:
            self._start_record()
            try:
                row = next(self._reader)
            except StopIteration:
                raise InputError(f"{where}: empty CSV file: a header row is required") from None
            except _TooLarge as exc:
                raise InputError(
                    f"{where}: the CSV header is larger than {self._max:,} bytes"
                ) from exc
            except csv.Error as exc:
                raise InputError(
                    f"{where}:{self._lines_done}: unreadable CSV header: {exc}"
                ) from exc
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
                    self._feed = self._lines()
                    self._reader = reader = csv.reader(self._feed, delimiter=self.delimiter)
                    continue
                except csv.Error as exc:
                    yield self._malformed(None, line, f"malformed CSV: {exc}")
                    continue
                if not row or (not row[0].strip() and not any(c.strip() for c in row)):
                    continue  # blank line (or a row of empty cells): not a record
                if self._bad_at is not None:
                    bad_line, at = self._bad_at
                    yield self._bad_encoding(self._csv_id(row, columns), line, at, bad_line)
                    continue
                if len(row) > width:
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

    def _csv_id(self, row: list[str], columns: list[str]) -> str | None:
        try:
            value = row[columns.index(self._id_field)]
        except (ValueError, IndexError):
            return None
        return SURROGATE.sub("\ufffd", value) or None

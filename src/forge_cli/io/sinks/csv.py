"""CSV output: fixed columns under a header, the rest of a row kept as JSON in ``extra``."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forge_cli.io.sinks.base import Sink, lenient_dumps

__all__ = ["CsvSink"]


class _Lines:
    """The file object csv.writer writes to: it keeps the one line each writerow() produces."""

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line = ""

    def write(self, text: str) -> int:
        self.line = text
        return len(text)


#: a text cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Spreadsheet-friendly cell: booleans as true/false, None as empty, nesting as JSON.

    Text that a spreadsheet would run as a formula (a ticket saying ``=HYPERLINK(...)``, or a
    model's summary starting with ``-``) gets a leading ``'``, as OWASP advises against CSV
    injection: the sheet shows the text instead of evaluating it. Numbers are left alone.
    """
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(_FORMULA_START) else value
    if kind is int or kind is float:
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple | set | frozenset):
        return lenient_dumps(value).decode()
    if isinstance(value, str):  # enums and other str subclasses
        return _cell(str(value))
    return value


class CsvSink(Sink):
    """Fixed columns with a header; keys outside them go, as one JSON object, into ``extra``.

    Columns must be fixed before the first row (a CSV header cannot grow), yet rows carry whatever
    fields the input had; the trailing ``extra`` column keeps those without losing any.
    """

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        super().__init__(path, columns)
        #: ``extra`` given as a column: unknown keys merge into it instead of a second one
        self._extra_in_columns = "extra" in self.columns
        self._known = frozenset(self.columns)
        self._out = _Lines()
        self._writer = csv.writer(self._out, lineterminator="\n")
        header = list(self.columns)
        if not self._extra_in_columns:
            header.append("extra")
        self._writer.writerow(header)
        self._buffer_line(self._out.line.encode("utf-8", "replace"))

    def _encode(self, row: dict[str, Any]) -> bytes:
        known = self._known
        cells = [_cell(row.get(name)) for name in self.columns]
        unknown = {k: v for k, v in row.items() if k not in known}
        if self._extra_in_columns:
            if unknown:
                index = self.columns.index("extra")
                given = row.get("extra")
                merged = dict(given) if isinstance(given, dict) else {}
                if given is not None and not isinstance(given, dict):
                    merged["extra"] = given
                merged.update(unknown)
                cells[index] = lenient_dumps(merged).decode()
        else:
            cells.append(lenient_dumps(unknown).decode() if unknown else "")
        self._writer.writerow(cells)
        line = self._out.line
        try:
            return line.encode()
        except UnicodeEncodeError:
            return line.encode("utf-8", "replace")

"""Which reader handles which input format, and which file extensions mean which format.

``open_source`` asks only this table, so an input format is one module (a ``Source`` subclass) and
one ``register_reader`` call here, with nothing else to edit.
"""

from __future__ import annotations

from forge_cli.io.sources.base import Source
from forge_cli.io.sources.csv import CsvSource
from forge_cli.io.sources.jsonl import JsonlSource

__all__ = ["format_of_extension", "input_formats", "reader_for", "register_reader"]

_READERS: dict[str, type[Source]] = {}
_BY_EXTENSION: dict[str, str] = {}


def register_reader(reader: type[Source]) -> None:
    """Accept ``reader.format`` as an input format, and its ``extensions`` as meaning it.

    A later registration of the same name or extension replaces the earlier one.
    """
    _READERS[reader.format] = reader
    for ext in reader.extensions:
        _BY_EXTENSION[ext.lower()] = reader.format


def reader_for(name: str) -> type[Source] | None:
    """The reader of a format name (already folded to lower case), or None."""
    return _READERS.get(name)


def format_of_extension(ext: str) -> str | None:
    """The format a file extension (``".csv"``, any case) means, or None."""
    return _BY_EXTENSION.get(ext.lower())


def input_formats() -> tuple[str, ...]:
    """The names ``--input-format`` accepts, in registration order."""
    return tuple(_READERS)


register_reader(JsonlSource)
register_reader(CsvSource)

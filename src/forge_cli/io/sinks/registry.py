"""Which writer class writes which output format: built in here, or added by other packages.

A package adds a format by naming its ``Sink`` subclass under the entry-point group
``forge.formats``::

    [project.entry-points."forge.formats"]
    tsv = "forge_tsv:TsvSink"

Entry points are looked at only for a name that is not built in (or registered in-process with
``register_format``), and loaded only then: scanning installed packages costs milliseconds, and a
broken plugin must not touch a run that never asked for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forge_cli.io.sinks.base import Sink
from forge_cli.io.sinks.csv import CsvSink
from forge_cli.io.sinks.jsonl import JsonlSink
from forge_cli.io.sinks.memory import MemorySink

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_formats",
    "register_format",
    "validate_format",
    "writer_for",
]

ENTRY_POINT_GROUP = "forge.formats"

_WRITERS: dict[str, type[Sink]] = {}


def register_format(name: str, writer: type[Sink]) -> None:
    """Make ``name`` an output format written by ``writer`` (replacing one of the same name).

    ``writer`` is called as ``writer(path, columns)`` for each output file.
    """
    if not (isinstance(writer, type) and issubclass(writer, Sink)):
        raise TypeError(f"output format {name!r}: {writer!r} is not a Sink subclass")
    _WRITERS[name] = writer


def writer_for(name: str) -> type[Sink]:
    """The writer class of an output format, loading it from its plugin the first time.

    Raises ValueError for a name nothing provides, or whose plugin fails to load.
    """
    writer = _WRITERS.get(name)
    if writer is None:
        writer = _load_plugin(name)
    return writer


def validate_format(name: str) -> str:
    """``name`` if ``--format`` may take it (a format that writes files); ValueError otherwise."""
    if not writer_for(name).writes_file:
        raise ValueError(_unknown(name))
    return name


def available_formats(*, plugins: bool = True) -> tuple[str, ...]:
    """The names ``--format`` takes: built-in and registered file formats, then plugins' ones.

    ``plugins=False`` skips the scan of installed packages (for text shown on every start-up);
    plugins are listed by name without being loaded.
    """
    names = [name for name, writer in _WRITERS.items() if writer.writes_file]
    if plugins:
        names += sorted({ep.name for ep in _entry_points()} - set(_WRITERS))
    return tuple(names)


def _entry_points(name: str | None = None) -> tuple[EntryPoint, ...]:
    # imported here: importlib.metadata alone costs ~15 ms of a cold start that rarely needs it
    from importlib.metadata import entry_points

    found = entry_points(group=ENTRY_POINT_GROUP)
    return tuple(found if name is None else found.select(name=name))


def _load_plugin(name: str) -> type[Sink]:
    for ep in _entry_points(name):
        try:
            writer = ep.load()
        except Exception as exc:  # a plugin's import can fail in any way: say which one did
            raise ValueError(
                f"output format {name!r} ({ep.value}) could not be loaded: {exc}"
            ) from exc
        try:
            register_format(name, writer)
        except TypeError as exc:
            raise ValueError(f"{exc} ({ep.value})") from None
        return _WRITERS[name]
    raise ValueError(_unknown(name))


def _unknown(name: str) -> str:
    return f"unknown output format {name!r}: use {' or '.join(available_formats())}"


register_format("jsonl", JsonlSink)
register_format("csv", CsvSink)
register_format("memory", MemorySink)

"""Which writer class writes which output format: built in here, or added by other packages.

A package adds a format by naming its ``Sink`` subclass under the entry-point group
``forge.formats``::

    [project.entry-points."forge.formats"]
    tsv = "forge_tsv:TsvSink"

Entry points (found through ``core.plugins``) are looked at only for a name that is not built in
(or registered in-process with ``register_format``), and loaded only then: scanning installed
packages costs milliseconds, and a broken plugin must not touch a run that never asked for it.
"""

from __future__ import annotations

from forge_cli.core.plugins import FORMATS, load_plugin, plugin_names
from forge_cli.io.sinks.base import Sink
from forge_cli.io.sinks.csv import CsvSink
from forge_cli.io.sinks.jsonl import JsonlSink
from forge_cli.io.sinks.memory import MemorySink

__all__ = ["available_formats", "register_format", "validate_format", "writer_for"]

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

    Raises ValueError for a name nothing provides or a plugin object that is no writer, and
    UsageError (from ``core.plugins``) for a plugin that fails to import.
    """
    writer = _WRITERS.get(name)
    if writer is not None:
        return writer
    found = load_plugin(FORMATS, name)
    if found is None:
        raise ValueError(_unknown(name))
    try:
        register_format(name, found)
    except TypeError as exc:
        raise ValueError(f"{exc} (from entry point group {FORMATS})") from None
    return _WRITERS[name]


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
        names += [name for name in plugin_names(FORMATS) if name not in _WRITERS]
    return tuple(names)


def _unknown(name: str) -> str:
    return f"unknown output format {name!r}: use {' or '.join(available_formats())}"


register_format("jsonl", JsonlSink)
register_format("csv", CsvSink)
register_format("memory", MemorySink)

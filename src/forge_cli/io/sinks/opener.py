"""Where the outputs of one input go, and opening them in the format asked for."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from forge_cli.io.sinks.base import Sink
from forge_cli.io.sinks.registry import writer_for

__all__ = ["open_sink", "output_paths"]


def output_paths(source_name: str, out_dir: Path | None, fmt: str) -> tuple[Path, Path]:
    """Where the results and failures of one input go: next to it, or in ``out_dir``.

    Named after the input (``tickets.jsonl`` -> ``tickets.results.jsonl``) so several inputs can
    share one out_dir and a user finds the outputs by the name they typed. stdin and pipes such as
    ``<(zcat x.gz)`` have no directory to write next to: their outputs go to out_dir or the
    current directory.
    """
    extension = writer_for(fmt).extension or fmt
    if source_name in ("<stdin>", "-", ""):
        stem = "stdin"
        parent = Path.cwd()
    else:
        given = Path(source_name)
        stem = given.stem or given.name or "input"
        parent = given.parent
        if _is_special(given):
            parent = Path.cwd()
    directory = Path(out_dir) if out_dir is not None else parent
    if out_dir is not None:
        directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{stem}.results.{extension}", directory / f"{stem}.failures.{extension}"


def _is_special(path: Path) -> bool:
    """A pipe or device (``/dev/fd/63``): nothing can be written beside it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def open_sink(path: Path, fmt: str, columns: Sequence[str]) -> Sink:
    """Open (and truncate) one output file in format ``fmt``; ``columns`` are the row's fields.

    Raises ValueError for a format nothing provides.
    """
    return writer_for(fmt)(path, columns)

"""Where the outputs of one input go, and opening them in the format asked for."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from forge_cli.core.errors import OutputError
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
        make_out_dir(directory)
    return directory / f"{stem}.results.{extension}", directory / f"{stem}.failures.{extension}"


def make_out_dir(directory: Path) -> None:
    """Create ``--out-dir`` (and its parents); OutputError, one line, when that cannot be done."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (directory, *directory.parents) if p.exists()), directory)
        if blocker == directory:
            raise OutputError(f"--out-dir {directory} is a file, not a folder") from None
        raise OutputError(f"--out-dir {directory}: {blocker} is a file, not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot create --out-dir {directory}: {exc.strerror or exc}") from None


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

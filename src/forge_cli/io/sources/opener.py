"""``open_source``: from a path (or ``-``) to a reader, with every unusable input refused up front.

Errors that make the whole input unusable (missing path, unknown format, CSV without a header) raise
``InputError`` here, before any work starts, so the CLI can exit 2 at once.
"""

from __future__ import annotations

import io
import os
import stat
from typing import BinaryIO

from forge_cli.core.errors import InputError
from forge_cli.io.sources.base import BUFFER, Opening, Source, Stream
from forge_cli.io.sources.registry import format_of_extension, input_formats, reader_for
from forge_cli.io.sources.sniff import (
    SNIFF_BYTES,
    PrefixedStream,
    sniff_format,
    sniff_pipe,
    stdin_stream,
)

__all__ = ["open_source"]


def open_source(
    path: str,
    *,
    fmt: str | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    max_record_bytes: int = 1_000_000,
    stdin: BinaryIO | None = None,
    need_text: bool = True,
) -> Source:
    """Open an input for streaming. Everything that makes it unusable is raised here as InputError.

    ``path == "-"`` reads stdin (or ``stdin``), sniffing the format from its first bytes. A file's
    format comes from its extension unless ``fmt`` says otherwise; a pipe or device without a known
    extension (``<(zcat x.gz)``) is sniffed like stdin, since it has no name to go by.
    ``need_text``: a CSV whose header has no text column is refused here, not failed row by row.
    """
    forced: str | None = None
    if fmt is not None:
        forced = fmt.strip().lower()
        if reader_for(forced) is None:
            raise InputError(f"unknown input format {fmt!r}: use {' or '.join(input_formats())}")

    def opening(name: str, file: str | None, stream: Stream, prefix: bytes) -> Opening:
        return Opening(
            name=name,
            path=file,
            stream=stream,
            prefix=prefix,
            text_field=text_field,
            id_field=id_field,
            max_record_bytes=max_record_bytes,
            need_text=need_text,
        )

    if path == "-":
        stream, prefix, chosen = stdin_stream(stdin, forced, _wanted)
        return _reader(chosen).open(opening("<stdin>", None, stream, prefix))

    stream = _open_file(path)
    try:
        regular = stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
        by_name = forced or format_of_extension(os.path.splitext(path)[1])
        if by_name is None and regular:
            raise InputError(
                f"cannot tell the format of {os.path.basename(path)!r}: "
                f"use --input-format {' or '.join(input_formats())}"
            )
        prefix = b""
        wanted = SNIFF_BYTES if by_name is None else _wanted(by_name)
        if wanted:
            if regular:
                prefix = stream.read(wanted)
                stream.seek(0)
            else:  # a pipe cannot seek back: replay what the sniffing read
                prefix, by_name = sniff_pipe(stream, by_name, _wanted)
                stream = io.BufferedReader(PrefixedStream(prefix, stream, owns=True), BUFFER)
        chosen = by_name or sniff_format(prefix)
        return _reader(chosen).open(opening(path, path, stream, prefix))
    except InputError:
        stream.close()
        raise
    except OSError as exc:
        stream.close()
        raise InputError(f"cannot read {path!r}: {exc.strerror or exc}") from None


def _reader(name: str) -> type[Source]:
    reader = reader_for(name)
    if reader is None:  # only a sniffed name can get here, and the sniffer names built-ins
        raise InputError(f"no reader for input format {name!r}")
    return reader


def _wanted(name: str) -> int:
    """Leading bytes the reader of ``name`` wants to see (at most what the sniffer reads)."""
    reader = reader_for(name)
    return min(reader.sniff_bytes, SNIFF_BYTES) if reader is not None else SNIFF_BYTES


def _open_file(path: str) -> Stream:
    """Open for reading, turning every OS refusal into one clear InputError line."""
    try:
        return io.BufferedReader(io.FileIO(path, "rb"), BUFFER)  # the Source closes it
    except FileNotFoundError:
        raise InputError(f"cannot read {path!r}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {path!r}: it is a directory") from None
    except PermissionError:
        raise InputError(f"cannot read {path!r}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read {path!r}: {exc.strerror or exc}") from None

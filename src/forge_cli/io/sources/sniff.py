"""Telling an input's format (and a CSV's delimiter) from its first bytes, and reading stdin.

stdin and pipes have no name to go by, and cannot seek back once looked at: what was read to decide
is kept and replayed in front of the rest (``PrefixedStream``), and no more is read than the choice
needs, so ``tail -f log | forge classify -`` starts at once.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from forge_cli.io.sources.base import BUFFER, Stream

__all__ = [
    "BOM",
    "SNIFF_BYTES",
    "PrefixedStream",
    "sniff_delimiter",
    "sniff_format",
    "sniff_pipe",
    "stdin_stream",
]

BOM = b"\xef\xbb\xbf"
#: how much of an input the sniffers look at (the CSV delimiter sniffer's sample)
SNIFF_BYTES = 64 * 1024
_CSV_DELIMITERS = ",;\t|"


class PrefixedStream(io.RawIOBase):
    """Replays bytes already read for sniffing, then continues with the underlying stream.

    stdin cannot seek back after we looked at its first bytes. Closing this wrapper never closes the
    wrapped stream unless it ``owns`` it, so a reader over ``sys.stdin.buffer`` does not close the
    process's stdin.
    """

    def __init__(self, prefix: bytes, rest: BinaryIO | Stream, *, owns: bool) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._rest = rest
        self._owns = owns
        self._readinto1: Callable[[Any], int] | None = getattr(rest, "readinto1", None)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._owns and not self.closed:
            self._rest.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        if self._readinto1 is not None:
            return self._readinto1(buffer)
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def sniff_pipe(
    stream: BinaryIO | Stream, forced: str | None, wanted: Callable[[str], int]
) -> tuple[bytes, str]:
    """Read just enough of a pipe to choose the format, and then what its reader wants to see.

    ``wanted(format)`` is how many leading bytes that format's reader asks for: none for JSONL, so a
    pipe starts streaming after its first non-blank byte; a CSV sample of up to 64 KiB (or the end
    of input) for the delimiter sniffer.
    """
    parts: list[bytes] = []
    size = 0
    read1 = getattr(stream, "read1", None) or stream.read
    chosen = forced
    while size < SNIFF_BYTES:
        if chosen is None:
            head = b"".join(parts).removeprefix(BOM).lstrip()
            if head:
                chosen = sniff_format(head)
        if chosen is not None and size >= wanted(chosen):
            break
        data = read1(SNIFF_BYTES - size)
        if not data:
            break
        parts.append(data)
        size += len(data)
    prefix = b"".join(parts)
    return prefix, chosen or sniff_format(prefix)


def sniff_format(prefix: bytes) -> str:
    """Tell JSONL from CSV by the first non-blank byte: JSON opens with ``{``, ``[`` or ``"``."""
    head = prefix.removeprefix(BOM).lstrip()
    if not head or head[:1] in (b"{", b"[", b'"'):
        return "jsonl"
    return "csv"


def sniff_delimiter(sample: bytes) -> str:
    """Pick the CSV delimiter among ``,;\\t|``.

    Only delimiters that occur in the header line are considered: csv.Sniffer alone happily picks a
    comma out of free ticket text in a one-column file, which would split every row wrongly.
    """
    text = sample.removeprefix(BOM).decode("utf-8", "replace").lstrip("\r\n")
    header = text.split("\n", 1)[0]
    candidates = "".join(d for d in _CSV_DELIMITERS if d in header)
    if not candidates:
        # one column: no delimiter may split it, so "hello, world" stays one text (NUL never
        # occurs in real text, and csv accepts it as a delimiter)
        return "\x00"
    if len(candidates) == 1:
        return candidates
    # keep whole lines only, so a record cut in half does not skew the counts
    cut = text.rfind("\n")
    if cut > 0 and len(sample) >= SNIFF_BYTES:
        text = text[: cut + 1]
    try:
        return csv.Sniffer().sniff(text, delimiters=candidates).delimiter
    except csv.Error:
        return max(candidates, key=header.count)


def stdin_stream(
    stdin: BinaryIO | None, forced: str | None, wanted: Callable[[str], int]
) -> tuple[Stream, bytes, str]:
    """stdin (or ``stdin``) as a buffered stream, with the bytes sniffed and the format chosen."""
    raw = stdin if stdin is not None else sys.stdin.buffer
    prefix, chosen = sniff_pipe(raw, forced, wanted)
    return io.BufferedReader(PrefixedStream(prefix, raw, owns=False), BUFFER), prefix, chosen

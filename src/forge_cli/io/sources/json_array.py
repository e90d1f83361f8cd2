"""A whole-file JSON array (``[{...}, {...}]``, what many exports write), read element by element.

The array is parsed at once, so it is held in memory; JSONL is the format for inputs too large for
that. Records are then checked one element at a time, with the same rules and failures as JSONL
lines, and "line" numbers are element numbers (the array's layout says nothing of where one ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import orjson

from forge_cli.core.models import Failure, Item
from forge_cli.io.sources.base import Source, Stream
from forge_cli.io.sources.sniff import SNIFF_BYTES

__all__ = ["JsonArraySource", "starts_array"]


def starts_array(stream: Stream) -> bool:
    """Whether the input's first non-blank byte opens an array (looks only at what is buffered)."""
    head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES].lstrip()
    return head.startswith(b"[")


class JsonArraySource(Source):
    """Not registered on its own: the ``jsonl`` reader opens it when the input is one array."""

    format: ClassVar[str] = "jsonl"

    def _where(self, line: int) -> str:
        return f"{self._label} element {line}"

    def __iter__(self) -> Iterator[Item | Failure]:
        try:
            raw = self._stream.read()
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield Failure(
                    id=None,
                    line=1,
                    error="MalformedRecord",
                    message=f"{self._label}:{exc.lineno}: malformed JSON array: {exc.msg} at "
                    f"column {exc.colno} (no record of it could be read)",
                )
                return
            for n, rec in enumerate(data if isinstance(data, list) else [data], start=1):
                yield self._element(rec, n)
        finally:
            self.close()

    def _element(self, rec: Any, n: int) -> Item | Failure:
        if type(rec) is dict:
            encoded = orjson.dumps(rec)
            if len(encoded) > self._max:
                return self._too_large(n, len(encoded), encoded[:SNIFF_BYTES])
            return self._record(rec, n, False)
        if type(rec) is str and rec.strip():
            return Item(id=str(n), line=n, text=rec.strip())
        return self._not_a_record(rec, n)

"""JSONL output: one JSON object per line, every field of the row as it is."""

from __future__ import annotations

from typing import Any

import orjson

from forge_cli.io.sinks.base import Sink, lenient_dumps

__all__ = ["JsonlSink"]

_JSON_OPTIONS = orjson.OPT_APPEND_NEWLINE


class JsonlSink(Sink):
    """One JSON object per line."""

    def _encode(self, row: dict[str, Any]) -> bytes:
        try:
            return orjson.dumps(row, option=_JSON_OPTIONS)
        except TypeError:  # JSONEncodeError: an unknown type or a surrogate; the slow path copes
            return lenient_dumps(row, _JSON_OPTIONS)

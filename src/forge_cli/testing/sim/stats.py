"""What the simulated upstream saw: one record per chat request and running counters.

Tests and benchmarks judge forge by what reached the provider (how many calls, which statuses, how
many at once), so these are counted on the server side, where forge cannot get them wrong.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["RequestRecord", "UpstreamStats"]

#: distinct schemas kept as one shared string each (a run's own, a few per test)
_SHARED_SCHEMAS = 16


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What one chat request looked like and how it was answered.

    The API key's value is deliberately never kept: forge promises keys never land in
    logs or files, and a test fixture that stored them would be the first place one leaked from.
    """

    #: wall-clock arrival time (time.time())
    timestamp: float
    #: pack ids (as strings) and texts; empty when the request was not a pack
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    #: HTTP status sent; 0 when the connection was reset without a response
    status: int
    had_authorization: bool
    model: str | None
    #: fault kind applied ("failure_rate" for a random failure, "rpm"/"tpm" for a real limit hit)
    fault: str | None
    #: seconds from arrival until the response was ready to write (latency included)
    duration: float
    #: False when the client had gone before the response could be written (e.g. after "timeout")
    delivered: bool
    #: how the request bound the answer: "schema", "json" or "text" (``WireRequest.output``)
    output: str = "text"
    #: the answer schema exactly as the wire received it, as canonical JSON (equal schemas share
    #: one string, so a long benchmark keeps one copy); None without one
    schema: str | None = None

    def answer_schema(self) -> Any:
        """The schema the request carried, parsed (None without one)."""
        return None if self.schema is None else json.loads(self.schema)


class UpstreamStats:
    """Thread-safe counters of what the simulator saw.

    Every accessor returns a value or a copy taken under the lock, so a test or benchmark can read
    them while handler threads are still writing. Only chat requests (the wire's chat route) are
    counted, and each is counted before its response is written, so a client that has its answer
    can read its own request here. Records keep only the newest ``max_records`` (None: all),
    because a long benchmark would otherwise hold every ticket text it ever sent.
    """

    def __init__(self, max_records: int | None = 100_000) -> None:
        self._lock = threading.Lock()
        self._max_records = max_records
        self._in_flight = 0
        self._requests = 0
        self._by_status: dict[int, int] = {}
        self._items_answered = 0
        self._tokens_in = 0
        self._tokens_out = 0
        self._max_concurrent = 0
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._schemas: dict[str, str] = {}

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    @property
    def by_status(self) -> dict[int, int]:
        with self._lock:
            return dict(self._by_status)

    @property
    def items_answered(self) -> int:
        with self._lock:
            return self._items_answered

    @property
    def tokens_in(self) -> int:
        with self._lock:
            return self._tokens_in

    @property
    def tokens_out(self) -> int:
        with self._lock:
            return self._tokens_out

    @property
    def max_concurrent(self) -> int:
        """Peak number of chat requests being handled at the same moment."""
        with self._lock:
            return self._max_concurrent

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def snapshot(self) -> dict[str, Any]:
        """All counters at one instant, consistent with each other (records excluded)."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_status": dict(self._by_status),
                "items_answered": self._items_answered,
                "tokens_in": self._tokens_in,
                "tokens_out": self._tokens_out,
                "max_concurrent": self._max_concurrent,
                "in_flight": self._in_flight,
            }

    def reset(self) -> None:
        """Zero the counters; requests still in flight keep counting towards the new peak."""
        with self._lock:
            self._requests = 0
            self._by_status = {}
            self._items_answered = 0
            self._tokens_in = 0
            self._tokens_out = 0
            self._max_concurrent = self._in_flight
            self._records = deque(maxlen=self._max_records)

    # -- written by the request handler ---------------------------------------------------------

    def enter(self) -> None:
        """A chat request started being handled."""
        with self._lock:
            self._in_flight += 1
            self._max_concurrent = max(self._max_concurrent, self._in_flight)

    def leave(self) -> None:
        """A chat request is done, whatever became of it."""
        with self._lock:
            self._in_flight -= 1

    def shared_schema(self, text: str | None) -> str | None:
        """One string per distinct schema: every request of a run sends the same one, except to a
        local preset (a schema per pack), whose schemas are not kept beyond the record's own."""
        if text is None:
            return None
        with self._lock:
            if text in self._schemas or len(self._schemas) >= _SHARED_SCHEMAS:
                return self._schemas.get(text, text)
            self._schemas[text] = text
            return text

    def add(self, record: RequestRecord, items: int, tokens_in: int, tokens_out: int) -> None:
        """Count one answered (or refused) request, before its response is written."""
        with self._lock:
            self._requests += 1
            self._by_status[record.status] = self._by_status.get(record.status, 0) + 1
            self._items_answered += items
            self._tokens_in += tokens_in
            self._tokens_out += tokens_out
            self._records.append(record)

    def undelivered(self, record: RequestRecord, items: int) -> None:
        """The client left before the answer: its items were not really answered."""
        with self._lock:
            self._items_answered -= items
            for index in range(len(self._records) - 1, -1, -1):
                if self._records[index] is record:
                    self._records[index] = dataclasses.replace(record, delivered=False)
                    break

"""Anthropic's Message Batches API (``/v1/messages/batches``), for the anthropic preset.

The wire, as Anthropic's API reference and SDK types give it (checked 2026-12):

* create: ``POST /v1/messages/batches`` ``{"requests": [{"custom_id", "params"}]}``, ``params``
  the body of a Messages API call (forge sends exactly what a synchronous call sends: the same
  system prompt, forced tool and schema); ``custom_id`` matches ``^[a-zA-Z0-9_-]{1,64}$``; at most
  100,000 requests and 256 MB a batch. No file upload: the requests go in the create call;
* a ``message_batch``: ``{id, type: "message_batch", processing_status: in_progress | canceling |
  ended, request_counts: {processing, succeeded, errored, canceled, expired}, ended_at,
  created_at, expires_at, cancel_initiated_at, archived_at, results_url}`` (times RFC 3339);
  ``GET /v1/messages/batches/{id}``, ``POST .../{id}/cancel``, ``GET /v1/messages/batches?limit=
  &after_id=`` (``{data, has_more, first_id, last_id}``);
* results: ``GET results_url``, JSONL of ``{custom_id, result: {type: "succeeded", message}}``,
  ``{type: "errored", error}``, ``{type: "canceled"}`` or ``{type: "expired"}``;
* errors: ``{"type": "error", "error": {"type", "message"}}``, mapped by the synchronous adapter.

Statuses are read into forge's (OpenAI's) words: in_progress, cancelling, and once ended:
cancelled when a cancel was asked, expired when requests expired, else completed.

Where this had to guess: a batch carries no metadata, so a run killed after the create call but
before it recorded the id finds its batch by what it can see in the listing: the one batch of the
same number of requests created since the call was sent (none or several: it creates a new one;
a wrong pick costs re-asks, never a wrong answer, since answers are bound to each pack's random
ids). ``result.error`` is read both as the ``{"type": "error", "error": {...}}`` envelope and as
the bare ``{"type", "message"}`` object. ``results_url`` is only followed on the API's own host,
since the key travels with the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import orjson

from forge_cli.core.calls import PackRequest
from forge_cli.core.errors import InvalidResponseError
from forge_cli.core.text import snippet
from forge_cli.providers.anthropic import AnthropicProvider
from forge_cli.providers.batch_http import batch_client, json_object, send
from forge_cli.providers.batch_types import BatchAnswer, BatchJob
from forge_cli.providers.catalog.batch_offers import BatchOffer

__all__ = ["AnthropicBatch", "parse_batch"]

LIST_PAGES = 20


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _count(counts: dict[str, Any], name: str) -> int:
    value = counts.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_batch(data: Any) -> BatchJob:
    """A ``message_batch`` as forge's neutral job."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise InvalidResponseError("not a message batch", raw=snippet(str(data)))
    counts = data.get("request_counts") if isinstance(data.get("request_counts"), dict) else {}
    assert isinstance(counts, dict)
    names = ("processing", "succeeded", "errored", "canceled", "expired")
    processing, succeeded, errored, canceled, expired = (_count(counts, n) for n in names)
    state = data.get("processing_status")
    if state == "ended":
        if data.get("cancel_initiated_at"):
            status = "cancelled"
        else:
            status = "expired" if expired else "completed"
    else:
        status = "cancelling" if state == "canceling" else "in_progress"
    url = data.get("results_url")
    return BatchJob(
        id=data["id"],
        status=status,
        total=processing + succeeded + errored + canceled + expired,
        completed=succeeded,
        failed=errored + canceled + expired,
        created_at=_epoch(data.get("created_at")),
        expires_at=_epoch(data.get("expires_at")),
        output_file=url if isinstance(url, str) else None,
    )


class AnthropicBatch:
    """``BatchApi`` over Message Batches, reusing the member's synchronous adapter for the body,
    reading a message and mapping errors."""

    def __init__(
        self, provider: AnthropicProvider, offer: BatchOffer, *, timeout: float = 60.0
    ) -> None:
        self.provider = provider
        self.name = provider.name
        self.max_requests = offer.max_requests
        self.max_bytes = offer.max_bytes
        self.base_url = provider.base_url
        self._client = batch_client(dict(provider._headers), timeout)

    def line(self, custom_id: str, request: PackRequest) -> bytes:
        return (
            orjson.dumps({"custom_id": custom_id, "params": self.provider._body(request)}) + b"\n"
        )

    def upload(self, data: bytes, filename: str) -> str:
        return "inline"  # the requests travel in the create call

    def create(self, file_id: str, local_key: str, data: bytes) -> BatchJob:
        requests = [orjson.loads(raw) for raw in data.splitlines() if raw.strip()]
        body = orjson.dumps({"requests": requests})
        reply = self._send("POST", "/messages/batches", content=body)
        return parse_batch(json_object(reply))

    def find(self, local_key: str, *, requests: int, since: float) -> BatchJob | None:
        after: str | None = None
        matches: list[BatchJob] = []
        for _ in range(LIST_PAGES):
            params: dict[str, Any] = {"limit": 100}
            if after:
                params["after_id"] = after
            page = json_object(self._send("GET", "/messages/batches", params=params))
            jobs = [parse_batch(entry) for entry in page.get("data") or ()]
            matches += [
                job for job in jobs if job.total == requests and (job.created_at or 0) >= int(since)
            ]
            after = page.get("last_id")
            if not page.get("has_more") or not after:
                break
        return matches[0] if len(matches) == 1 else None

    def retrieve(self, job_id: str) -> BatchJob:
        return parse_batch(json_object(self._send("GET", f"/messages/batches/{job_id}")))

    def cancel(self, job_id: str) -> BatchJob:
        return parse_batch(json_object(self._send("POST", f"/messages/batches/{job_id}/cancel")))

    def answers(self, job: BatchJob) -> Iterator[BatchAnswer]:
        if not job.output_file:
            return
        url = httpx.URL(job.output_file)
        if url.host != httpx.URL(self.base_url).host:
            raise InvalidResponseError(
                f"results_url on another host ({url.host}): not followed with the key",
                provider=self.name,
            )
        content = send(self._client, "GET", str(url), self.name, self.provider._error).content
        for raw in content.splitlines():
            if raw.strip():
                yield self._answer(raw)

    def close(self) -> None:
        self._client.close()

    def _answer(self, raw: bytes) -> BatchAnswer:
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return BatchAnswer("", error="unreadable line in the batch results")
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            return BatchAnswer("", error="a result line without custom_id")
        result = line.get("result") if isinstance(line.get("result"), dict) else {}
        assert isinstance(result, dict)
        kind = result.get("type")
        if kind == "succeeded":
            reply = httpx.Response(200, content=orjson.dumps(result.get("message")))
            try:
                completion = self.provider._completion(reply, 0.0)
            except InvalidResponseError as exc:
                return BatchAnswer(line["custom_id"], error=str(exc))
            return BatchAnswer(line["custom_id"], completion=completion)
        error = result.get("error") if isinstance(result.get("error"), dict) else {}
        assert isinstance(error, dict)
        inner = error.get("error") if isinstance(error.get("error"), dict) else error
        assert isinstance(inner, dict)
        detail = f"{inner.get('type') or kind}: {inner.get('message') or 'no answer'}"
        return BatchAnswer(line["custom_id"], error=detail if kind == "errored" else str(kind))

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return send(
            self._client, method, f"{self.base_url}{path}", self.name, self.provider._error, **kw
        )

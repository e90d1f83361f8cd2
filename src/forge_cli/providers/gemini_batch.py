"""Gemini's Batch Mode (``models/{model}:batchGenerateContent``), for the gemini preset.

The wire, as the Gemini API reference ("Batch API": ``GenerateContentBatch``, ``InlinedRequest``,
``InlinedResponse``, ``BatchStats``, ``BatchState``), the Batch Mode guide and the google-genai
SDK (``batches.py``: ``_BatchJob_from_mldev``, ``t_job_state``) give it (checked 2026-12):

* create: ``POST {base}/models/{model}:batchGenerateContent`` with ``{"batch": {"display_name",
  "input_config": {"requests": {"requests": [{"request": <GenerateContentRequest>, "metadata":
  {"key"}}]}}}}`` (inline requests: the guide keeps them under 20 MB a call). Each ``request`` is
  exactly the synchronous adapter's ``body()``: the same system instruction, contents and
  generationConfig (responseMimeType, responseSchema, thinkingConfig). The key travels in
  ``x-goog-api-key``, as on the synchronous path;
* the answer is a long-running ``Operation``: ``{name: "batches/{id}", metadata: {"@type":
  ...GenerateContentBatch, model, displayName, state, createTime, updateTime, endTime,
  batchStats: {requestCount, successfulRequestCount, failedRequestCount, pendingRequestCount}
  (int64 as strings), output?}, done, error?, response?}``; ``GET {base}/batches/{id}`` gives the
  same; ``POST {base}/batches/{id}:cancel`` answers ``{}``; ``GET {base}/batches?pageSize=
  &pageToken=`` answers ``{operations, nextPageToken}``;
* states ``BATCH_STATE_PENDING | RUNNING | SUCCEEDED | FAILED | CANCELLED | EXPIRED`` on the
  wire (the SDK and the guide's prose call them ``JOB_STATE_*``; both spellings are read);
* results: ``inlinedResponses.inlinedResponses[]`` of ``{metadata, response: <
  GenerateContentResponse> | error: <google.rpc.Status>}``, "in the same order as the input
  requests", read through the synchronous adapter's ``_completion``.

Statuses are read into forge's (OpenAI's) words: pending -> validating, running -> in_progress,
succeeded -> completed, failed, cancelled, expired.

Where this had to guess:

* where the results sit: the SDK reads ``metadata.output``, the guide's REST sample reads
  ``response.inlinedResponses``, and one third-party client ``response.output``; all three are
  tried, in that order, and ``inlinedResponses`` is taken both as the documented wrapper object
  and as a bare list;
* the metadata key coming back: the reference says an ``InlinedResponse`` carries "the metadata
  associated with the request", but users report responses without it
  (discuss.ai.google.dev "Gemini batch API doesn't return the user metadata back"); a response
  without a key is matched by its position, which the reference promises is the input's order
  (``BatchAnswer.index``);
* ``expires_at``: the resource has no expiry time; the guide says a batch expires after 48 h
  pending or running, so it is ``createTime`` + 48 h. The guide also says an expired job has no
  results; any that come are read all the same;
* the find after a kill: the batch's ``displayName`` (required, free text) carries forge's key
  ``forge-<key>``, so a run killed after the create call finds its batch by that exact name in
  the listing;
* ``max_requests``: Gemini documents no count per batch, only the 20 MB of an inline call
  (``max_bytes``); 100,000 is forge's own ceiling, as at Anthropic.

Not done: the file input (a JSONL uploaded through the Files API, ``responsesFile`` results);
a job that has only a ``responsesFile`` is reported as an error rather than read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import orjson

from forge_cli.core.calls import PackRequest
from forge_cli.core.errors import InvalidResponseError
from forge_cli.core.text import snippet
from forge_cli.providers.batch_http import batch_client, json_object, send
from forge_cli.providers.batch_types import BatchAnswer, BatchJob
from forge_cli.providers.catalog.batch_offers import BatchOffer
from forge_cli.providers.gemini import GeminiProvider

__all__ = ["GeminiBatch", "parse_operation"]

LIST_PAGES = 20
#: a job not done after this long expires (the guide: 48 hours pending or running)
EXPIRY_SECONDS = 48 * 3600
_NAME = re.compile(r"^batches/[A-Za-z0-9_-]+$")
_STATES = {
    "PENDING": "validating",
    "RUNNING": "in_progress",
    "SUCCEEDED": "completed",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "EXPIRED": "expired",
}


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _int64(value: Any) -> int:
    """A proto int64, which JSON carries as a string ("12"), or a plain number."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def _status(state: Any) -> str:
    word = state.rsplit("_STATE_", 1)[-1] if isinstance(state, str) else ""
    return _STATES.get(word, "in_progress")


def _dict(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def parse_operation(data: Any) -> BatchJob:
    """A batch ``Operation`` (or a bare ``GenerateContentBatch``) as forge's neutral job."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise InvalidResponseError("not a Gemini batch", raw=snippet(str(data)))
    name = data["name"]
    if not _NAME.match(name):
        raise InvalidResponseError(f"unexpected batch name {name!r}", raw=snippet(str(data)))
    batch = _dict(data, "metadata") or data
    stats = _dict(batch, "batchStats")
    status = _status(batch.get("state"))
    total = _int64(stats.get("requestCount"))
    ok, failed = (
        _int64(stats.get("successfulRequestCount")),
        _int64(stats.get("failedRequestCount")),
    )
    if status in ("expired", "cancelled", "failed"):
        failed += _int64(stats.get("pendingRequestCount"))
    created = _epoch(batch.get("createTime"))
    error = _dict(data, "error")
    display = batch.get("displayName")
    return BatchJob(
        id=name,
        status=status,
        total=total,
        completed=ok,
        failed=failed,
        created_at=created,
        expires_at=created + EXPIRY_SECONDS if created is not None else None,
        output_file=name if data.get("done") or status in ("completed", "expired") else None,
        metadata={"display_name": display} if isinstance(display, str) else {},
        errors=[str(error.get("message") or error.get("status") or error)] if error else [],
    )


def inlined_responses(data: Any) -> list[Any] | None:
    """The ``InlinedResponse`` list of a finished batch, wherever the wire put it (see above)."""
    for output in (
        _dict(_dict(data, "metadata"), "output"),
        _dict(data, "response"),
        _dict(_dict(data, "response"), "output"),
    ):
        inlined = output.get("inlinedResponses")
        if isinstance(inlined, dict):
            inlined = inlined.get("inlinedResponses")
        if isinstance(inlined, list):
            return inlined
    return None


def tag(local_key: str) -> str:
    """The display name that carries forge's key for a job."""
    return f"forge-{local_key}"


class GeminiBatch:
    """``BatchApi`` over Gemini's Batch Mode, reusing the member's synchronous adapter for the
    request body, reading a response and mapping errors."""

    def __init__(
        self, provider: GeminiProvider, offer: BatchOffer, *, timeout: float = 60.0
    ) -> None:
        self.provider = provider
        self.name = provider.name
        self.max_requests = offer.max_requests
        self.max_bytes = offer.max_bytes
        self.base_url = provider.base_url
        self._client = batch_client(dict(provider._headers), timeout)

    def line(self, custom_id: str, request: PackRequest) -> bytes:
        # no log probabilities in a job: a model that refuses them (gemini-2.5) would fail every
        # request of it, and each would then be asked again at full price
        body = self.provider.body(request, logprobs=False)
        entry = {"request": body, "metadata": {"key": custom_id}}
        return orjson.dumps(entry) + b"\n"

    def upload(self, data: bytes, filename: str) -> str:
        return "inline"  # the requests travel in the create call

    def create(self, file_id: str, local_key: str, data: bytes) -> BatchJob:
        requests = [orjson.loads(raw) for raw in data.splitlines() if raw.strip()]
        body = {
            "batch": {
                "display_name": tag(local_key),
                "input_config": {"requests": {"requests": requests}},
            }
        }
        model = self.provider.model.removeprefix("models/")
        reply = self._send(
            "POST", f"/models/{model}:batchGenerateContent", content=orjson.dumps(body)
        )
        return parse_operation(json_object(reply))

    def find(self, local_key: str, *, requests: int, since: float) -> BatchJob | None:
        token: str | None = None
        wanted = tag(local_key)
        for _ in range(LIST_PAGES):
            params: dict[str, Any] = {"pageSize": 100}
            if token:
                params["pageToken"] = token
            page = json_object(self._send("GET", "/batches", params=params))
            for entry in page.get("operations") or ():
                job = parse_operation(entry)
                if job.metadata.get("display_name") == wanted:
                    return job
            token = page.get("nextPageToken")
            if not isinstance(token, str) or not token:
                break
        return None

    def retrieve(self, job_id: str) -> BatchJob:
        return parse_operation(self._get(job_id))

    def cancel(self, job_id: str) -> BatchJob:
        self._send("POST", f"/{self._checked(job_id)}:cancel")  # answers {}
        return self.retrieve(job_id)

    def answers(self, job: BatchJob) -> Iterator[BatchAnswer]:
        if not job.output_file:
            return
        data = self._get(job.id)
        inlined = inlined_responses(data)
        if inlined is None:
            places = (_dict(_dict(data, "metadata"), "output"), _dict(data, "response"))
            if any("responsesFile" in place for place in places):
                raise InvalidResponseError(
                    f"batch {job.id} has a responses file, which forge does not read yet",
                    provider=self.name,
                )
            return
        for index, item in enumerate(inlined):
            yield self._answer(index, item)

    def close(self) -> None:
        self._client.close()

    def _answer(self, index: int, item: Any) -> BatchAnswer:
        key = _dict(item, "metadata").get("key")
        custom_id = key if isinstance(key, str) else ""
        response = _dict(item, "response")
        if response:
            reply = httpx.Response(200, content=orjson.dumps(response))
            try:
                completion = self.provider._completion(reply, 0.0)
            except InvalidResponseError as exc:
                return BatchAnswer(custom_id, error=str(exc), index=index)
            return BatchAnswer(custom_id, completion=completion, index=index)
        error = _dict(item, "error")
        label = error.get("status") or error.get("code") or "error"
        detail = f"{label}: {error.get('message') or 'no answer'}"
        return BatchAnswer(custom_id, error=detail, index=index)

    def _get(self, job_id: str) -> dict[str, Any]:
        return json_object(self._send("GET", f"/{self._checked(job_id)}"))

    @staticmethod
    def _checked(job_id: str) -> str:
        """A batch name fit for a URL path (a journal is a file the user may have edited)."""
        if not _NAME.match(job_id):
            raise InvalidResponseError(f"not a Gemini batch name: {job_id!r}")
        return job_id

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return send(
            self._client, method, f"{self.base_url}{path}", self.name, self.provider._error, **kw
        )

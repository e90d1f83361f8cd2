"""OpenAI's Batch API: ``/v1/files`` and ``/v1/batches``, for the OpenAI preset.

The wire, as OpenAI documents it and its Python SDK types it (``types/batch.py``,
``batch_request_counts.py``, ``file_object.py``, checked 2026-12):

* upload: ``POST /v1/files``, multipart/form-data with ``purpose=batch`` and ``file`` (JSONL, one
  request a line: ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``; at
  most 50,000 lines and 200 MB); answers a ``file`` object ``{id, object, bytes, created_at,
  filename, purpose, status}``;
* create: ``POST /v1/batches`` ``{input_file_id, endpoint: "/v1/chat/completions",
  completion_window: "24h", metadata}``; answers a ``batch`` object ``{id, object: "batch",
  endpoint, errors, input_file_id, completion_window, status, output_file_id, error_file_id,
  created_at, in_progress_at, expires_at, finalizing_at, completed_at, failed_at, expired_at,
  cancelling_at, cancelled_at, request_counts: {total, completed, failed}, metadata}``, status one
  of validating, failed, in_progress, finalizing, completed, expired, cancelling, cancelled;
* ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, and ``GET /v1/batches?limit=&after=``
  (a list ``{object: "list", data, first_id, last_id, has_more}``, newest first), which is how a run
  killed between create and recording the id finds its job again: forge tags each job with
  ``metadata.forge_job``, its own key;
* ``GET /v1/files/{id}/content``: the output file (one line per answered request:
  ``{id, custom_id, response: {status_code, request_id, body}, error: null}``, body a chat
  completion) and the error file (requests that failed: a non-200 ``response`` with OpenAI's error
  body, or ``response: null`` and ``error: {code, message}``);
* errors: the usual ``{"error": {"message", "type", "param", "code"}}``, mapped by the synchronous
  adapter's own table (``OpenAICompatibleProvider._error``).

Where this had to guess (not in the public types): the ``error.code`` of requests an expired or
cancelled job never ran (``batch_expired`` as the docs describe; ``batch_cancelled`` by analogy;
forge treats any request without an answer alike, so the guess changes no outcome), and whether
a cancelled job lists its unrun requests in the error file at all (forge re-asks what is missing
either way).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from forge_cli.core.calls import PackRequest
from forge_cli.core.errors import InvalidResponseError
from forge_cli.core.text import snippet
from forge_cli.providers.batch_http import batch_client, send
from forge_cli.providers.batch_http import json_object as _json
from forge_cli.providers.batch_types import BatchAnswer, BatchJob
from forge_cli.providers.catalog.batch_offers import BatchOffer
from forge_cli.providers.openai import OpenAICompatibleProvider

__all__ = ["CHAT_ENDPOINT", "OpenAIBatch", "parse_job"]

CHAT_ENDPOINT = "/v1/chat/completions"
#: the metadata key holding forge's own key for a job
LOCAL_KEY = "forge_job"
#: pages of ``GET /v1/batches`` searched for a job forge may have created (100 a page)
LIST_PAGES = 20


def parse_job(data: Any) -> BatchJob:
    """A ``batch`` object as forge's neutral job; InvalidResponseError for anything else."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise InvalidResponseError("not a batch object", raw=snippet(str(data)))
    counts: dict[str, Any] = _dict(data.get("request_counts"))
    errors: dict[str, Any] = _dict(data.get("errors"))
    metadata: dict[str, Any] = _dict(data.get("metadata"))
    return BatchJob(
        id=data["id"],
        status=str(data.get("status") or "validating"),
        total=_int(counts.get("total")),
        completed=_int(counts.get("completed")),
        failed=_int(counts.get("failed")),
        created_at=data.get("created_at") if isinstance(data.get("created_at"), int) else None,
        expires_at=data.get("expires_at") if isinstance(data.get("expires_at"), int) else None,
        output_file=data.get("output_file_id") or None,
        error_file=data.get("error_file_id") or None,
        metadata={str(k): str(v) for k, v in metadata.items()},
        errors=[
            str(e.get("message") or e.get("code"))
            for e in errors.get("data") or ()
            if isinstance(e, dict)
        ],
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class OpenAIBatch:
    """``BatchApi`` over OpenAI's files and batches endpoints, for one chain member.

    It reuses the member's synchronous adapter for everything the two share: the request body
    (``body``: the same output mode, schema and settings as a synchronous call), reading a chat
    completion, and turning an error body into forge's error taxonomy with the key scrubbed.
    """

    def __init__(
        self, provider: OpenAICompatibleProvider, offer: BatchOffer, *, timeout: float = 60.0
    ) -> None:
        self.provider = provider
        self.name = provider.name
        self.max_requests = offer.max_requests
        self.max_bytes = offer.max_bytes
        self.window = offer.completion_window
        self.base_url = provider.base_url
        headers = dict(provider._headers)
        headers.pop("content-type", None)
        self._client = batch_client(headers, timeout)

    # ------------------------------------------------------------------ the calls

    def line(self, custom_id: str, request: PackRequest) -> bytes:
        # no log probabilities in a job: a model that refuses them (reasoning models) would fail
        # every request of it, and each would then be asked again at full price
        body = self.provider.body(request, logprobs=False)
        record = {"custom_id": custom_id, "method": "POST", "url": CHAT_ENDPOINT, "body": body}
        return orjson.dumps(record) + b"\n"

    def upload(self, data: bytes, filename: str) -> str:
        response = self._send(
            "POST",
            "/files",
            data={"purpose": "batch"},
            files={"file": (filename, data, "application/jsonl")},
        )
        file_id = _json(response).get("id")
        if not isinstance(file_id, str):
            raise InvalidResponseError("upload answered no file id", provider=self.name)
        return file_id

    def create(self, file_id: str, local_key: str, data: bytes = b"") -> BatchJob:
        body = {
            "input_file_id": file_id,
            "endpoint": CHAT_ENDPOINT,
            "completion_window": self.window,
            "metadata": {LOCAL_KEY: local_key},
        }
        return parse_job(_json(self._send("POST", "/batches", json=body)))

    def find(self, local_key: str, *, requests: int = 0, since: float = 0.0) -> BatchJob | None:
        after: str | None = None
        for _ in range(LIST_PAGES):
            params: dict[str, Any] = {"limit": 100}
            if after:
                params["after"] = after
            page = _json(self._send("GET", "/batches", params=params))
            for entry in page.get("data") or ():
                if isinstance(entry, dict) and (entry.get("metadata") or {}).get(LOCAL_KEY) == (
                    local_key
                ):
                    return parse_job(entry)
            after = page.get("last_id")
            if not page.get("has_more") or not after:
                return None
        return None

    def retrieve(self, job_id: str) -> BatchJob:
        return parse_job(_json(self._send("GET", f"/batches/{job_id}")))

    def cancel(self, job_id: str) -> BatchJob:
        return parse_job(_json(self._send("POST", f"/batches/{job_id}/cancel")))

    def answers(self, job: BatchJob) -> Iterator[BatchAnswer]:
        for file_id in (job.output_file, job.error_file):
            if not file_id:
                continue
            content = self._send("GET", f"/files/{file_id}/content").content
            for raw in content.splitlines():
                if raw.strip():
                    yield self._answer(raw)

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ plumbing

    def _answer(self, raw: bytes) -> BatchAnswer:
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return BatchAnswer("", error="unreadable line in the batch output")
        custom_id = str(line.get("custom_id") or "") if isinstance(line, dict) else ""
        if not custom_id:
            return BatchAnswer("", error="a batch output line without custom_id")
        response = line.get("response")
        if isinstance(response, dict) and response.get("status_code") == 200:
            reply = httpx.Response(200, content=orjson.dumps(response.get("body")))
            try:
                return BatchAnswer(custom_id, completion=self.provider._completion(reply, 0.0))
            except InvalidResponseError as exc:
                return BatchAnswer(custom_id, error=str(exc))
        if isinstance(response, dict):
            reply = httpx.Response(
                int(response.get("status_code") or 500),
                content=orjson.dumps(response.get("body")),
            )
            return BatchAnswer(custom_id, error=str(self.provider._error(reply)))
        error = line.get("error") if isinstance(line.get("error"), dict) else {}
        code, message = error.get("code") or "error", error.get("message") or "no answer"
        return BatchAnswer(custom_id, error=f"{code}: {message}")

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return send(
            self._client, method, f"{self.base_url}{path}", self.name, self.provider._error, **kw
        )

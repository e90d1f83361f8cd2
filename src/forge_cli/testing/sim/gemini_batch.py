"""Gemini's Batch Mode on the simulated upstream: ``batchGenerateContent`` and ``/v1beta/batches``.

Routes and bodies follow the Gemini API reference ("Batch API") and the Batch Mode guide:
``POST /v1beta/models/{model}:batchGenerateContent`` ``{"batch": {"display_name", "input_config":
{"requests": {"requests": [{"request", "metadata"}]}}}}`` (snake_case or camelCase, as proto JSON
takes either) answers an ``Operation`` ``{name: "batches/{id}", metadata: GenerateContentBatch
{"@type", model, displayName, state, createTime, updateTime, endTime?, batchStats {requestCount,
successfulRequestCount, failedRequestCount, pendingRequestCount} as int64 strings, output?}, done,
response?, error?}``; ``GET /v1beta/batches/{id}`` the same; ``POST .../{id}:cancel`` answers
``{}``; ``GET /v1beta/batches?pageSize=&pageToken=`` answers ``{operations, nextPageToken}``.
States are the reference's ``BATCH_STATE_*``. A finished batch carries its results as
``inlinedResponses.inlinedResponses[]`` (``{metadata, response}`` or ``{metadata, error}``, in
input order) both in ``metadata.output`` (where the google-genai SDK reads them) and in
``response`` (where the guide's REST sample does). Jobs follow the shared compressed clock
(``sim/batch_jobs.py``); each request is answered as ``generateContent`` would answer it.

The simulator's guesses: the 404 and 400 texts (Google's generic ones); a cancelled batch keeps
what it answered before the cancel; an expired one has no results, as the guide says, unless
``expired_results`` is set (a test of partial results); ``echo_metadata`` False leaves the
metadata out of the responses, as users report the real service sometimes does.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from forge_cli.testing.sim.batch_jobs import BatchClock, BatchJob, Line, answer_line
from forge_cli.testing.sim.gemini_errors import google_error

__all__ = ["GeminiBatchService"]

_ROUTE = re.compile(
    r"^/v1beta/(?:models/(?P<model>[^/:]+):batchGenerateContent"
    r"|batches(?:/(?P<ident>[A-Za-z0-9_-]+)(?P<cancel>:cancel)?)?)$"
)
_BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch"
_OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput"
_STATES = {
    "validating": "BATCH_STATE_PENDING",
    "in_progress": "BATCH_STATE_RUNNING",
    "finalizing": "BATCH_STATE_RUNNING",
    "cancelling": "BATCH_STATE_RUNNING",
    "completed": "BATCH_STATE_SUCCEEDED",
    "failed": "BATCH_STATE_FAILED",
    "expired": "BATCH_STATE_EXPIRED",
    "cancelled": "BATCH_STATE_CANCELLED",
}


def _time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _invalid(message: str) -> tuple[int, Any]:
    return 400, google_error(400, "INVALID_ARGUMENT", message)


def _field(data: dict[str, Any], snake: str, camel: str) -> Any:
    return data.get(snake, data.get(camel))


class GeminiBatchService:
    """The batches of one simulated Gemini upstream (thread-safe)."""

    def __init__(self, behaviour: Any, *, max_bytes: int = 20_000_000) -> None:
        self.behaviour = behaviour
        self.clock = BatchClock()
        self.max_bytes = max_bytes
        self.creates = 0
        self.jobs: dict[str, BatchJob] = {}
        #: the responses carry each request's metadata back (False: as some users report)
        self.echo_metadata = True
        #: an expired batch gives the answers it has (the guide: it has none)
        self.expired_results = False
        self._lock = threading.Lock()

    def handles(self, path: str) -> bool:
        return _ROUTE.match(path.split("?", 1)[0].rstrip("/")) is not None

    def serve(self, handler: Any) -> None:
        method = handler.command
        raw = handler._read_body(self.max_bytes) if method == "POST" else b""
        if raw is None:
            return
        behaviour = self.behaviour
        denied = behaviour.check_key(
            behaviour.wire.presented_key(handler.headers, handler._query())
        )
        if denied is not None:
            handler._send_json(*denied)
            return
        match = _ROUTE.match(handler.path.split("?", 1)[0].rstrip("/"))
        assert match is not None
        with self._lock:
            reply = self._route(method, match, raw, handler._query())
        if isinstance(reply, bytes):
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
            handler.send_header("Content-Length", str(len(reply)))
            handler.end_headers()
            handler.wfile.write(reply)
        else:
            handler._send_json(*reply)

    def _route(
        self, method: str, match: re.Match[str], raw: bytes, query: dict[str, str]
    ) -> tuple[int, Any] | bytes:
        model, ident, cancel = match.group("model"), match.group("ident"), match.group("cancel")
        if model is not None:
            if method == "POST":
                return self._create(model, raw)
        elif ident is None:
            if method == "GET":
                return 200, self._list(query)
        else:
            job = self.jobs.get(f"batches/{ident}")
            if job is None:
                return 404, google_error(404, "NOT_FOUND", "Requested entity was not found.")
            if method == "POST" and cancel:
                self._advance(job)
                if job.terminal:
                    return 400, google_error(
                        400, "FAILED_PRECONDITION", f"Batch batches/{ident} is already finished."
                    )
                job.cancel_at = time.monotonic()
                return 200, {}
            if method == "GET" and not cancel:
                return self._operation(job, full=True)
        return 404, google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def _create(self, model: str, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw)
        except ValueError:
            return self.behaviour.wire.bad_json()
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, dict):
            return _invalid("* GenerateContentBatch: batch is required")
        display = _field(batch, "display_name", "displayName")
        if not isinstance(display, str) or not display:
            return _invalid("* GenerateContentBatch: display_name is required")
        config = _field(batch, "input_config", "inputConfig")
        wrapper = config.get("requests") if isinstance(config, dict) else None
        requests = wrapper.get("requests") if isinstance(wrapper, dict) else None
        if not isinstance(requests, list) or not requests:
            return _invalid("* GenerateContentBatch: input_config.requests is required")
        lines: list[Line] = []
        for n, entry in enumerate(requests):
            request = entry.get("request") if isinstance(entry, dict) else None
            if not isinstance(request, dict):
                return _invalid(f"* InlinedRequest[{n}]: request is required")
            metadata = entry.get("metadata")
            key = metadata.get("key") if isinstance(metadata, dict) else None
            lines.append(Line(key if isinstance(key, str) else "", request))
        self.creates += 1
        job = BatchJob(
            id="batches/" + secrets.token_hex(12),
            input_file_id="",
            lines=lines,
            metadata={"model": model, "displayName": display},
            clock=dataclasses.replace(self.clock),
        )
        self.jobs[job.id] = job
        return 200, json.loads(self._operation(job, full=False))

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        jobs = sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)
        start = int(query.get("pageToken") or 0)
        size = max(1, min(1000, int(query.get("pageSize") or 10)))
        page = [json.loads(self._operation(j, full=False)) for j in jobs[start : start + size]]
        reply: dict[str, Any] = {"operations": page}
        if start + size < len(jobs):
            reply["nextPageToken"] = str(start + size)
        return reply

    def _advance(self, job: BatchJob) -> None:
        model = job.metadata["model"]
        job.advance(lambda body: answer_line(self.behaviour, body, None, model))

    def _output(self, job: BatchJob) -> str | None:
        """``{"inlinedResponses": {"inlinedResponses": [...]}}`` as JSON text, or None."""
        if not job.terminal or (job.status == "expired" and not self.expired_results):
            return None
        if job.status == "failed":
            return None
        items: list[str] = []
        for custom_id, status, body in job.answered:
            meta = f'"metadata": {json.dumps({"key": custom_id})}, ' if self.echo_metadata else ""
            if status == 200:
                items.append(f'{{{meta}"response": {body}}}')
            else:
                error = json.loads(body).get("error") or {"code": status, "message": body}
                items.append(f'{{{meta}"error": {json.dumps(error)}}}')
        return '{"inlinedResponses": {"inlinedResponses": [' + ", ".join(items) + "]}}"

    def _operation(self, job: BatchJob, *, full: bool) -> bytes:
        """The job as an ``Operation``, as JSON bytes (results spliced in as stored text)."""
        self._advance(job)
        ok = sum(1 for _, status, _ in job.answered if status == 200)
        pending = 0 if job.terminal else len(job.lines) - job.done
        created = float(job.created_at)
        meta: dict[str, Any] = {
            "@type": _BATCH_TYPE,
            "model": f"models/{job.metadata['model']}",
            "displayName": job.metadata["displayName"],
            "createTime": _time(created),
            "updateTime": _time(time.time()),
            "batchStats": {
                "requestCount": str(len(job.lines)),
                "successfulRequestCount": str(ok),
                "failedRequestCount": str(len(job.answered) - ok),
                "pendingRequestCount": str(pending),
            },
            "state": _STATES.get(job.status, "BATCH_STATE_PENDING"),
            "name": job.id,
        }
        if job.terminal:
            meta["endTime"] = _time(time.time())
        op: dict[str, Any] = {"name": job.id, "done": job.terminal}
        if job.status == "failed":
            op["error"] = {"code": 3, "message": "The batch failed validation."}
        output = self._output(job) if full else None
        meta_text = json.dumps(meta, ensure_ascii=False)
        if output is not None:
            meta_text = meta_text[:-1] + f', "output": {output}}}'
        text = json.dumps(op, ensure_ascii=False)[:-1] + f', "metadata": {meta_text}'
        if output is not None:
            text += f', "response": {{"@type": "{_OUTPUT_TYPE}", ' + output[1:]
        return (text + "}").encode()

"""Anthropic's Message Batches API on the simulated upstream: ``/v1/messages/batches``.

Routes and bodies follow Anthropic's API reference: ``POST /v1/messages/batches`` ``{"requests":
[{"custom_id", "params"}]}`` answers a ``message_batch`` (``processing_status`` in_progress,
canceling or ended; ``request_counts`` processing, succeeded, errored, canceled, expired; RFC 3339
times; ``results_url``); ``GET /v1/messages/batches[/{id}]``, ``POST .../{id}/cancel`` and
``GET .../{id}/results`` (JSONL: ``{custom_id, result: {type: succeeded, message} | {type:
errored, error} | {type: canceled} | {type: expired}}``; results exist once the batch has ended).
Jobs follow the same compressed clock as OpenAI's (``sim/batch_jobs.py``); each request is
answered as ``POST /v1/messages`` would answer its ``params``. Errors use Anthropic's envelope;
the 404 text for an unknown batch and the 400 for results asked before the end are the
simulator's guesses. Validation (custom ids unique and ``^[a-zA-Z0-9_-]{1,64}$``, at most
``max_requests``) answers a 400 at create, as Anthropic validates the request body there.
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

from forge_cli.testing.sim.anthropic_wire import error_body
from forge_cli.testing.sim.batch_jobs import BatchClock, BatchJob, Line, answer_line, jsonl

__all__ = ["AnthropicBatchService"]

_ROUTE = re.compile(r"^/v1/messages/batches(?:/([A-Za-z0-9_-]+))?(?:/(cancel|results))?$")
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AnthropicBatchService:
    """The message batches of one simulated upstream (thread-safe)."""

    def __init__(self, behaviour: Any, *, max_requests: int = 100_000) -> None:
        self.behaviour = behaviour
        self.clock = BatchClock()
        self.max_requests = max_requests
        self.creates = 0
        self.jobs: dict[str, BatchJob] = {}
        self.base = ""
        self._lock = threading.Lock()

    def handles(self, path: str) -> bool:
        return _ROUTE.match(path.split("?", 1)[0].rstrip("/")) is not None

    def serve(self, handler: Any) -> None:
        method = handler.command
        raw = handler._read_body(257 * 2**20) if method == "POST" else b""  # 256 MB a batch
        if raw is None:
            return
        behaviour = self.behaviour
        denied = behaviour.check_key(behaviour.wire.presented_key(handler.headers, {}))
        if denied is not None:
            handler._send_json(*denied)
            return
        host = handler.headers.get("Host") or "127.0.0.1"
        match = _ROUTE.match(handler.path.split("?", 1)[0].rstrip("/"))
        assert match is not None
        ident, action = match.groups()
        with self._lock:
            self.base = f"http://{host}"
            reply = self._route(method, ident, action, raw, handler)
        if isinstance(reply, bytes):
            handler.send_response(200)
            handler.send_header("Content-Type", "application/binary")
            handler.send_header("Content-Length", str(len(reply)))
            handler.end_headers()
            handler.wfile.write(reply)
        else:
            handler._send_json(*reply)

    def _route(
        self, method: str, ident: str | None, action: str | None, raw: bytes, h: Any
    ) -> tuple[int, Any] | bytes:
        if ident is None:
            if method == "POST":
                return self._create(raw, h)
            if method == "GET":
                return 200, self._list(h._query())
        else:
            job = self.jobs.get(ident)
            if job is None:
                return 404, error_body("not_found_error", f"Message batch {ident} not found.")
            if method == "POST" and action == "cancel":
                self._advance(job)
                if job.terminal:
                    return 400, error_body(
                        "invalid_request_error",
                        f"Message batch {ident} has already ended and cannot be canceled.",
                    )
                job.cancel_at = time.monotonic()
                return 200, self._view(job)
            if method == "GET" and action == "results":
                self._advance(job)
                if not job.terminal:
                    return 400, error_body(
                        "invalid_request_error",
                        f"Message batch {ident} is still processing; results are available "
                        "once it has ended.",
                    )
                return self._results(job)
            if method == "GET" and action is None:
                return 200, self._view(job)
        return 404, error_body("not_found_error", "Not Found")

    def _create(self, raw: bytes, h: Any) -> tuple[int, Any]:
        try:
            body = json.loads(raw)
        except ValueError:
            return self.behaviour.wire.bad_json()
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            return 400, error_body("invalid_request_error", "requests: Field required")
        if len(requests) > self.max_requests:
            return 400, error_body(
                "invalid_request_error",
                f"requests: List should have at most {self.max_requests} items",
            )
        lines: list[Line] = []
        seen: set[str] = set()
        for n, entry in enumerate(requests):
            custom_id = entry.get("custom_id") if isinstance(entry, dict) else None
            params = entry.get("params") if isinstance(entry, dict) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
                return 400, error_body(
                    "invalid_request_error",
                    f"requests.{n}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'",
                )
            if custom_id in seen:
                return 400, error_body(
                    "invalid_request_error",
                    f"Duplicate custom_id '{custom_id}': each request needs a unique custom_id.",
                )
            if not isinstance(params, dict):
                return 400, error_body(
                    "invalid_request_error", f"requests.{n}.params: Field required"
                )
            seen.add(custom_id)
            lines.append(Line(custom_id, params))
        version = h.headers.get("anthropic-version")
        self.creates += 1
        job = BatchJob(
            id="msgbatch_01" + secrets.token_hex(11),
            input_file_id="",
            lines=lines,
            # the headers each request is answered with: those of the create call
            metadata={"anthropic-version": version} if version else {},
            clock=dataclasses.replace(self.clock),
        )
        self.jobs[job.id] = job
        return 200, self._view(job)

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        jobs = sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)
        after = query.get("after_id")
        if after:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        limit = max(1, min(1000, int(query.get("limit") or 20)))
        page = [self._view(j) for j in jobs[:limit]]
        return {
            "data": page,
            "has_more": len(jobs) > limit,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }

    def _advance(self, job: BatchJob) -> None:
        job.advance(lambda params: answer_line(self.behaviour, params, job.metadata))

    def _results(self, job: BatchJob) -> bytes:
        rows: list[dict[str, Any] | str] = []
        for custom_id, status, body in job.answered:
            if status == 200:
                result = f'{{"type": "succeeded", "message": {body}}}'
            else:
                result = f'{{"type": "errored", "error": {body}}}'
            rows.append(f'{{"custom_id": {json.dumps(custom_id)}, "result": {result}}}')
        unrun = "canceled" if job.status == "cancelled" else "expired"
        rows += [{"custom_id": line.custom_id, "result": {"type": unrun}} for line in job.unrun]
        return jsonl(rows)

    def _view(self, job: BatchJob) -> dict[str, Any]:
        self._advance(job)
        ok = sum(1 for _, status, _ in job.answered if status == 200)
        errored = len(job.answered) - ok
        left = len(job.lines) - job.done
        ended = job.terminal
        counts = {
            "processing": 0 if ended else left,
            "succeeded": ok,
            "errored": errored,
            "canceled": left if job.status == "cancelled" else 0,
            "expired": left if job.status == "expired" else 0,
        }
        status = "ended" if ended else ("canceling" if job.cancel_at is not None else "in_progress")
        created = float(job.created_at)
        wall = time.time() - (time.monotonic() - job.cancel_at) if job.cancel_at else None
        return {
            "id": job.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "ended_at": _time(time.time()) if ended else None,
            "created_at": _time(created),
            "expires_at": _time(created + job.clock.window),
            "archived_at": None,
            "cancel_initiated_at": _time(wall),
            "results_url": f"{self.base}/v1/messages/batches/{job.id}/results" if ended else None,
        }

"""OpenAI's Batch API on the simulated upstream: ``/v1/files`` and ``/v1/batches``.

Routes, bodies and statuses follow OpenAI's public API reference and its Python SDK's types:
``POST /v1/files`` (multipart: ``purpose`` and ``file``) answers a ``file`` object;
``GET /v1/files/{id}/content`` the file's bytes; ``POST /v1/batches`` ``{input_file_id, endpoint,
completion_window, metadata}``, ``GET /v1/batches[/{id}]`` and ``POST /v1/batches/{id}/cancel``
answer ``batch`` objects (a list ``{object, data, first_id, last_id, has_more}``, newest first).
A job's statuses follow ``BatchClock`` (``sim/batch_jobs.py``); each request is answered as the
chat endpoint would answer it. Errors use OpenAI's envelope ``{"error": {"message", "type",
"param", "code"}}``; the texts of 404s for an unknown file or batch and of the 409 for cancelling a
finished job are the simulator's best guess at OpenAI's (its reference does not show them).
Input validation: every line JSON with ``custom_id``, ``method`` POST, ``url`` the endpoint and a
``body``; custom ids unique; at most ``max_requests`` lines; a job that breaks one ends
``failed`` with ``errors.data``. ``creates`` counts every job created, so a test can prove that a
run killed and resumed never submits twice.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import json
import re
import secrets
import threading
import time
from typing import Any

from forge_cli.testing.sim.batch_jobs import (
    BatchClock,
    BatchJob,
    Line,
    answer_line,
    jsonl,
    spliced,
)
from forge_cli.testing.sim.openai_format import error_body

__all__ = ["BatchService"]

ENDPOINTS = frozenset({"/v1/chat/completions"})
#: what the error file says of a request an expired or cancelled job never ran
UNRUN = {
    "expired": (
        "batch_expired",
        "This request could not be executed before the completion window expired.",
    ),
    "cancelled": (
        "batch_cancelled",
        "This request was not executed because the batch was cancelled.",
    ),
}
_ROUTE = re.compile(r"^/v1/(files|batches)(?:/([A-Za-z0-9_-]+))?(?:/(content|cancel))?$")


class BatchService:
    """The files and batches of one simulated upstream (thread-safe)."""

    def __init__(self, behaviour: Any, *, max_requests: int = 50_000) -> None:
        self.behaviour = behaviour
        self.clock = BatchClock()
        self.max_requests = max_requests
        self.max_bytes = 200 * 2**20
        #: jobs ever created and files ever uploaded (what a resumed run must not repeat)
        self.creates = 0
        self.uploads = 0
        #: the next N create calls fail with OpenAI's 500 (a test's provider outage mid-submit)
        self.fail_creates = 0
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.jobs: dict[str, BatchJob] = {}
        self._lock = threading.Lock()

    def handles(self, path: str) -> bool:
        return _ROUTE.match(path.split("?", 1)[0].rstrip("/")) is not None

    def serve(self, handler: Any) -> None:
        """Answer one request on a batch route (the handler has not read its body)."""
        method = handler.command
        # an upload may be as large as OpenAI takes (200 MB), past the chat route's limit
        raw = handler._read_body(self.max_bytes + 2**20) if method == "POST" else b""
        if raw is None:
            return
        behaviour = self.behaviour
        denied = behaviour.check_key(behaviour.wire.presented_key(handler.headers, {}))
        if denied is not None:
            handler._send_json(*denied)
            return
        match = _ROUTE.match(handler.path.split("?", 1)[0].rstrip("/"))
        assert match is not None
        kind, ident, action = match.groups()
        with self._lock:
            reply = self._route(method, kind, ident, action, raw, handler)
        if isinstance(reply, bytes):
            _send_bytes(handler, reply)
        else:
            handler._send_json(*reply)

    # ------------------------------------------------------------------ routes

    def _route(
        self, method: str, kind: str, ident: str | None, action: str | None, raw: bytes, h: Any
    ) -> tuple[int, Any] | bytes:
        if kind == "files":
            if method == "POST" and ident is None:
                return self._upload(raw, h.headers.get("Content-Type") or "")
            if method == "GET" and ident is not None:
                stored = self.files.get(ident)
                if stored is None:
                    return _not_found(f"No such File object: {ident}", "id")
                return stored[1] if action == "content" else (200, stored[0])
        elif kind == "batches":
            if method == "POST" and ident is None:
                return self._create(raw)
            if method == "GET" and ident is None:
                return 200, self._list(h._query())
            job = self.jobs.get(ident or "")
            if job is None:
                return _not_found(f"No batch found with id '{ident}'.", None)
            if method == "POST" and action == "cancel":
                return self._cancel(job)
            if method == "GET" and action is None:
                return 200, self._view(job)
        path = h.path.split("?", 1)[0]
        return 404, error_body(f"Invalid URL ({method} {path})", "invalid_request_error")

    def _upload(self, raw: bytes, content_type: str) -> tuple[int, Any]:
        fields = _multipart(raw, content_type)
        purpose = fields.get("purpose", (None, b""))[1].decode(errors="replace")
        if "file" not in fields:
            return 400, _invalid("Missing required parameter: 'file'.", "file")
        if purpose not in ("batch", "fine-tune", "assistants", "vision", "user_data", "evals"):
            return 400, _invalid(f"'{purpose}' is not one of the supported purposes.", "purpose")
        name, data = fields["file"]
        if len(data) > self.max_bytes:
            return 400, _invalid("File is too large for purpose 'batch'.", "file")
        self.uploads += 1
        file_id = self._store(data, purpose, name or "upload.jsonl")
        return 200, self.files[file_id][0]

    def _store(self, data: bytes, purpose: str, name: str = "batch_output.jsonl") -> str:
        file_id = "file-" + secrets.token_hex(12)
        meta = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
            "status_details": None,
        }
        self.files[file_id] = (meta, data)
        return file_id

    def _create(self, raw: bytes) -> tuple[int, Any]:
        if self.fail_creates > 0:
            self.fail_creates -= 1
            return 500, self.behaviour.wire.server_error(500, "req_" + secrets.token_hex(16))
        try:
            body = json.loads(raw)
        except ValueError:
            return self.behaviour.wire.bad_json()
        if not isinstance(body, dict):
            return self.behaviour.wire.bad_json()
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(body.get(name), str):
                return 400, _invalid(f"Missing required parameter: '{name}'.", name)
        if body["endpoint"] not in ENDPOINTS:
            return 400, _invalid(f"Invalid value: '{body['endpoint']}'.", "endpoint")
        if body["completion_window"] != "24h":
            return 400, _invalid(
                f"Invalid value: '{body['completion_window']}'. Supported values are: '24h'.",
                "completion_window",
            )
        stored = self.files.get(body["input_file_id"])
        if stored is None:
            return _not_found(f"No such File object: {body['input_file_id']}", "input_file_id")
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        lines, errors = self._read_input(stored[1], body["endpoint"])
        self.creates += 1
        job = BatchJob(
            id="batch_" + secrets.token_hex(12),
            input_file_id=body["input_file_id"],
            lines=lines,
            metadata={str(k): str(v) for k, v in (metadata or {}).items()},
            clock=dataclasses.replace(self.clock),
            errors=errors,
        )
        self.jobs[job.id] = job
        return 200, self._view(job)

    def _read_input(self, data: bytes, endpoint: str) -> tuple[list[Line], list[dict[str, Any]]]:
        lines: list[Line] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        for number, raw in enumerate(data.splitlines(), 1):
            try:
                row = json.loads(raw)
            except ValueError:
                row = None
            ok = (
                isinstance(row, dict)
                and isinstance(row.get("custom_id"), str)
                and row.get("method") == "POST"
                and row.get("url") == endpoint
                and isinstance(row.get("body"), dict)
            )
            if not ok:
                errors.append(_line_error("invalid_request", "Invalid request line.", number))
            elif row["custom_id"] in seen:
                errors.append(
                    _line_error(
                        "duplicate_custom_id",
                        "The custom_id for this request is a duplicate of another request.",
                        number,
                    )
                )
            else:
                seen.add(row["custom_id"])
                lines.append(Line(row["custom_id"], row["body"]))
        if len(lines) > self.max_requests:
            errors.append(
                _line_error(
                    "too_many_requests",
                    f"The batch input file is larger than the {self.max_requests} maximum "
                    "number of requests.",
                    None,
                )
            )
        return lines, errors[:10]

    def _cancel(self, job: BatchJob) -> tuple[int, Any]:
        self._advance(job)
        if job.status not in ("validating", "in_progress", "finalizing"):
            return 409, error_body(
                f"Cannot cancel a batch with status '{job.status}'.", "invalid_request_error"
            )
        job.cancel_at = time.monotonic()
        self._advance(job)
        return 200, self._view(job)

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        jobs = sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)
        after = query.get("after")
        if after:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        limit = max(1, min(100, int(query.get("limit") or 20)))
        page = [self._view(j) for j in jobs[:limit]]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(jobs) > limit,
        }

    def _advance(self, job: BatchJob) -> None:
        job.advance(lambda body: answer_line(self.behaviour, body))
        if job.terminal and not job.files and job.status != "failed":
            self._write_results(job)

    def _write_results(self, job: BatchJob) -> None:
        """The output file (answers) and error file (non-200s, and what never ran) of a job."""
        out: list[dict[str, Any] | str] = []
        err: list[dict[str, Any] | str] = []
        for custom_id, code, body in job.answered:
            rid = "req_" + secrets.token_hex(16)
            response = spliced({"status_code": code, "request_id": rid}, body)
            line = (
                f'{{"id": "batch_req_{secrets.token_hex(12)}", "custom_id": '
                f'{json.dumps(custom_id)}, "response": {response}, "error": null}}'
            )
            (out if code == 200 else err).append(line)
        reason = UNRUN.get(job.status)
        if reason is not None:
            for unrun in job.unrun:
                error = {"code": reason[0], "message": reason[1]}
                err.append(
                    {
                        "id": "batch_req_" + secrets.token_hex(12),
                        "custom_id": unrun.custom_id,
                        "response": None,
                        "error": error,
                    }
                )
        job.files["output"] = self._store(jsonl(out), "batch_output") if out else None
        job.files["error"] = self._store(jsonl(err), "batch_output") if err else None

    def _view(self, job: BatchJob) -> dict[str, Any]:
        self._advance(job)
        stamps = job.stamps
        return {
            "id": job.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": {"object": "list", "data": job.errors} if job.errors else None,
            "input_file_id": job.input_file_id,
            "completion_window": "24h",
            "status": job.status,
            "output_file_id": job.files.get("output"),
            "error_file_id": job.files.get("error"),
            "created_at": job.created_at,
            "in_progress_at": stamps.get("in_progress_at"),
            "expires_at": job.created_at + int(job.clock.window),
            "finalizing_at": stamps.get("finalizing_at"),
            "completed_at": stamps.get("completed_at"),
            "failed_at": stamps.get("failed_at"),
            "expired_at": stamps.get("expired_at"),
            "cancelling_at": stamps.get("cancelling_at"),
            "cancelled_at": stamps.get("cancelled_at"),
            "request_counts": job.counts(),
            "metadata": job.metadata or None,
        }


def _invalid(message: str, param: str | None) -> dict[str, Any]:
    return error_body(message, "invalid_request_error", param=param)


def _not_found(message: str, param: str | None) -> tuple[int, Any]:
    return 404, error_body(message, "invalid_request_error", param=param)


def _line_error(code: str, message: str, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": line}


def _multipart(raw: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename, bytes)."""
    if "multipart/form-data" not in content_type:
        return {}
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def _send_bytes(handler: Any, data: bytes) -> None:
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
    except OSError:
        handler.close_connection = True

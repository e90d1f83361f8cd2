"""The simulator's batch jobs: their clock, their status, and the answers in their files.

OpenAI's Batch API runs a job through validating, in_progress, finalizing and completed (or
failed, expired, cancelling, cancelled) over up to 24 hours; here the same statuses follow a
compressed clock (``BatchClock``: seconds, set by a test) so a job can validate, progress request
by request, expire half done or be cancelled within a test. Each request of a job is answered
exactly as the synchronous endpoint would answer its body (the wire's ``parse``, the scripted
faults, the behaviour's answers, the wire's ``success``), so batch and synchronous runs see the
same answers. No HTTP here (``sim/openai_batch.py`` serves it); nothing of forge is imported.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from forge_cli.testing.sim.answers import extract_pack, prompt_tokens, text_tokens
from forge_cli.testing.sim.faults import ERROR_FAULTS

__all__ = ["BatchClock", "BatchJob", "Line", "answer_line", "jsonl", "spliced"]

#: what each request of the job is answered with: (status, body)
Answer = Callable[[dict[str, Any]], tuple[int, Any]]


@dataclass(slots=True)
class BatchClock:
    """How long each stage takes, in real seconds (OpenAI's take minutes to hours)."""

    validating: float = 0.0
    #: seconds per request while in progress (0: all at once)
    per_request: float = 0.0
    finalizing: float = 0.0
    cancelling: float = 0.0
    #: the completion window: a job not finished by then expires with what it has done
    window: float = 24 * 3600.0


@dataclass(slots=True)
class Line:
    """One request of a job's input file."""

    custom_id: str
    body: dict[str, Any]


@dataclass(slots=True)
class BatchJob:
    """One job and its state; ``advance`` moves it along the clock (under the service's lock)."""

    id: str
    input_file_id: str
    lines: list[Line]
    metadata: dict[str, str]
    clock: BatchClock
    created: float = field(default_factory=time.monotonic)
    created_at: int = field(default_factory=lambda: int(time.time()))
    status: str = "validating"
    errors: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0
    cancel_at: float | None = None
    #: (custom_id, status, body as JSON text) per request run so far, in order: kept as text, as
    #: a provider keeps its result files (a body with token log probabilities is large as dicts)
    answered: list[tuple[str, int, str]] = field(default_factory=list)
    #: the wire's own record of where the results went (OpenAI: output and error file ids)
    files: dict[str, str | None] = field(default_factory=dict)
    stamps: dict[str, int] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in ("completed", "failed", "expired", "cancelled")

    def advance(self, answer: Answer) -> None:
        """Bring status and counts up to now (the wire's service writes the results)."""
        if self.status in ("completed", "failed", "expired", "cancelled"):
            return
        now = time.monotonic()
        clock = self.clock
        elapsed = now - self.created
        if self.errors:
            self._end("failed")
            return
        # requests run from the end of validation until now, the cancel, or the window's end
        stop = elapsed if self.cancel_at is None else self.cancel_at - self.created
        running = min(stop, clock.window) - clock.validating
        if running < 0:
            due = 0
        elif clock.per_request <= 0:
            due = len(self.lines)
        else:
            due = int(running / clock.per_request)
        self._answer_up_to(min(len(self.lines), due), answer)
        if self.cancel_at is not None:
            if now - self.cancel_at >= clock.cancelling:
                self._end("cancelled")
            else:
                self._stamp("cancelling")
            return
        if elapsed < clock.validating:
            return
        self._stamp("in_progress")
        finished = self.done >= len(self.lines)
        if not finished and elapsed >= clock.window:
            self._end("expired")
            return
        if not finished:
            return
        span = clock.validating + len(self.lines) * clock.per_request
        if elapsed < span + clock.finalizing:
            self._stamp("finalizing")
            return
        self._end("completed")

    def counts(self) -> dict[str, int]:
        ok = sum(1 for _, status, _ in self.answered if status == 200)
        failed = len(self.answered) - ok
        if self.status in ("expired", "cancelled"):
            failed += len(self.lines) - self.done
        return {"total": len(self.lines), "completed": ok, "failed": failed}

    def _answer_up_to(self, due: int, answer: Answer) -> None:
        while self.done < due:
            line = self.lines[self.done]
            status, body = answer(line.body)
            self.answered.append((line.custom_id, status, json.dumps(body, ensure_ascii=False)))
            self.done += 1

    def _stamp(self, status: str) -> None:
        self.status = status
        self.stamps.setdefault(f"{status}_at", int(time.time()))

    def _end(self, status: str) -> None:
        """The job is over: what it answered stays in ``answered``, the rest never ran."""
        self._stamp(status)

    @property
    def unrun(self) -> list[Line]:
        """Requests a job ended without running (expired, cancelled, failed validation)."""
        return self.lines[self.done :]


def jsonl(rows: list[dict[str, Any] | str]) -> bytes:
    """JSON lines of rows given as objects or as JSON text already."""
    return b"".join(
        (row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)).encode() + b"\n"
        for row in rows
    )


def spliced(row: dict[str, Any], body: str) -> str:
    """``row`` as JSON text with a last key ``"body"`` holding ``body``, JSON text already (a
    stored answer is never parsed again to be written out)."""
    head = json.dumps(row, ensure_ascii=False)
    return head[:-1] + (", " if row else "") + f'"body": {body}' + "}"


def answer_line(
    behaviour: Any, body: Any, headers: dict[str, str] | None = None, model: str | None = None
) -> tuple[int, Any]:
    """(status, body) the synchronous endpoint gives this request body, faults applied;
    ``headers`` are those the batch's create call carried (Anthropic's version header), ``model``
    the one its path named (Gemini's)."""
    wire = behaviour.wire
    if not isinstance(body, dict):
        return wire.bad_json()
    request = wire.parse(body, model, headers or {})
    items = extract_pack(request.messages)
    if request.error is not None:
        return request.error
    refused = behaviour.refuse_output(request)
    if refused is not None:
        return refused
    fault = behaviour.next_fault(items if items is not None else [])
    request_id = "req_" + secrets.token_hex(16)
    if fault is not None and fault.kind in ERROR_FAULTS:
        status = int(fault.kind) if fault.kind.isdigit() and fault.kind != "401" else 500
        return status, wire.server_error(status, request_id)
    content, reasoning, _ = behaviour.answer(items, fault, request)
    completion = text_tokens(content)
    reasoning_tokens = text_tokens(reasoning)
    return 200, wire.success(
        model=request.model or "",
        content=content,
        reasoning=reasoning,
        prompt_tokens=prompt_tokens(request.messages),
        completion_tokens=completion,
        reasoning_tokens=reasoning_tokens,
        request=request,
    )

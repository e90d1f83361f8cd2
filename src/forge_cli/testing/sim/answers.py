"""What the simulated provider answers, and how many tokens that is said to cost.

Answers are deterministic (sha256 of each ticket's text) so cache and resume tests can predict
them, and content faults ("malformed", "think", ...) are applied here, to the text a real model
would have produced. Tokens are estimated at four characters each: the simulator needs numbers
that move with the text, not a tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from forge_cli.testing.sim.commit_answers import asks_for_commits, default_commit_report
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.structured import conform, item_schemas
from forge_cli.testing.sim.wire import WireRequest, content_text

__all__ = [
    "DEFAULT_LABELS",
    "DEFAULT_PRIORITIES",
    "Responder",
    "compose",
    "default_classification",
    "extract_pack",
    "prompt_tokens",
    "text_tokens",
]

DEFAULT_LABELS: tuple[str, ...] = (
    "hardware_issue",
    "software_issue",
    "model_quality",
    "billing",
    "other",
)
DEFAULT_PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "urgent")

#: a test's own answers for a pack: items in, one result dict per item out
Responder = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def default_classification(
    text: str,
    labels: Sequence[str] = DEFAULT_LABELS,
    priorities: Sequence[str] = DEFAULT_PRIORITIES,
) -> dict[str, str]:
    """The default responder's verdict for one text, so callers can predict it exactly.

    Derived from sha256 of the text so the same ticket always gets the same answer across runs and
    processes, which is what cache and resume tests need.
    """
    h = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    return {
        "category": labels[h % len(labels)],
        "priority": priorities[h % len(priorities)],
        "summary": text[:60],
    }


def extract_pack(messages: Any) -> list[dict[str, Any]] | None:
    """The pack carried by the last user message, or None when it is not forge's pack shape."""
    if not isinstance(messages, list):
        return None
    text: str | None = None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            text = content_text(message.get("content"))
            break
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    items: list[dict[str, Any]] = []
    for entry in data:
        if (
            not isinstance(entry, dict)
            or "id" not in entry
            or not isinstance(entry.get("text"), str)
        ):
            return None
        items.append(dict(entry))
    return items


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """Prompt tokens of a request, never 0 (providers bill at least one)."""
    chars = sum(len(content_text(m.get("content"))) for m in messages)
    return max(1, chars // 4)


def text_tokens(text: str | None) -> int:
    """Completion (or reasoning) tokens of a produced text."""
    return len(text) // 4 if text else 0


def compose(
    items: list[dict[str, Any]] | None,
    fault: Fault | None,
    request: WireRequest,
    *,
    labels: Sequence[str],
    priorities: Sequence[str],
    responder: Responder | None,
) -> tuple[str, str | None, int]:
    """(content, reasoning_content, items answered) of a 200, content faults applied.

    A pack gets ``{"results": [...]}``, bound to the answer schema when the request sent one
    (``sim/structured.py``); any other request a short reply that quotes it, as JSON when the
    client asked for JSON.
    """
    kind = fault.kind if fault is not None else None
    answered = 0
    first_id: Any = "1"
    truth = labels[0]
    if items is not None:
        commits = responder is None and asks_for_commits(request)
        if commits:
            results = [{"id": item["id"], **default_commit_report(item["text"])} for item in items]
        else:
            results = _results(items, labels, priorities, responder, request.schema)
        if kind == "partial" and fault is not None:
            results = results[fault.drop :]
        if kind == "invalid_label" and results:
            # a commit report's label is its type: "improvement" is no Conventional type
            field = "type" if commits else "category"
            results[0][field] = "improvement" if commits else _invalid_label(labels)
        if results:
            first_id = results[0].get("id", first_id)
            truth = str(results[0].get("category", truth))
        answered = len(results)
        payload = json.dumps({"results": results}, ensure_ascii=False)
    else:
        text = ""
        for message in reversed(request.messages):
            if isinstance(message, dict) and message.get("role") == "user":
                text = content_text(message.get("content"))
                break
        reply = f"Simulated reply to: {text[:60]}".rstrip()
        payload = json.dumps({"reply": reply}) if request.wants_json else reply

    wrong = _misleading_label(truth, labels)
    musing = (
        f"Ticket {first_id} could be {wrong}; a first draft was "
        f'{{"id": "{first_id}", "category": "{wrong}"}} but on reflection that is wrong.'
    )
    if kind == "malformed":
        cut = payload[: max(12, len(payload) // 2)]
        return f"Sure! Here are the results: {cut}", None, 0
    if kind == "empty":
        return "", None, 0
    if kind == "think":
        return f"<think>\n{musing}\n</think>\n{payload}", None, answered
    if kind == "reasoning":
        return payload, musing, answered
    if kind == "quote" and fault is not None and items is not None:
        return _quoting(payload, items, fault.place), None, answered
    return payload, None, answered


def _quoting(payload: str, items: list[dict[str, Any]], place: str) -> str:
    """An answer that quotes every ticket of the pack word for word, as a chatty model does:
    whatever a ticket holds (a fenced JSON "answer", fake ids) ends up in the text around the
    real answer, which is fenced too unless it sits inside the prose."""
    quoted = "\n\n".join(f"Ticket {item['id']} says:\n{item['text']}" for item in items)
    fenced = f"```json\n{payload}\n```"
    if place == "before":
        return f"I read the tickets.\n\n{quoted}\n\nHere are the results:\n{fenced}"
    if place == "after":
        return f"Here are the results:\n{fenced}\n\nFor reference, the tickets:\n\n{quoted}"
    return f"Reading the pack. {quoted} So the results are {payload} and, once more, {quoted}"


def _results(
    items: list[dict[str, Any]],
    labels: Sequence[str],
    priorities: Sequence[str],
    responder: Responder | None,
    schema: Any,
) -> list[dict[str, Any]]:
    if responder is not None:  # a test's own answers go out as it wrote them
        return [dict(result) for result in responder(items)]
    return [
        conform(
            {"id": item["id"], **default_classification(item["text"], labels, priorities)},
            bound,
            item["text"],
        )
        for item, bound in zip(items, item_schemas(schema, len(items)), strict=True)
    ]


def _misleading_label(truth: str, labels: Sequence[str]) -> str:
    """A real label that is not the answer, so parsers that grep reasoning for labels go wrong."""
    others = [label for label in labels if label != truth]
    return others[0] if others else truth


def _invalid_label(labels: Sequence[str]) -> str:
    for candidate in ("General Inquiry", "hardware-issue", "unknown", "invalid_label_x"):
        if candidate not in labels:
            return candidate
    return "invalid_" + secrets.token_hex(4)

"""The ticket-triage task: prompt, answer schema and offline rule for ``forge classify``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError, field_validator

from forge_cli.core.calls import PackItem, PackRequest, PromptSections
from forge_cli.core.text import estimate_tokens, snippet
from forge_cli.tasks.answers import entries_by_id, load_json
from forge_cli.tasks.base import ParsedPack
from forge_cli.tasks.classify import rules as ticket_rules

PROMPT_VERSION = "tickets-v2"
#: a ticket longer than this is cut (the model is told) so one paste of logs cannot blow a budget
MAX_ITEM_CHARS = 8_000
SUMMARY_CHARS = 160
#: the answer tokens one ticket costs (id, labels, a one-line summary)
ANSWER_TOKENS_PER_ITEM = 45

_DESCRIPTIONS = {
    "hardware_issue": "physical devices, GPUs, servers, disks, cables, overheating, power",
    "software_issue": "bugs, crashes, errors in the app, API, SDK or integrations",
    "model_quality": "the AI model's answers are wrong, hallucinated, biased, slow to improve or degraded",
    "billing": "charges, invoices, refunds, plans, payment methods, subscriptions",
    "other": "anything else: account questions, feature requests, praise, sales, spam",
}


class TicketAnswer(BaseModel):
    """One ticket's answer as the model must give it."""

    category: str
    priority: str = "medium"
    summary: str = ""

    @field_validator("category", "priority", mode="before")
    @classmethod
    def _label(cls, value: Any) -> Any:
        return value.strip().lower().replace(" ", "_") if isinstance(value, str) else value

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str):
            flat = " ".join(value.split())
            return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1] + "…"
        return value


class TicketTask:
    """Classify support tickets into a label set with a priority and a one-line summary."""

    name = "tickets"
    prompt_version = PROMPT_VERSION
    answer_columns: tuple[str, ...] = ("category", "priority", "summary")

    def __init__(
        self,
        labels: Sequence[str] = ticket_rules.DEFAULT_CATEGORIES,
        priorities: Sequence[str] = ticket_rules.PRIORITIES,
        instructions: str = "",
        descriptions: dict[str, str] | None = None,
    ) -> None:
        #: the user's own guidance (forge.toml ``instructions``), added to forge's
        self.instructions = instructions.strip()
        #: label -> what it means, for labels forge has no description of (or to replace one)
        self.descriptions = {**_DESCRIPTIONS, **(descriptions or {})}
        self.labels = tuple(labels)
        self.priorities = tuple(priorities)
        self._label_set = frozenset(self.labels)
        self._priority_set = frozenset(self.priorities)
        self._parts = self._sections()
        self._schema = self._answer_schema()
        self.system_prompt = PromptSections(context="", **self._parts).system_text()
        self._system_tokens = estimate_tokens(self.system_prompt)
        self._fingerprint = hashlib.sha256(
            orjson.dumps(
                [
                    self.name,
                    self.prompt_version,
                    self.labels,
                    self.priorities,
                    self.instructions,
                    sorted((k, v) for k, v in self.descriptions.items() if k in self.labels),
                ]
            )
        ).hexdigest()[:16]

    def fingerprint(self) -> str:
        return self._fingerprint

    def _sections(self) -> dict[str, str]:
        """The prompt's parts except the pack (``context``), written once per task."""
        categories = ["Categories:"]
        for label in self.labels:
            meaning = self.descriptions.get(label)
            categories.append(f"- {label}: {meaning}" if meaning else f"- {label}")
        priorities = (
            f"Priorities: {', '.join(self.priorities)} "
            "(urgent = outage, data loss or security; low = questions and requests)."
        )
        return {
            "role": "You triage customer support tickets.",
            "instructions": "For every ticket in the JSON array you receive, choose exactly one "
            "category and one\npriority, and write a one-line summary of at most 120 characters."
            "\n\n" + "\n".join(categories) + "\n\n" + priorities,
            "constraints": "Use only the category and priority names listed above."
            + (f"\n\n{self.instructions}" if self.instructions else ""),
            "task": "Classify every ticket of the context: one answer object per ticket id.",
            "output_format": 'Answer with JSON only, no prose: {"results": [{"id": "<ticket id>", '
            '"category": "...",\n"priority": "...", "summary": "..."}]} with exactly one object '
            "per ticket id.",
        }

    def _answer_schema(self) -> dict[str, object]:
        """The answer as a JSON Schema, for providers that constrain output to one (Gemini)."""
        entry = {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "category": {"type": "string", "enum": list(self.labels)},
                "priority": {"type": "string", "enum": list(self.priorities)},
                "summary": {"type": "string"},
            },
            "required": ["id", "category", "priority", "summary"],
        }
        return {
            "type": "object",
            "properties": {"results": {"type": "array", "items": entry}},
            "required": ["results"],
        }

    def build_request(self, items: Sequence[PackItem]) -> PackRequest:
        pack = [{"id": it.id, "text": _clip(it.text)} for it in items]
        sections = PromptSections(context=orjson.dumps(pack).decode(), **self._parts)
        return PackRequest.from_sections(
            sections,
            items=items,
            offline=self.offline_answer,
            json_mode=True,
            max_tokens=64 + ANSWER_TOKENS_PER_ITEM * 2 * len(items),
            schema=self._schema,
        )

    def estimate_request_tokens(self, texts: Sequence[str]) -> tuple[int, int]:
        tokens_in = self._system_tokens + sum(estimate_tokens(_clip(t)) + 8 for t in texts)
        return tokens_in, ANSWER_TOKENS_PER_ITEM * len(texts)

    def offline_answer(self, items: Sequence[PackItem]) -> str:
        """The deterministic keyword baseline, answering in the same JSON a model would."""
        results = []
        for it in items:
            verdict = ticket_rules.classify(it.text, self.labels)
            results.append(
                {
                    "id": it.id,
                    "category": verdict.category,
                    "priority": verdict.priority,
                    "summary": verdict.summary,
                }
            )
        return orjson.dumps({"results": results}).decode()

    def parse(self, content: str, ids: Sequence[str]) -> ParsedPack:
        data = load_json(content)  # raises InvalidResponseError for the whole pack
        found, duplicated = entries_by_id(data, ids)
        parsed = ParsedPack(snippet=snippet(content))
        for local_id in ids:
            row = found.get(local_id)
            if row is None:
                parsed.errors[local_id] = "missing from the answer"
                continue
            if local_id in duplicated:
                parsed.errors[local_id] = "answered more than once, differently"
                continue
            try:
                answer = TicketAnswer.model_validate(row)
            except ValidationError as exc:
                parsed.errors[local_id] = "invalid answer: " + _first_error(exc)
                continue
            if answer.category not in self._label_set:
                parsed.errors[local_id] = f"category {answer.category!r} is not one of the labels"
            elif answer.priority not in self._priority_set:
                parsed.errors[local_id] = (
                    f"priority {answer.priority!r} is not one of the priorities"
                )
            else:
                parsed.answers[local_id] = answer.model_dump()
        return parsed


def _clip(text: str) -> str:
    if len(text) <= MAX_ITEM_CHARS:
        return text
    cut = len(text) - MAX_ITEM_CHARS
    return text[:MAX_ITEM_CHARS] + f"\n[... {cut} more characters cut by forge ...]"


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid"))

"""The ticket-triage task: prompt, answer schema and offline rule for ``forge classify``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, field_validator

from forge_cli.core.models import Complexity
from forge_cli.tasks.base import TaskBase
from forge_cli.tasks.classify import rules as ticket_rules
from forge_cli.tasks.classify.complexity import estimate
from forge_cli.tasks.classify.urgency import record_urgency

PROMPT_VERSION = "tickets-v2"
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


class TicketTask(TaskBase):
    """Classify support tickets into a label set with a priority and a one-line summary."""

    name = "tickets"
    prompt_version = PROMPT_VERSION
    answer_model = TicketAnswer
    answer_tokens_per_item = ANSWER_TOKENS_PER_ITEM

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

    def fingerprint_parts(self) -> list[Any]:
        return [
            self.labels,
            self.priorities,
            self.instructions,
            sorted((k, v) for k, v in self.descriptions.items() if k in self.labels),
        ]

    def sections(self) -> dict[str, str]:
        return self._parts

    def answer_schema(self) -> dict[str, object]:
        return self._schema

    def complexity(self, text: str) -> Complexity:
        return estimate(text)

    def urgency(self, fields: Mapping[str, Any]) -> int:
        """A ticket's own priority/urgency/severity field (urgent, p0, sev1, 4, ...)."""
        return record_urgency(fields)

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

    def check(self, answer: TicketAnswer) -> str | None:
        if answer.category not in self._label_set:
            return f"category {answer.category!r} is not one of the labels"
        if answer.priority not in self._priority_set:
            return f"priority {answer.priority!r} is not one of the priorities"
        return None

    def offline_entry(self, text: str) -> dict[str, Any]:
        """The deterministic keyword baseline."""
        verdict = ticket_rules.classify(text, self.labels)
        return {
            "category": verdict.category,
            "priority": verdict.priority,
            "summary": verdict.summary,
        }

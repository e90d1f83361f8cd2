"""The classification task of ``forge classify``: the user's fields, labels and prompt, and the
offline rule.

Without settings it triages support tickets (a category, a priority and a one-line summary); with the
user's own fields (``--field queue=...``, ``[classify.fields.NAME]``) it asks for exactly those. The
answer schema, the prompt and the checks are all built from the fields, so packing, structured output
and validation work for any set of them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from forge_cli.core.calls import PackItem, PromptSections
from forge_cli.core.models import Complexity
from forge_cli.core.text import describe
from forge_cli.tasks.base import ParsedPack, TaskBase
from forge_cli.tasks.classify import rules as ticket_rules
from forge_cli.tasks.classify.complexity import estimate
from forge_cli.tasks.classify.confidence import field_confidences
from forge_cli.tasks.classify.examples import ExamplePool
from forge_cli.tasks.classify.fields import Field, LabelSet, check_fields, clip_summary, label_key
from forge_cli.tasks.classify.urgency import record_urgency, urgency_of

PROMPT_VERSION = "classify-v3"
#: answer tokens per field of one record (its name, quotes, a label); a summary costs more
TOKENS_PER_LABEL_FIELD = 12
TOKENS_PER_TEXT_FIELD = 40

DEFAULT_DESCRIPTIONS = {
    "hardware_issue": "physical devices, GPUs, servers, disks, cables, overheating, power",
    "software_issue": "bugs, crashes, errors in the app, API, SDK or integrations",
    "model_quality": "the AI model's answers are wrong, hallucinated, biased, slow to improve or degraded",
    "billing": "charges, invoices, refunds, plans, payment methods, subscriptions",
    "other": "anything else: account questions, feature requests, praise, sales, spam",
}
_PRIORITY_HINT = "urgent = outage, data loss or security; low = questions and requests"
#: the offline rule's priorities, least urgent first
_LADDER = ("low", "medium", "high", "urgent")


def default_fields(
    labels: Sequence[str] | None = None,
    priorities: Sequence[str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> tuple[Field, ...]:
    """forge's ticket triage: a category, a priority and a one-line summary."""
    return (
        Field(
            "category",
            tuple(labels or ticket_rules.DEFAULT_CATEGORIES),
            label_descriptions={**DEFAULT_DESCRIPTIONS, **(descriptions or {})},
        ),
        Field(
            "priority",
            tuple(priorities or ticket_rules.PRIORITIES),
            description=_PRIORITY_HINT,
            urgency=True,
        ),
        Field("summary", description="a one-line summary of at most 120 characters"),
    )


def classification_fields(
    labels: Sequence[str] | None = None,
    priorities: Sequence[str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    fields: Sequence[Field] | None = None,
) -> tuple[Field, ...]:
    """The fields a classification asks for: the user's own (with ``[classify.label_descriptions]``
    applied to every field that has the label), else ticket triage. Known before the task is built,
    so labelled examples can be matched to them."""
    if fields:
        extra = dict(descriptions or {})
        fields = [f if not extra else _with_descriptions(f, extra) for f in fields]
    return check_fields(fields or default_fields(labels, priorities, descriptions))


class TicketTask(TaskBase):
    """Classify records into the user's fields; by default, support-ticket triage."""

    name = "classify"
    prompt_version = PROMPT_VERSION

    def __init__(
        self,
        labels: Sequence[str] | None = None,
        priorities: Sequence[str] | None = None,
        instructions: str = "",
        descriptions: Mapping[str, str] | None = None,
        fields: Sequence[Field] | None = None,
        examples: ExamplePool | None = None,
    ) -> None:
        #: the user's own guidance (forge.toml ``instructions``), added to forge's
        self.instructions = instructions.strip()
        self.fields = classification_fields(labels, priorities, descriptions, fields)
        #: labelled examples, a few of which each pack is shown (``--examples``)
        self.examples = examples
        self._sets = {f.name: f.label_set() for f in self.fields if not f.is_text}
        self._parts = self._sections()
        self._schema = self._answer_schema()
        self.answer_tokens_per_item = 8 + sum(
            TOKENS_PER_TEXT_FIELD if f.is_text else TOKENS_PER_LABEL_FIELD for f in self.fields
        )

    @property
    def answer_columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def confidence_columns(self) -> tuple[str, ...]:
        """``<field>_confidence`` for each label field: a free-text field has no label to be sure of."""
        return tuple(f"{f.name}_confidence" for f in self.fields if not f.is_text)

    @property
    def label_columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if not f.is_text)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels of the first label field (the category, by default)."""
        return next(f.labels for f in self.fields if not f.is_text)

    @property
    def priorities(self) -> tuple[str, ...]:
        """The labels of the urgency field (the priority, by default), or none."""
        return next((f.labels for f in self.fields if f.urgency and f.labels), ())

    def fingerprint_parts(self) -> list[Any]:
        parts: list[Any] = [self.instructions, [f.identity() for f in self.fields]]
        if self.examples is not None:
            parts.append(self.examples.identity())
        return parts

    def sections(self) -> dict[str, str]:
        return self._parts

    def prompt(self, items: Sequence[PackItem]) -> PromptSections:
        """With examples, the ones chosen for this pack follow the fields and their labels, in the
        instructions: apart from the pack, which alone is what the model answers."""
        prompt = super().prompt(items)
        if self.examples is None:
            return prompt
        block = self.examples.block([it.text for it in items])
        if not block:
            return prompt
        return dataclasses.replace(prompt, instructions=f"{prompt.instructions}\n\n{block}")

    def estimate_request_tokens(self, texts: Sequence[str]) -> tuple[int, int]:
        """The examples count as part of every pack, at the size of a typical block."""
        tokens_in, tokens_out = super().estimate_request_tokens(texts)
        if self.examples is None:
            return tokens_in, tokens_out
        return tokens_in + self.examples.typical_tokens, tokens_out

    def answer_schema(self) -> dict[str, object]:
        return self._schema

    def complexity(self, text: str) -> Complexity:
        return estimate(text)

    def urgency(self, fields: Mapping[str, Any]) -> int:
        """The record's own priority/urgency/severity (urgent, p0, sev1, 4, ...), or its value of a
        field marked ``urgency``, read by that field's label order (least urgent first)."""
        found = record_urgency(fields)
        if found:
            return found
        for f in self.fields:
            if f.urgency and f.name in fields:
                value = fields[f.name]
                level = urgency_of(value)
                if level or not isinstance(value, str) or not f.labels:
                    return level
                match = self._sets[f.name].match(value)
                if match is not None:
                    rank = f.labels.index(match)
                    return 1 + round(3 * rank / max(1, len(f.labels) - 1))
        return 0

    # ------------------------------------------------------------------ prompt

    def _sections(self) -> dict[str, str]:
        """The prompt's parts except the pack (``context``), written once per task."""
        lines = ["For every ticket in the JSON array you receive, give these fields:"]
        for f in self.fields:
            lines.append("")
            lines.append(f"{f.name}: {_ask(f)}")
            for label in f.labels:
                meaning = f.label_descriptions.get(label)
                quoted = orjson.dumps(label).decode()
                lines.append(f"- {quoted}: {meaning}" if meaning else f"- {quoted}")
        example = {"id": "<ticket id>"}
        for f in self.fields:
            example[f.name] = "..." if not f.multi else ["..."]  # type: ignore[assignment]
        return {
            "role": "You triage customer support tickets.",
            "instructions": "\n".join(lines),
            "constraints": "Use only the labels listed above, spelled exactly as written."
            + (f"\n\n{self.instructions}" if self.instructions else ""),
            "task": "Classify every ticket of the context: one answer object per ticket id.",
            "output_format": "Answer with JSON only, no prose: "
            + orjson.dumps({"results": [example]}).decode()
            + " with exactly one object per ticket id.",
        }

    def _answer_schema(self) -> dict[str, object]:
        properties: dict[str, object] = {"id": {"type": "string"}}
        for f in self.fields:
            if f.is_text:
                properties[f.name] = {"type": "string"}
            elif f.multi:
                properties[f.name] = {
                    "type": "array",
                    "items": {"type": "string", "enum": list(f.labels)},
                }
            else:
                properties[f.name] = {"type": "string", "enum": list(f.labels)}
        entry = {"type": "object", "properties": properties, "required": list(properties)}
        return {
            "type": "object",
            "properties": {"results": {"type": "array", "items": entry}},
            "required": ["results"],
        }

    # ------------------------------------------------------------------ answers

    def parse(
        self,
        content: str,
        ids: Sequence[str],
        logprobs: Sequence[tuple[str, float]] | None = None,
        confidences: Mapping[str, Mapping[str, float]] | None = None,
    ) -> ParsedPack:
        """The base's checks, then each label field's confidence from the answer's tokens: None
        when the provider reported no token probabilities. Part of the answer, so a cached answer
        keeps the confidence it was given."""
        parsed = super().parse(content, ids, logprobs)
        names = [f.name for f in self.fields if not f.is_text]
        found: Mapping[str, Mapping[str, float | None]] = {}
        if confidences is not None:  # computed by the provider itself (a trained local model)
            found = confidences
        elif logprobs:
            found = field_confidences(logprobs, ids, names)
        for local_id, row in parsed.answers.items():
            sure = found.get(local_id, {})
            for name in names:
                row[f"{name}_confidence"] = sure.get(name)
        return parsed

    def accept(self, entry: dict[str, Any]) -> dict[str, Any] | str:
        """Each field's value as the user's own label (or list of labels, or text), or why not."""
        row: dict[str, Any] = {}
        for f in self.fields:
            value = entry.get(f.name)
            if f.is_text:
                row[f.name] = clip_summary(value) if isinstance(value, str) else _text(value)
                continue
            if value is None:
                return f"{f.name}: missing from the answer"
            labels = self._sets[f.name]
            if f.multi:
                accepted = _many(value, labels)
                if isinstance(accepted, str):
                    return f"{f.name} {accepted}"
                row[f.name] = accepted
                continue
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                return f"{f.name}: {describe(value)} is not a label"
            match = labels.match(str(value))
            if match is None:
                return f"{f.name} {labels.why_not(str(value))}"
            row[f.name] = match
        return row

    def offline_entry(self, text: str) -> dict[str, Any]:
        """The deterministic keyword baseline, for any fields: the first label field's label from
        the keyword scores, a priority field from the urgency cues, a summary for text fields."""
        first = next(f for f in self.fields if not f.is_text)
        verdict = ticket_rules.classify(text, first.labels)
        entry: dict[str, Any] = {}
        for f in self.fields:
            if f.is_text:
                entry[f.name] = verdict.summary
            elif f is first:
                entry[f.name] = [verdict.category] if f.multi else verdict.category
            elif f.urgency:
                entry[f.name] = _nearest_priority(verdict.priority, tuple(f.labels))
            else:
                guess = ticket_rules.classify(text, f.labels).category
                entry[f.name] = [guess] if f.multi else guess
        return entry


def _ask(f: Field) -> str:
    if f.is_text:
        return f.description or "free text"
    what = "one or more of these labels (a list)" if f.multi else "exactly one of these labels"
    return f"{f.description}; {what}" if f.description else what


def _text(value: Any) -> str:
    return "" if value is None else clip_summary(str(value))


def _many(value: Any, labels: LabelSet) -> list[str] | str:
    items = value if isinstance(value, list) else str(value).replace(";", ",").split(",")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        match = labels.match(item)
        if match is None:
            return labels.why_not(item)
        if match not in out:
            out.append(match)
    return out if out else ": no label given"


@functools.lru_cache(maxsize=256)
def _nearest_priority(priority: str, labels: tuple[str, ...]) -> str:
    """The offline rule's priority on the user's scale: the same word, else the nearest step
    (kept per scale: the offline rule asks it for every record)."""
    keys = {label_key(label): label for label in labels}
    if priority in keys:
        return keys[priority]
    rank = _LADDER.index(priority)
    for distance in range(1, len(_LADDER)):
        for step in (rank - distance, rank + distance):
            if 0 <= step < len(_LADDER) and _LADDER[step] in keys:
                return keys[_LADDER[step]]
    # a scale of other words: read it least urgent first, as the user listed it
    return labels[min(len(labels) - 1, round(rank * (len(labels) - 1) / (len(_LADDER) - 1)))]


def _with_descriptions(f: Field, descriptions: Mapping[str, str]) -> Field:
    """``[classify.label_descriptions]`` applies to every field that has the label."""
    own = {k: v for k, v in descriptions.items() if k in f.labels}
    if not own:
        return f
    return Field(
        f.name,
        f.labels,
        multi=f.multi,
        description=f.description,
        label_descriptions={**own, **f.label_descriptions},
        urgency=f.urgency,
    )

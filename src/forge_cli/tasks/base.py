"""What a task is: how to ask for a pack of items and how to check the answer.

The engine sees only ``Task``. Task authors subclass ``TaskBase``, which owns everything tasks share
(the prompt layout, the pack as a JSON array, the answer-parsing loop, the cache fingerprint, token
estimates) so that a task module holds only what is its own: the prompt's words, the answer model, the
checks a schema cannot express, and the offline rule. ``forge_cli.tasks.registry`` makes it findable
by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import orjson
from pydantic import BaseModel, ValidationError

from forge_cli.core.calls import PACK_ID_LENGTH, PackItem, PackRequest, PromptSections
from forge_cli.core.models import Complexity
from forge_cli.core.text import estimate_tokens, snippet
from forge_cli.tasks.answers import entries_by_id, load_json


@dataclass(slots=True)
class ParsedPack:
    """A checked answer: good answers by local id, and why each other id failed."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: the raw answer, whose ``snippet`` goes to the failures file when an id failed
    content: str = ""

    @property
    def snippet(self) -> str:
        """A short piece of the raw answer (made only when a failure needs it: most packs have
        none, and flattening every answer was a few per cent of a fast run)."""
        return snippet(self.content)


class Task(Protocol):
    """The engine's view of a task."""

    @property
    def name(self) -> str: ...

    @property
    def prompt_version(self) -> str: ...

    @property
    def answer_columns(self) -> tuple[str, ...]:
        """The answer's fields, in the order a CSV results file shows them."""
        ...

    @property
    def confidence_columns(self) -> tuple[str, ...]:
        """Result columns saying how sure the model was (``<field>_confidence``), after the answer's."""
        ...

    @property
    def label_columns(self) -> tuple[str, ...]:
        """Answer columns chosen from a fixed set (labels): two answers to compare for agreement,
        where free text (a summary) never repeats word for word (``engine/probe.py``)."""
        ...

    def fingerprint(self) -> str:
        """Everything about the task that changes its answers (labels, prompt version): a cache-key part."""
        ...

    def build_request(self, items: Sequence[PackItem]) -> PackRequest: ...

    def parse(
        self,
        content: str,
        ids: Sequence[str],
        logprobs: Sequence[tuple[str, float]] | None = None,
        confidences: Mapping[str, Mapping[str, float]] | None = None,
    ) -> ParsedPack:
        """Check an answer; ``logprobs`` (the answer's tokens, when the provider gave them) or
        ``confidences`` (per id and field, when the provider computed them) let a task with
        confidence columns fill them in."""
        ...

    def estimate_request_tokens(self, texts: Sequence[str]) -> tuple[int, int]:
        """(input, output) tokens a pack of these texts would cost, for budgets and dry runs."""
        ...

    def expected_answer_tokens(self, texts: Sequence[str]) -> int:
        """The output tokens the answers to these texts will likely take (a dry run's price),
        as against the budget of ``estimate_request_tokens``, which a call may use up to."""
        ...

    def complexity(self, text: str) -> Complexity:
        """How hard the item looks: steers scheduling (hard first) and pack size (hard packed small)."""
        ...

    def offline_answer(self, items: Sequence[PackItem]) -> str:
        """The task's deterministic rule, answering in the JSON a model would (the offline provider)."""
        ...

    def urgency(self, fields: Mapping[str, Any]) -> int:
        """0..4 from the record's other fields: urgent records are scheduled first."""
        ...


#: length thresholds of the default complexity hook, in characters
_SIMPLE_BELOW = 300
_COMPLEX_FROM = 1_500


class TaskBase:
    """Shared behaviour of forge's tasks; subclasses fill in the class attributes and hooks.

    Required: ``name``, ``prompt_version``, ``answer_model`` (pydantic: one item's answer, without its
    id) and ``sections()`` (the prompt's parts). Optional hooks: ``check`` (rules a schema cannot say), ``urgency``,
    ``to_row`` (answer -> result columns), ``render`` (item text -> what the model sees),
    ``prompt`` (one pack's whole prompt, for a task whose prompt depends on the pack),
    ``answer_schema`` (JSON Schema for structured output), ``complexity``, ``fingerprint_parts``,
    ``offline_entry`` (the offline rule for one item).
    """

    name: ClassVar[str]
    prompt_version: ClassVar[str]
    answer_model: ClassVar[type[BaseModel]]
    #: output tokens one item's answer costs, for budgets and dry runs
    answer_tokens_per_item: int = 60
    #: a longer item text is cut (the model is told) so one paste of logs cannot blow a budget
    max_item_chars: ClassVar[int] = 8_000

    @property
    def answer_columns(self) -> tuple[str, ...]:
        return tuple(self.answer_model.model_fields)

    @property
    def confidence_columns(self) -> tuple[str, ...]:
        """None by default: a task that reports confidence names its columns and fills them in
        ``parse`` from the answer's token log probabilities."""
        return ()

    @property
    def label_columns(self) -> tuple[str, ...]:
        """None by default: free text only (a commit message), nothing a pack probe can compare."""
        return ()

    # ------------------------------------------------------------------ hooks

    def sections(self) -> dict[str, str]:
        """role, instructions, constraints, task and output_format: the prompt minus the pack."""
        raise NotImplementedError

    def fingerprint_parts(self) -> list[Any]:
        """Settings of this task instance that change its answers (labels, instructions, ...)."""
        return []

    def check(self, answer: Any) -> str | None:
        """Why a schema-valid answer is still wrong (a label outside the set), or None."""
        return None

    def to_row(self, answer: Any) -> dict[str, Any]:
        """The result columns of one valid answer."""
        row: dict[str, Any] = answer.model_dump()
        return row

    def render(self, text: str, pack_size: int) -> str:
        """What the model sees of one item."""
        return clip(text, self.max_item_chars)

    def prompt(self, items: Sequence[PackItem]) -> PromptSections:
        """One pack's prompt: ``sections()``, and the pack as a JSON array of ``{"id", "text"}`` for
        the context. A task that adds something chosen for the pack (examples near its texts)
        extends this, keeping the context the pack alone: it is what the model answers."""
        pack = [{"id": it.id, "text": self.render(it.text, len(items))} for it in items]
        return PromptSections(context=orjson.dumps(pack).decode(), **self.sections())

    def answer_schema(self) -> dict[str, object] | None:
        """The answer as a JSON Schema, for providers that constrain output to one."""
        return None

    def complexity(self, text: str) -> Complexity:
        """By length alone; tasks that know their texts better override it."""
        size = len(text)
        if size < _SIMPLE_BELOW:
            return Complexity.SIMPLE
        return Complexity.MEDIUM if size < _COMPLEX_FROM else Complexity.COMPLEX

    def urgency(self, fields: Mapping[str, Any]) -> int:
        """No field of the record says how urgent it is, unless the task knows one that does."""
        return 0

    def offline_entry(self, text: str) -> dict[str, Any]:
        """One item's answer from the task's deterministic rule, shaped like a model's."""
        raise NotImplementedError(f"the {self.name} task has no offline rule")

    # ------------------------------------------------------------------ shared

    def fingerprint(self) -> str:
        cached: str | None = getattr(self, "_fingerprint_cache", None)
        if cached is None:
            parts = [self.name, self.prompt_version, *self.fingerprint_parts()]
            cached = hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]
            self._fingerprint_cache = cached
        return cached

    @property
    def system_prompt(self) -> str:
        """The instructions every pack shares (what --show-prompt and tests look at)."""
        return PromptSections(context="", **self.sections()).system_text()

    def system_tokens(self) -> int:
        cached: int | None = getattr(self, "_system_tokens_cache", None)
        if cached is None:
            cached = estimate_tokens(self.system_prompt)
            self._system_tokens_cache = cached
        return cached

    def build_request(self, items: Sequence[PackItem]) -> PackRequest:
        return PackRequest.from_sections(
            self.prompt(items),
            items=items,
            json_mode=True,
            max_tokens=64 + self.answer_tokens_per_item * 2 * len(items),
            schema=self.answer_schema(),
            pack_schema=lambda: self.pack_schema([it.id for it in items]),
            confidence=bool(self.confidence_columns),
        )

    def pack_schema(self, ids: Sequence[str]) -> dict[str, object] | None:
        """``answer_schema`` bound to one pack: ``results`` holds exactly one answer per id, in
        the pack's order, each with its id fixed; None when the schema has no such list.

        Under a grammar (llama.cpp, vLLM, Ollama) a small model then cannot skip an item, answer
        one twice or invent an id, and writing each answer right after that item's id keeps it on
        that item. Measured with a 0.5B model on 100 public tickets: 17 single-ticket packs were
        answered twice, differently, after every re-ask, under the plain schema.
        """
        schema = self.answer_schema()
        properties = schema.get("properties") if schema else None
        results = properties.get("results") if isinstance(properties, dict) else None
        entry = results.get("items") if isinstance(results, dict) else None
        fields = entry.get("properties") if isinstance(entry, dict) else None
        if not (schema and isinstance(properties, dict) and isinstance(entry, dict)):
            return None
        if not isinstance(fields, dict) or "id" not in fields:
            return None
        bound = [
            {**entry, "properties": {**fields, "id": {"type": "string", "const": pid}}}
            for pid in ids
        ]
        listed = {"type": "array", "prefixItems": bound, "minItems": len(ids), "maxItems": len(ids)}
        return {**schema, "properties": {**properties, "results": listed}}

    def estimate_request_tokens(self, texts: Sequence[str]) -> tuple[int, int]:
        rendered = sum(estimate_tokens(self.render(t, len(texts))) + 8 for t in texts)
        return self.system_tokens() + rendered, self.answer_tokens_per_item * len(texts)

    def expected_answer_tokens(self, texts: Sequence[str]) -> int:
        """The offline rule's answers measured: they have the shape a model's take (the same
        fields, labels of the same sets, a summary clipped the same way), so their size is the
        answer's, where the budget (``answer_tokens_per_item``) is what an answer may reach:
        pricing a dry run on the budget overstated output tokens about twofold (measured on
        100,000 tickets: 7.2 M budgeted, 3.5 M answered). A task without an offline rule is
        priced on its budget."""
        try:
            entries = [self.offline_entry(text) for text in texts]
        except NotImplementedError:
            return self.answer_tokens_per_item * len(texts)
        body = orjson.dumps(
            {"results": [{"id": "x" * PACK_ID_LENGTH, **entry} for entry in entries]}
        )
        return estimate_tokens(body.decode())

    def offline_answer(self, items: Sequence[PackItem]) -> str:
        results = [{"id": it.id, **self.offline_entry(it.text)} for it in items]
        return orjson.dumps({"results": results}).decode()

    def parse(
        self,
        content: str,
        ids: Sequence[str],
        logprobs: Sequence[tuple[str, float]] | None = None,
        confidences: Mapping[str, Mapping[str, float]] | None = None,
    ) -> ParsedPack:
        """Per id: missing, duplicated, schema-invalid, rule-invalid, or an answer row.

        Only entries bound to ``ids`` count (``tasks/answers.py``): JSON a record's text carried
        into the answer cannot fill another record's entry. A whole answer that is not JSON raises ``InvalidResponseError`` (the pack is re-asked); one
        bad entry fails only its own id. ``logprobs`` are for tasks that report confidence.
        """
        data = load_json(content, ids)
        found, duplicated = entries_by_id(data, ids)
        parsed = ParsedPack(content=content)
        for local_id in ids:
            row = found.get(local_id)
            if row is None:
                parsed.errors[local_id] = "missing from the answer"
                continue
            if local_id in duplicated:
                parsed.errors[local_id] = "answered more than once, differently"
                continue
            accepted = self.accept(row)
            if isinstance(accepted, str):
                parsed.errors[local_id] = accepted
            else:
                parsed.answers[local_id] = accepted
        return parsed

    def accept(self, entry: dict[str, Any]) -> dict[str, Any] | str:
        """One entry of the answer as result columns, or why it is not acceptable.

        By default: validated by ``answer_model``, then ``check``, then ``to_row``. A task whose
        answer shape is only known at run time (the user's own fields) overrides this instead.
        """
        try:
            answer = self.answer_model.model_validate(entry)
        except ValidationError as exc:
            return "invalid answer: " + first_error(exc)
        problem = self.check(answer)
        return problem if problem is not None else self.to_row(answer)


def clip(text: str, limit: int) -> str:
    """The text cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return text[:limit] + f"\n[... {cut} more characters cut by forge ...]"


def first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid"))

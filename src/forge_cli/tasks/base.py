"""What a task is: how to ask for a pack of items and how to check the answer.

A task owns the prompt, the answer's shape and the offline rule; the engine only moves packs through
it. Adding a task (commit reports, say) means writing one module that satisfies ``Task``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from forge_cli.core.calls import PackItem, PackRequest


@dataclass(slots=True)
class ParsedPack:
    """A checked answer: good answers by local id, and why each other id failed."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: a short piece of the raw answer, kept for the failures file
    snippet: str = ""


class Task(Protocol):
    name: str
    prompt_version: str
    #: the answer's fields, in the order a CSV results file shows them
    answer_columns: tuple[str, ...]

    def fingerprint(self) -> str:
        """Everything about the task that changes its answers (labels, prompt version): a cache-key part."""
        ...

    def build_request(self, items: Sequence[PackItem]) -> PackRequest: ...

    def parse(self, content: str, ids: Sequence[str]) -> ParsedPack: ...

    def estimate_request_tokens(self, texts: Sequence[str]) -> tuple[int, int]:
        """(input, output) tokens a pack of these texts would cost, for budgets and dry runs."""
        ...

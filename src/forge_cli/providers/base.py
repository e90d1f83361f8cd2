"""The one small interface every provider implements.

A provider turns a ``PackRequest`` (chat messages plus the pack's items) into a ``Completion`` (the raw
text of the answer and the tokens it cost), or raises one of the errors in ``forge_cli.errors``. It knows
one wire format and nothing about tasks, packs or retries: the engine owns those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(slots=True, frozen=True)
class PackItem:
    """One item as a provider sees it: a short id local to the pack and the text to send."""

    id: str
    text: str


@dataclass(slots=True)
class PackRequest:
    """What the engine asks a provider to answer."""

    messages: list[dict[str, str]]
    items: Sequence[PackItem]
    #: the task's deterministic rule, used by the offline provider instead of a model
    offline: Callable[[Sequence[PackItem]], str]
    json_mode: bool = True
    max_tokens: int = 1024
    temperature: float = 0.0
    #: a JSON schema of the expected answer, for providers that accept one
    schema: dict[str, object] | None = field(default=None)


@dataclass(slots=True)
class Completion:
    """A provider's answer: raw text plus accounting."""

    content: str
    tokens_in: int
    tokens_out: int
    model: str
    latency_ms: float = 0.0


class Provider(Protocol):
    """A model behind one wire format."""

    name: str
    model: str
    #: False for providers whose answers cost nothing and are faster to recompute than to look up
    cacheable: bool
    #: US dollars per 1M input / output tokens (0 when unknown or free)
    price_in: float
    price_out: float

    async def complete(self, request: PackRequest) -> Completion: ...

    async def aclose(self) -> None: ...


def estimate_tokens(text: str) -> int:
    """A cheap token estimate (about 4 characters per token), good enough for budgets and costs."""
    return len(text) // 4 + 1

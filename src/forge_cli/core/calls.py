"""The data that crosses the provider interface: a pack to answer, and the answer with its accounting.

Tasks build ``PackRequest``s, providers turn them into ``Completion``s, and the engine moves both
without reading either; keeping them in core lets each of those layers import them without importing
one another.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: what pack ids are spelled with: lower-case letters and digits a model copies without
#: confusing them (no l, o, 0 or 1), 32 of them so that a random byte picks one without bias
_ID_CHARS = "abcdefghijkmnpqrstuvwxyz23456789"
#: the first character is a letter, so that no id reads as a number (``2e45``) to a model
_ID_FIRST = _ID_CHARS[:24]
#: characters of one pack id: 29.6 random bits, one chance in ~800 million to guess one
PACK_ID_LENGTH = 6


def new_pack_ids(count: int) -> list[str]:
    """``count`` distinct ids for one pack, drawn at random for that pack.

    A record's text is data, never instructions: the ids are what the answer is bound to, so they
    must be ones no record's text can predict (never 1..N, never the records' own ids). They are
    fresh for every pack, re-asks included, and never part of a cache key (the cache is keyed
    by each record's text), so random ids change no cached answer.
    """
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < count:
        raw = secrets.token_bytes(PACK_ID_LENGTH * (count - len(ids)))
        for start in range(0, len(raw), PACK_ID_LENGTH):
            chunk = raw[start : start + PACK_ID_LENGTH]
            pid = _ID_FIRST[chunk[0] % len(_ID_FIRST)] + "".join(
                _ID_CHARS[b % 32] for b in chunk[1:]
            )
            if pid not in seen:
                seen.add(pid)
                ids.append(pid)
    return ids


@dataclass(slots=True, frozen=True)
class PackItem:
    """One item as a provider sees it: an id local to the pack (``new_pack_ids``) and the text."""

    id: str
    text: str


@dataclass(slots=True, frozen=True)
class PromptSections:
    """A task's prompt split into named parts, so each adapter can lay it out its provider's way.

    Chat APIs get a system message (role, instructions, constraints, output format) and a user
    message holding ``context`` (the pack as a JSON array); Gemini gets the same parts as XML-tagged
    sections, which its documentation recommends. Tasks write the parts once.
    """

    role: str
    instructions: str
    constraints: str
    #: the pack itself: a JSON array of {"id", "text"}
    context: str
    task: str
    output_format: str

    def system_text(self) -> str:
        parts = (self.role, self.instructions, self.constraints, self.output_format)
        return "\n\n".join(p for p in parts if p)

    def chat_messages(self) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.system_text()},
            {"role": "user", "content": self.context},
        ]


@dataclass(slots=True)
class PackRequest:
    """What the engine asks a provider to answer."""

    messages: list[dict[str, str]]
    items: Sequence[PackItem]
    json_mode: bool = True
    max_tokens: int = 1024
    temperature: float = 0.0
    #: a JSON schema of the expected answer, for providers that accept one
    schema: dict[str, object] | None = field(default=None)
    #: the same schema bound to this pack (``TaskBase.pack_schema``): one answer per item, in the
    #: pack's order, each with its id fixed. Built only for a server that compiles a grammar per
    #: request (``ProviderConfig.pack_schema``): a hosted API caches each schema it compiles
    pack_schema: Callable[[], dict[str, object] | None] | None = None
    #: the same prompt as named parts, for adapters that lay prompts out differently (Gemini)
    sections: PromptSections | None = None
    #: the task reports how sure the model was: a provider that can return token log
    #: probabilities asks for them (never part of a cache key: it changes no answer)
    confidence: bool = False

    @classmethod
    def from_sections(cls, sections: PromptSections, **kwargs: Any) -> PackRequest:
        return cls(messages=sections.chat_messages(), sections=sections, **kwargs)


@dataclass(slots=True, frozen=True)
class RateInfo:
    """What a provider's response headers said about its limits; None where it said nothing.

    Limits are per minute, ``*_reset`` are seconds until the window is full again. The engine's
    token buckets learn from these, so a run paces itself to the account's real limits.
    """

    rpm_limit: int | None = None
    rpm_remaining: int | None = None
    rpm_reset: float | None = None
    tpm_limit: int | None = None
    tpm_remaining: int | None = None
    tpm_reset: float | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f) is not None for f in self.__slots__)


@dataclass(slots=True)
class Completion:
    """A provider's answer: raw text plus accounting."""

    content: str
    tokens_in: int
    tokens_out: int
    model: str
    latency_ms: float = 0.0
    #: rate-limit headers of the response, when the provider sends them
    rate: RateInfo | None = None
    #: the answer's tokens with their log probabilities, in order, when the request wanted
    #: confidence and the provider reported them; None when it did not (an empty tuple is an
    #: empty answer). Only the chosen tokens: alternatives are not kept
    logprobs: tuple[tuple[str, float], ...] | None = None
    #: per pack item id, per field: the probability the provider itself computed for its answer
    #: (a trained local model); None from providers that compute none
    confidences: dict[str, dict[str, float]] | None = None

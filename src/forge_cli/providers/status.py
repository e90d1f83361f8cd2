"""From an HTTP error response to forge's error taxonomy: the common table, declared once.

Every adapter meets the same statuses (401/403 a refused key, 429 a limit, 404 a wrong model or URL,
408/504 a timeout, 5xx a sick server, any other 4xx a bad request) and differs only at the edges:
Anthropic's 529 overloaded, Gemini's key errors sent as 400 and its RetryInfo, a 429 that is really
an exhausted quota or billing limit and so cannot be waited out. Keeping the shared rows here stops
the adapters drifting apart on what they share; an adapter reads its own error body into an
``ErrorReply`` and declares only where it departs (``StatusTable.before`` / ``changed``).

Messages are templates over the reply's fields, so they are built from the status and the
provider's already-scrubbed text and never from request headers: no key can reach a message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from forge_cli.core.calls import RateInfo
from forge_cli.core.errors import (
    AuthError,
    NotFoundError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    RequestError,
    UpstreamError,
)
from forge_cli.core.text import mask_url

__all__ = [
    "COMMON",
    "ErrorReply",
    "Rule",
    "StatusTable",
    "When",
    "any_status",
    "asked",
    "key_hint",
    "signal",
    "status",
    "status_from",
]


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """One error response as its adapter read it: what the table decides on and quotes."""

    provider: str
    status: int
    #: the provider's own text, key scrubbed, as messages quote it
    detail: str
    #: what an authentication failure may show: an error code or a fixed phrase, never free text
    #: (a provider may echo a masked piece of the key in its message)
    auth_detail: str = "no detail"
    #: ": set GROQ_API_KEY to a valid key", or "" when the adapter knows no variable
    key_hint: str = ""
    base_url: str = ""
    model: str = ""
    #: the wait the provider asked for, in seconds (its header or its body's equivalent)
    retry_after: float | None = None
    rate: RateInfo | None = None
    #: the body (scrubbed) to keep on the error for the failures file, when the adapter keeps it
    raw: str | None = None
    #: a pointer for the provider's support, appended to timeouts and server errors ("; request …")
    reference: str = ""
    #: facts from the body the provider-specific rows match on ("insufficient_quota", ...)
    signals: frozenset[str] = frozenset()
    #: more template fields for an adapter's own messages
    extra: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> dict[str, str]:
        return {
            "detail": self.detail,
            "auth_detail": self.auth_detail,
            "key_hint": self.key_hint,
            "base_url": mask_url(self.base_url),
            "model": self.model,
            "reference": self.reference,
            **self.extra,
        }


def key_hint(key_env: str | None) -> str:
    """The usual advice after "authentication failed": which variable to fix, when known."""
    return f": set {key_env} to a valid key" if key_env else ""


@dataclass(frozen=True, slots=True)
class When:
    """A condition on a reply; ``&``, ``|`` and ``~`` combine them into a row's ``when``."""

    test: Callable[[ErrorReply], bool]

    def __call__(self, reply: ErrorReply) -> bool:
        return self.test(reply)

    def __and__(self, other: When) -> When:
        return When(lambda reply: self(reply) and other(reply))

    def __or__(self, other: When) -> When:
        return When(lambda reply: self(reply) or other(reply))

    def __invert__(self) -> When:
        return When(lambda reply: not self(reply))


def status(*codes: int) -> When:
    wanted = frozenset(codes)
    return When(lambda reply: reply.status in wanted)


def status_from(lowest: int) -> When:
    return When(lambda reply: reply.status >= lowest)


def signal(name: str) -> When:
    return When(lambda reply: name in reply.signals)


any_status = When(lambda reply: True)


def asked(reply: ErrorReply) -> float | None:
    """Wait as long as the provider asked (Retry-After or the body's equivalent)."""
    return reply.retry_after


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: when it applies, the error it makes, and that error's message and extras."""

    name: str
    error: type[ProviderError]
    #: a ``str.format`` template over ``ErrorReply.fields()``
    message: str
    when: When = any_status
    #: how long to wait before a retry; None: the error carries no wait
    wait: Callable[[ErrorReply], float | None] | None = None
    #: keep the reply's body on the error (auth failures do not: the body is about the key)
    raw: bool = True

    def build(self, reply: ErrorReply) -> ProviderError:
        return self.error(
            self.message.format(**reply.fields()),
            provider=reply.provider,
            status=reply.status,
            retry_after=self.wait(reply) if self.wait is not None else None,
            raw=reply.raw if self.raw else None,
            rate=reply.rate,
        )


class StatusTable:
    """Rules tried in order; the first that applies makes the error. The last one catches all."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        names = [rule.name for rule in rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"rules named twice: {duplicates}")
        if not rules or rules[-1].when is not any_status:
            raise ValueError("the last rule must apply to every reply")
        self.rules: tuple[Rule, ...] = tuple(rules)

    def _index(self, name: str) -> int:
        for index, rule in enumerate(self.rules):
            if rule.name == name:
                return index
        raise KeyError(f"no rule named {name!r}")

    def rule(self, name: str) -> Rule:
        return self.rules[self._index(name)]

    def before(self, name: str, *rules: Rule) -> StatusTable:
        """A copy with ``rules`` tried just before the rule called ``name``."""
        index = self._index(name)
        return StatusTable((*self.rules[:index], *rules, *self.rules[index:]))

    def changed(self, name: str, **changes: Any) -> StatusTable:
        """A copy whose rule ``name`` has ``changes`` (``when``, ``message``, ``wait``, ...)."""
        index = self._index(name)
        rules = list(self.rules)
        rules[index] = replace(rules[index], **changes)
        return StatusTable(rules)

    def error(self, reply: ErrorReply) -> ProviderError:
        rule = next(rule for rule in self.rules if rule.when(reply))
        return rule.build(reply)


#: what every provider means by a status unless its adapter says otherwise
COMMON = StatusTable(
    (
        Rule(
            "auth",
            AuthError,
            "authentication failed{key_hint} ({auth_detail})",
            when=status(401, 403),
            raw=False,
        ),
        Rule("rate_limit", RateLimitError, "rate limited ({detail})", when=status(429), wait=asked),
        Rule(
            "not_found",
            NotFoundError,
            "not found: check --base-url {base_url} and --model {model} ({detail})",
            when=status(404),
        ),
        Rule(
            "timeout",
            ProviderTimeoutError,
            "request timeout ({detail}{reference})",
            when=status(408, 504),
        ),
        Rule(
            "server",
            UpstreamError,
            "server error ({detail}{reference})",
            when=status_from(500),
            wait=asked,
        ),
        Rule("rejected", RequestError, "request rejected ({detail})"),
    )
)

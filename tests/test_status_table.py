"""The shared status table: the common rows, how an adapter amends them, and that every adapter's
table renders every message it can produce."""

from __future__ import annotations

import string

import pytest

from forge_cli.core.errors import (
    AuthError,
    NotFoundError,
    ProviderTimeoutError,
    RateLimitError,
    RequestError,
    UpstreamError,
)
from forge_cli.providers.anthropic import ANTHROPIC_ERRORS
from forge_cli.providers.cohere import COHERE_ERRORS
from forge_cli.providers.gemini import GEMINI_ERRORS
from forge_cli.providers.openai import OPENAI_ERRORS
from forge_cli.providers.status import (
    COMMON,
    ErrorReply,
    Rule,
    StatusTable,
    key_hint,
    signal,
    status,
)


def reply(code: int, **kw: object) -> ErrorReply:
    fields: dict = {
        "provider": "p",
        "status": code,
        "detail": "why",
        "base_url": "http://h.test/v1",
        "model": "m",
        "retry_after": 3.0,
        "raw": "{body}",
        **kw,
    }
    return ErrorReply(**fields)


@pytest.mark.parametrize(
    ("code", "kind", "message", "retry_after"),
    [
        (401, AuthError, "authentication failed: set K to a valid key (no detail)", None),
        (403, AuthError, "authentication failed: set K to a valid key (no detail)", None),
        (429, RateLimitError, "rate limited (why)", 3.0),
        (
            404,
            NotFoundError,
            "not found: check --base-url http://h.test/v1 and --model m (why)",
            None,
        ),
        (408, ProviderTimeoutError, "request timeout (why)", None),
        (504, ProviderTimeoutError, "request timeout (why)", None),
        (500, UpstreamError, "server error (why)", 3.0),
        (503, UpstreamError, "server error (why)", 3.0),
        (400, RequestError, "request rejected (why)", None),
        (418, RequestError, "request rejected (why)", None),
    ],
)
def test_the_common_rows(code: int, kind: type, message: str, retry_after: float | None) -> None:
    err = COMMON.error(reply(code, key_hint=key_hint("K")))
    assert type(err) is kind
    assert (err.message, err.status, err.provider, err.retry_after) == (
        message,
        code,
        "p",
        retry_after,
    )
    # an auth failure never carries the body: it is about the key
    assert err.raw == (None if kind is AuthError else "{body}")


def test_no_key_variable_no_hint() -> None:
    assert COMMON.error(reply(401)).message == "authentication failed (no detail)"


def test_amendments_copy_the_table() -> None:
    table = COMMON.before(
        "rate_limit",
        Rule("quota", AuthError, "quota ({detail})", when=status(429) & signal("quota")),
    ).changed("timeout", when=status(408))
    assert type(table.error(reply(429, signals=frozenset({"quota"})))) is AuthError
    assert type(table.error(reply(429))) is RateLimitError
    assert type(table.error(reply(504))) is UpstreamError
    # the common table itself is untouched
    assert [rule.name for rule in COMMON.rules] == [
        "auth",
        "rate_limit",
        "not_found",
        "timeout",
        "server",
        "rejected",
    ]
    assert type(COMMON.error(reply(504))) is ProviderTimeoutError


def test_conditions_combine() -> None:
    when = status(499) | (status(500, 502) & ~signal("no"))
    assert when(reply(499)) and when(reply(500))
    assert not when(reply(500, signals=frozenset({"no"})))
    assert not when(reply(501))


def test_a_table_needs_unique_names_and_a_last_catch_all() -> None:
    rule = COMMON.rule("rejected")
    with pytest.raises(ValueError, match="named twice"):
        StatusTable((rule, rule))
    with pytest.raises(ValueError, match="every reply"):
        StatusTable((COMMON.rule("auth"),))
    with pytest.raises(KeyError):
        COMMON.before("nosuch", rule)


#: the template fields each adapter supplies beyond ErrorReply's own
EXTRAS = {"gemini": {"label", "quotas", "after"}}


@pytest.mark.parametrize(
    ("wire", "table"),
    [
        ("openai", OPENAI_ERRORS),
        ("anthropic", ANTHROPIC_ERRORS),
        ("gemini", GEMINI_ERRORS),
        ("cohere", COHERE_ERRORS),
    ],
)
def test_every_message_template_names_only_fields_it_gets(wire: str, table: StatusTable) -> None:
    known = set(reply(400).fields()) | EXTRAS.get(wire, set())
    for rule in table.rules:
        names = {name for _, name, _, _ in string.Formatter().parse(rule.message) if name}
        assert names <= known, (wire, rule.name, names - known)

"""Provider tokens, found by their fixed prefixes (``ghp_``, ``sk-ant-``, ``AKIA``, ...), and JWTs.

A prefix is nearly proof, so a match is redacted unless its body is plainly a mask or an example.
Every pattern starts with its literal prefix, so ``re`` scans fast, and is gated by a substring test
that costs nanoseconds when the prefix is absent."""

from __future__ import annotations

import re
from collections.abc import Callable

from forge_cli.redact.spans import ALNUM, WORDISH, Claims
from forge_cli.redact.values import masked, random_looking

_A = re.ASCII


class _Token:
    """A prefix-anchored pattern, gated by substrings that must occur for it to match at all."""

    __slots__ = ("gates", "group", "kind", "lowered", "pattern", "valid")

    def __init__(
        self,
        kind: str,
        pattern: re.Pattern[str],
        gates: tuple[str, ...],
        group: int | str = 0,
        valid: Callable[[str], bool] | None = None,
        lowered: bool = False,
    ) -> None:
        self.kind = kind
        self.pattern = pattern
        self.gates = gates
        self.group = group
        self.valid = valid
        self.lowered = lowered  # gates and pattern see the lower-cased text, the check the original

    def __call__(self, text: str, lower: str, claims: Claims) -> None:
        hay = lower if self.lowered else text
        if not any(g in hay for g in self.gates):
            return
        for m in self.pattern.finditer(hay):
            s = m.start()
            if s and text[s - 1] in ALNUM:
                continue
            vs, ve = m.span(self.group)
            if self.valid is None or self.valid(text[vs:ve]):
                claims.add(vs, ve, self.kind)


#: a whole run of base64url segments; split in Python, so "eyJeyJeyJ..." costs one pass, not n²
_JWT_RUN = re.compile(r"eyJ[A-Za-z0-9_\-.]*", _A)


def jwts(text: str, lower: str, claims: Claims) -> None:
    """JSON Web Tokens: a header and a payload that both decode from ``{`` (``ey...``), a signature."""
    if "eyJ" not in text:
        return
    for m in _JWT_RUN.finditer(text):
        s = m.start()
        if s and text[s - 1] in WORDISH:
            continue
        parts = m.group().split(".")
        if len(parts) < 2 or len(parts[0]) < 10 or len(parts[1]) < 10:
            continue
        if not parts[1].startswith("ey"):
            continue
        if len(parts) == 2 or not parts[2]:  # an unsigned token ("alg": "none") says as much
            if not parts[1].startswith("eyJ") or len(parts[1]) < 20:
                continue
            parts = [*parts[:2], ""]
        length = len(parts[0]) + len(parts[1]) + len(parts[2]) + 2 - (not parts[2])
        claims.add(s, s + length, "jwt")


def _not_masked(value: str) -> bool:
    return not masked(value)


def _aws_secret_ok(value: str) -> bool:
    return any(c.isupper() for c in value) and any(c.islower() for c in value) and not masked(value)


#: in precedence order, like the detectors: ``sk-ant-...`` is claimed as an anthropic_key before
#: the generic ``sk-`` pattern sees it
TOKENS: tuple[_Token, ...] = (
    _Token(
        "anthropic_key",
        # a versioned key (api03, admin01) is 93 characters and "AA"; an unversioned one is
        # only known by its prefix
        re.compile(
            r"sk-ant-(?:[a-z]+\d\d-[A-Za-z0-9_\-]{93}AA(?![\w-])|(?![a-z]+\d\d-)[\w\-]{20,})", _A
        ),
        ("sk-ant-",),
        valid=_not_masked,
    ),
    _Token(
        "openai_key",
        re.compile(r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}", _A),
        ("sk-",),
        valid=lambda v: random_looking(v[3:]),  # "sk-" alone is weak: kebab-case words survive
    ),
    _Token(
        "github_token",
        re.compile(r"gh[pousr]_[A-Za-z0-9]{30,255}(?![A-Za-z0-9_])|github_pat_\w{30,255}", _A),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        valid=lambda v: not masked(v[4:]),
    ),
    _Token(
        "gitlab_token",
        # the lengths GitLab issues: a feed, deploy or personal token 20 and more (routable ones
        # longer), an incoming-mail token 25, a trigger token 40, an OAuth secret 64, an agent
        # token 50 and more, a SCIM token 20 to 50
        re.compile(
            r"""gl(?:(?:pat|dt|rt|ft|cbt)-[\w\-.]{20,}|imt-[\w\-]{25}|ptt-[\w\-]{40}|oas-[\w\-]{64}
                |agent-[\w\-]{50,1024}|soat-[\w\-]{20,50})(?![\w\-])""",
            re.X | _A,
        ),
        ("gl",),
        valid=lambda v: not masked(v.partition("-")[2]),
    ),
    _Token(
        "slack_token",
        # bot and user tokens start with a numeric id; legacy, app and refresh tokens with a
        # version digit at most; all end in a random part of 10 characters and more
        re.compile(
            r"xox[bp]-\d{8,13}-[A-Za-z0-9\-]{8,}|xox[aeors]-(?:\d-)?[A-Za-z0-9\-]{8,}"
            r"|xapp-\d-[A-Za-z0-9\-]{20,}",
            _A,
        ),
        ("xox", "xapp-"),
        valid=lambda v: (
            any(c.isdigit() for c in v[5:])
            and len(v.rsplit("-", 1)[-1]) >= 10
            and not masked(v[5:])
        ),
    ),
    _Token(
        "slack_token",
        re.compile(
            r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9_/\-]{10,})"
        ),
        ("hooks.slack.com",),
        group="v",
        valid=_not_masked,
    ),
    _Token(
        "stripe_key",
        re.compile(r"(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}", _A),
        ("_live_", "_test_", "_prod_", "whsec_"),
        valid=lambda v: not masked(v[8:]),
    ),
    _Token(
        "google_api_key",
        re.compile(r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", _A),
        ("AIza",),
        valid=_not_masked,
    ),
    _Token(
        "aws_access_key",
        re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])", _A),
        ("AKIA", "ASIA", "ABIA", "ACCA"),
        valid=_not_masked,
    ),
    # one pattern per way of naming the key, each opening with a literal ("aws", "secret") so re
    # skips ahead to it; as one alternation it was tried at every position of the text
    *(
        _Token(
            "aws_secret_key",
            re.compile(
                name
                + r"""["']?(?:[ \t]*(?:=>|:=|[:=])[ \t]*|[ \t]+)["']?
                    (?P<v>[a-z0-9/+]{40})(?![a-z0-9/+=])""",
                re.X | _A,
            ),
            ("secret",),
            group="v",
            valid=_aws_secret_ok,
            lowered=True,
        )
        for name in (r"aws[\w.\-]{0,30}?secret[\w.\-]{0,30}?", r"secret[_ ]?(?:access[_ ]?)?key")
    ),
)

"""Redaction itself: run the detectors strongest first, replace what they claimed by typed
markers, scan the seams again, report where each secret was.

The order of ``_SECRET_DETECTORS`` is the precedence: a span overlapping one already claimed is
dropped, so the most specific evidence (a PEM header, a provider prefix) names the finding."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from forge_cli.redact.assignments import assignments
from forge_cli.redact.documents import apart, kubernetes_secrets
from forge_cli.redact.nearby import keyword_values
from forge_cli.redact.pem import private_keys
from forge_cli.redact.phrases import context_forms
from forge_cli.redact.pii import emails, numbers
from forge_cli.redact.spans import WORDISH, Claims, Detector
from forge_cli.redact.tokens import TOKENS, jwts
from forge_cli.redact.urls import connection_strings, urls
from forge_cli.redact.vendors import shaped_tokens, vendor_tokens


@dataclass(frozen=True, slots=True)
class Finding:
    """Where a secret was and what kind it was; deliberately without the value."""

    type: str
    line: int
    column: int
    length: int


@dataclass(frozen=True, slots=True)
class Redacted:
    """The text as it may be sent, and what was taken out of it."""

    text: str
    findings: tuple[Finding, ...]


SECRET_TYPES: tuple[str, ...] = (
    "private_key",
    "jwt",
    "aws_access_key",
    "aws_secret_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "openai_key",
    "anthropic_key",
    "google_api_key",
    "api_token",
    "password_hash",
    "url_credentials",
    "connection_string",
    "password_assignment",
    "secret_assignment",
)
PII_TYPES: tuple[str, ...] = ("email", "phone", "card_number")


_MARKER = re.compile(r"\[REDACTED:[a-z_]+\]")
_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


def _markers(text: str, lower: str, claims: Claims) -> None:
    """Markers already in the text are claimed (with no kind) before any detector runs, so text
    that was redacted once comes out unchanged."""
    if "[REDACTED:" in text:
        for m in _MARKER.finditer(text):
            claims.add(m.start(), m.end(), None)


_SECRET_DETECTORS: tuple[Detector, ...] = (
    _markers,
    private_keys,
    jwts,
    *TOKENS,
    vendor_tokens,
    shaped_tokens,
    urls,
    connection_strings,
    assignments,
    apart,
    kubernetes_secrets,
    context_forms,
    keyword_values,
)
_PII_DETECTORS: tuple[Detector, ...] = (numbers, emails)


#: characters that can glue a neighbour onto a secret (a token's boundary, an e-mail's local
#: part): a span next to one is scanned again once it has become a marker
_GLUE = WORDISH | frozenset(".@+%/")
_Span = tuple[int, int, str]


def _scan(text: str, pii: bool) -> list[_Span]:
    """Every secret (and PII) span of text, strongest detector first, none overlapping."""
    lower = text.lower()
    if len(lower) != len(text):  # "İ".lower() is two characters: keep offsets aligned
        lower = text.translate(_ASCII_LOWER)
    claims = Claims()
    for detect in _SECRET_DETECTORS:
        detect(text, lower, claims)
    if pii:
        for detect in _PII_DETECTORS:
            detect(text, lower, claims)
    return [
        (s, e, k) for s, e, k in zip(claims.starts, claims.ends, claims.kinds, strict=True) if k
    ]


def _apply(text: str, spans: list[_Span]) -> tuple[str, list[tuple[int, int, int]]]:
    """The text with each span replaced by its marker, and (original end, output start, output
    end) of every marker, to map output positions back."""
    pieces: list[str] = []
    table: list[tuple[int, int, int]] = []
    pos = out = 0
    for start, end, kind in spans:
        marker = f"[REDACTED:{kind}]"
        pieces.append(text[pos:start])
        out += start - pos
        pieces.append(marker)
        table.append((end, out, out + len(marker)))
        out += len(marker)
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), table


def _rescan(out: str, table: list[tuple[int, int, int]], fresh: set[int], pii: bool) -> list[_Span]:
    """Secrets that only show once a neighbour became a marker (``glpat-...-----BEGIN``, an
    e-mail glued to a key block): the lines around fresh markers with a gluing neighbour are
    scanned again, and what they hold is mapped back to original positions."""
    windows: list[tuple[int, int]] = []
    for i in sorted(fresh):
        _, ms, me = table[i]
        if (ms and out[ms - 1] in _GLUE) or (me < len(out) and out[me] in _GLUE):
            ws = out.rfind("\n", 0, max(ms - 1, 0)) + 1
            we = out.find("\n", me)
            we = len(out) if we == -1 else we
            if windows and ws <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(we, windows[-1][1]))
            else:
                windows.append((ws, we))
    found: list[_Span] = []
    out_starts = [ms for _, ms, _ in table]
    for ws, we in windows:
        for a, b, kind in _scan(out[ws:we], pii):
            i = bisect_right(out_starts, ws + a) - 1  # the last marker before the span
            shift = table[i][0] - table[i][2] if i >= 0 else 0
            found.append((ws + a + shift, ws + b + shift, kind))
    return found


def redact(text: str, *, pii: bool = False) -> Redacted:
    """Replace every secret (and with ``pii``, e-mails, phones and card numbers) by a typed marker."""
    if not text:
        return Redacted(text, ())
    spans = _scan(text, pii)
    if not spans:
        return Redacted(text, ())
    out, table = _apply(text, spans)
    fresh = set(range(len(spans)))
    for _ in range(3):  # replacing can expose a neighbour; stop at a fixed point (or three rounds)
        extra = _rescan(out, table, fresh, pii)
        if not extra:
            break
        spans = sorted(spans + extra)
        out, table = _apply(text, spans)
        fresh = {i for i, span in enumerate(spans) if span in extra}
    return Redacted(out, tuple(_findings(text, spans)))


def _findings(text: str, spans: list[_Span]) -> list[Finding]:
    """Type, 1-based line and column in the original text, and length of every span."""
    findings: list[Finding] = []
    pos = 0
    line = 1
    line_start = 0
    for start, end, kind in spans:
        newlines = text.count("\n", pos, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", pos, start) + 1
        findings.append(Finding(kind, line, start - line_start + 1, end - start))
        pos = start
    return findings


def describe(findings: Sequence[Finding]) -> list[str]:
    """One human line per finding (place, type, length): safe to print, it holds no value."""
    return [
        f"line {f.line}, col {f.column}: {f.type} ({f.length} char{'s' if f.length != 1 else ''})"
        for f in findings
    ]

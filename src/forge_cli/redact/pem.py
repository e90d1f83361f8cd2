"""Private key blocks (PEM, PGP), one marker per block, also across diff-prefixed lines and in
truncated hunks that lack the END line."""

from __future__ import annotations

import re

from forge_cli.redact.spans import Claims

_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
#: body lines of a block whose END is missing (a truncated hunk): base64 or RFC 1421 headers,
#: with diff markers, indentation and JSON's escaped newlines allowed
_PEM_BODY = re.compile(
    r"""(?:(?:(?:\r?\n|\\n)[+\-]?[ \t]*)+
           (?:[A-Za-z0-9+/=]{8,}|(?:Proc-Type|DEK-Info|Comment|Version):[^\r\n\\]*)[ \t]*)*""",
    re.X,
)
_PEM_MAX = 65536
#: what never occurs between BEGIN and END of a key (code does: another BEGIN, brackets, "_", "#")
_PEM_NOT_BODY = re.compile(r"-----BEGIN |[()\[\]{}_#;<>]")
_PEM_BASE64 = re.compile(r"[A-Za-z0-9+/]{16}")


def private_keys(text: str, lower: str, claims: Claims) -> None:
    """Whole PEM/PGP private key blocks, one marker each, even across diff-prefixed lines."""
    if "PRIVATE KEY" not in text:
        return
    pos = 0
    while m := _PEM_BEGIN.search(text, pos):
        end_m = _PEM_END.search(text, m.end(), m.end() + _PEM_MAX)
        if (
            end_m
            and _PEM_NOT_BODY.search(text, m.end(), end_m.start()) is None
            and _PEM_BASE64.search(text, m.end(), end_m.start())  # not "BEGIN ... and END"
        ):
            end = end_m.end()
        else:  # no END, or code between BEGIN and END: a truncated hunk or a header constant
            body = _PEM_BODY.match(text, m.end())
            end = body.end() if body else m.end()
            if not _PEM_BASE64.search(text, m.end(), end):
                end = m.end()  # "BEGIN ... anything END": no key material, nothing to hide
        if end > m.end():
            claims.add(m.start(), end, "private_key")
        pos = max(end, m.end())

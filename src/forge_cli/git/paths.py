"""How git writes file names in diff headers: C-quoted names and ``a/``-style prefixes.

Why a module of its own: the same name can arrive quoted (``"a/caf\\303\\251.txt"``, for bytes
outside printable ASCII or a name with a quote or backslash), after a mnemonic prefix (``c/``,
``i/``, ``w/`` from ``diff.mnemonicPrefix``) or none (``--no-prefix``), and on a ``diff --git`` line
that is ambiguous when a name holds a space. Reading those right is git's format, not the parser's
logic, and the parser trusts the headers in the order git does (see ``forge_cli.git.diff``).
"""

from __future__ import annotations

__all__ = ["header_names", "path_token", "prefixes", "strip_prefix", "unquote"]

_PREFIX_LETTERS = "abciwo12"
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(raw: str) -> tuple[str, str]:
    """Read one C-quoted git path from the start of ``raw``; return it and what follows."""
    out = bytearray()
    i, n = 1, len(raw)
    while i < n:
        ch = raw[i]
        if ch == '"':
            return out.decode("utf-8", "replace"), raw[i + 1 :]
        if ch == "\\" and i + 1 < n:
            nxt = raw[i + 1]
            digits = raw[i + 1 : i + 4]
            if len(digits) == 3 and all(c in "01234567" for c in digits):
                out.append(int(digits, 8) & 0xFF)
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt) if ord(nxt) < 128 else 63))
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return out.decode("utf-8", "replace"), ""  # unterminated: take what is there


def path_token(raw: str) -> str:
    """A path from a ``---``/``+++``/``rename from`` line: quoted, or up to git's trailing tab."""
    if raw.startswith('"'):
        return unquote(raw)[0]
    return raw.split("\t", 1)[0]


def strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path


def header_names(rest: str) -> tuple[str, str, str, str] | None:
    """Old and new names of ``diff --git <rest>`` with their prefixes (``a/``, ``b/``, or none).

    The unquoted form is ambiguous when names contain spaces; like git, prefer the split where both
    names agree, which is always the case unless the file was renamed (and then ``rename from`` and
    ``rename to`` lines follow with the exact names).
    """
    if rest.startswith('"'):
        old, tail = unquote(rest)
        tail = tail.lstrip(" ")
        new = unquote(tail)[0] if tail.startswith('"') else tail
    elif rest.endswith('"') and ' "' in rest:
        cut = rest.index(' "')
        old, new = rest[:cut], unquote(rest[cut + 1 :])[0]
    else:
        old = new = ""
        for pos in range(len(rest)):
            if rest[pos] == " " and _same_name(rest[:pos], rest[pos + 1 :]):
                old, new = rest[:pos], rest[pos + 1 :]
                break
        else:
            pos = rest.find(" b/")
            if pos < 0:
                pos = rest.find(" ")
            if pos < 0:
                return None
            old, new = rest[:pos], rest[pos + 1 :]
    pa, pb = prefixes(old, new)
    return strip_prefix(old, pa), strip_prefix(new, pb), pa, pb


def prefixes(old: str, new: str) -> tuple[str, str]:
    """``a/`` and ``b/`` (or mnemonic ``c/``, ``i/``, ``w/``...) when both names carry one."""
    if (
        len(old) > 2
        and len(new) > 2
        and old[1] == "/"
        and new[1] == "/"
        and old[0] != new[0]
        and old[0] in _PREFIX_LETTERS
        and new[0] in _PREFIX_LETTERS
    ):
        return old[:2], new[:2]
    return "", ""


def _same_name(old: str, new: str) -> bool:
    pa, pb = prefixes(old, new)
    return bool(old) and strip_prefix(old, pa) == strip_prefix(new, pb)

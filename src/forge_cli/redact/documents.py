"""Secrets whose name and value sit apart: a Kubernetes ``Secret`` (every value under ``data:``
or ``stringData:`` is one, whatever its key), a name/value pair (``- name: API_TOKEN`` then
``value: ...``, as container env lists and CI variables write them), a Terraform variable's
default (``variable "db_password" { default = "..." }``), a password glued
to a client's ``-p`` flag (``mysql -uroot -pS3cret``) or given after a user on a command line
(``docker login -u x -p y``), the key lines of a PuTTY key file, a registry ``auth`` that is base64 of
``user:password`` (Docker's config.json, npm's ``_auth``).

Each is gated by a word it cannot do without, so text without one costs a substring test."""

from __future__ import annotations

import base64
import binascii
import re

from forge_cli.redact.keys import key_kind
from forge_cli.redact.spans import Claims
from forge_cli.redact.values import plausible, token_like

_A = re.ASCII

_KIND_SECRET = re.compile(r"^[ \t]*kind:[ \t]*[\"']?secret[\"']?[ \t]*$", re.M | re.I | _A)
_DATA = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringdata):[ \t]*$", re.M | re.I | _A)
_ENTRY = re.compile(
    r"(?P<indent>[ \t]*)[\w.\-]+:[ \t]*(?P<q>[\"']?)(?P<v>[^\s\"'#][^\"'\r\n#]*?)(?P=q)[ \t]*$", _A
)
#: ``value: x`` found first (a literal start, so re scans fast), then the name just before it
_VALUE = re.compile(r"""value["']?[ \t]*[:=][ \t]*(?P<q>["']?)(?P<v>[^\s"',}\]]+)(?P=q)""", _A)
_NAME_BEFORE = re.compile(
    r"""(?:name|key)["']?[ \t]*[:=][ \t]*["']?(?P<k>[A-Za-z_][\w.\-]*)["']?[ \t]*,?[ \t]*
        (?:\r?\n[ \t]*-?[ \t]*)?["']?$""",
    re.X | _A,
)
#: a command line that names a user, then gives a password to -p, -P, -a or --password
#: (docker login -u x -p y, sqlcmd -U x -P y, psexec -u x -p y, redis-cli --user x -a y), or
#: PowerShell's -User x -Password y (Connect-VIServer, New-PSDrive)
_USER_THEN_PASS = re.compile(
    r"""[ \t]-(?:u|U|-user|-username|-login|[Uu]ser(?:[Nn]ame)?)[ =]\S+[^\r\n|;&]*?[ \t]
        (?P<flag>-(?:p|P|a|-pass|-password|[Pp]assword))[ =](?P<q>["']?)(?P<v>[^\s"']+)(?P=q)""",
    re.X | _A,
)
#: a PuTTY private key file: its Private-Lines, up to and with its Private-MAC
_PUTTY = re.compile(
    r"Private-Lines:[ \t]*\d+\r?\n(?P<v>(?:[A-Za-z0-9+/=]+\r?\n)+Private-MAC:[ \t]*[0-9a-f]+)", _A
)
_NUMBERISH = re.compile(r"[\d.:]+", _A)  # -p 8080, -p 3.11: a port or a version
_GLUED_P = re.compile(
    r"\b(?:mysql|mysqldump|mysqladmin|mariadb|sshpass)\b[^\r\n|;&]*?[ \t]-p(?P<v>[^\s'\"-][^\s'\"]*)",
    _A,
)
_TF_VARIABLE = re.compile(
    r'variable[ \t]+"(?P<k>[\w\-]+)"[ \t]*\{[^{}]*?\bdefault[ \t]*=[ \t]*"(?P<v>[^"\r\n]*)"',
    _A,
)
_AUTH_B64 = re.compile(r"""auth["']?[ \t]*[:=][ \t]*["']?(?P<v>[A-Za-z0-9+/]{8,}={0,2})""", _A)


def kubernetes_secrets(text: str, lower: str, claims: Claims) -> None:
    """Every value under ``data:``/``stringData:`` in a document of ``kind: Secret`` (or of a
    Secret's ``type:``, when the kind is not in the text), block scalars and comments included."""
    if "data:" not in lower or not ("secret" in lower or "type:" in lower):
        return
    if not (_KIND_SECRET.search(text) or _SECRET_TYPE.search(text)):
        return
    for block in _DATA.finditer(text):
        base = len(block.group("indent").expandtabs())
        pos = block.end() + 1
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end == -1 else end
            line = text[pos:end]
            if line.strip() and not line.lstrip().startswith("#"):
                m = _ENTRY.match(line)
                indent = len(m.group("indent").expandtabs()) if m else -1
                if m is None or indent <= base:
                    break
                value = m.group("v").strip()
                if value in _BLOCK_SCALARS:
                    end = _block_value(text, end, indent, claims)
                elif _secret_value(value):
                    start = pos + m.start("v")
                    claims.add(start, start + len(value), "secret_assignment")
            pos = end + 1


_BLOCK_SCALARS = frozenset(["|", ">", "|-", ">-", "|+", ">+"])
_SECRET_TYPE = re.compile(
    r"^[ \t]*type:[ \t]*[\"']?(?:opaque|kubernetes\.io/[\w.\-]+)[\"']?[ \t]*$", re.M | re.I | _A
)


def _block_value(text: str, pos: int, indent: int, claims: Claims) -> int:
    """Claim the lines of a block scalar (``.dockercfg: |`` then more-indented lines) that start
    after ``pos``; return where the block's last line ends."""
    first = last = -1
    while pos < len(text):
        end = text.find("\n", pos + 1)
        end = len(text) if end == -1 else end
        line = text[pos + 1 : end]
        if line.strip():
            if len(line) - len(line.lstrip(" \t")) <= indent:
                break
            first = pos + 1 + len(line) - len(line.lstrip(" \t")) if first == -1 else first
            last = pos + 1 + len(line.rstrip())
        pos = end
    joined = "".join(text[first:last].split()) if first != -1 else ""
    if len(joined) >= 16 or _secret_value(joined):  # a whole file (a dockercfg, a certificate)
        claims.add(first, last, "secret_assignment")
    return pos


def _secret_value(value: str) -> bool:
    """A Secret's value, unless it is a template or, once decoded from base64 (``data:``), a
    placeholder (``cGFzc3dvcmQ=`` is "password")."""
    if len(value) < 4 or value.startswith(("{{", "${", "|", ">")):
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return plausible(value)
    return len(decoded) >= 4 and plausible(decoded)


def apart(text: str, lower: str, claims: Claims) -> None:
    """Name/value pairs, passwords glued to ``-p``, and base64 ``auth`` entries."""
    if "value" in lower and ("name" in lower or "key" in lower):
        for m in _VALUE.finditer(text):
            name = _NAME_BEFORE.search(text, max(0, m.start() - 160), m.start())
            if name is None or (name.start() and text[name.start() - 1].isalnum()):
                continue  # no name before it, or "hostname: ...", "monkey: ..."
            kind = key_kind(name.group("k"))
            value = m.group("v")
            if kind and plausible(value) and (kind == "password_assignment" or token_like(value)):
                claims.add(*m.span("v"), kind)
    if ("-u" in lower or "--user" in lower or "--login" in lower) and "-" in text:
        for m in _USER_THEN_PASS.finditer(text):
            v = m.group("v")
            # "--username and --password options": a word after a long flag is prose; after
            # -p it is a password (psexec -u Administrator -p braksha)
            prose = v.isalpha() and v.islower() and m.group("flag").startswith("--")
            if plausible(v) and not prose and not _NUMBERISH.fullmatch(v):
                claims.add(*m.span("v"), "password_assignment")
    if "Private-Lines:" in text:
        for m in _PUTTY.finditer(text):
            claims.add(*m.span("v"), "private_key")
    if "-p" in text and ("mysql" in lower or "mariadb" in lower or "sshpass" in lower):
        for m in _GLUED_P.finditer(lower):
            if plausible(text[m.start("v") : m.end("v")]):
                claims.add(*m.span("v"), "password_assignment")
    if "variable" in lower and "default" in lower:
        for m in _TF_VARIABLE.finditer(text):
            kind = key_kind(m.group("k"))
            value = m.group("v")
            if kind and plausible(value) and (kind == "password_assignment" or token_like(value)):
                claims.add(*m.span("v"), kind)
    if "auth" in lower:
        for m in _AUTH_B64.finditer(lower):
            if m.start() and lower[m.start() - 1].isalnum():
                continue  # "oauth: ...", "useauth = ..."
            if _user_password(text[m.start("v") : m.end("v")]):
                claims.add(*m.span("v"), "password_assignment")


def _user_password(value: str) -> bool:
    """Base64 that decodes to ``user:password`` (printable, one colon, something after it)."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep and user and password and decoded.isprintable())

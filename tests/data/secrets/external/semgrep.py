"""Cases from Semgrep's secret rules (semgrep/semgrep-rules, ``generic/secrets/``): each rule
``<id>.yaml`` has a test file beside it (``<id>.txt``, ``.go``, ``.js``, ...) where a comment
``ruleid: <id>`` stands on the line before each text the rule must match and ``ok: <id>`` before
each it must not (Semgrep's own test convention, checked by ``semgrep --test``).

The secret of a positive is what the rule's regexes (every ``pattern-regex`` of the rule) match on
the marked line: the group named ``SECRET`` when there is one, else the last non-empty group, else
the longest piece of the whole match between separators (quotes, spaces, ``=``, ``:``...), so a
key name the regex also matches is not taken for the secret. A match may run past the marked line
(a PEM block): the case then runs to the match's end. Where no regex of the rule matches (a rule
written as a Semgrep ``pattern:``), the secret is the longest piece of the line of 8+ characters
holding letters and digits, counted apart (``secret_by_shape``). ``todoruleid``/``todook`` markers
(known misses and known false positives of the rule) are left out, as is the AWS account id rule
(an identifier: forge redacts credentials, not the names of things).

Licence: the repository's rules are under the Semgrep Rules License (Commons Clause on LGPL-2.1);
nothing of it is copied here, the files are read as data at run time from a fetched snapshot."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from .common import Case, Snapshot, compile_foreign

RULES = "generic/secrets/"

_MARKER = re.compile(r"(?<![a-z])(ruleid|ok|todoruleid|todook)\s*:\s*([\w.,\s-]+?)\s*(?:-->)?\s*$")
_PIECES = re.compile(r"[^\s'\"`=:,;<>()\[\]{}|]+")
_IDENTIFIER_RULES = re.compile(r"account-id")


def _regexes(node: Any) -> list[str]:
    """Every ``pattern-regex`` string under a rule (``pattern-not-regex`` excluded)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern-regex" and isinstance(value, str):
                found.append(value)
            elif key not in ("pattern-not-regex", "metadata"):
                found.extend(_regexes(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_regexes(item))
    return found


def _secret_of(match: Any) -> str:
    named = match.groupdict().get("SECRET") if match.re.groupindex else None
    if named:
        return str(named)
    groups = [g for g in match.groups() if g]
    if groups:
        return str(groups[-1])
    pieces = _PIECES.findall(match.group())
    return max(pieces, key=len) if pieces else ""


def _shape_secret(line: str) -> str:
    pieces = [
        p
        for p in _PIECES.findall(line)
        if len(p) >= 8 and any(c.isdigit() for c in p) and any(c.isalpha() for c in p)
    ]
    return max(pieces, key=len) if pieces else ""


def _marked(text: str) -> list[tuple[str, list[str], int]]:
    """(kind, rule ids, index of the marked line) for every marker comment."""
    lines = text.splitlines()
    out: list[tuple[str, list[str], int]] = []
    for i, line in enumerate(lines):
        m = _MARKER.search(line)
        if not m or not re.match(r"\s*(#|//|/|<!--|;|--)", line):
            continue
        target = i + 1
        while target < len(lines) and (not lines[target].strip() or _MARKER.search(lines[target])):
            target += 1
        if target < len(lines):
            ids = [r.strip() for r in m.group(2).split(",") if r.strip()]
            out.append((m.group(1), ids, target))
    return out


def cases(snapshot: Snapshot) -> tuple[list[Case], dict[str, int]]:
    """Positives (``ruleid:``) and look-alikes (``ok:``) of every rule under generic/secrets/."""
    skipped = {
        "no_secret_found": 0,
        "secret_by_shape": 0,
        "todo_marker": 0,
        "identifier_rule": 0,
        "no_test_file": 0,
    }
    rules = _rules(snapshot)
    out: list[Case] = []
    tests = [p for p in snapshot.files(RULES, "") if not p.endswith((".yaml", ".yml"))]
    by_stem = {p.rsplit(".", 1)[0]: p for p in tests}
    for stem, (_path, rule_regexes) in sorted(rules.items()):
        test = by_stem.get(stem)
        if test is None:
            skipped["no_test_file"] += 1
            continue
        text = snapshot.read(test)
        lines = text.splitlines(keepends=True)
        for kind, ids, index in _marked(text):
            rule_id = ids[0] if ids else stem.rsplit("/", 1)[-1]
            if kind.startswith("todo"):
                skipped["todo_marker"] += 1
                continue
            if _IDENTIFIER_RULES.search(rule_id):
                skipped["identifier_rule"] += 1
                continue
            line = lines[index].rstrip("\n")
            if kind == "ok":
                out.append(Case("semgrep", rule_id, line, (), test))
                continue
            case_text, secrets = _positive(lines, index, rule_regexes)
            if not secrets:
                secret = _shape_secret(line)
                if not secret:
                    skipped["no_secret_found"] += 1
                    continue
                skipped["secret_by_shape"] += 1
                case_text, secrets = line, [secret]
            out.append(Case("semgrep", rule_id, case_text, tuple(secrets), test))
    return out, skipped


def _positive(lines: list[str], index: int, regexes: list[Any]) -> tuple[str, list[str]]:
    """The case's text (the marked line, or up to the end of a match that runs on) and the
    secrets the rule's regexes take from it."""
    rest = "".join(lines[index:])
    line_end = len(lines[index].rstrip("\n"))
    secrets: list[str] = []
    end = line_end
    for regex in regexes:
        try:
            matches = list(regex.finditer(rest, timeout=1.0))
        except TypeError:  # the ``re`` fallback takes no timeout
            matches = list(regex.finditer(rest))
        except TimeoutError:
            matches = []
        for m in matches:
            if m.start() >= line_end:
                break
            secret = _secret_of(m)
            if secret and secret.strip():
                secrets.append(secret)
                end = max(end, m.end())
    return rest[:end], secrets


def _rules(snapshot: Snapshot) -> dict[str, tuple[str, list[Any]]]:
    """stem -> (rule file, compiled regexes) for every rule file under generic/secrets/."""
    out: dict[str, tuple[str, list[Any]]] = {}
    for path in snapshot.files(RULES, ".yaml") + snapshot.files(RULES, ".yml"):
        try:
            doc = yaml.safe_load(snapshot.read(path)) or {}
        except yaml.YAMLError:
            continue
        compiled = [compile_foreign(p) for r in doc.get("rules", []) for p in _regexes(r)]
        out[path.rsplit(".", 1)[0]] = (path, [c for c in compiled if c is not None])
    return out


def checkers(snapshot: Snapshot) -> list[Callable[[str], bool]]:
    """Each rule's regexes: used to find look-alikes of another source that Semgrep flags."""
    out: list[Callable[[str], bool]] = []
    for _path, regexes in _rules(snapshot).values():
        for regex in regexes:
            out.append(lambda text, regex=regex: bool(_search(regex, text)))
    return out


def _search(regex: Any, text: str) -> Any:
    try:
        return regex.search(text, timeout=1.0)
    except TypeError:
        return regex.search(text)
    except TimeoutError:
        return None

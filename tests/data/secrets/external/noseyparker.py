"""Cases from Nosey Parker's rules (Apache-2.0): each rule in
``crates/noseyparker/data/default/builtin/rules/*.yml`` carries ``examples`` it must match and
``negative_examples`` it must not, checked by Nosey Parker's own tests.

The secret of an example is what its rule's pattern captures: the groups whose ``(?# ...)``
label does not name a username, host or id, else the last non-empty group. Rules Nosey Parker files as
identifiers and not secrets (an ARN, an S3 bucket name, an AWS account or key id, a Google client
id) are left out: forge redacts credentials, not the names of things. Some negative examples sit under
a ``# FIXME: extend this rule so these get matched`` comment: they are secrets the rule misses,
not look-alikes, so they are left out."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from typing import Any

import yaml

from .common import Case, Snapshot, compile_foreign

#: the third-party ``regex`` module (which compile_foreign prefers) takes a timeout
_TIMEOUT = importlib.util.find_spec("regex") is not None

RULES = "crates/noseyparker/data/default/builtin/rules/"


#: what a ``(?# ...)`` comment calls a group that is not the secret
_NOT_SECRET_LABEL = re.compile(r"user|host|name|\bid\b|account|port|domain|url|region|tenant", re.I)


def _secret_groups(pattern: str) -> set[int] | None:
    """Group numbers whose ``(?# ...)`` label (on the line the group opens) does not name a
    username, host or id; None when no group is labelled."""
    labels: dict[int, str] = {}
    group = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":  # a class: its parentheses are characters
            i += 2 if pattern.startswith("[]", i) or pattern.startswith("[^]", i) else 1
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            continue
        if c == "(" and (not pattern.startswith("(?", i) or pattern.startswith("(?P<", i)):
            group += 1
            line_end = pattern.find("\n", i)
            line = pattern[i : line_end if line_end != -1 else len(pattern)]
            label = re.search(r"\(\?#([^)]*)\)", line)
            if label:
                labels[group] = label.group(1)
        i += 1
    if not labels:
        return None
    return {g for g in range(1, group + 1) if not _NOT_SECRET_LABEL.search(labels.get(g, ""))}


def _groups(regex: Any, pattern: str, text: str) -> list[str]:
    """The secret of every match: the labelled secret groups, else the last group (rules that
    capture a username and a password capture the password last). A pattern that backtracks for
    more than a second in Python's engines (Rust's does not backtrack) finds nothing."""
    wanted = _secret_groups(pattern)
    found: list[str] = []
    try:
        matches = list(regex.finditer(text, timeout=1.0) if _TIMEOUT else regex.finditer(text))
    except TimeoutError:
        return []
    for m in matches:
        if wanted is not None:
            found.extend(g for i, g in enumerate(m.groups(), 1) if g and i in wanted)
            continue
        groups = [g for g in m.groups() if g]
        if groups:
            found.append(groups[-1])
        elif m.group():
            found.append(m.group())
    return found


def _fixme_negatives(raw: str, rule_id: str, negatives: list[str]) -> set[str]:
    """Negative examples of ``rule_id`` that follow a FIXME comment in the rule's block."""
    start = raw.find(f"id: {rule_id}\n")
    if start == -1:
        return set()
    end = raw.find("\n- name:", start)
    block = raw[start : end if end != -1 else len(raw)]
    fixme = block.find("FIXME")
    if fixme == -1 or "negative_examples:" not in block:
        return set()
    flagged: set[str] = set()
    for text in negatives:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        at = block.find(first[:40]) if first else -1
        if at > fixme:
            flagged.add(text)
    return flagged


def cases(
    snapshot: Snapshot, source: str = "noseyparker", rules_dir: str = RULES
) -> tuple[list[Case], dict[str, int]]:
    """Examples and negative examples of every secret rule under ``rules_dir``. Kingfisher
    (MongoDB, Apache-2.0) grew out of Nosey Parker and keeps its rule format, so it is read here
    too, under its own ``source`` name."""
    skipped = {
        "no_secret_found": 0,
        "fixme_negative": 0,
        "uncompiled_rule": 0,
        "identifier_rule": 0,
        "helper_rule": 0,
    }
    out: list[Case] = []
    for path in _rule_files(snapshot, rules_dir):
        raw = snapshot.read(path)
        for rule in (yaml.safe_load(raw) or {}).get("rules", []):
            rule_id = str(rule.get("id", rule.get("name", "?")))
            categories = set(rule.get("categories") or [])
            if "identifier" in categories and "secret" not in categories:
                skipped["identifier_rule"] += 1
                continue
            if rule.get("visible") is False:
                skipped["helper_rule"] += len(rule.get("examples") or [])
                continue
            regex = compile_foreign(str(rule.get("pattern", "")))
            examples = [str(e) for e in rule.get("examples") or []]
            negatives = [str(e) for e in rule.get("negative_examples") or []]
            if regex is None:
                skipped["uncompiled_rule"] += len(examples)
                continue
            for text in examples:
                values = _groups(regex, str(rule.get("pattern", "")), text)
                if values:
                    out.append(Case(source, rule_id, text, tuple(values), path))
                else:
                    skipped["no_secret_found"] += 1
            fixme = _fixme_negatives(raw, rule_id, negatives)
            skipped["fixme_negative"] += len(fixme)
            out.extend(
                Case(source, rule_id, text, (), path)
                for text in negatives
                if text not in fixme and text.strip()
            )
    return out, skipped


def _rule_files(snapshot: Snapshot, rules_dir: str) -> list[str]:
    return snapshot.files(rules_dir, ".yml") + snapshot.files(rules_dir, ".yaml")


def checkers(snapshot: Snapshot, rules_dir: str = RULES) -> list[Callable[[str], bool]]:
    """Each secret rule's pattern, as Nosey Parker applies it: used to find look-alikes another
    scanner disputes."""
    out: list[Callable[[str], bool]] = []
    for path in _rule_files(snapshot, rules_dir):
        for rule in (yaml.safe_load(snapshot.read(path)) or {}).get("rules", []):
            categories = set(rule.get("categories") or [])
            regex = compile_foreign(str(rule.get("pattern", "")))
            if regex is not None and not (
                "identifier" in categories and "secret" not in categories
            ):
                out.append(lambda text, regex=regex: bool(_groups(regex, "", text)))
    return out

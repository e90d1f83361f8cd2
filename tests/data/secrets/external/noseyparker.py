"""Cases from Nosey Parker's rules (Apache-2.0): each rule in
``crates/noseyparker/data/default/builtin/rules/*.yml`` carries ``examples`` it must match and
``negative_examples`` it must not, checked by Nosey Parker's own tests.

The secret of an example is the last non-empty group its rule's pattern captures (rules that
capture a username and a password capture the password last). Some negative examples sit under
a ``# FIXME: extend this rule so these get matched`` comment: they are secrets the rule misses,
not look-alikes, so they are left out."""

from __future__ import annotations

import importlib.util
from typing import Any

import yaml

from .common import Case, Snapshot, compile_foreign

#: the third-party ``regex`` module (which compile_foreign prefers) takes a timeout
_TIMEOUT = importlib.util.find_spec("regex") is not None

RULES = "crates/noseyparker/data/default/builtin/rules/"


def _groups(regex: Any, text: str) -> list[str]:
    """The last group of every match; a pattern that backtracks for more than a second in
    Python's engines (Rust's does not backtrack) finds nothing."""
    found: list[str] = []
    try:
        matches = list(regex.finditer(text, timeout=1.0) if _TIMEOUT else regex.finditer(text))
    except TimeoutError:
        return []
    for m in matches:
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


def cases(snapshot: Snapshot) -> tuple[list[Case], dict[str, int]]:
    skipped = {"no_secret_found": 0, "fixme_negative": 0, "uncompiled_rule": 0}
    out: list[Case] = []
    for path in snapshot.files(RULES, ".yml"):
        raw = snapshot.read(path)
        for rule in (yaml.safe_load(raw) or {}).get("rules", []):
            rule_id = str(rule.get("id", rule.get("name", "?")))
            regex = compile_foreign(str(rule.get("pattern", "")))
            examples = [str(e) for e in rule.get("examples") or []]
            negatives = [str(e) for e in rule.get("negative_examples") or []]
            if regex is None:
                skipped["uncompiled_rule"] += len(examples)
                continue
            for text in examples:
                values = _groups(regex, text)
                if values:
                    out.append(Case("noseyparker", rule_id, text, tuple(values), path))
                else:
                    skipped["no_secret_found"] += 1
            fixme = _fixme_negatives(raw, rule_id, negatives)
            skipped["fixme_negative"] += len(fixme)
            out.extend(
                Case("noseyparker", rule_id, text, (), path)
                for text in negatives
                if text not in fixme and text.strip()
            )
    return out, skipped

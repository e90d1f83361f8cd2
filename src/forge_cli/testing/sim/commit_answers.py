"""What the simulated provider answers when it is asked for commit messages (``forge commit-msg``).

A model reads the instructions to know what to answer; so does the simulator: a request whose
instructions (every message but the last user one, which carries the pack) ask for Conventional
Commits gets one commit report per diff instead of a ticket classification. The pack itself cannot
switch the answer's kind, as a diff that mentions commits would otherwise. Reports are
deterministic (sha256 of the diff), like the classifications, so tests can predict them.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from forge_cli.testing.sim.wire import WireRequest, content_text

__all__ = ["COMMIT_TYPES", "asks_for_commits", "default_commit_report"]

COMMIT_TYPES: tuple[str, ...] = ("feat", "fix", "docs", "refactor", "test", "chore")
_MARKER = re.compile(r"conventional commits", re.IGNORECASE)
#: a changed file's path as diffs and forge's rendering of them name it
_PATH = re.compile(r"(?:^|\s)(?:[ab]/)?([\w./-]+\.\w+)")


def asks_for_commits(request: WireRequest) -> bool:
    """Whether the instructions (not the pack) ask for Conventional Commits messages."""
    messages = request.messages
    last_user = max(
        (i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"),
        default=len(messages),
    )
    return any(
        _MARKER.search(content_text(m.get("content")))
        for i, m in enumerate(messages)
        if i != last_user and isinstance(m, dict)
    )


def default_commit_report(text: str) -> dict[str, Any]:
    """The simulator's commit report for one diff: the first file it names as the scope's source."""
    pick = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    match = _PATH.search(text)
    path = match.group(1) if match else ""
    name = path.rsplit("/", 1)[-1] or "the code"
    stem = name.split(".", 1)[0].lower()
    return {
        "type": COMMIT_TYPES[pick % len(COMMIT_TYPES)],
        "scope": re.sub(r"[^a-z0-9-]", "", stem)[:20] or None,
        "breaking": False,
        "subject": f"update {name}",
        "summary": f"Simulated summary of the change to {name}.",
        "changes": [f"change {name}"],
    }

"""The commit-report task: a Conventional Commits message from a diff, for ``forge commit-msg``.

Each item's text is one redacted diff (a commit, or the staged changes). The prompt carries each diff
rendered within a token budget: the file list with +/- counts always, noise files by name only, cuts
marked. The model answers type, scope, subject, summary and changes; forge builds the title itself so
it always has the right shape and length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, field_validator

from forge_cli.core.models import Complexity
from forge_cli.core.text import estimate_tokens
from forge_cli.git.diff import parse_diff
from forge_cli.git.render import render_for_model
from forge_cli.tasks.base import TaskBase
from forge_cli.tasks.commits.message import COMMIT_TYPES, make_title
from forge_cli.tasks.commits.offline import offline_report

PROMPT_VERSION = "commits-v2"
#: heads the diff of a merge or revert commit with its subject, which the diff alone cannot tell
MERGE_PREFIX = "# merge commit: "
ANSWER_TOKENS = 220

ROLE = "You write git commit messages in the Conventional Commits style."
INSTRUCTIONS = f"""Each item of the JSON array you receive holds a diff in "text": describe each change as a
senior engineer would.

- type: one of {", ".join(COMMIT_TYPES)}
- scope: the area changed, one short lowercase word (or null)
- breaking: true only if the change breaks a public interface
- subject: imperative mood, lowercase first word, no trailing period, at most 60 characters
- summary: one sentence on what changed and why
- changes: 1 to 6 short bullet strings, most important first"""
CONSTRAINTS = """Lines such as "[forge: ... cut ...]" mark parts of a diff left out to fit a budget; files listed
under "Left out" are lock, generated, vendored or binary files shown by name only. Secrets appear as
[REDACTED:type]. Describe only what the diff shows."""
OUTPUT_FORMAT = """Answer with JSON only: {"results": [{"id": "<diff id>", "type": "...", "scope": "...",
"breaking": false, "subject": "...", "summary": "...", "changes": ["..."]}]}
with exactly one object per diff id."""
TASK = "Write one commit report for each diff in the context, in the output format."


class CommitAnswer(BaseModel):
    type: str
    scope: str | None = None
    breaking: bool = False
    subject: str
    summary: str = ""
    changes: list[str] = []

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().strip("()").lower()
            return value or None
        return value

    @field_validator("subject", mode="before")
    @classmethod
    def _subject(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = " ".join(value.split()).rstrip(".")
            if ": " in value[:30]:  # the model wrote a whole title; keep its subject
                value = value.split(": ", 1)[1]
        return value

    @field_validator("changes", mode="before")
    @classmethod
    def _changes(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [line.lstrip("-* ").strip() for line in value.splitlines() if line.strip()]
        return value


def split_merge_header(text: str) -> tuple[str | None, str]:
    """Items of merge commits start with a ``# merge commit: <subject>`` line."""
    if text.startswith(MERGE_PREFIX):
        first, _, rest = text.partition("\n")
        return first[len(MERGE_PREFIX) :].strip(), rest
    return None, text


def report_from_answer(answer: CommitAnswer) -> dict[str, Any]:
    return {
        "title": make_title(answer.type, answer.scope, answer.subject, answer.breaking),
        "type": answer.type,
        "scope": answer.scope,
        "breaking": answer.breaking,
        "summary": answer.summary,
        "changes": [c for c in (" ".join(c.lstrip("-*• ").split()) for c in answer.changes) if c][
            :8
        ],
    }


#: changed lines (the diff's own line count) at which a diff stops being simple, and becomes complex
_MEDIUM_LINES = 80
_COMPLEX_LINES = 400


class CommitTask(TaskBase):
    name = "commits"
    prompt_version = PROMPT_VERSION
    answer_model = CommitAnswer
    answer_tokens_per_item = ANSWER_TOKENS

    def __init__(self, max_tokens: int = 6000) -> None:
        self.max_tokens = max_tokens

    @property
    def answer_columns(self) -> tuple[str, ...]:
        return ("title", "type", "scope", "breaking", "summary", "changes")

    def fingerprint_parts(self) -> list[Any]:
        return [self.max_tokens]

    def sections(self) -> dict[str, str]:
        return {
            "role": ROLE,
            "instructions": INSTRUCTIONS,
            "constraints": CONSTRAINTS,
            "task": TASK,
            "output_format": OUTPUT_FORMAT,
        }

    def complexity(self, text: str) -> Complexity:
        """By the size of the diff: a big diff takes the model longer, whatever its words."""
        lines = text.count("\n")
        if lines < _MEDIUM_LINES:
            return Complexity.SIMPLE
        return Complexity.MEDIUM if lines < _COMPLEX_LINES else Complexity.COMPLEX

    def _budget(self, pack_size: int) -> int:
        return max(400, (self.max_tokens - self.system_tokens()) // max(1, pack_size))

    def render(self, text: str, pack_size: int) -> str:
        merge, diff = split_merge_header(text)
        rendered = render_for_model(parse_diff(diff), max_tokens=self._budget(pack_size)).text
        return f"Commit subject (a merge or a revert): {merge}\n{rendered}" if merge else rendered

    def estimate_request_tokens(self, texts: Sequence[str]) -> tuple[int, int]:
        """Without rendering: a diff costs at most its budget, and parsing it here would double
        the work of every pack."""
        budget = self._budget(len(texts))
        tokens = sum(min(budget, estimate_tokens(t)) + 8 for t in texts)
        return self.system_tokens() + tokens, ANSWER_TOKENS * len(texts)

    def check(self, answer: CommitAnswer) -> str | None:
        if answer.type not in COMMIT_TYPES:
            return f"type {answer.type!r} is not a Conventional type"
        if not answer.subject:
            return "empty subject"
        return None

    def to_row(self, answer: CommitAnswer) -> dict[str, Any]:
        return report_from_answer(answer)

    def offline_entry(self, text: str) -> dict[str, Any]:
        merge, diff = split_merge_header(text)
        report = offline_report(parse_diff(diff), merge_subject=merge)
        return {
            "type": report["type"],
            "scope": report["scope"],
            "breaking": report["breaking"],
            "subject": report["title"].split(": ", 1)[-1],
            "summary": report["summary"],
            "changes": report["changes"],
        }

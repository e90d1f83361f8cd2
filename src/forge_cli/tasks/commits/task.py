"""The commit-report task: a Conventional Commits message from a diff, for ``forge commit-msg``.

Each item's text is one redacted diff (a commit, or the staged changes). The prompt carries each diff
rendered within a token budget: the file list with +/- counts always, noise files by name only, cuts
marked. The model answers type, scope, subject, summary and changes; forge builds the title itself so
it always has the right shape and length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError, field_validator

from forge_cli.core.calls import PackItem, PackRequest, PromptSections
from forge_cli.core.text import estimate_tokens, snippet
from forge_cli.git.diff import parse_diff, render_for_model
from forge_cli.tasks.answers import entries_by_id, load_json
from forge_cli.tasks.base import ParsedPack
from forge_cli.tasks.commits.rules import COMMIT_TYPES, make_title, offline_report

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
SYSTEM_PROMPT = "\n\n".join((ROLE, INSTRUCTIONS, CONSTRAINTS, OUTPUT_FORMAT))


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


class CommitTask:
    name = "commits"
    prompt_version = PROMPT_VERSION
    answer_columns: tuple[str, ...] = ("title", "type", "scope", "breaking", "summary", "changes")

    def __init__(self, max_tokens: int = 6000) -> None:
        self.max_tokens = max_tokens
        self._system_tokens = estimate_tokens(SYSTEM_PROMPT)
        self._fingerprint = hashlib.sha256(
            orjson.dumps([self.name, self.prompt_version, max_tokens])
        ).hexdigest()[:16]

    def fingerprint(self) -> str:
        return self._fingerprint

    def render(self, text: str, budget: int) -> str:
        merge, diff = split_merge_header(text)
        rendered = render_for_model(parse_diff(diff), max_tokens=budget).text
        return f"Commit subject (a merge or a revert): {merge}\n{rendered}" if merge else rendered

    def build_request(self, items: Sequence[PackItem]) -> PackRequest:
        budget = max(400, (self.max_tokens - self._system_tokens) // max(1, len(items)))
        pack = [{"id": it.id, "text": self.render(it.text, budget)} for it in items]
        sections = PromptSections(
            role=ROLE,
            instructions=INSTRUCTIONS,
            constraints=CONSTRAINTS,
            context=orjson.dumps(pack).decode(),
            task=TASK,
            output_format=OUTPUT_FORMAT,
        )
        return PackRequest.from_sections(
            sections,
            items=items,
            offline=self.offline_answer,
            json_mode=True,
            max_tokens=ANSWER_TOKENS * 2 * len(items),
        )

    def estimate_request_tokens(self, texts: Sequence[str]) -> tuple[int, int]:
        budget = max(400, (self.max_tokens - self._system_tokens) // max(1, len(texts)))
        tokens = sum(min(budget, estimate_tokens(t)) + 8 for t in texts)
        return self._system_tokens + tokens, ANSWER_TOKENS * len(texts)

    def offline_answer(self, items: Sequence[PackItem]) -> str:
        results = []
        for it in items:
            merge, diff = split_merge_header(it.text)
            report = offline_report(parse_diff(diff), merge_subject=merge)
            subject = report["title"].split(": ", 1)[-1]
            results.append(
                {
                    "id": it.id,
                    "type": report["type"],
                    "scope": report["scope"],
                    "breaking": report["breaking"],
                    "subject": subject,
                    "summary": report["summary"],
                    "changes": report["changes"],
                }
            )
        return orjson.dumps({"results": results}).decode()

    def parse(self, content: str, ids: Sequence[str]) -> ParsedPack:
        data = load_json(content)
        found, duplicated = entries_by_id(data, ids)
        parsed = ParsedPack(snippet=snippet(content))
        for local_id in ids:
            row = found.get(local_id)
            if row is None:
                parsed.errors[local_id] = "missing from the answer"
            elif local_id in duplicated:
                parsed.errors[local_id] = "answered more than once, differently"
            else:
                try:
                    answer = CommitAnswer.model_validate(row)
                except ValidationError as exc:
                    err = exc.errors()[0]
                    where = ".".join(str(p) for p in err.get("loc", ()))
                    parsed.errors[local_id] = f"invalid answer: {where}: {err.get('msg')}"
                    continue
                if answer.type not in COMMIT_TYPES:
                    parsed.errors[local_id] = f"type {answer.type!r} is not a Conventional type"
                elif not answer.subject:
                    parsed.errors[local_id] = "empty subject"
                else:
                    parsed.answers[local_id] = report_from_answer(answer)
        return parsed

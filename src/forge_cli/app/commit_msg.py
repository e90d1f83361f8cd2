"""``forge commit-msg``: commit messages and reports from git diffs.

This module is imported by the git hook, whose whole process must stay well under 400 ms: at module
level it needs only the standard library and ``forge_cli.git.repo`` (which needs no more); the diff
parser and the offline rule are imported when a message is made, and the engine, the providers and
pydantic inside the functions that call a model. Reading git lives in ``forge_cli.git.repo``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_cli.core.errors import ForgeError, UsageError
from forge_cli.git.repo import commit_diff, commits_in_range, read_diff_file, repo_root, staged_diff

if TYPE_CHECKING:
    from rich.console import Console

    from forge_cli.app.settings import CommitSettings
    from forge_cli.core.models import Item
    from forge_cli.git.repo import Commit

CONFIG_SECTION = "commit-msg"


# ------------------------------------------------------------------------------------------ offline


def offline_report_for(diff_text: str, merge_subject: str | None = None) -> dict[str, Any]:
    from forge_cli.git.diff import parse_diff
    from forge_cli.tasks.commits.offline import offline_report

    return offline_report(parse_diff(diff_text), merge_subject=merge_subject)


def offline_message(diff_text: str) -> str:
    from forge_cli.tasks.commits.message import format_message

    return format_message(offline_report_for(diff_text))


# --------------------------------------------------------------------------------------- the hook


def hook_settings(cwd: Path) -> tuple[str, dict[str, Any]]:
    """The chain the hook would use, found by the one resolver's light half (no pydantic).

    Returns the provider setting ("offline" when none) and the values gathered, so the common case,
    the offline rule, never imports pydantic or the engine.
    """
    from forge_cli.app.config_files import gather, load_config

    explicit = os.environ.get("FORGE_CONFIG")
    loaded = load_config(Path(explicit) if explicit else None, start=cwd)
    values, _ = gather(CONFIG_SECTION, ("provider",), loaded=loaded)
    return str(values.get("provider") or "offline").lower(), values


def hook_message(diff_text: str, *, budget_s: float, cwd: Path) -> tuple[str, str | None]:
    """The message for the hook, and a one-line note when it fell back to the offline rule."""
    provider, _ = hook_settings(cwd)
    if provider == "offline":
        return offline_message(diff_text), None
    try:
        from forge_cli.app.settings import CommitSettings, resolve
        from forge_cli.tasks.commits.message import format_message

        settings = resolve(CommitSettings, CONFIG_SECTION, cwd=cwd)
        # the hook has one budget for everything: no retries, and no call longer than the budget
        settings = settings.model_copy(
            update={"retries": 0, "timeout": min(settings.timeout, budget_s)}
        )
        report = generate_reports([diff_text], settings)[0]
        return format_message(report), None
    except ForgeError as exc:
        reason = " ".join(str(exc).split())
        if len(reason) > 160:
            reason = reason[:159] + "…"
        return offline_message(diff_text), f"{reason}; used the offline message"


# ------------------------------------------------------------------------------- model, via engine


def generate_reports(texts: list[str], settings: CommitSettings) -> list[dict[str, Any]]:
    """Reports for a few diffs through the engine (cache, retries, breaker), in order."""
    from forge_cli.app.assemble import run_task
    from forge_cli.core.models import Item
    from forge_cli.io.sinks import MemorySink
    from forge_cli.redact import redact
    from forge_cli.tasks.commits.task import CommitTask

    results, failures = MemorySink(), MemorySink()
    items = [Item(id=str(n), line=n, text=redact(t).text) for n, t in enumerate(texts, 1)]
    try:
        outcome = run_task(
            CommitTask(max_tokens=settings.max_tokens),
            items,
            settings,
            results,
            failures,
            pack=1,
            deadline=settings.timeout * 2 + 1,
        )
    except TimeoutError:
        raise UsageError(f"{settings.provider}: no answer within {settings.timeout:g} s") from None
    if outcome.interrupted:
        raise KeyboardInterrupt
    if outcome.error is not None:
        raise UsageError(str(outcome.error))
    if failures.rows:
        row = failures.rows[0]
        message = str(row["message"])
        label = outcome.stats.provider
        # provider errors already name the provider; answers that failed checks do not
        if not any(message.startswith(f"{name}:") for name in label.split(",")):
            message = f"{label}: {message}"
        raise UsageError(f"{message} ({row['error']})")
    by_id = {row["id"]: row for row in results.rows}
    keys = ("title", "type", "scope", "breaking", "summary", "changes")
    return [{k: by_id[str(n)][k] for k in keys} for n in range(1, len(texts) + 1)]


# ------------------------------------------------------------------------------------- the command


def run_commit_msg(settings: CommitSettings, err: Console) -> int:
    if settings.range:
        return _run_range(settings, err)
    from forge_cli.redact import describe, redact

    cwd = Path.cwd()
    text = read_diff_file(settings.diff) if settings.diff else staged_diff(cwd)
    if not text.strip():
        raise UsageError("the diff is empty")
    if settings.diff:
        _require_diff(text, settings.diff)
    redacted = redact(text)
    if settings.show_redactions:
        lines = describe(redacted.findings) or ["no secrets found"]
        for line in lines:
            err.print(f"forge: redacted {line}", markup=False, soft_wrap=True)
    if settings.show_prompt:
        from forge_cli.core.calls import PackItem, new_pack_ids
        from forge_cli.tasks.commits.task import CommitTask

        # a random id, as the engine sends: what a model sees, id included
        request = CommitTask(max_tokens=settings.max_tokens).build_request(
            [PackItem(new_pack_ids(1)[0], redacted.text)]
        )
        for message in request.messages:
            sys.stdout.write(f"--- {message['role']} ---\n{message['content']}\n")
        return 0
    report = generate_reports([text], settings)[0]
    if settings.json_output:
        import orjson

        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        from forge_cli.tasks.commits.message import format_message

        sys.stdout.write(format_message(report))
    return 0


def _require_diff(text: str, name: str) -> None:
    """Refuse a ``--diff`` that holds no file change: random bytes or a log would otherwise be
    described as "chore: empty commit", or sent to a model to describe."""
    from forge_cli.git.diff import parse_diff

    if not parse_diff(text).files:
        where = "standard input" if name == "-" else name
        raise UsageError(
            f"{where}: not a unified diff (no file change in it); give it what git diff prints"
        )


def _run_range(settings: CommitSettings, err: Console) -> int:
    from forge_cli.app.run import run_to_files
    from forge_cli.tasks.commits.task import CommitTask

    assert settings.range is not None
    cwd = Path.cwd()
    root = repo_root(cwd)
    commits = commits_in_range(settings.range, root)
    if settings.batch:
        from forge_cli.app.batch.flow import BatchRun, run_batch

        run = BatchRun(
            settings,
            "commit-msg",
            CommitTask(max_tokens=settings.max_tokens),
            lambda: _commit_items(commits, root),
            "commits",
            len(commits),
            err,
            pack=1,
            label=f"forge commit-msg --range {settings.range}",
        )
        return run_batch(run)
    return run_to_files(
        settings,
        task=CommitTask(max_tokens=settings.max_tokens),
        records=_commit_items(commits, root),
        source_name="commits",
        total_hint=len(commits),
        err=err,
        pack=1,
        command=f"forge commit-msg --range {settings.range}",
    )


def _commit_items(commits: list[Commit], root: Path) -> Iterator[Item]:
    from forge_cli.core.models import Item
    from forge_cli.redact import redact
    from forge_cli.tasks.commits.task import MERGE_PREFIX

    for n, commit in enumerate(commits, 1):
        text = redact(commit_diff(commit, root, subject_prefix=MERGE_PREFIX)).text
        extra = {"commit": commit.sha, "original_subject": commit.subject}
        yield Item(id=commit.sha[:12], line=n, text=text, extra=extra)

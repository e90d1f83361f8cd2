"""``forge commit-msg``: commit messages and reports from git diffs.

This module is imported by the git hook, whose whole process must stay well under 400 ms: at module
level it needs only the standard library, the diff parser and the offline rule. The engine, the
providers and pydantic are imported inside the functions that call a model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_cli.core.errors import ForgeError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from forge_cli.app.settings import CommitSettings
    from forge_cli.core.models import Item

DIFF_ARGS = ("-M", "--no-color", "--no-ext-diff", "--no-textconv")
CONFIG_SECTION = "commit-msg"


@dataclass(slots=True, frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    subject: str


# ---------------------------------------------------------------------------------------------- git


def git(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, check=False, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {' '.join(args[:2])}: {reason[-1] if reason else 'failed'}")
    return proc.stdout.decode("utf-8", "replace")


def repo_root(cwd: Path) -> Path:
    try:
        return Path(git(["rev-parse", "--show-toplevel"], cwd).strip())
    except UsageError:
        raise UsageError(f"not a git repository: {cwd}") from None


def staged_diff(cwd: Path) -> str:
    root = repo_root(cwd)
    diff = git(["diff", "--cached", *DIFF_ARGS], root)
    if not diff.strip():
        raise UsageError("nothing staged: stage changes with 'git add', or pass --diff FILE")
    return diff


def read_diff_file(path: str) -> str:
    if path == "-":
        return sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        return Path(path).read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        raise UsageError(f"cannot read diff {path}: {exc.strerror or exc}") from None


def commits_in_range(spec: str, cwd: Path) -> list[Commit]:
    root = repo_root(cwd)
    out = git(["log", "--reverse", "--format=%H%x00%P%x00%s", spec, "--"], root)
    commits = []
    for line in out.splitlines():
        sha, parents, subject = [*line.split("\x00"), "", ""][:3]
        if sha:
            commits.append(Commit(sha, tuple(parents.split()), subject))
    if not commits:
        raise UsageError(f"no commits in range {spec}")
    return commits


def commit_diff(commit: Commit, cwd: Path) -> str:
    """What the commit changed; merges (against their first parent) and reverts carry their subject.

    Only those two keep the subject: it says what the diff cannot (which branch, what was undone),
    while for other commits the message is to be made from the diff alone.
    """
    from forge_cli.tasks.commits.task import MERGE_PREFIX

    if len(commit.parents) > 1:
        diff = git(["diff", *DIFF_ARGS, commit.parents[0], commit.sha], cwd)
        return f"{MERGE_PREFIX}{commit.subject}\n{diff}"
    diff = git(["show", "--format=", *DIFF_ARGS, commit.sha], cwd)
    if commit.subject.startswith('Revert "'):
        return f"{MERGE_PREFIX}{commit.subject}\n{diff}"
    return diff


# ------------------------------------------------------------------------------------------ offline


def offline_report_for(diff_text: str, merge_subject: str | None = None) -> dict[str, Any]:
    from forge_cli.git.diff import parse_diff
    from forge_cli.tasks.commits.rules import offline_report

    return offline_report(parse_diff(diff_text), merge_subject=merge_subject)


def offline_message(diff_text: str) -> str:
    from forge_cli.tasks.commits.rules import format_message

    return format_message(offline_report_for(diff_text))


# --------------------------------------------------------------------------------------- the hook


def hook_settings(cwd: Path) -> dict[str, Any]:
    """Settings for the hook, found as the CLI finds them: forge.toml (the user config dir and the
    repository, or FORGE_CONFIG alone) with its [commit-msg] table, top-level keys, provider
    tables and prices, then FORGE_* variables."""
    from forge_cli.app.config_files import load_config

    explicit = os.environ.get("FORGE_CONFIG")
    loaded = load_config(Path(explicit) if explicit else None, start=cwd)
    values: dict[str, Any] = dict(loaded.default_map.get(CONFIG_SECTION, {}))
    values["provider_tables"] = loaded.providers
    values["prices"] = loaded.prices
    for name in ("provider", "base_url", "model", "api_key_env", "cache_dir", "timeout", "routing"):
        env = os.environ.get(f"FORGE_{name.upper()}")
        if env:
            values[name] = env
    return values


def hook_message(diff_text: str, *, budget_s: float, cwd: Path) -> tuple[str, str | None]:
    """The message for the hook, and a one-line note when it fell back to the offline rule."""
    settings = hook_settings(cwd)
    provider = str(settings.get("provider") or "offline").lower()
    if provider == "offline":
        return offline_message(diff_text), None
    try:
        from forge_cli.app.settings import CommitSettings, validate
        from forge_cli.tasks.commits.rules import format_message

        values = {k: v for k, v in settings.items() if k in CommitSettings.model_fields}
        values.update(retries=0, timeout=min(float(values.get("timeout", budget_s)), budget_s))
        report = generate_reports([diff_text], validate(CommitSettings, values))[0]
        return format_message(report), None
    except ForgeError as exc:
        reason = " ".join(str(exc).split())
        if len(reason) > 160:
            reason = reason[:159] + "…"
        return offline_message(diff_text), f"{reason}; used the offline message"


# ------------------------------------------------------------------------------- model, via engine


def generate_reports(texts: list[str], settings: CommitSettings) -> list[dict[str, Any]]:
    """Reports for a few diffs through the engine (cache, retries, breaker), in order."""
    import asyncio

    from forge_cli.app.run import build_chain, open_cache
    from forge_cli.core.models import Item
    from forge_cli.engine.batcher import PackLimits
    from forge_cli.engine.runner import EngineConfig, Runner
    from forge_cli.engine.stats import RunStats
    from forge_cli.io.sinks import MemorySink
    from forge_cli.redact import redact
    from forge_cli.tasks.commits.task import CommitTask

    stats = RunStats()
    chain = build_chain(settings, stats)
    cache = open_cache(settings)
    results, failures = MemorySink(), MemorySink()
    items = [Item(id=str(n), line=n, text=redact(t).text) for n, t in enumerate(texts, 1)]
    runner = Runner(
        task=CommitTask(max_tokens=settings.max_tokens),
        chain=chain,
        results=results,
        failures=failures,
        stats=stats,
        cache=cache,
        config=EngineConfig(concurrency=chain.concurrency, limits=PackLimits(forced=1)),
    )

    async def main() -> None:
        try:
            await asyncio.wait_for(runner.run(items), timeout=settings.timeout * 2 + 1)
        finally:
            await chain.aclose()

    try:
        asyncio.run(main())
    except TimeoutError:
        raise UsageError(f"{chain.label}: no answer within {settings.timeout:g} s") from None
    finally:
        if cache is not None:
            cache.close()
    if runner.error is not None:
        raise UsageError(str(runner.error))
    if failures.rows:
        row = failures.rows[0]
        message = str(row["message"])  # provider errors already name the provider
        if not any(message.startswith(f"{m.name}:") for m in chain.members):
            message = f"{chain.label}: {message}"
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
    redacted = redact(text)
    if settings.show_redactions:
        lines = describe(redacted.findings) or ["no secrets found"]
        for line in lines:
            err.print(f"forge: redacted {line}", markup=False, soft_wrap=True)
    if settings.show_prompt:
        from forge_cli.core.calls import PackItem
        from forge_cli.tasks.commits.task import CommitTask

        request = CommitTask(max_tokens=settings.max_tokens).build_request(
            [PackItem("1", redacted.text)]
        )
        for message in request.messages:
            sys.stdout.write(f"--- {message['role']} ---\n{message['content']}\n")
        return 0
    report = generate_reports([text], settings)[0]
    if settings.json_output:
        import orjson

        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        from forge_cli.tasks.commits.rules import format_message

        sys.stdout.write(format_message(report))
    return 0


def _run_range(settings: CommitSettings, err: Console) -> int:
    from forge_cli.app.run import build_chain, open_cache, run_to_files
    from forge_cli.engine.batcher import PackLimits
    from forge_cli.engine.stats import RunStats
    from forge_cli.tasks.commits.task import CommitTask

    assert settings.range is not None
    cwd = Path.cwd()
    root = repo_root(cwd)
    commits = commits_in_range(settings.range, root)
    chain = build_chain(settings, RunStats(), notify=lambda line: err.print(f"forge: {line}"))
    cache = open_cache(settings)
    try:
        return run_to_files(
            settings,
            task=CommitTask(max_tokens=settings.max_tokens),
            chain=chain,
            records=_commit_items(commits, root),
            source_name="commits",
            total_hint=len(commits),
            cache=cache,
            limits=PackLimits(forced=1),
            err=err,
        )
    finally:
        if cache is not None:
            cache.close()


def _commit_items(commits: list[Commit], root: Path) -> Iterator[Item]:
    from forge_cli.core.models import Item
    from forge_cli.redact import redact

    for n, commit in enumerate(commits, 1):
        text = redact(commit_diff(commit, root)).text
        extra = {"commit": commit.sha, "original_subject": commit.subject}
        yield Item(id=commit.sha[:12], line=n, text=text, extra=extra)

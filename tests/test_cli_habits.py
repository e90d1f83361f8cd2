"""Habits users bring from other command-line tools: -h, choices shown in help, shell completion,
JSON from every command that reports, and a hook the pre-commit framework can run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from conftest import distinct_texts, forge, remote_args, write_tickets
from forge_cli.testing.sim.server import FakeUpstream

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = [
    [],
    ["classify"],
    ["commit-msg"],
    ["bench"],
    ["eval"],
    ["train"],
    ["redact"],
    ["cache"],
    ["cache", "stats"],
    ["cache", "clear"],
    ["hook"],
    ["hook", "install"],
    ["providers", "list"],
    ["providers", "check"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "forge")
def test_dash_h_is_help_everywhere(command: list[str]) -> None:
    short = forge(*command, "-h")
    assert short.exit_code == 0, short.stderr
    assert short.stdout.startswith("Usage: forge")
    assert short.stdout == forge(*command, "--help").stdout


def test_choice_options_show_their_choices() -> None:
    classify = forge("classify", "-h").stdout
    assert "--format [jsonl|csv|...]" in classify
    assert "--routing [ordered|cheapest|fastest|balanced]" in classify
    assert "--redact [none|secrets|pii]" in classify
    assert "--input-format [jsonl|csv]" in classify
    for command in ("eval", "train"):
        assert "--input-format [jsonl|csv]" in forge(command, "-h").stdout


def test_choices_are_still_checked_by_the_settings_resolver(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(3))
    run = forge("classify", str(src), "--routing", "fastes")
    assert run.exit_code == 2
    assert "routing" in run.stderr


def test_shell_completion_is_offered_and_answers() -> None:
    assert "--install-completion" in forge("-h").stdout
    env = {
        **os.environ,
        "_FORGE_COMPLETE": "complete_bash",
        "COMP_WORDS": "forge cla",
        "COMP_CWORD": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", "from forge_cli.cli.main import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["classify"]


def test_cache_stats_json(tmp_path: Path, upstream: FakeUpstream) -> None:
    empty = forge("cache", "stats", "--json", "--cache-dir", str(tmp_path / "none"))
    assert empty.exit_code == 0
    assert orjson.loads(empty.stdout) == {
        "cache_dir": str(tmp_path / "none"),
        "exists": False,
        "entries": 0,
        "bytes": 0,
    }
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(7))
    assert forge("classify", str(src), *remote_args(upstream), "--pack", "1").exit_code == 0
    stats = orjson.loads(forge("cache", "stats", "--json").stdout)
    assert stats["exists"] is True and stats["entries"] == 7 and stats["bytes"] > 0
    assert stats["cache_dir"] == os.environ["FORGE_CACHE_DIR"]


# ---------------------------------------------------------------------- the pre-commit framework


def hook_entry() -> list[str]:
    """The entry line of .pre-commit-hooks.yaml, as pre-commit would run it in its virtualenv."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    entries = [line.split(":", 1)[1].split() for line in text.splitlines() if "  entry:" in line]
    assert len(entries) == 1
    assert "stages: [prepare-commit-msg]" in text
    assert entries[0][0] == "python"
    return [sys.executable, *entries[0][1:]]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=30
    ).stdout


@pytest.fixture
def staged_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{var}_NAME", "Test")
        monkeypatch.setenv(f"{var}_EMAIL", "test@example.com")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "parser.py").write_text("def parse(text):\n    return text.split()\n")
    git(repo, "add", ".")
    return repo


def run_entry(repo: Path, msgfile: Path, **env: str) -> subprocess.CompletedProcess[str]:
    for name in ("PRE_COMMIT_COMMIT_MSG_SOURCE", "PRE_COMMIT_COMMIT_OBJECT_NAME"):
        os.environ.pop(name, None)
    return subprocess.run(
        [*hook_entry(), str(msgfile)],
        cwd=repo,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_pre_commit_hook_fills_a_plain_commit(staged_repo: Path) -> None:
    msgfile = staged_repo / ".git" / "COMMIT_EDITMSG"
    msgfile.write_text("\n# Please enter the commit message\n")
    done = run_entry(staged_repo, msgfile, PRE_COMMIT_COMMIT_MSG_SOURCE="")
    assert done.returncode == 0, done.stderr
    first = msgfile.read_text().splitlines()[0]
    assert first.startswith(("feat", "chore", "refactor", "fix")) and "parser" in first


def test_pre_commit_hook_leaves_a_message_given_with_dash_m(staged_repo: Path) -> None:
    msgfile = staged_repo / ".git" / "COMMIT_EDITMSG"
    msgfile.write_text("my own words\n")
    # pre-commit passes only the file; git's SOURCE comes in its environment
    done = run_entry(staged_repo, msgfile, PRE_COMMIT_COMMIT_MSG_SOURCE="message")
    assert done.returncode == 0, done.stderr
    assert msgfile.read_text() == "my own words\n"


# ---------------------------------------------------------------------- help says what the code does


def test_classify_help_lists_every_exit_code_and_the_cut() -> None:
    from forge_cli.tasks.base import TaskBase

    text = " ".join(forge("classify", "-h").stdout.split())
    for code in ("0 all done", "1 some records failed", "2 usage or input error", "130", "143"):
        assert code in text
    assert "outputs that cannot be written" in text
    assert f"Texts over {TaskBase.max_item_chars:,} characters are cut" in text
    assert "stdin.results.jsonl" in text


def test_commit_msg_out_dir_help_says_this_folder() -> None:
    text = " ".join(forge("commit-msg", "-h").stdout.split())
    assert "--out-dir <path> Where --range writes commits.results.jsonl" in text
    assert "(default: this folder)" in text
    from forge_cli.io.sinks import output_paths

    # what --range hands the writer: a name with no folder, so the outputs land in this one
    assert output_paths("commits", None, "jsonl")[0] == Path("commits.results.jsonl")

"""forge's prepare-commit-msg hook, in real git repositories in temporary folders.

Two layers: ``git commit`` runs with the hook installed (no ``--no-verify``, no editor: the editor is
``true``), which proves the whole path git -> sh -> python works; and direct ``run_hook`` calls with
injected ``generate``/``offline`` functions, which reach the faults a subprocess cannot be steered
into (a raising or hung model, garbage, signals, a failing write).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from conftest import KEY_ENV, forge
from forge_cli.app import hook as hooks
from forge_cli.app import hook_install as installer
from forge_cli.app.hook_install import CHAINED_SUFFIX, HOOK_NAME, MARKER, HookError
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.server import FakeUpstream

GIT_TEMPLATE = (
    "\n"
    "# Please enter the commit message for your changes. Lines starting\n"
    "# with '#' will be ignored, and an empty message aborts the commit.\n"
)
DIFF = ("diff", "--cached", "-M", "--no-color", "--no-ext-diff", "--no-textconv")


def git(repo: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def last_message(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%B").stdout.rstrip("\n")


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD").stdout)


def expected_offline(repo: Path) -> str:
    """What git keeps of the offline message for what is staged now (comments and blanks cleaned)."""
    from forge_cli.app.commit_msg import offline_message

    message = offline_message(git(repo, *DIFF).stdout)
    cleaned = subprocess.run(
        ["git", "stripspace", "--strip-comments"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    )
    return cleaned.stdout.rstrip("\n")


def forge_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config from the machine; no editor; a fixed identity."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_EDITOR", "true")
    for var in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{var}_NAME", "Test")
        monkeypatch.setenv(f"{var}_EMAIL", "test@example.com")
    monkeypatch.delenv(hooks.BUDGET_ENV, raising=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# demo\n\nA small demo project.\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    monkeypatch.chdir(root)
    return root


def stage_feature(repo: Path, name: str = "parser") -> None:
    src = repo / "src" / "app"
    src.mkdir(parents=True, exist_ok=True)
    (src / f"{name}.py").write_text(
        f"class {name.title()}:\n"
        "    def parse(self, text):\n"
        "        return dict(line.split('=') for line in text.splitlines())\n"
    )
    with (repo / "README.md").open("a") as f:
        f.write(f"\nUse the {name} to read settings.\n")
    git(repo, "add", ".")


def hook_path(repo: Path) -> Path:
    return repo / ".git" / "hooks" / HOOK_NAME


def write_foreign(path: Path, body: str, *, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(mode)
    return path


# ------------------------------------------------------------------------ install / uninstall


def test_install_status_uninstall(repo: Path) -> None:
    before = installer.status(repo)
    assert not before.installed and not before.foreign and before.chained is None
    assert before.path == hook_path(repo) and before.hooks_path_config is None

    state = installer.install(repo)
    hook = hook_path(repo)
    assert state.installed and not state.foreign and state.path == hook
    text = hook.read_text()
    assert text.startswith("#!/bin/sh\n") and MARKER in text.splitlines()
    assert f"'{sys.executable}'" in text  # the interpreter, absolute, captured at install
    assert os.access(hook, os.X_OK)
    assert installer.status(repo).installed

    gone = installer.uninstall(repo)
    assert not gone.installed and not hook.exists()
    with pytest.raises(HookError, match="no forge hook"):
        installer.uninstall(repo)


def test_a_hook_from_an_older_forge_is_reported_and_updated(repo: Path, monkeypatch) -> None:
    """forge 0.1 hooks ran ``python -m forge_cli.hooks``, a module that is gone: say so."""
    installer.install(repo)
    hook = hook_path(repo)
    hook.write_text(hook.read_text().replace(installer.RUNTIME_MODULE, "forge_cli.hooks"))
    assert installer.status(repo).outdated
    monkeypatch.chdir(repo)
    run = forge("hook", "status")
    assert run.exit_code == 0 and "older forge" in run.stdout and "forge hook install" in run.stdout
    state = installer.install(repo)  # forge's own hook is updated in place
    assert state.installed and not installer.status(repo).outdated
    assert not installer.status(repo).foreign


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for action in (installer.install, installer.status, installer.uninstall):
        with pytest.raises(HookError, match="not a git repository"):
            action(plain)
    with pytest.raises(HookError, match="not a git repository"):
        installer.install(tmp_path / "missing")


def test_install_rejects_bad_budget_and_relative_python(repo: Path) -> None:
    with pytest.raises(HookError, match="positive number"):
        installer.install(repo, budget=0)
    with pytest.raises(HookError, match="absolute path"):
        installer.install(repo, python="python3")
    assert not hook_path(repo).exists()


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_honours_core_hooks_path(repo: Path, tmp_path: Path, kind: str) -> None:
    value = "tools/githooks" if kind == "relative" else str(tmp_path / "shared-hooks")
    git(repo, "config", "core.hooksPath", value)
    where = repo / value if kind == "relative" else Path(value)
    sub = repo / "src"
    sub.mkdir()
    state = installer.install(sub)  # from a subdirectory: relative paths are from the worktree root
    assert state.path == where / HOOK_NAME and state.installed
    assert state.hooks_path_config == value
    assert not hook_path(repo).exists()

    stage_feature(repo)
    expected = expected_offline(repo)
    run = git(repo, "commit", "-q")
    assert last_message(repo) == expected and forge_lines(run.stderr) == []
    installer.uninstall(repo)
    assert not (where / HOOK_NAME).exists()


def test_refuses_a_foreign_hook(repo: Path) -> None:
    foreign = write_foreign(hook_path(repo), "echo theirs >/dev/null")
    original = foreign.read_bytes()
    with pytest.raises(HookError) as caught:
        installer.install(repo)
    assert str(caught.value) == (
        f"a {HOOK_NAME} hook that forge did not write is already there: {foreign}; "
        "use --chain to run it before forge"
    )
    state = installer.status(repo)
    assert state.foreign and not state.installed
    with pytest.raises(HookError, match="not written by forge"):
        installer.uninstall(repo)
    assert foreign.read_bytes() == original


def test_chain_runs_the_original_first_and_uninstall_restores_it(repo: Path) -> None:
    log = repo.parent / "chained.log"
    foreign = write_foreign(
        hook_path(repo), f'echo "$# [$1] [$2]" >> "{log}"\necho "Refs: #42" >> "$1"'
    )
    original = foreign.read_bytes()

    state = installer.install(repo, chain=True)
    chained = foreign.with_name(HOOK_NAME + CHAINED_SUFFIX)
    assert state.installed and state.chained == chained and chained.read_bytes() == original
    assert installer.install(repo, chain=True).chained == chained  # re-install keeps the chain

    stage_feature(repo)
    expected = expected_offline(repo)
    git(repo, "commit", "-q")
    assert log.read_text() == "1 [.git/COMMIT_EDITMSG] []\n"  # as git called it
    assert last_message(repo) == expected + "\n\nRefs: #42"  # forge's above what the hook added

    git(repo, "commit", "-q", "--allow-empty", "-m", "mine")  # the chained hook sees -m too
    assert log.read_text().splitlines()[-1] == "2 [.git/COMMIT_EDITMSG] [message]"
    assert last_message(repo) == "mine\nRefs: #42"  # forge stayed out of it

    restored = installer.uninstall(repo)
    assert restored.foreign and not restored.installed and restored.chained is None
    assert foreign.read_bytes() == original and os.access(foreign, os.X_OK)
    assert not chained.exists()


def test_a_failing_chained_hook_still_decides(repo: Path) -> None:
    write_foreign(hook_path(repo), "echo 'policy: no commits today' >&2\nexit 3")
    installer.install(repo, chain=True)
    stage_feature(repo)
    run = git(repo, "commit", "-q", check=False)
    assert run.returncode != 0 and "policy: no commits today" in run.stderr
    assert commit_count(repo) == 1


def test_chain_keeps_a_disabled_hook_disabled(repo: Path) -> None:
    marker = repo.parent / "ran"
    write_foreign(hook_path(repo), f'touch "{marker}"', mode=0o644)
    state = installer.install(repo, chain=True)
    assert state.chained is not None and not os.access(state.chained, os.X_OK)
    stage_feature(repo)
    git(repo, "commit", "-q")
    assert not marker.exists() and commit_count(repo) == 2  # git was not running it either
    installer.uninstall(repo)
    assert stat.S_IMODE(hook_path(repo).stat().st_mode) == 0o644


def test_chain_moves_a_symlink_as_a_symlink(repo: Path) -> None:
    marker = repo.parent / "ran"
    target = write_foreign(repo / ".git" / "shared-hook", f'touch "{marker}"')
    hook_path(repo).parent.mkdir(exist_ok=True)
    hook_path(repo).symlink_to("../shared-hook")
    state = installer.install(repo, chain=True)
    assert state.chained is not None and state.chained.is_symlink()
    assert target.read_text().endswith(f'touch "{marker}"\n')  # the target was not touched
    stage_feature(repo)
    git(repo, "commit", "-q")
    assert marker.exists()
    installer.uninstall(repo)
    assert hook_path(repo).is_symlink() and os.readlink(hook_path(repo)) == "../shared-hook"


def test_chain_refuses_to_overwrite_an_existing_chained_file(repo: Path) -> None:
    write_foreign(hook_path(repo), "exit 0")
    stray = write_foreign(hook_path(repo).with_name(HOOK_NAME + CHAINED_SUFFIX), "exit 1")
    with pytest.raises(HookError, match="already exists"):
        installer.install(repo, chain=True)
    assert stray.read_text().endswith("exit 1\n") and not installer.status(repo).installed


def test_reinstall_updates_in_place(repo: Path) -> None:
    installer.install(repo, budget=2.5)
    assert "run --budget=2.5 " in hook_path(repo).read_text()
    state = installer.install(repo, python="/opt/other/python")
    text = hook_path(repo).read_text()
    assert state.installed and state.chained is None and "--budget" not in text
    assert "'/opt/other/python'" in text
    names = {p.name for p in hook_path(repo).parent.iterdir()} - {f"{HOOK_NAME}.sample"}
    assert {n for n in names if HOOK_NAME in n} == {HOOK_NAME}
    older = hook_path(repo).read_text().replace(MARKER, "# forge-hook v0")
    hook_path(repo).write_text(older)
    assert installer.install(repo).installed  # an older forge hook is forge's too
    assert MARKER in hook_path(repo).read_text()


def test_cli_commands(repo: Path) -> None:
    run = forge("hook", "install")
    assert run.exit_code == 0 and f"forge hook installed at {hook_path(repo)}" in run.stdout
    assert "installed" in forge("hook", "status").stdout
    assert forge("hook", "uninstall").exit_code == 0
    write_foreign(hook_path(repo), "exit 0")
    refused = forge("hook", "install")
    assert refused.exit_code == 2 and "--chain" in refused.stderr


# ------------------------------------------------------------------------- git commit, offline


def test_commit_without_m_gets_the_generated_message(repo: Path) -> None:
    installer.install(repo)
    stage_feature(repo)
    expected = expected_offline(repo)
    run = git(repo, "commit", "-q")
    assert run.returncode == 0 and forge_lines(run.stderr) == []
    assert commit_count(repo) == 2
    assert last_message(repo) == expected and expected.startswith("feat")


def test_commit_with_m_keeps_the_message(repo: Path) -> None:
    installer.install(repo)
    stage_feature(repo)
    git(repo, "commit", "-q", "-m", "mine")
    assert last_message(repo) == "mine" and commit_count(repo) == 2


def test_commit_with_F_keeps_the_message(repo: Path) -> None:
    installer.install(repo)
    stage_feature(repo)
    (repo.parent / "msg.txt").write_text("from a file\n")
    git(repo, "commit", "-q", "-F", str(repo.parent / "msg.txt"))
    assert last_message(repo) == "from a file"


def test_amend_keeps_the_message(repo: Path) -> None:
    installer.install(repo)
    stage_feature(repo)
    git(repo, "commit", "-q", "-m", "first version")
    stage_feature(repo, "loader")
    git(repo, "commit", "-q", "--amend")
    assert last_message(repo) == "first version" and commit_count(repo) == 2


def test_merge_keeps_gits_message(repo: Path) -> None:
    installer.install(repo)
    git(repo, "switch", "-q", "-c", "feature")
    stage_feature(repo)
    git(repo, "commit", "-q", "-m", "feature work")
    git(repo, "switch", "-q", "main")
    (repo / "NOTES.md").write_text("notes\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "notes")
    git(repo, "merge", "-q", "--no-ff", "feature")
    assert last_message(repo) == "Merge branch 'feature'"
    assert len(git(repo, "log", "-1", "--format=%P").stdout.split()) == 2


def test_squash_keeps_gits_message(repo: Path) -> None:
    installer.install(repo)
    git(repo, "switch", "-q", "-c", "feature")
    stage_feature(repo)
    git(repo, "commit", "-q", "-m", "feature work")
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--squash", "feature")
    git(repo, "commit", "-q")
    message = last_message(repo)
    assert message.startswith("Squashed commit of the following:") and "feature work" in message


def test_template_stays_below_the_generated_message(repo: Path) -> None:
    template = repo.parent / "template.txt"
    template.write_text("Why:\n\n# explain the change above\n")
    git(repo, "config", "commit.template", str(template))
    installer.install(repo)
    stage_feature(repo)
    expected = expected_offline(repo)
    git(repo, "commit", "-q")
    assert last_message(repo) == expected + "\n\nWhy:"


def test_first_commit_and_commit_all(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "main")
    installer.install(fresh)
    stage_feature(fresh)
    expected = expected_offline(fresh)
    git(fresh, "commit", "-q")  # no HEAD yet
    assert last_message(fresh) == expected

    (fresh / "README.md").write_text("# rewritten\n")  # not staged: `commit -a` stages it
    git(fresh, "commit", "-q", "-a")
    from forge_cli.app.commit_msg import offline_message

    shown = git(fresh, "diff", "-M", "--no-color", "HEAD~1", "HEAD").stdout
    assert "README" in last_message(fresh)
    assert last_message(fresh).splitlines()[0] == offline_message(shown).splitlines()[0]


def test_verbose_commit_keeps_the_scissors(repo: Path) -> None:
    installer.install(repo)
    stage_feature(repo)
    expected = expected_offline(repo)
    git(repo, "commit", "-q", "-v")
    assert last_message(repo) == expected


def test_hook_with_a_missing_interpreter_still_commits(repo: Path) -> None:
    installer.install(repo, python="/nonexistent/bin/python")
    stage_feature(repo)
    run = git(repo, "commit", "-q", "-m", "by hand")
    assert last_message(repo) == "by hand"
    assert forge_lines(run.stderr) == [
        "forge: /nonexistent/bin/python is gone; commit message not generated "
        "(run 'forge hook install' again)"
    ]


def test_module_entry_point_without_tty(repo: Path) -> None:
    stage_feature(repo)
    msgfile = repo / ".git" / "COMMIT_EDITMSG"
    msgfile.write_text(GIT_TEMPLATE)
    cmd = [sys.executable, "-P", "-m", "forge_cli.app.hook"]
    run = subprocess.run(
        [*cmd, "run", "--budget=3", str(msgfile), ""],
        cwd=repo,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal
    )
    assert run.returncode == 0 and run.stderr == "" and run.stdout == ""
    assert msgfile.read_text().endswith(GIT_TEMPLATE) and msgfile.read_text().startswith("feat")
    bad = subprocess.run([*cmd, "bogus"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert bad.returncode == 2 and bad.stderr.startswith("usage:")


# --------------------------------------------------------------- run_hook, injected functions


class Hook:
    """run_hook against a message file git would have written, with what it printed."""

    def __init__(self, repo: Path) -> None:
        self.msgfile = repo / ".git" / "COMMIT_EDITMSG"
        self.msgfile.write_text(GIT_TEMPLATE)
        self.calls: list[dict[str, Any]] = []

    def run(self, *args: str, generate: Any = None, offline: Any = None, **kw: Any) -> list[str]:
        err = StringIO()
        code = hooks.run_hook(
            [str(self.msgfile), *args],
            generate=generate or self.model("feat(app): add a parser"),
            offline=offline or (lambda diff: "chore: offline message\n\n- from the rule\n"),
            stderr=err,
            **kw,
        )
        assert code == 0
        return err.getvalue().splitlines()

    def model(self, message: Any, note: str | None = None) -> Callable[..., Any]:
        def generate(diff: str, *, budget_s: float, cwd: Path) -> Any:
            self.calls.append({"diff": diff, "budget_s": budget_s, "cwd": cwd})
            return (message, note)

        return generate

    @property
    def text(self) -> str:
        return self.msgfile.read_text()


OFFLINE_TEXT = "chore: offline message\n\n- from the rule\n\n" + GIT_TEMPLATE.lstrip("\n")


@pytest.fixture
def hook(repo: Path) -> Hook:
    stage_feature(repo)
    return Hook(repo)


def test_run_hook_writes_above_gits_comments(hook: Hook, repo: Path) -> None:
    assert hook.run("") == []
    assert hook.text == "feat(app): add a parser\n\n" + GIT_TEMPLATE.lstrip("\n")
    call = hook.calls[0]
    assert call["diff"] == git(repo, *DIFF).stdout and call["cwd"] == repo
    assert call["budget_s"] == hooks.DEFAULT_BUDGET
    assert stat.S_IMODE(hook.msgfile.stat().st_mode) == 0o644
    assert [p.name for p in hook.msgfile.parent.glob(".COMMIT_EDITMSG*")] == []


def test_run_hook_template_source(hook: Hook) -> None:
    hook.msgfile.write_text("Why:\n\n# explain\n")
    assert hook.run("template") == []
    assert hook.text == "feat(app): add a parser\n\nWhy:\n\n# explain\n"


@pytest.mark.parametrize("source", ["message", "merge", "squash", "commit", "something-new"])
def test_run_hook_skips_messages_that_have_a_source(hook: Hook, source: str) -> None:
    assert hook.run(source, "HEAD") == []
    assert hook.text == GIT_TEMPLATE and hook.calls == []


def test_run_hook_empty_diff_leaves_the_file(repo: Path) -> None:
    hook = Hook(repo)
    assert hook.run("") == [] and hook.text == GIT_TEMPLATE and hook.calls == []


def test_run_hook_passes_the_models_note_through(hook: Hook) -> None:
    note = "openai: 503 server_error; used the offline message"
    lines = hook.run("", generate=hook.model("fix: from the fallback", note))
    assert lines == [f"forge: {note}"] and hook.text.startswith("fix: from the fallback\n\n#")


def test_run_hook_generate_raises(hook: Hook) -> None:
    def boom(diff: str, **kw: Any) -> tuple[str, None]:
        raise RuntimeError("connection refused\nwith a second line")

    lines = hook.run("", generate=boom)
    assert lines == [
        "forge: RuntimeError: connection refused with a second line; used the offline message"
    ]
    assert hook.text == OFFLINE_TEXT


def test_run_hook_generate_past_the_budget(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hooks.BUDGET_ENV, "0.5")
    release = threading.Event()

    def hung(diff: str, *, budget_s: float, cwd: Path) -> tuple[str, None]:
        release.wait(10)
        return "feat: too late", None

    started = time.monotonic()
    try:
        lines = hook.run("", generate=hung)
    finally:
        release.set()
    assert time.monotonic() - started < 3
    assert lines == ["forge: model did not answer within 0.5 s; used the offline message"]
    assert hook.text == OFFLINE_TEXT


@pytest.mark.parametrize(
    "answer",
    [None, 42, ("", None), ("   \n", None), ("# only a comment\n", None), ("a\x00b", None), ["x"]],
)
def test_run_hook_generate_returns_garbage(hook: Hook, answer: Any) -> None:
    lines = hook.run("", generate=lambda diff, **kw: answer)
    assert lines == ["forge: model gave no usable message; used the offline message"]
    assert hook.text == OFFLINE_TEXT


def test_run_hook_accepts_a_plain_string(hook: Hook) -> None:
    assert hook.run("", generate=lambda diff, **kw: "docs: plain\n") == []
    assert hook.text.startswith("docs: plain\n\n# Please")


def test_run_hook_offline_fails_too(hook: Hook) -> None:
    def broken(diff: str) -> str:
        raise ValueError("rule crashed")

    lines = hook.run("", generate=lambda diff, **kw: None, offline=broken)
    assert lines == [
        "forge: model gave no usable message, and the offline message failed "
        "(ValueError: rule crashed); commit message left as it was"
    ]
    assert hook.text == GIT_TEMPLATE


def test_run_hook_budget_precedence(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    hook.run("", installed_budget=3.0)
    monkeypatch.setenv(hooks.BUDGET_ENV, "0.7")
    hook.run("", installed_budget=3.0)
    monkeypatch.setenv(hooks.BUDGET_ENV, "soon")
    hook.run("", installed_budget=3.0)
    monkeypatch.setenv(hooks.BUDGET_ENV, "-1")
    hook.run("")
    assert [c["budget_s"] for c in hook.calls] == [3.0, 0.7, 3.0, hooks.DEFAULT_BUDGET]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_hook_interrupted_leaves_the_file(hook: Hook, signum: int) -> None:
    before = signal.getsignal(signal.SIGTERM)
    main = threading.main_thread().ident
    assert main is not None

    def interrupted(diff: str, **kw: Any) -> tuple[str, None]:
        signal.pthread_kill(main, signum)
        time.sleep(2)
        return "feat: never", None

    lines = hook.run("", generate=interrupted)
    assert lines == ["forge: interrupted; commit message left as it was"]
    assert hook.text == GIT_TEMPLATE
    assert signal.getsignal(signal.SIGTERM) == before


def test_run_hook_interrupted_in_the_offline_rule(hook: Hook) -> None:
    def interrupted(diff: str) -> str:
        raise KeyboardInterrupt

    lines = hook.run("", generate=lambda diff, **kw: None, offline=interrupted)
    assert lines == ["forge: interrupted; commit message left as it was"]
    assert hook.text == GIT_TEMPLATE


def test_run_hook_failed_write_leaves_the_file(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(hooks.os, "replace", refuse)
    lines = hook.run("")
    assert lines == [
        "forge: PermissionError: [Errno 13] Permission denied; commit message left as it was"
    ]
    assert hook.text == GIT_TEMPLATE
    assert [p.name for p in hook.msgfile.parent.glob(".COMMIT_EDITMSG*")] == []


def test_run_hook_bad_arguments_and_no_repository(tmp_path: Path) -> None:
    err = StringIO()
    assert hooks.run_hook([], stderr=err) == 0
    assert err.getvalue() == "forge: the hook was called without a message file; nothing done\n"
    msgfile = tmp_path / "MSG"
    msgfile.write_text(GIT_TEMPLATE)
    err = StringIO()
    assert hooks.run_hook([str(msgfile)], stderr=err, generate=lambda d, **kw: "x") == 0
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forge: git diff --cached failed: ")
    assert msgfile.read_text() == GIT_TEMPLATE


# ------------------------------------------------------------- git commit, real provider faults


def use_provider(repo: Path, base_url: str) -> None:
    (repo / "forge.toml").write_text(
        "[commit-msg]\n"
        'provider = "openai"\n'
        f'base_url = "{base_url}"\n'
        f'api_key_env = "{KEY_ENV}"\n'
        'model = "gpt-4o-mini"\n'
    )


def commit_answers(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": i["id"],
            "type": "feat",
            "scope": "parser",
            "breaking": False,
            "subject": "Add a tolerant settings parser",
            "summary": "Adds a parser for key=value settings.",
            "changes": ["add the Parser class", "document it in the README"],
        }
        for i in items
    ]


def test_provider_answers_and_the_same_diff_comes_from_the_cache(repo: Path) -> None:
    with FakeUpstream(api_key=os.environ[KEY_ENV], responder=commit_answers) as server:
        use_provider(repo, server.base_url)
        installer.install(repo)
        stage_feature(repo)
        run = git(repo, "commit", "-q")
        assert forge_lines(run.stderr) == [] and server.stats.requests == 1
        first = last_message(repo)
        assert first.startswith("feat(parser): add a tolerant settings parser\n\n")
        assert "document it in the README" in first

        git(repo, "reset", "-q", "--soft", "HEAD~1")  # the same staged diff again
        git(repo, "commit", "-q")
        assert last_message(repo) == first and server.stats.requests == 1
        assert commit_count(repo) == 2


def test_provider_down(repo: Path) -> None:
    server = FakeUpstream().start()
    base_url = server.base_url
    server.stop()  # nothing listens on that port any more
    use_provider(repo, base_url)
    installer.install(repo)
    stage_feature(repo)
    expected = expected_offline(repo)
    run = git(repo, "commit", "-q")
    lines = forge_lines(run.stderr)
    assert len(lines) == 1 and lines[0].startswith("forge: ") and "offline message" in lines[0]
    assert last_message(repo) == expected and commit_count(repo) == 2


def test_provider_slow_past_the_budget(repo: Path) -> None:
    with FakeUpstream(api_key=os.environ[KEY_ENV], latency=5.0) as server:
        use_provider(repo, server.base_url)
        installer.install(repo)
        stage_feature(repo)
        expected = expected_offline(repo)
        started = time.monotonic()
        run = git(repo, "commit", "-q", **{hooks.BUDGET_ENV: "0.5"})
        elapsed = time.monotonic() - started
    lines = forge_lines(run.stderr)
    assert len(lines) == 1 and "offline message" in lines[0] and "0.5 s" in lines[0], lines
    assert last_message(repo) == expected and commit_count(repo) == 2
    assert elapsed < 4.0  # did not wait for the 5 s answer


def test_provider_returns_garbage(repo: Path) -> None:
    with FakeUpstream(api_key=os.environ[KEY_ENV]) as server:
        server.fault_when(lambda items: Fault("malformed"))
        use_provider(repo, server.base_url)
        installer.install(repo)
        stage_feature(repo)
        expected = expected_offline(repo)
        run = git(repo, "commit", "-q")
        assert server.stats.requests >= 1
    lines = forge_lines(run.stderr)
    assert len(lines) == 1 and lines[0].startswith("forge: ") and "offline message" in lines[0]
    assert last_message(repo) == expected and commit_count(repo) == 2


def test_hook_follows_a_chain_from_forge_toml(repo: Path) -> None:
    # the first provider is down; the hook's message comes from the second, a native Anthropic
    # wire configured as a [providers.NAME] table, just as `forge commit-msg` would use it
    from forge_cli.testing.sim.anthropic_wire import AnthropicWire

    down = FakeUpstream().start()
    dead_url = down.base_url
    down.stop()
    with FakeUpstream(
        api_key=os.environ[KEY_ENV], responder=commit_answers, wire=AnthropicWire()
    ) as claude:
        (repo / "forge.toml").write_text(
            '[commit-msg]\nprovider = ["down", "claude"]\n'
            f'[providers.down]\ntype = "openai"\nbase_url = "{dead_url}"\n'
            f'api_key_env = "{KEY_ENV}"\n'
            f'[providers.claude]\ntype = "anthropic"\nbase_url = "{claude.base_url}"\n'
            f'api_key_env = "{KEY_ENV}"\n'
        )
        installer.install(repo)
        stage_feature(repo)
        run = git(repo, "commit", "-q")
        assert forge_lines(run.stderr) == [], run.stderr
        assert claude.stats.requests == 1
    assert last_message(repo).startswith("feat(parser): add a tolerant settings parser")

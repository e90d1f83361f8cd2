"""The offline commit rule (forge_cli.tasks.commits.offline and its helpers) on real git diffs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from forge_cli.git.diff import parse_diff
from forge_cli.tasks.commits.files import file_kind
from forge_cli.tasks.commits.message import COMMIT_TYPES, TITLE_MAX, format_message, make_title
from forge_cli.tasks.commits.offline import offline_report
from gitrepo import Repo as GitRepo

TITLE = re.compile(
    r"^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\([a-z0-9_.\-/]+\))?!?: \S"
)
KEYS = {"title", "type", "scope", "breaking", "summary", "changes"}

BREAKER = '''"""Stop calling a failing upstream for a while."""


class CircuitBreaker:
    def __init__(self, threshold: int = 5) -> None:
        self.threshold = threshold
        self.failures = 0

    def record(self, ok: bool) -> None:
        self.failures = 0 if ok else self.failures + 1


class RateGate:
    def __init__(self, rate: float) -> None:
        self.rate = rate
'''

STATS = '''"""Small statistics helpers."""


def average(values):
    return sum(values) / len(values)


def spread(values):
    return max(values) - min(values)


def total(values, start=0):
    return sum(values, start)
'''


class Repo(GitRepo):
    def report(self, merge_subject: str | None = None) -> dict[str, Any]:
        return check(offline_report(parse_diff(self.staged()), merge_subject=merge_subject))


def check(report: dict[str, Any]) -> dict[str, Any]:
    """What every report must satisfy, whatever the diff."""
    assert set(report) == KEYS
    assert report["type"] in COMMIT_TYPES
    assert TITLE.match(report["title"]) and len(report["title"]) <= TITLE_MAX, report["title"]
    assert not report["title"].endswith(".")
    scope = report["scope"]
    assert scope is None or (re.fullmatch(r"[a-z0-9_.\-/]+", scope) and len(scope) <= 20)
    expected = (
        report["type"] + (f"({scope})" if scope else "") + ("!" if report["breaking"] else "")
    )
    assert report["title"].startswith(expected + ": ")
    assert isinstance(report["summary"], str) and report["summary"].endswith(".")
    assert all(isinstance(c, str) and c for c in report["changes"])
    assert len(report["changes"]) <= 8
    message = format_message(report)
    assert message.endswith("\n") and message.splitlines()[0] == report["title"]
    assert all(len(line) <= 72 or " " not in line.strip() for line in message.splitlines())
    return report


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("README.md", "# demo\n\nA demo project.\n")
    r.write("src/forge_cli/engine/stats.py", STATS)
    r.write("src/forge_cli/cli.py", "def main():\n    print('hello')\n")
    r.write("tests/test_stats.py", "def test_average():\n    assert True\n")
    r.write("pyproject.toml", '[project]\nname = "demo"\ndependencies = []\n')
    r.write("run.sh", "#!/bin/sh\necho hi\n")
    r.commit("initial")
    return r


def subject(report: dict[str, Any]) -> str:
    return report["title"].split(": ", 1)[1]


def test_docs_only(repo: Repo) -> None:
    repo.write("docs/guide.md", "# Guide\n\nHow to use it.\n")
    repo.write("README.md", "# demo\n\nA demo project, now with a guide.\n")
    report = repo.report()
    assert report["type"] == "docs" and not report["breaking"]
    assert subject(report) == "update README.md and guide.md"  # in git's order
    repo.commit()
    repo.write("README.md", "# demo\n\nBetter words.\n")
    assert repo.report()["title"] == "docs(readme): update README.md"


def test_tests_only(repo: Repo) -> None:
    repo.write("tests/test_parser.py", "def test_parse():\n    assert 1\n")
    report = repo.report()
    assert report["title"] == "test(parser): add tests for parser"


def test_ci_only(repo: Repo) -> None:
    repo.write(".github/workflows/ci.yml", "on: push\njobs: {}\n")
    repo.write(".gitlab-ci.yml", "test:\n  script: make\n")
    report = repo.report()
    assert report["type"] == "ci" and report["scope"] is None
    assert subject(report) == "add ci.yml and .gitlab-ci.yml"


def test_build_only_and_lock_files(repo: Repo) -> None:
    repo.write("pyproject.toml", '[project]\nname = "demo"\ndependencies = ["httpx"]\n')
    repo.write("requirements-dev.txt", "pytest\n")
    repo.write("poetry.lock", "[[package]]\nname = 'httpx'\n" * 50)
    report = repo.report()
    assert report["type"] == "build"
    assert subject(report) == "update pyproject.toml and requirements-dev.txt"
    assert report["changes"][-1] == "left out: poetry.lock (lock file)"
    repo.commit()
    repo.write("poetry.lock", "[[package]]\nname = 'httpx2'\n")
    assert repo.report()["title"] == "build(deps): update poetry.lock"


def test_feature_with_new_classes_names_them(repo: Repo) -> None:
    repo.write("src/forge_cli/engine/breaker.py", BREAKER)
    repo.write("tests/test_breaker.py", "def test_breaker():\n    assert True\n")
    repo.write("docs/breaker.md", "# Breaker\n" + "Words.\n" * 40)  # more lines than the code
    report = repo.report()
    assert report["title"] == "feat(engine): add CircuitBreaker and RateGate"
    assert not report["breaking"]
    assert report["changes"][0] == (
        "add src/forge_cli/engine/breaker.py with CircuitBreaker, RateGate"
    )
    assert "Add CircuitBreaker and RateGate" in report["summary"]


def test_feature_in_other_languages(repo: Repo) -> None:
    repo.write("web/src/client.ts", "export class ApiClient {\n  get() {}\n}\n")
    repo.write("web/src/util.ts", "export function retry(n: number) {\n  return n;\n}\n")
    assert subject(repo.report()) == "add ApiClient and retry()"
    repo.commit()
    repo.write("svc/cache.go", "package svc\n\ntype Cache struct{}\n\nfunc New() *Cache {\n}\n")
    repo.write("svc/lib.rs", "pub struct Pool;\n\npub fn open(path: &str) -> Pool {\n}\n")
    report = repo.report()
    assert report["type"] == "feat" and subject(report) == "add cache.go and lib.rs"
    repo.commit()
    repo.write(
        "svc/cache.go",
        "package svc\n\ntype Cache struct{}\n\nfunc New() *Cache {\n}\n"
        "\nfunc (c *Cache) Get(key string) {\n}\n\nfunc (c *Cache) Put(k, v string) {\n}\n",
    )
    assert subject(repo.report()) == "add Get() and Put()"


def test_fix(repo: Repo) -> None:
    repo.write(
        "src/forge_cli/engine/stats.py",
        STATS.replace(
            "def average(values):\n",
            "def average(values):\n    if not values:  # crashed on an empty list\n"
            "        return None\n",
        ),
    )
    report = repo.report()
    assert report["type"] == "fix" and not report["breaking"]
    assert report["title"] == "fix(engine): fix average() in stats"


def test_rename_is_refactor(repo: Repo) -> None:
    repo.git("mv", "src/forge_cli/engine/stats.py", "src/forge_cli/engine/numbers.py")
    report = repo.report()
    assert report["title"] == "refactor(engine): rename stats.py to numbers.py"
    assert report["changes"] == [
        "rename src/forge_cli/engine/stats.py to src/forge_cli/engine/numbers.py"
    ]
    repo.commit()
    repo.git("mv", "src/forge_cli/engine/numbers.py", "src/forge_cli/numbers.py")
    assert subject(repo.report()) == "move numbers.py to src/forge_cli/"


def test_mode_change(repo: Repo) -> None:
    (repo.root / "run.sh").chmod(0o755)
    report = repo.report()
    assert report["title"] == "chore(run): make run.sh executable"
    assert report["changes"] == ["mode 100755 on run.sh"]


def test_style_only(repo: Repo) -> None:
    ugly = STATS.replace("return sum(values) / len(values)", "return sum( values )/len(values)")
    ugly = ugly.replace("def total(values, start=0):", "def total(\n    values,\n    start=0,\n):")
    repo.write(
        "src/forge_cli/engine/stats.py",
        ugly.replace('"""Small', "'''Small").replace('helpers."""', "helpers.'''"),
    )
    report = repo.report()
    assert report["title"] == "style(engine): format stats"
    assert not report["breaking"]


def test_breaking_removal_and_signature_change(repo: Repo) -> None:
    repo.write("src/forge_cli/engine/stats.py", STATS.split("\n\ndef spread")[0] + "\n")
    report = repo.report()
    assert report["breaking"] and report["type"] == "refactor"
    assert report["title"] == "refactor(engine)!: remove spread() and total()"
    assert report["changes"][0].endswith("stats.py: remove spread(), total()")
    repo.git("reset", "-q", "--hard")
    repo.write(
        "src/forge_cli/engine/stats.py",
        STATS.replace("def total(values, start=0):", "def total(values, start, scale):"),
    )
    report = repo.report()
    assert report["breaking"] and report["title"].split(":")[0].endswith("!")
    assert "change the signature of total()" in " ".join(report["changes"])
    repo.git("reset", "-q", "--hard")
    # a new parameter with a default, a private helper: not breaking
    repo.write(
        "src/forge_cli/engine/stats.py",
        STATS.replace("def total(values, start=0):", "def total(values, start=0, scale=1):")
        + "\n\ndef _helper():\n    return 1\n",
    )
    assert not repo.report()["breaking"]


def test_breaking_change_note_and_moved_functions(repo: Repo) -> None:
    repo.write("CHANGELOG.md", "# Changes\n\nBREAKING CHANGE: the config file moved.\n")
    report = repo.report()
    assert report["breaking"] and report["title"].startswith("docs(changelog)!: ")
    repo.commit()
    # code that only mentions the words is not a note; a function moved to another file is not
    # removed
    repo.write("src/forge_cli/engine/stats.py", STATS.split("\n\ndef total")[0] + "\n")
    repo.write(
        "src/forge_cli/engine/sums.py",
        'NOTE = "BREAKING CHANGE"\n\n\ndef total(values, start=0):\n    return sum(values, start)\n',
    )
    assert not repo.report()["breaking"]


def test_merge_commit(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "feature/x")
    repo.write("src/forge_cli/engine/breaker.py", BREAKER)
    repo.commit("add breaker")
    repo.git("checkout", "-q", "main")
    repo.write("docs/notes.md", "notes\n")
    repo.commit("notes")
    repo.git("merge", "-q", "--no-ff", "feature/x", "-m", "Merge branch 'feature/x'")
    sha = repo.git("rev-parse", "HEAD").strip()
    for text in (repo.git("show", "--format=", sha), repo.git("diff", f"{sha}^1", sha)):
        report = check(offline_report(parse_diff(text), merge_subject="Merge branch 'feature/x'"))
        assert report["title"] == "chore: merge branch 'feature/x'"
        assert report["scope"] is None and not report["breaking"]
    report = offline_report(parse_diff(repo.git("diff", f"{sha}^1", sha)), merge_subject=None)
    assert check(report)["title"] == "feat(engine): add CircuitBreaker and RateGate"
    long = "Merge pull request #1234 from some-organisation/a-very-long-branch-name-for-testing"
    assert len(check(offline_report(parse_diff(""), merge_subject=long))["title"]) <= 72


def test_revert(repo: Repo) -> None:
    repo.write("src/forge_cli/engine/breaker.py", BREAKER)
    sha = repo.commit("feat(engine): add CircuitBreaker")
    repo.git("revert", "--no-edit", sha)
    text = repo.git("show", "--format=", "HEAD")
    subject_line = repo.git("log", "-1", "--format=%s").strip()
    assert subject_line == 'Revert "feat(engine): add CircuitBreaker"'
    report = check(offline_report(parse_diff(text), merge_subject=subject_line))
    assert report["type"] == "revert"
    assert report["title"] == "revert: feat(engine): add CircuitBreaker"


def test_empty_and_garbage(repo: Repo) -> None:
    for text in ("", "not a diff\n"):
        report = check(offline_report(parse_diff(text)))
        assert report["title"] == "chore: empty commit" and report["changes"] == []
    assert format_message(report) == "chore: empty commit\n"


def test_new_empty_file_deletion_and_noise_only(repo: Repo) -> None:
    repo.write("src/forge_cli/engine/__init__.py", "")
    assert repo.report()["title"] == "chore(engine): add empty __init__.py"
    repo.commit()
    (repo.root / "src/forge_cli/cli.py").unlink()
    report = repo.report()
    assert subject(report) == "delete cli.py" and report["type"] == "refactor"
    assert report["breaking"]  # main() was public
    repo.git("reset", "-q", "--hard")
    repo.write("vendor/lib/a.go", "package lib\n")
    repo.write("vendor/lib/b.go", "package lib\n")
    report = repo.report()
    assert report["type"] == "build" and report["scope"] == "deps"
    assert report["changes"] == ["left out: vendor/lib/a.go (vendored), vendor/lib/b.go (vendored)"]


def test_modifications_name_files_by_stem_or_count(repo: Repo) -> None:
    repo.write(
        "src/forge_cli/engine/stats.py", STATS.replace("max(values)", "max(values, default=0)")
    )
    repo.write("src/forge_cli/engine/runner.py", "X = 1\n")
    repo.commit()
    repo.write("src/forge_cli/engine/stats.py", STATS + "\nLIMIT = 3\n")
    repo.write("src/forge_cli/engine/runner.py", "X = 2\n")
    assert subject(repo.report()) == "update runner and stats"
    for n in range(7):
        repo.write(f"src/forge_cli/engine/m{n}.py", f"V = {n}\n")
    repo.commit()
    for n in range(7):
        repo.write(f"src/forge_cli/engine/m{n}.py", f"V = {n + 1}\n")
    report = repo.report()
    assert report["title"] == "refactor(engine): update 7 files in engine"
    assert len(report["changes"]) == 7


def test_many_files_cap_changes_and_wrap(repo: Repo) -> None:
    for n in range(20):
        repo.write(f"src/forge_cli/engine/a_rather_long_module_name_number_{n}.py", f"V = {n}\n")
    report = repo.report()
    assert len(report["changes"]) == 8 and report["changes"][-1] == "and 13 more changes"
    message = format_message(report)
    _, blank, *body = message.splitlines()
    assert blank == "" and all(line.startswith(("- ", "  ")) for line in body)
    assert all(len(line) <= 72 for line in body)


def test_pathological_lines_stay_fast(repo: Repo) -> None:
    """Long runs of punctuation once made a regex backtrack for minutes; keep them linear."""
    import time

    started = time.perf_counter()
    repo.write(
        "src/forge_cli/engine/stats.py",
        STATS
        + "# "
        + "-" * 5000
        + "x\n"
        + "#" * 5000
        + " BREAKING\n"
        + "def f("
        + "(" * 3000
        + "\n",
    )
    repo.write("notes.py", ("x = [" + ", " * 2000 + "]\n") * 3)
    check(repo.report())
    title = make_title("feat", None, "add " + ", " * 60 + "x " * 40, False)
    assert len(title) <= 72 and TITLE.match(title)
    assert time.perf_counter() - started < 2


def test_offline_message_through_commitmsg(repo: Repo) -> None:
    """The hook's entry point (forge_cli.app.commit_msg) gives the same message as the rule."""
    from forge_cli.app.commit_msg import offline_message

    repo.write("src/forge_cli/engine/breaker.py", BREAKER)
    text = repo.staged()
    assert offline_message(text) == format_message(offline_report(parse_diff(text)))
    assert offline_message(text).startswith("feat(engine): add CircuitBreaker and RateGate\n\n- ")


def test_make_title() -> None:
    assert make_title("feat", "Parser", "Add a tolerant config parser.", False) == (
        "feat(parser): add a tolerant config parser"
    )
    assert make_title("fix", None, "README typo", True) == "fix!: README typo"
    assert make_title("feat", "api client", "CircuitBreaker retries", False) == (
        "feat(api-client): CircuitBreaker retries"
    )
    long = make_title("feat", "engine", "add " + "word " * 30, False)
    assert len(long) <= 72 and not long.endswith(" ") and long.endswith("word")
    unbroken = make_title("chore", "x" * 40, "y" * 100, True)
    assert len(unbroken) <= 72 and TITLE.match(unbroken)
    assert make_title("docs", None, "  ", False) == "docs: update"
    titles = [make_title(t, "s", "add thing, and more", False) for t in COMMIT_TYPES]
    assert all(TITLE.match(t) for t in titles)


def test_format_message_is_tolerant() -> None:
    message = format_message(
        {"title": "feat: x", "changes": ["- already a bullet", "", "word " * 40]}
    )
    lines = message.splitlines()
    assert lines[:3] == ["feat: x", "", "- already a bullet"]
    assert all(len(line) <= 72 for line in lines)
    assert (
        format_message({"title": "fix: y", "changes": "one change"}) == "fix: y\n\n- one change\n"
    )


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("docs/conf.py", "docs"),
        ("README", "docs"),
        ("LICENSE", "docs"),
        ("notes.txt", "docs"),
        ("requirements-dev.txt", "build"),
        ("Dockerfile", "build"),
        ("go.mod", "build"),
        ("CMakeLists.txt", "build"),
        ("Cargo.lock", "build"),
        ("tests/data/readme.md", "test"),
        ("pkg/parser_test.go", "test"),
        ("web/a.spec.ts", "test"),
        ("web/__tests__/a.js", "test"),
        (".github/workflows/ci.yml", "ci"),
        ("Jenkinsfile", "ci"),
        (".circleci/config.yml", "ci"),
        ("src/app.py", "source"),
        (".gitignore", "chore"),
        ("config/settings.yaml", "chore"),
    ],
)
def test_file_kinds(path: str, kind: str) -> None:
    assert file_kind(path) == kind

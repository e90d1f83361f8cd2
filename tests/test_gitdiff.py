"""forge_cli.git.diff and git.render against diffs that real git made in throwaway repositories."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from forge_cli.git.changes import FileChange, ParsedDiff, changed_lines, hunk_lines
from forge_cli.git.diff import parse_diff
from forge_cli.git.render import render_for_model
from gitrepo import Repo

MARKER = re.compile(r"^\[forge: (\d+) more lines? of this file cut to fit the token budget\]$")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("README.md", "# demo\n")
    r.write("src/app.py", "".join(f"line {n}\n" for n in range(1, 31)))
    r.commit("initial")
    return r


def by_path(diff: ParsedDiff) -> dict[str, FileChange]:
    return {f.path: f for f in diff.files}


def test_new_modified_deleted_and_totals(repo: Repo) -> None:
    repo.write("docs/guide.md", "# Guide\n\nUse it.\n")
    repo.write("src/app.py", "".join(f"line {n}\n" for n in range(1, 31)).replace("line 7", "L7"))
    (repo.root / "README.md").unlink()
    diff = parse_diff(repo.staged())
    files = by_path(diff)
    assert [f.path for f in diff.files] == ["README.md", "docs/guide.md", "src/app.py"]
    assert files["docs/guide.md"].status == "added"
    assert (files["docs/guide.md"].additions, files["docs/guide.md"].deletions) == (3, 0)
    assert files["docs/guide.md"].new_mode == "100644"
    assert files["README.md"].status == "deleted" and files["README.md"].deletions == 1
    assert files["src/app.py"].status == "modified"
    assert (files["src/app.py"].additions, files["src/app.py"].deletions) == (1, 1)
    assert (diff.additions, diff.deletions) == (4, 2)
    assert all(f.text.startswith("diff --git ") and f.text.endswith("\n") for f in diff.files)
    assert "".join(f.text for f in diff.files) == repo.git("diff", "--cached", "-M")
    assert list(changed_lines(files["src/app.py"])) == [("-", "line 7"), ("+", "L7")]
    rendered = render_for_model(diff)
    lines = rendered.text.splitlines()
    assert lines[:4] == [
        "Files changed: 3 (+4 -2)",
        "D README.md (+0 -1)",
        "A docs/guide.md (+3 -0)",
        "M src/app.py (+1 -1)",
    ]
    assert rendered.omitted == [] and rendered.cut == []
    assert rendered.tokens == len(rendered.text) // 4 + 1


def test_new_empty_file_has_no_hunks(repo: Repo) -> None:
    repo.write("pkg/__init__.py", "")
    diff = parse_diff(repo.staged())
    (f,) = diff.files
    assert (f.path, f.status, f.additions, f.deletions, f.binary) == (
        "pkg/__init__.py",
        "added",
        0,
        0,
        False,
    )
    assert not f.has_hunks and f.noise is None
    assert "A pkg/__init__.py (empty)" in render_for_model(diff).text


def test_renames_with_and_without_edits(repo: Repo) -> None:
    body = "".join(f"def f{n}():\n    return {n}\n" for n in range(20))
    repo.write("lib/old name.py", body)
    repo.write("lib/keep.py", body.replace("return", "yield"))
    repo.commit()
    repo.git("mv", "lib/old name.py", "lib/new name.py")
    repo.git("mv", "lib/keep.py", "lib/kept.py")
    repo.write("lib/kept.py", body.replace("return", "yield") + "def extra():\n    pass\n")
    diff = parse_diff(repo.staged())
    files = by_path(diff)
    pure = files["lib/new name.py"]
    assert (pure.status, pure.old_path, pure.similarity) == ("renamed", "lib/old name.py", 100)
    assert (pure.additions, pure.deletions, pure.has_hunks) == (0, 0, False)
    edited = files["lib/kept.py"]
    assert edited.status == "renamed" and edited.old_path == "lib/keep.py"
    assert edited.similarity is not None and 80 <= edited.similarity < 100
    assert (edited.additions, edited.deletions) == (2, 0)
    text = render_for_model(diff).text
    assert "R lib/old name.py -> lib/new name.py (100%)" in text
    assert re.search(r"R lib/keep\.py -> lib/kept\.py \(\d+%, \+2 -0\)", text)


def test_copies_are_detected_with_find_copies_harder(repo: Repo) -> None:
    repo.write("a.py", "".join(f"x{n} = {n}\n" for n in range(30)))
    repo.commit()
    repo.write("b.py", "".join(f"x{n} = {n}\n" for n in range(30)))
    repo.git("add", "-A")
    diff = parse_diff(repo.git("diff", "--cached", "-C", "--find-copies-harder"))
    (f,) = diff.files
    assert (f.status, f.old_path, f.path, f.similarity) == ("copied", "a.py", "b.py", 100)
    assert "C a.py -> b.py (100%)" in render_for_model(diff).text


def test_mode_change_is_kept(repo: Repo) -> None:
    repo.write("run.sh", "#!/bin/sh\necho hi\n")
    repo.commit()
    (repo.root / "run.sh").chmod(0o755)
    diff = parse_diff(repo.staged())
    (f,) = diff.files
    assert (f.status, f.old_mode, f.new_mode, f.mode_changed) == (
        "modified",
        "100644",
        "100755",
        True,
    )
    assert "M run.sh (mode 100644 -> 100755)" in render_for_model(diff).text


def test_binary_files_both_forms(repo: Repo) -> None:
    repo.write("assets/logo.png", bytes(range(256)) * 4)
    repo.write("src/app.py", "changed\n")
    plain = parse_diff(repo.staged())
    logo = by_path(plain)["assets/logo.png"]
    assert logo.binary and logo.status == "added" and logo.noise == "binary"
    patch = repo.git("diff", "--cached", "--binary")
    assert "GIT binary patch" in patch
    with_patch = parse_diff(patch)
    assert [f.path for f in with_patch.files] == ["assets/logo.png", "src/app.py"]
    assert by_path(with_patch)["assets/logo.png"].binary
    assert by_path(with_patch)["src/app.py"].additions == 1  # the base85 data did not leak into it
    rendered = render_for_model(with_patch)
    assert "A assets/logo.png (binary)" in rendered.text
    assert ("assets/logo.png", "binary") in rendered.omitted
    assert "GIT binary patch" not in rendered.text


def test_lock_minified_generated_vendored_are_named_not_shown(repo: Repo) -> None:
    repo.write("package-lock.json", '{\n  "lockfileVersion": 3\n}\n')
    repo.write("deps/custom.lock", "a==1\n")
    repo.write("web/app.min.js", "var a=1;\n")
    repo.write("web/bundle.js", "var x=" + "1+" * 400 + "1;\n")
    repo.write("web/app.js", "export function hello() {\n  return 1;\n}\n")
    repo.write("api/types_pb2.py", "x = 1\n")
    repo.write("gen/schema.py", "# Code generated by schemagen. DO NOT EDIT.\nA = 1\n")
    repo.write("vendor/github.com/x/y.go", "package y\n")
    repo.write("node_modules/left-pad/index.js", "module.exports = 1;\n")
    repo.write("dist/out.js", "console.log(1);\n")
    repo.write("web/app.js.map", '{"version":3}\n')
    diff = parse_diff(repo.staged())
    noise = {f.path: f.noise for f in diff.files}
    assert noise == {
        "api/types_pb2.py": "generated",
        "deps/custom.lock": "lock file",
        "dist/out.js": "generated",
        "gen/schema.py": "generated",
        "node_modules/left-pad/index.js": "vendored",
        "package-lock.json": "lock file",
        "vendor/github.com/x/y.go": "vendored",
        "web/app.js": None,
        "web/app.js.map": "generated",
        "web/app.min.js": "minified",
        "web/bundle.js": "minified",
    }
    rendered = render_for_model(diff)
    head, _, rest = rendered.text.partition("Left out (listed by name only):\n")
    assert all(f"A {path} " in head for path in noise)  # every file is in the list
    assert "package-lock.json (lock file)" in rest and "web/bundle.js (minified)" in rest
    assert "diff --git a/web/app.js b/web/app.js" in rest
    assert "lockfileVersion" not in rendered.text and "1+1+1+" not in rendered.text
    assert sorted(p for p, _ in rendered.omitted) == sorted(p for p, r in noise.items() if r)


def test_paths_with_spaces_quotes_and_unicode(repo: Repo) -> None:
    repo.write("my dir/a file.txt", "one\n")
    repo.write('odd "name".txt', "two\n")
    repo.write("tëst\tfile.txt", "three\n")
    repo.write("b/ a.txt", "four\n")  # a folder named b, which could pass for a prefix
    diff = parse_diff(repo.staged())
    assert sorted(f.path for f in diff.files) == sorted(
        ["my dir/a file.txt", 'odd "name".txt', "tëst\tfile.txt", "b/ a.txt"]
    )
    assert all(f.additions == 1 for f in diff.files)
    text = render_for_model(diff).text
    assert "A my dir/a file.txt (+1 -0)" in text
    assert 'A "t\\xebst\\tfile.txt" (+1 -0)' in text  # a tab would break the one-line list
    repo.commit()
    repo.git("mv", "my dir/a file.txt", "my dir/the file.txt")
    (f,) = parse_diff(repo.staged()).files
    assert (f.old_path, f.path) == ("my dir/a file.txt", "my dir/the file.txt")


def test_no_newline_at_end_of_file(repo: Repo) -> None:
    repo.write("src/app.py", "".join(f"line {n}\n" for n in range(1, 31)) + "tail")
    repo.write("x.txt", "no newline")
    text = repo.staged()
    assert text.count("\\ No newline at end of file") == 2
    files = by_path(parse_diff(text))
    assert (files["src/app.py"].additions, files["src/app.py"].deletions) == (1, 0)
    assert (files["x.txt"].additions, files["x.txt"].deletions) == (1, 0)
    assert files["x.txt"].text.endswith("\\ No newline at end of file\n")


def test_removed_lines_that_look_like_headers(repo: Repo) -> None:
    repo.write("notes.txt", "-- a\n++ b\n@@ c\ndiff --git x y\n")
    repo.commit()
    repo.write("notes.txt", "kept\n")
    (f,) = parse_diff(repo.staged()).files
    assert (f.additions, f.deletions) == (1, 4)


def test_git_show_of_a_merge_commit_is_a_combined_diff(repo: Repo) -> None:
    repo.write("f.txt", "one\ntwo\nthree\n")
    repo.commit()
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("f.txt", "one\nFEATURE\nthree\n")
    repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "one\nMAIN\nthree\n")
    repo.commit("main")
    repo.git("merge", "-q", "feature", "-m", "Merge branch 'feature'")
    repo.write("f.txt", "one\nBOTH\nthree\nfour\n")
    sha = repo.commit("Merge branch 'feature'")
    show = repo.git("show", "--format=", sha)
    assert show.startswith("diff --cc f.txt")
    (f,) = parse_diff(show).files
    assert (f.path, f.status, f.additions, f.deletions) == ("f.txt", "modified", 2, 2)
    kinds = [k for k, _ in hunk_lines(f)]
    assert kinds == ["@", " ", "-", "-", "+", " ", "+"]
    against_parent = parse_diff(repo.git("diff", f"{sha}^1", sha))
    assert [(x.path, x.additions, x.deletions) for x in against_parent.files] == [("f.txt", 2, 1)]


def test_git_log_patch_output_and_plain_unified_diffs(repo: Repo) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("first")
    repo.write("b.txt", "b\n")
    repo.commit("second")
    log = repo.git("log", "-p", "-2", "--stat")
    assert [f.path for f in parse_diff(log).files] == ["b.txt", "a.txt"]
    plain = "--- a/x.py\t2024-01-01\n+++ b/x.py\t2024-01-02\n@@ -1 +1,2 @@\n x\n+y\n"
    (f,) = parse_diff(plain).files
    assert (f.path, f.status, f.additions) == ("x.py", "modified", 1)


GARBAGE = [
    "",
    "hello\nworld\n",
    "@@ nonsense @@\n+x\n",
    "diff --git\n",
    "diff --git a\n@@ -1 +1 @@\n",
    "--- \n+++ \n@@\n",
    "\x00\x01binary\xff",
    "diff --cc\n@@@ -1 +1 @@@\n",
    "\n" * 50,
]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_never_raises(garbage: str) -> None:
    diff = parse_diff(garbage)
    assert isinstance(diff, ParsedDiff)
    render_for_model(diff)


def test_truncated_and_mangled_real_diffs_never_raise(repo: Repo) -> None:
    repo.write("assets/x.bin", bytes(range(256)))
    repo.write("src/app.py", "changed\n" * 5)
    repo.write("s p a c e.py", "x\n")
    (repo.root / "README.md").chmod(0o755)
    text = repo.git("diff", "--binary", "HEAD") + repo.staged()
    rng = random.Random(7)
    lines = text.split("\n")
    for _ in range(300):
        cut = lines[: rng.randrange(len(lines) + 1)]
        if cut and rng.random() < 0.5:
            k = rng.randrange(len(cut))
            cut[k] = cut[k][: rng.randrange(len(cut[k]) + 1)]
        diff = parse_diff("\n".join(cut))
        render_for_model(diff, max_tokens=rng.choice([50, 400, 6000]))


def huge_repo(repo: Repo) -> str:
    """One enormous file, several ordinary ones, one noise file: far over any small budget."""
    repo.write("big/huge.py", "".join(f"value_{n} = {n}\n" for n in range(3000)))
    for n in range(6):
        repo.write(f"src/mod{n}.py", "".join(f"a{k} = {k}\n" for k in range(200)))
    repo.commit("base")
    repo.write("big/huge.py", "".join(f"value_{n} = {n * 2}\n" for n in range(3000)))
    for n in range(6):
        body = "".join(f"a{k} = {k}\n" for k in range(200))
        for k in range(0, 200, 25):  # several separate hunks per file
            body = body.replace(f"a{k} = {k}\n", f"a{k} = {k} + {n}\n")
        repo.write(f"src/mod{n}.py", body)
    repo.write("yarn.lock", "x\n" * 500)
    repo.write("tiny.txt", "hi\n")
    return repo.staged()


@pytest.mark.parametrize("budget", [300, 800, 2000, 6000])
def test_over_budget_is_cut_explicitly_and_fairly(repo: Repo, budget: int) -> None:
    diff = parse_diff(huge_repo(repo))
    rendered = render_for_model(diff, max_tokens=budget)
    text = rendered.text
    assert rendered.tokens <= budget + 2 and rendered.tokens == len(text) // 4 + 1
    listed = text.split("\n\n", 1)[0].splitlines()
    assert listed[0] == f"Files changed: {len(diff.files)} (+{diff.additions} -{diff.deletions})"
    assert len(listed) == len(diff.files) + 1  # the file list is complete
    assert "yarn.lock (lock file)" in text
    # every line shown is a whole line of the original diff, or one of forge's own lines
    original = {line for f in diff.files for line in f.text.splitlines()}
    for line in text.splitlines():
        assert (
            line in original
            or line in listed
            or line in ("", "Left out (listed by name only):", "yarn.lock (lock file)")
            or MARKER.match(line)
            or line.startswith("[forge: diffs not shown for: ")
        ), line
    # every file with a diff is shown whole, shown cut with a marker, or named as not shown
    shown = {f.path for f in diff.files if f.text.splitlines()[0] in text}
    not_shown = {p for p, why in rendered.omitted if why == "over budget"}
    candidates = {f.path for f in diff.files if not f.noise}
    assert shown | not_shown == candidates and not shown & not_shown
    assert len(re.findall(MARKER.pattern, text, re.M)) == len(rendered.cut)
    if not_shown:
        closing = text.rstrip("\n").splitlines()[-1]
        assert closing.startswith("[forge: diffs not shown for: ") and "(over budget)" in closing
        assert all(p in closing for p in not_shown)
    for path in rendered.cut:  # the marker counts exactly the lines left out
        f = by_path(diff)[path]
        section = text[text.index(f.text.splitlines()[0]) :]
        m = next(MARKER.match(x) for x in section.splitlines() if MARKER.match(x))
        assert m is not None
        kept = section[: section.index(m.group(0))].count("\n")
        assert kept + int(m.group(1)) == f.text.count("\n")
    if budget >= 2000:  # the huge file does not starve the small ones
        assert not not_shown
        assert "big/huge.py" in rendered.cut
        assert all(f"diff --git a/src/mod{n}.py" in text for n in range(6))


def test_huge_single_hunk_is_cut_at_a_line_boundary(repo: Repo) -> None:
    repo.write("data.csv", "".join(f"{n},{n * n}\n" for n in range(5000)))
    diff = parse_diff(repo.staged())
    rendered = render_for_model(diff, max_tokens=500)
    assert rendered.cut == ["data.csv"] and rendered.tokens <= 500
    body = rendered.text.splitlines()
    assert MARKER.match(body[-1])
    assert body[-2].startswith("+") and body[-2][1:].split(",")[0].isdigit()
    n = int(body[-2][1:].split(",")[0])
    assert body[-2] == f"+{n},{n * n}"  # the last line shown is whole


def test_rendering_is_deterministic_and_within_budget_everywhere(repo: Repo) -> None:
    diff = parse_diff(huge_repo(repo))
    for budget in range(100, 3000, 97):
        first = render_for_model(diff, max_tokens=budget)
        again = render_for_model(parse_diff("".join(f.text for f in diff.files)), max_tokens=budget)
        assert first == again
        assert first.tokens <= budget  # below ~80 tokens the file list alone may not fit


def test_thousands_of_files_summarised_by_folder(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "many")
    for n in range(1500):
        repo.write(f"vendor/lib{n % 7}/f{n}.go", "package x\n")
    repo.write("main.go", "package main\n\nfunc main() {}\n")
    diff = parse_diff(repo.staged())
    rendered = render_for_model(diff, max_tokens=2000)
    assert rendered.tokens <= 2002
    assert "more files listed by folder only" in rendered.text
    assert "vendor/lib0/ (" in rendered.text and "diff --git a/main.go" in rendered.text
    assert len(rendered.omitted) == 1500

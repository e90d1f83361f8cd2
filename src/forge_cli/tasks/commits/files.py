"""What a changed file's path says: its kind (source, test, docs...), its short name, its scope.

Paths decide a commit's type first because they are unambiguous (a change only to docs, tests, CI
or build files is that type), and they give the scope: the deepest meaningful folder common to the
files the type was decided by (``src`` and the like skipped); one file at the top of the tree gives
its name; nothing in common gives no scope.
"""

from __future__ import annotations

import re

from forge_cli.git.noise import LOCK_FILES
from forge_cli.tasks.commits.languages import OTHER_SOURCE_EXTS, SOURCE_LANGS
from forge_cli.tasks.commits.message import clean_scope

__all__ = [
    "GENERIC_DIRS",
    "KIND_ORDER",
    "KIND_TYPE",
    "basename",
    "common_dir",
    "file_kind",
    "private_path",
    "scope_for",
    "short_name",
    "tested_name",
]

CI_NAMES = frozenset(
    {
        ".gitlab-ci.yml",
        "jenkinsfile",
        "azure-pipelines.yml",
        ".travis.yml",
        "bitbucket-pipelines.yml",
        "appveyor.yml",
        ".drone.yml",
    }
)
TEST_DIRS = frozenset({"tests", "test", "__tests__", "spec", "testing"})
DOCS_DIRS = frozenset({"docs", "doc", "documentation"})
DOCS_EXTS = (".md", ".rst", ".txt", ".adoc", ".markdown")
DOCS_STEMS = frozenset(
    {
        "readme",
        "changelog",
        "changes",
        "history",
        "license",
        "licence",
        "copying",
        "contributing",
        "authors",
        "notice",
        "code_of_conduct",
        "security",
    }
)
BUILD_NAMES = frozenset(
    {
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "manifest.in",
        "package.json",
        "makefile",
        "gnumakefile",
        "go.mod",
        "cargo.toml",
        "cmakelists.txt",
        "gemfile",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "meson.build",
        "tox.ini",
        "noxfile.py",
        "constraints.txt",
        "docker-compose.yml",
        "docker-compose.yaml",
        ".dockerignore",
    }
)
#: the order in which kinds win ties, and the order of the bullets
KIND_ORDER = ("source", "test", "docs", "build", "ci", "chore")
KIND_TYPE = {"test": "test", "docs": "docs", "build": "build", "ci": "ci", "chore": "chore"}
GENERIC_DIRS = frozenset(
    {"src", "lib", "pkg", "internal", "source", "sources", "main", "java", "cmd"}
)
NON_API_DIRS = frozenset(
    {"benchmarks", "bench", "scripts", "examples", "samples", "tools", "bin", "demo", "demos"}
)
INDEX_STEMS = frozenset({"__init__", "__main__", "index", "mod", "main"})


def file_kind(path: str) -> str:
    """source, test, docs, build, ci or chore (configuration, data, anything else), by path."""
    low = path.lower()
    parts = low.split("/")
    name, dirs = parts[-1], parts[:-1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = "." + ext if ext else ""
    if (
        name in CI_NAMES
        or low.startswith((".github/workflows/", ".github/actions/", ".circleci/", ".gitlab/ci/"))
        or name.startswith("jenkinsfile")
    ):
        return "ci"
    if (
        TEST_DIRS.intersection(dirs)
        or (name.startswith("test_") and ext == ".py")
        or name.endswith(("_test.py", "_test.go", "_spec.rb", "_test.rb", "_test.rs"))
        or name == "conftest.py"
        or re.search(r"\.(spec|test)\.[cm]?[jt]sx?$", name) is not None
    ):
        return "test"
    if DOCS_DIRS.intersection(dirs):
        return "docs"
    if (
        name in BUILD_NAMES
        or name in LOCK_FILES
        or name.endswith(".lock")
        or (name.startswith("requirements") and ext in (".txt", ".in"))
        or name.startswith("dockerfile")
        or name.endswith((".dockerfile", ".gemspec", ".cabal", ".nimble"))
    ):
        return "build"
    if ext in DOCS_EXTS or stem.split("-")[0] in DOCS_STEMS or name in DOCS_STEMS:
        return "docs"
    if ext in SOURCE_LANGS or ext in OTHER_SOURCE_EXTS:
        return "source"
    return "chore"


def private_path(path: str) -> bool:
    """Code nobody imports: private modules, scripts, benchmarks, examples."""
    parts = path.lower().split("/")
    return any(p.startswith("_") and not p.startswith("__") for p in parts) or bool(
        NON_API_DIRS.intersection(parts[:-1])
    )


def short_name(path: str) -> str:
    """A file's name without its extension; an index file (``__init__.py``) goes by its folder."""
    parts = path.split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    if stem in INDEX_STEMS and len(parts) > 1:
        return parts[-2]
    return stem


def tested_name(path: str) -> str:
    """What a test file tests: ``tests/test_parser.py`` and ``parser_spec.rb`` give ``parser``."""
    stem = short_name(path)
    for prefix in ("test_", "tests_"):
        if stem.startswith(prefix):
            stem = stem[len(prefix) :]
    for suffix in ("_test", "_spec", ".test", ".spec"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return stem or short_name(path)


def basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def common_dir(paths: list[str]) -> list[str]:
    """The folders every path is under, outermost first."""
    split = [p.split("/")[:-1] for p in paths]
    common = split[0]
    for parts in split[1:]:
        n = 0
        while n < len(common) and n < len(parts) and common[n] == parts[n]:
            n += 1
        common = common[:n]
    return common


def scope_for(paths: list[str], type_: str) -> str | None:
    """The scope of a change to ``paths`` of type ``type_`` (see the module's docstring)."""
    if not paths:
        return None
    common = common_dir(paths)
    redundant = {"test": TEST_DIRS, "docs": DOCS_DIRS, "ci": {".github", "workflows", ".circleci"}}
    skip = GENERIC_DIRS | redundant.get(type_, frozenset())
    meaningful = [s for s in common if s.lower() not in skip]
    src_root = bool(common) and common[0].lower() in GENERIC_DIRS and len(meaningful) <= 1
    if len(set(paths)) == 1 and len(meaningful) <= 1:
        stem = tested_name(paths[0]) if type_ == "test" else short_name(paths[0])
        if meaningful and stem.lower() in DOCS_STEMS:  # benchmarks/README.md: the folder says more
            stem = meaningful[-1]
        scope = clean_scope(stem)
    elif not meaningful or src_root:
        return None
    else:
        scope = clean_scope(meaningful[-1])
    return None if scope == type_ else scope

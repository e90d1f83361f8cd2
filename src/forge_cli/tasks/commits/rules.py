"""The offline commit message: a Conventional Commits report from the diff alone, no model.

Why it exists: ``forge commit-msg`` must give a useful message with no provider configured, inside a
``prepare-commit-msg`` hook that may not take more than a fraction of 400 ms, and when a provider
fails. So this is a real, deterministic rule rather than a placeholder: the same diff always gives
the same message, and the message says what a reviewer would check first (which files, which new or
removed names, renames, mode changes, what was left out).

Why the rules look like this:
- type: paths decide first, because they are unambiguous (a change only to docs, tests, CI or build
  files is that type); then the shape of the change (only renames is a refactor, only whitespace is
  style, only mode bits is a chore); then the source code itself, which outranks docs and tests in a
  mixed change because it is what the change is about: new files or new definitions are a feature,
  a small edit whose changed lines talk about errors, None or a crash is a fix, pure removal is a
  refactor. Merge and revert subjects (the commit's own subject, passed by the caller) win over all.
- scope: the deepest meaningful folder common to the files the type was decided by (``src`` and the
  like skipped); one file at the top of the tree gives its name; nothing in common gives no scope.
- breaking: only what can be seen: a public definition (no leading underscore, ``export``, ``pub``,
  ``public``, capitalised in Go) removed without being added back anywhere in the diff, a
  parameter list that dropped, reordered or newly requires a parameter, or a ``BREAKING CHANGE``
  line added as text (a comment or a changelog entry, not code that merely contains the words).

Speed, measured on CPython 3.11.7 in the 2-vCPU dev container: for a typical 214-line, 6-file
diff (a new module with two classes, edits, a test, a README, a lock file), ``offline_report``
takes 0.45 ms and parse + render + ``offline_report`` + ``format_message`` 1.0 ms (timeit, best of
7); the ~0.7 MB diff of a 200-commit range, 0.12 s. ``python -X importtime``: 0.6 ms self with
bytecode cached (the private records are slotted classes, not dataclasses, and the definition
regexes compile per language on first use); 11 ms where Python may not write bytecode
(``PYTHONDONTWRITEBYTECODE=1``, as in the dev container), which is the cost of compiling the source.
A whole ``python -c`` process giving the offline message for that diff: 57 ms, of which Python's own
start-up is 43 ms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from forge_cli.git.changes import FileChange, ParsedDiff, hunk_lines
from forge_cli.git.noise import LOCK_FILES

__all__ = [
    "COMMIT_TYPES",
    "TITLE_MAX",
    "file_kind",
    "format_message",
    "make_title",
    "offline_report",
]

COMMIT_TYPES = (
    "feat",
    "fix",
    "docs",
    "style",
    "refactor",
    "perf",
    "test",
    "build",
    "ci",
    "chore",
    "revert",
)
TITLE_MAX = 72
SCOPE_MAX = 20
MAX_CHANGES = 8
SMALL_CHANGE = 80  # changed source lines: above this an edit is more than a fix
BODY_WIDTH = 72

# -------------------------------------------------------------------------------- file kinds

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
SOURCE_LANGS: dict[str, str] = {
    ".py": "py",
    ".pyi": "py",
    ".js": "js",
    ".jsx": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".ts": "js",
    ".tsx": "js",
    ".vue": "js",
    ".svelte": "js",
    ".go": "go",
    ".rs": "rs",
    ".java": "java",
    ".cs": "java",
    ".scala": "java",
    ".kt": "kt",
    ".kts": "kt",
    ".rb": "rb",
    ".php": "php",
}
# fmt: off
OTHER_SOURCE_EXTS = frozenset({
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".m", ".mm", ".swift", ".sh", ".bash",
    ".zsh", ".fish", ".ps1", ".lua", ".pl", ".pm", ".r", ".jl", ".sql", ".dart", ".ex", ".exs",
    ".erl", ".hs", ".ml", ".clj", ".elm", ".zig", ".nim", ".css", ".scss", ".sass", ".less",
    ".html", ".htm"
})
# the order in which kinds win ties, and the order of the bullets
KIND_ORDER = ("source", "test", "docs", "build", "ci", "chore")
KIND_TYPE = {"test": "test", "docs": "docs", "build": "build", "ci": "ci", "chore": "chore"}
GENERIC_DIRS = frozenset(
    {"src", "lib", "pkg", "internal", "source", "sources", "main", "java", "cmd"}
)
NON_API_DIRS = frozenset(
    {"benchmarks", "bench", "scripts", "examples", "samples", "tools", "bin", "demo", "demos"}
)
INDEX_STEMS = frozenset({"__init__", "__main__", "index", "mod", "main"})

FIX_WORDS = frozenset({
    "fix", "fixes", "fixed", "bug", "bugs", "buggy", "error", "errors", "crash", "crashes",
    "crashed", "null", "none", "nil", "undefined", "typo", "typos", "exception", "exceptions",
    "fail", "fails", "failed", "failure", "wrong", "incorrect", "broken", "invalid",
    "overflow", "leak", "regression", "mistake"
})
PERF_WORDS = frozenset({
    "perf", "performance", "optimize", "optimise", "optimized", "optimised", "optimization",
    "faster", "speedup"
})
# fmt: on


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


# ------------------------------------------------------------------------------- definitions


class Definition:
    """A function, class or exported name seen on an added or removed line.

    These and the other private records here are plain slotted classes, not dataclasses: each
    dataclass costs about 0.5 ms to build at import, and the hook imports this module.
    """

    __slots__ = ("kind", "name", "params", "public", "top")

    def __init__(
        self, name: str, kind: str, public: bool, params: str | None, top: bool = True
    ) -> None:
        self.name = name
        self.kind = kind  # "class", "function" or "export"
        self.public = public
        self.params = params  # the text after "(" for functions, to compare signatures
        self.top = top  # not indented: a module-level name rather than a method

    def __repr__(self) -> str:
        return f"Definition({self.name!r}, {self.kind!r}, public={self.public})"


_ID = r"[A-Za-z_$][\w$]*"
MAX_DEF_LINE = 400
PARAM_MODIFIERS = frozenset(
    {"mut", "final", "const", "readonly", "public", "private", "protected", "val", "var", "ref"}
)


@cache
def _patterns(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Definition patterns per language, compiled on first use to keep the hook's import cheap.

    Each pattern's groups are (visibility marker, name, rest of line); the marker's meaning
    depends on the language (see ``_public``).
    """
    table: dict[str, list[tuple[str, str]]] = {
        "py": [
            (r"^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\((.*)", "function"),
            (r"^(\s*)class\s+([A-Za-z_]\w*)()", "class"),
        ],
        "js": [
            (
                rf"^\s*(export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*({_ID})\s*"
                r"(?:<[^>]*>)?\s*\((.*)",
                "function",
            ),
            (rf"^\s*(export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+({_ID})()", "class"),
            (
                rf"^\s*(export\s+)(?:declare\s+)?(?:interface|type|enum)\s+({_ID})()",
                "class",
            ),
            (
                rf"^\s*(export\s+)(?:const|let|var)\s+({_ID})\s*(?::[^=]*)?=\s*(?:async\s+)?"
                r"\((.*)",
                "function",
            ),
            (rf"^\s*(export\s+)(?:const|let|var)\s+({_ID})()", "export"),
        ],
        "go": [
            (r"^func\s+(\([^)]*\)\s*)?([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\((.*)", "function"),
            (r"^()type\s+([A-Za-z_]\w*)()", "class"),
        ],
        "rs": [
            (
                r"^\s*(pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?"
                r'(?:extern\s+"[^"]*"\s+)?fn\s+([A-Za-z_]\w*)\s*(?:<[^>]*>)?\s*\((.*)',
                "function",
            ),
            (
                r"^\s*(pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait|union|type)\s+([A-Za-z_]\w*)()",
                "class",
            ),
        ],
        "java": [
            (
                r"^\s*((?:(?:public|protected|private|internal|static|final|abstract|sealed|"
                r"partial)\s+)*)(?:class|interface|enum|record|struct)\s+([A-Za-z_]\w*)()",
                "class",
            ),
            (
                r"^\s*((?:(?:public|protected|private|internal|static|final|abstract|"
                r"synchronized|native|override|virtual|async|default)\s+)+)(?:<[^>]+>\s+)?"
                r"[\w<>\[\],.?]+\s+([A-Za-z_]\w*)\s*\((.*)",
                "function",
            ),
        ],
        "kt": [
            (
                r"^\s*((?:(?:public|private|protected|internal|open|abstract|sealed|data|enum|"
                r"inner)\s+)*)(?:class|interface|object)\s+([A-Za-z_]\w*)()",
                "class",
            ),
            (
                r"^\s*((?:(?:public|private|protected|internal|override|suspend|inline|open)\s+)*)"
                r"fun\s+(?:<[^>]+>\s+)?(?:[\w.]+\.)?([A-Za-z_]\w*)\s*\((.*)",
                "function",
            ),
        ],
        "rb": [
            (r"^(\s*)def\s+(?:self\.)?([A-Za-z_]\w*[?!]?)(.*)", "function"),
            (r"^(\s*)(?:class|module)\s+([A-Z]\w*)()", "class"),
        ],
        "php": [
            (
                r"^\s*((?:(?:public|private|protected|static|abstract|final)\s+)*)function\s+"
                r"&?([A-Za-z_]\w*)\s*\((.*)",
                "function",
            ),
            (
                r"^\s*((?:abstract\s+|final\s+)*)(?:class|interface|trait)\s+([A-Za-z_]\w*)()",
                "class",
            ),
        ],
    }
    return tuple((re.compile(rx), kind) for rx, kind in table.get(lang, ()))


def _public(lang: str, marker: str, name: str) -> bool:
    if name.startswith("_"):
        return False
    if lang == "js":
        return bool(marker)
    if lang == "go":
        return name[:1].isupper()
    if lang == "rs":
        return marker.strip() == "pub"
    if lang == "java":
        return "public" in marker
    if lang in ("kt", "php"):
        return "private" not in marker and "protected" not in marker and "internal" not in marker
    return True


def _definition(lang: str, line: str) -> Definition | None:
    if len(line) > MAX_DEF_LINE:
        return None  # generated or data, not a definition a person wrote; and bounds the regexes
    for rx, kind in _patterns(lang):
        m = rx.match(line)
        if m:
            marker, name, rest = m.group(1) or "", m.group(2), m.group(3)
            params = rest if kind == "function" and lang != "rb" else None
            top = not line[:1].isspace()
            return Definition(name, kind, _public(lang, marker, name), params, top)
    return None


def _param_list(text: str, lang: str | None = None) -> list[tuple[str, bool, bool]] | None:
    """(name, has a default, is variadic) per parameter, or None when the list is not closed."""
    depth = 0
    for pos, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>" and not (ch == ">" and pos and text[pos - 1] == "-"):
            if depth == 0 and ch == ")":
                text = text[:pos]
                break
            depth -= 1
    else:
        return None
    parts: list[str] = []
    depth, start = 0, 0
    for pos, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:pos])
            start = pos + 1
    parts.append(text[start:])
    params: list[tuple[str, bool, bool]] = []
    for raw in parts:
        part = raw.strip()
        if not part or part in ("*", "/", "self", "cls", "&self", "&mut self", "mut self", "this"):
            continue
        default = "=" in part or "?:" in part.split("=")[0]
        variadic = part.startswith(("*", "...")) or "..." in part
        head = re.split(r"[:=]", part, maxsplit=1)[0].strip().lstrip("*.&")
        words = [w for w in head.split() if w not in PARAM_MODIFIERS]
        if not words:
            continue
        # "x: int" (Python, TS, Rust, Kotlin), "x int" (Go): name first; "int x" (Java, C#): last
        name = words[-1] if lang == "java" else words[0]
        params.append((name.rstrip("?"), default, variadic))
    return params


def _signature_broken(old: str, new: str, lang: str | None) -> bool:
    """A parameter removed, renamed or reordered, or a new one without a default."""
    before, after = _param_list(old, lang), _param_list(new, lang)
    if before is None or after is None:
        return False  # not visible on one line: say nothing rather than guess
    if any(v for _, _, v in after) and not any(v for _, _, v in before):
        return False  # grew *args/**kwargs: accepts everything it did
    old_names = [n for n, _, _ in before]
    new_names = [n for n, _, _ in after]
    if any(n not in new_names for n in old_names):
        return True
    if [n for n in new_names if n in old_names] != old_names:
        return True
    return any(not d and not v and n not in old_names for n, d, v in after)


# ---------------------------------------------------------------------------------- file facts


class _Facts:
    """What the rules need from one file, computed in one pass over its hunks."""

    __slots__ = ("added", "change", "kind", "lang", "minus", "plus", "removed", "touched")

    def __init__(self, change: FileChange, kind: str, lang: str | None) -> None:
        self.change = change
        self.kind = kind
        self.lang = lang
        self.added: list[Definition] = []
        self.removed: list[Definition] = []
        self.plus: list[str] = []
        self.minus: list[str] = []
        self.touched: list[str] = []  # functions whose bodies changed

    @property
    def weight(self) -> int:
        return max(1, self.change.additions + self.change.deletions)

    @property
    def content_changed(self) -> bool:
        return bool(self.change.additions or self.change.deletions)


def _facts(change: FileChange) -> _Facts:
    path = change.path.lower()
    ext = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    lang = SOURCE_LANGS.get(ext)
    facts = _Facts(change, file_kind(change.path), lang)
    if change.binary or not change.has_hunks:
        return facts
    current: str | None = None
    # a definition whose parameter list runs over more lines, per side ("+" or "-")
    pending: dict[str, tuple[Definition, list[str]]] = {}
    for kind, text in hunk_lines(change):
        if kind == "@":
            found = _definition(lang, text.strip()) if lang else None
            current = _def_label(found) if found else None
            pending.clear()
            continue
        for side in list(pending):
            if kind == side or kind == " ":
                definition, buf = pending[side]
                buf.append(text)
                definition.params = " ".join(buf)
                if _param_list(definition.params) is not None or len(buf) >= 12:
                    del pending[side]
        found = _definition(lang, text) if lang else None
        if found is not None:
            current = _def_label(found)
            if kind != " ":
                (facts.added if kind == "+" else facts.removed).append(found)
                if found.params is not None and _param_list(found.params) is None:
                    pending[kind] = (found, [found.params])
        if kind == "+":
            facts.plus.append(text)
        elif kind == "-":
            facts.minus.append(text)
        else:
            continue
        if current and (not facts.touched or facts.touched[-1] != current):
            facts.touched.append(current)
    return facts


def _words(lines: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for line in lines:
        found.update(w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", line))
    return found


def _normalized(lines: Iterable[str]) -> str:
    """Code with layout taken out: whitespace, quote style and trailing commas."""
    text = re.sub(r"\s+", "", "".join(lines)).replace("'", '"')
    return re.sub(r",([)\]}])", r"\1", text)


# one character class, no nested repetition: a line of 3,000 dashes must not backtrack for ever
BREAKING_LINE = r"[#/*\->;!\s]*BREAKING[ -]CHANGES?\b"  # compiled on first use


# ------------------------------------------------------------------------------------ naming


def _stem(path: str) -> str:
    parts = path.split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    if stem in INDEX_STEMS and len(parts) > 1:
        return parts[-2]
    return stem


def _test_subject(path: str) -> str:
    stem = _stem(path)
    for prefix in ("test_", "tests_"):
        if stem.startswith(prefix):
            stem = stem[len(prefix) :]
    for suffix in ("_test", "_spec", ".test", ".spec"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return stem or _stem(path)


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _join(names: list[str], limit: int = 3, total: int | None = None) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b and 4 more'."""
    total = len(names) if total is None else total
    if total > limit:
        return f"{', '.join(names[: limit - 1])} and {total - limit + 1} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _listing(names: list[str], limit: int = 4) -> str:
    """'a, b, c' or 'a, b, c, d and 3 more': compact, for the change bullets."""
    if len(names) > limit:
        return f"{', '.join(names[: limit - 1])} and {len(names) - limit + 1} more"
    return ", ".join(names)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _def_label(d: Definition) -> str:
    return f"{d.name}()" if d.kind == "function" else d.name


def _common_dir(paths: list[str]) -> list[str]:
    split = [p.split("/")[:-1] for p in paths]
    common = split[0]
    for parts in split[1:]:
        n = 0
        while n < len(common) and n < len(parts) and common[n] == parts[n]:
            n += 1
        common = common[:n]
    return common


def _clean_scope(raw: str) -> str | None:
    scope = re.sub(r"[^a-z0-9_.\-/]+", "-", raw.strip().lower()).strip("-./")
    if len(scope) > SCOPE_MAX:
        cut = max(scope.rfind(c, 0, SCOPE_MAX + 1) for c in "-_./")
        scope = scope[:cut].strip("-./") if cut > 3 else ""
    return scope or None


def _scope(paths: list[str], type_: str) -> str | None:
    if not paths:
        return None
    common = _common_dir(paths)
    redundant = {"test": TEST_DIRS, "docs": DOCS_DIRS, "ci": {".github", "workflows", ".circleci"}}
    skip = GENERIC_DIRS | redundant.get(type_, frozenset())
    meaningful = [s for s in common if s.lower() not in skip]
    src_root = bool(common) and common[0].lower() in GENERIC_DIRS and len(meaningful) <= 1
    if len(set(paths)) == 1 and len(meaningful) <= 1:
        stem = _test_subject(paths[0]) if type_ == "test" else _stem(paths[0])
        if meaningful and stem.lower() in DOCS_STEMS:  # benchmarks/README.md: the folder says more
            stem = meaningful[-1]
        scope = _clean_scope(stem)
    elif not meaningful or src_root:
        return None
    else:
        scope = _clean_scope(meaningful[-1])
    return None if scope == type_ else scope


# ------------------------------------------------------------------------------------- titles


def _lower_first_word(subject: str) -> str:
    """'Add parser' -> 'add parser'; names such as 'README' or 'CircuitBreaker' keep their case."""
    first, sep, rest = subject.partition(" ")
    if first[:1].isupper() and (len(first) == 1 or first[1:].islower()):
        first = first.lower()
    return first + sep + rest


TAIL_WORDS = frozenset({"and", "or", "to", "of", "in", "for", "with", "the", "a", "from"})


def _trim_tail(text: str) -> str:
    """Drop what a cut leaves dangling at the end: punctuation and words like 'and' or 'to'."""
    while True:
        stripped = text.rstrip(" ,;:(-")
        head, _, last = stripped.rpartition(" ")
        if head and last.lower() in TAIL_WORDS:
            text = head
        elif stripped == text:
            return text
        else:
            text = stripped


def make_title(type_: str, scope: str | None, subject: str, breaking: bool) -> str:
    """``type(scope)!: subject`` within TITLE_MAX characters, cut at a word boundary.

    Used for the model's answers too, so it cleans what a model may send: a capitalised first
    word, a trailing period, stray whitespace, a scope with spaces or capitals.
    """
    type_ = type_.strip().lower() or "chore"
    clean_scope = _clean_scope(scope) if scope else None
    prefix = f"{type_}({clean_scope})" if clean_scope else type_
    prefix += "!: " if breaking else ": "
    text = " ".join(subject.split()).rstrip(".").strip() or "update"
    text = _lower_first_word(text)
    room = TITLE_MAX - len(prefix)
    if room < 12 and clean_scope:
        return make_title(type_, None, subject, breaking)
    if len(text) > room:
        cut = text.rfind(" ", 0, room + 1)
        text = text[:cut] if cut > room // 3 else text[:room]
        text = _trim_tail(text) or text
    return prefix + text


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """Greedy word wrap that never breaks a word (paths and names stay whole)."""
    out: list[str] = []
    line = first
    empty = True
    for word in text.split():
        if not empty and len(line) + 1 + len(word) > width:
            out.append(line)
            line, empty = rest, True
        line += word if empty else " " + word
        empty = False
    out.append(line)
    return out


def format_message(report: Mapping[str, Any]) -> str:
    """The commit message: title, blank line, up to MAX_CHANGES bullets wrapped at 72 columns."""
    title = " ".join(str(report.get("title") or "chore: update").split())
    changes = report.get("changes") or []
    if isinstance(changes, str):
        changes = [changes]
    bullets = [" ".join(str(c).split()) for c in changes]
    bullets = [b[2:] if b.startswith("- ") else b for b in bullets if b]
    if len(bullets) > MAX_CHANGES:
        bullets = [
            *bullets[: MAX_CHANGES - 1],
            f"and {len(bullets) - MAX_CHANGES + 1} more changes",
        ]
    lines = [title]
    if bullets:
        lines.append("")
        for bullet in bullets:
            lines += _wrap(bullet, BODY_WIDTH, "- ", "  ")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------- rules


class _Analysis:
    """What the whole diff says: per-file facts, noise, and what would break callers."""

    __slots__ = ("changed_signature", "files", "marker", "noise", "removed_public")

    def __init__(
        self,
        files: list[_Facts],
        noise: list[FileChange],
        removed_public: list[tuple[_Facts, Definition]],
        changed_signature: list[tuple[_Facts, Definition]],
        marker: bool,
    ) -> None:
        self.files = files
        self.noise = noise
        self.removed_public = removed_public
        self.changed_signature = changed_signature
        self.marker = marker


def _private_path(path: str) -> bool:
    """Code nobody imports: private modules, scripts, benchmarks, examples."""
    parts = path.lower().split("/")
    return any(p.startswith("_") and not p.startswith("__") for p in parts) or bool(
        NON_API_DIRS.intersection(parts[:-1])
    )


def _analyse(diff: ParsedDiff) -> _Analysis:
    real = [f for f in diff.files if not f.noise]
    facts = [_facts(f) for f in real]
    added_names = {d.name for fa in facts for d in fa.added}
    removed_public: list[tuple[_Facts, Definition]] = []
    changed: list[tuple[_Facts, Definition]] = []
    for fa in facts:
        if fa.kind != "source" or _private_path(fa.change.path):
            continue
        new_params = {d.name: d.params for d in fa.added if d.params is not None}
        for d in fa.removed:
            if not d.public:
                continue
            if d.name not in added_names:
                removed_public.append((fa, d))
            elif (
                d.params is not None
                and d.name in new_params
                and _signature_broken(d.params, new_params[d.name] or "", fa.lang)
            ):
                changed.append((fa, d))
    marker = any(
        "BREAKING" in line and re.match(BREAKING_LINE, line) for fa in facts for line in fa.plus
    )
    return _Analysis(facts, [f for f in diff.files if f.noise], removed_public, changed, marker)


def _new_public(files: list[_Facts], removed_names: set[str]) -> list[Definition]:
    """Public definitions added and not merely edited in place (same name removed)."""
    found: list[Definition] = []
    seen: set[str] = set()
    for fa in files:
        for d in fa.added:
            if d.public and d.name not in removed_names and d.name not in seen:
                seen.add(d.name)
                found.append(d)
    if any(d.top for d in found):
        found = [d for d in found if d.top]  # name what a reader imports, not its methods
    found.sort(key=lambda d: d.kind != "class")  # classes first, stable otherwise
    return found


def _files_phrase(files: list[_Facts], verb: str, scope_dir: str | None, by_name: bool) -> str:
    names = _unique(_basename(f.change.path) if by_name else _stem(f.change.path) for f in files)
    if len(names) <= 3:
        return f"{verb} {_join(names)}"
    where = f" in {scope_dir}" if scope_dir else ""
    return f"{verb} {len(files)} files{where}"


def _mode_phrase(files: list[_Facts]) -> str:
    names = _unique(_basename(f.change.path) for f in files)
    modes = {(f.change.old_mode, f.change.new_mode) for f in files}
    what = _join(names) if len(names) <= 3 else f"{len(names)} files"
    if modes == {("100644", "100755")}:
        return f"make {what} executable"
    if modes == {("100755", "100644")}:
        return f"make {what} non-executable"
    return f"change mode of {what}"


def _rename_phrase(files: list[_Facts]) -> str:
    verb = "copy" if all(f.change.status == "copied" for f in files) else "rename"
    if len(files) == 1:
        old, new = files[0].change.old_path or "", files[0].change.path
        old_dir, new_dir = old.rpartition("/")[0], new.rpartition("/")[0]
        if old_dir == new_dir:
            return f"{verb} {_basename(old)} to {_basename(new)}"
        if _basename(old) == _basename(new):
            return f"move {_basename(old)} to {new_dir + '/' if new_dir else 'the top level'}"
        return f"{verb} {_basename(old)} to {_basename(new)}"
    targets = {f.change.path.rpartition("/")[0] for f in files}
    olds = {(f.change.old_path or "").rpartition("/")[0] for f in files}
    if len(targets) == 1 and targets != olds:
        target = next(iter(targets))
        return f"move {len(files)} files to {target + '/' if target else 'the top level'}"
    return f"{verb} {len(files)} files"


def _focus_dir(files: list[_Facts]) -> str | None:
    common = [s for s in _common_dir([f.change.path for f in files]) if s not in GENERIC_DIRS]
    return common[-1] if common else None


def _source_type(focus: list[_Facts], a: _Analysis) -> tuple[str, str]:
    """Type and subject when source code decides."""
    removed_names = {d.name for fa in a.files for d in fa.removed}
    new_defs = _new_public(focus, removed_names)
    new_files = [f for f in focus if f.change.status == "added" and f.content_changed]
    where = _focus_dir(focus)
    plus = [line for f in focus for line in f.plus]
    minus = [line for f in focus for line in f.minus]
    changed = len(plus) + len(minus)
    words = _words(plus) | _words(minus)
    if new_defs and (len(new_defs) <= 3 or not new_files):
        return "feat", "add " + _join([_def_label(d) for d in new_defs])
    if new_files:  # many new names in new files: the files say it shorter
        if len(new_files) > 3:
            stems = _unique(_stem(f.change.path) for f in new_files)
            return "feat", f"add {', '.join(stems[:2])} and {len(new_files) - 2} more files"
        return "feat", _files_phrase(new_files, "add", where, by_name=True)
    if minus and not plus:
        deleted = [f for f in focus if f.change.status == "deleted"]
        if deleted and len(deleted) == len([f for f in focus if f.content_changed]):
            return "refactor", _files_phrase(deleted, "delete", where, by_name=True)
        gone = _unique(_def_label(d) for f in focus for d in f.removed)
        if gone:
            return "refactor", "remove " + _join(gone)
        return "refactor", _files_phrase(focus, "remove code from", where, by_name=False)
    small = changed <= SMALL_CHANGE
    touched = _unique(n for f in focus for n in f.touched)
    if small and words & FIX_WORDS:
        if len(touched) == 1 and len(focus) == 1:
            return "fix", f"fix {touched[0]} in {_stem(focus[0].change.path)}"
        return "fix", _files_phrase(focus, "fix", where, by_name=False)
    if small and (words & PERF_WORDS or any("lru_cache" in line for line in plus)):
        return "perf", _files_phrase(focus, "speed up", where, by_name=False)
    helpers = any(d.name not in removed_names for f in focus for d in f.added)
    if (helpers and len(plus) > len(minus)) or (len(plus) >= 20 and len(plus) >= 2 * len(minus)):
        return "feat", _files_phrase(focus, "update", where, by_name=False)
    return "refactor", _files_phrase(focus, "update", where, by_name=False)


def _plain_subject(focus: list[_Facts], type_: str) -> str:
    """Subject for docs, tests, build, CI and chore changes: what happened to which files."""
    where = _focus_dir(focus)
    statuses = {f.change.status for f in focus}
    by_name = type_ != "test"
    if type_ == "test":
        names = _unique(_test_subject(f.change.path) for f in focus)
        verb = "add" if statuses == {"added"} else "update"
        if len(names) <= 2:
            return f"{verb} tests for {_join(names)}"
        return f"{verb} {len(focus)} test files" + (f" in {where}" if where else "")
    if statuses == {"added"}:
        return _files_phrase(focus, "add", where, by_name)
    if statuses == {"deleted"}:
        return _files_phrase(focus, "delete", where, by_name)
    return _files_phrase(focus, "update", where, by_name)


def _shape(focus: list[_Facts]) -> tuple[str, str] | None:
    """Changes with no content: only renames, only mode bits, only empty new files."""
    if any(f.content_changed for f in focus):
        return None
    if all(f.change.status in ("renamed", "copied") for f in focus):
        return "refactor", _rename_phrase(focus)
    if all(f.change.mode_changed and f.change.status == "modified" for f in focus):
        return "chore", _mode_phrase(focus)
    if all(f.change.status == "added" for f in focus):
        names = _unique(_basename(f.change.path) for f in focus)
        what = _join(names) if len(names) <= 3 else f"{len(names)} files"
        return "chore", f"add empty {what}"
    if all(f.change.status == "deleted" for f in focus):
        return "chore", _files_phrase(focus, "delete", _focus_dir(focus), by_name=True)
    return None


def _style_only(files: list[_Facts]) -> bool:
    code = [f for f in files if f.kind in ("source", "chore", "build")]
    if not code or len(code) != len(files):
        return False
    for f in code:
        if f.change.status not in ("modified", "renamed") or not f.content_changed:
            return False
        if _normalized(f.plus) != _normalized(f.minus):
            return False
    return True


def _decide(a: _Analysis) -> tuple[str, str, list[_Facts]]:
    """(type, subject, the files that decided it)."""
    files = a.files
    kinds = {f.kind for f in files}
    shape = _shape(files)
    if shape is not None:
        return shape[0], shape[1], files
    if len(kinds) == 1 and "source" not in kinds and "chore" not in kinds:
        kind = next(iter(kinds))
        return KIND_TYPE[kind], _plain_subject(files, KIND_TYPE[kind]), files
    if _style_only(files):
        return "style", _files_phrase(files, "format", _focus_dir(files), by_name=False), files
    # a file whose content did not change (a rename, a mode bit) does not make a kind dominant
    weights = {
        k: sum(f.weight for f in files if f.kind == k and f.content_changed) for k in KIND_ORDER
    }
    if weights["source"]:
        weights["docs"] = weights["test"] = 0  # the code is what the change is about
    winner = max(KIND_ORDER, key=lambda k: (weights[k], -KIND_ORDER.index(k)))
    focus = [f for f in files if f.kind == winner]
    if winner == "source":
        content = [f for f in focus if f.content_changed] or focus
        type_, subject = _source_type(content, a)
        return type_, subject, content
    type_ = KIND_TYPE[winner]
    return type_, _plain_subject(focus, type_), focus


def _noise_only(noise: list[FileChange]) -> tuple[str, str]:
    reasons = {f.noise for f in noise}
    names = _unique(_basename(f.path) for f in noise)
    what = _join(names) if len(names) <= 3 else f"{len(names)} files"
    if reasons <= {"lock file", "vendored"}:
        if reasons == {"lock file"}:
            return "build", f"update {what}"
        return "build", f"update vendored {what}" if len(names) <= 3 else "update vendored code"
    kinds = {file_kind(f.path) for f in noise}
    type_ = KIND_TYPE.get(next(iter(kinds)), "chore") if len(kinds) == 1 else "chore"
    statuses = {f.status for f in noise}
    verb = "add" if statuses == {"added"} else "delete" if statuses == {"deleted"} else "update"
    return type_, f"{verb} {what}"


def _bullets(a: _Analysis) -> list[str]:
    """One line per notable change, code first, noise last; at most MAX_CHANGES."""
    ranked: list[tuple[int, int, str]] = []
    changed_by_file = {id(fa): [d for f2, d in a.changed_signature if f2 is fa] for fa in a.files}
    for order, fa in enumerate(a.files):
        c = fa.change
        rank = KIND_ORDER.index(fa.kind) * 4
        removed_here = {d.name for d in fa.removed}
        new = _unique(_def_label(d) for d in _new_public([fa], removed_here))
        gone = _unique(
            _def_label(d) for d in fa.removed if d.name not in {x.name for x in fa.added}
        )
        counts = f" (+{c.additions} -{c.deletions})" if c.additions or c.deletions else ""
        if c.status == "added":
            if not fa.content_changed and not c.binary:
                text = f"add empty {c.path}"
            elif new:
                text = f"add {c.path} with {_listing(new)}"
            else:
                text = f"add {c.path}{counts}"
        elif c.status == "deleted":
            text = f"delete {c.path}"
            if gone and any(d.public for d in fa.removed):
                text += f" ({_listing(gone)})"
        elif c.status in ("renamed", "copied"):
            verb = "rename" if c.status == "renamed" else "copy"
            text = f"{verb} {c.old_path} to {c.path}{counts}"
        elif fa.content_changed:
            details: list[str] = []
            if new:
                details.append("add " + _listing(new))
            if gone:
                details.append("remove " + _listing(gone))
            sig = _unique(_def_label(d) for d in changed_by_file[id(fa)])
            if sig:
                details.append("change the signature of " + _listing(sig))
            text = f"update {c.path}" + (": " + "; ".join(details) if details else counts)
        else:
            text = ""
        if text:
            # new, removed and renamed things and new names before plain edits
            plain = c.status == "modified" and not (new or gone)
            ranked.append((rank + (2 if plain else 0), order, text))
        if c.mode_changed:
            ranked.append((rank + 3, order, f"mode {c.new_mode} on {c.path}"))
    if a.noise:
        by_reason: dict[str, list[str]] = {}
        for f in a.noise:
            by_reason.setdefault(f.noise or "", []).append(f.path)
        parts = []
        for reason, paths in by_reason.items():
            if len(paths) <= 3:
                parts.append(", ".join(f"{p} ({reason})" for p in paths))
            else:
                parts.append(f"{len(paths)} files ({reason}): {_join(paths[:2], 3, len(paths))}")
        ranked.append((99, 0, "left out: " + "; ".join(parts)))
    ranked.sort(key=lambda r: (r[0], r[1]))
    lines = [text for _, _, text in ranked]
    if len(lines) > MAX_CHANGES:
        more = len(lines) - MAX_CHANGES + 1
        lines = [*lines[: MAX_CHANGES - 1], f"and {more} more changes"]
    return lines


def _summary(subject: str, diff: ParsedDiff, left_out: int) -> str:
    n = len(diff.files)
    what = f"{n} file{'s' if n != 1 else ''}, +{diff.additions} -{diff.deletions}"
    if left_out:
        what += f", {left_out} left out of review"
    return f"{subject[:1].upper()}{subject[1:]} ({what})."


def offline_report(diff: ParsedDiff, *, merge_subject: str | None = None) -> dict[str, Any]:
    """The commit report for a diff, deterministically, from the diff (and merge subject) alone.

    ``merge_subject`` is the commit's own subject where the caller has one (a merge commit, or a
    revert): a merge is a chore named after what it merged, a revert keeps what it reverts.
    """
    subject_hint = " ".join((merge_subject or "").split())
    revert = re.match(r'^Revert\s+"(.+)"$', subject_hint)
    merge = re.match(r"^Merge\b", subject_hint)
    if not diff.files and not (revert or merge):
        return {
            "title": "chore: empty commit",
            "type": "chore",
            "scope": None,
            "breaking": False,
            "summary": "An empty commit: no file changed.",
            "changes": [],
        }
    a = _analyse(diff)
    breaking = a.marker or bool(a.removed_public) or bool(a.changed_signature)
    if revert or merge:
        breaking = a.marker  # what a merge or revert removes is not a new break by itself
    scope: str | None
    if revert:
        type_, scope, subject = "revert", None, revert.group(1)
    elif merge:
        type_, scope, subject = "chore", None, subject_hint
    elif not a.files:
        type_, subject = _noise_only(a.noise)
        deps = all(f.noise in ("lock file", "vendored") for f in a.noise)
        scope = "deps" if deps else _scope([f.path for f in a.noise], type_)
    else:
        type_, subject, focus = _decide(a)
        paths = [f.change.path for f in focus]
        paths += [f.change.old_path for f in focus if f.change.old_path]  # a move spans both
        scope = _scope(paths, type_)
    subject = _lower_first_word(subject)
    scope = _clean_scope(scope) if scope else None
    title = make_title(type_, scope, subject, breaking)
    if scope and f"({scope})" not in title:
        scope = None  # make_title dropped it to leave the subject room
    return {
        "title": title,
        "type": type_,
        "scope": scope,
        "breaking": breaking,
        "summary": _summary(subject, diff, len(a.noise)),
        "changes": _bullets(a),
    }

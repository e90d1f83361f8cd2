"""What forge knows of each programming language: which files hold it, and how it defines names.

The offline rule names what a change added or removed (``add Parser``, ``remove load()``) and sees a
break in a public interface by reading definitions off single added and removed lines. That needs,
per language, the definition patterns, what makes a name public (``export``, ``pub``, ``public``, a
capital in Go, no leading underscore) and how a parameter list reads. Patterns compile per language
on first use, so the git hook pays only for the languages a diff contains.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = [
    "OTHER_SOURCE_EXTS",
    "SOURCE_LANGS",
    "Definition",
    "find_definition",
    "language_of",
    "param_list",
    "signature_broken",
]

#: extensions of source code whose definitions forge reads, and the pattern set each one uses
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
#: source code too (it outranks docs and tests in a change), but its definitions are not read
OTHER_SOURCE_EXTS = frozenset({
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".m", ".mm", ".swift", ".sh", ".bash",
    ".zsh", ".fish", ".ps1", ".lua", ".pl", ".pm", ".r", ".jl", ".sql", ".dart", ".ex", ".exs",
    ".erl", ".hs", ".ml", ".clj", ".elm", ".zig", ".nim", ".css", ".scss", ".sass", ".less",
    ".html", ".htm"
})
# fmt: on


def language_of(path: str) -> str | None:
    """The language of a file whose definitions forge can read, from its extension."""
    path = path.lower()
    ext = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    return SOURCE_LANGS.get(ext)


class Definition:
    """A function, class or exported name seen on an added or removed line.

    A plain slotted class, not a dataclass, like the offline rule's other records: each dataclass
    costs about 0.5 ms to build at import, and the hook imports this module.
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

    @property
    def label(self) -> str:
        """How a bullet or a subject names it: ``load()`` for a function, ``Parser`` otherwise."""
        return f"{self.name}()" if self.kind == "function" else self.name

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


def find_definition(lang: str, line: str) -> Definition | None:
    """The definition one line of ``lang`` code starts, if it starts one."""
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


def param_list(text: str, lang: str | None = None) -> list[tuple[str, bool, bool]] | None:
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


def signature_broken(old: str, new: str, lang: str | None) -> bool:
    """A parameter removed, renamed or reordered, or a new one without a default."""
    before, after = param_list(old, lang), param_list(new, lang)
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

"""Cases from detect-secrets' plugin tests (Apache-2.0): ``tests/plugins/*_test.py`` parametrize
each plugin with lines and whether (or what) it must flag.

Read with ``ast``, never imported or run. A case's secret is the value its test expects where it
names one (the keyword plugin's tables), else what the plugin's own ``denylist`` regexes find in
it. A line the plugin must not flag is a look-alike, except when it holds a value the test file
itself names a secret (``..._SECRET`` constants: the keyword plugin declines some forms per
language, such as an unquoted value in C, which does not make them harmless).

Left out, and why: ``high_entropy_strings`` (quoted random strings with no name, scored by
entropy: its cases are built by a cross product this reader does not expand), ``ip_public`` (an
IP address is not a credential), ``private_key`` and ``base`` (file-level tests, no table)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from .common import Case, Snapshot, compile_foreign

SKIPPED_PLUGINS = ("high_entropy_strings", "ip_public", "private_key", "base")


class _Eval:
    """Evaluates the literal-building expressions of a test module: constants, names of
    module-level constants, ``+``, ``%``, ``str.format``, f-strings, tuples and lists."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env

    def __call__(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            raise ValueError(node.id)
        if isinstance(node, (ast.Tuple, ast.List)):
            return [self(e) for e in node.elts]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self(node.left) + self(node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            return self(node.left) % self(node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return self(node.left) * self(node.right)
        if isinstance(node, ast.Subscript):
            target = self(node.value)
            if isinstance(node.slice, ast.Slice):
                lo = self(node.slice.lower) if node.slice.lower else None
                hi = self(node.slice.upper) if node.slice.upper else None
                return target[lo:hi]
            return target[self(node.slice)]
        if isinstance(node, ast.JoinedStr):
            return "".join(
                str(self(v.value)) if isinstance(v, ast.FormattedValue) else str(self(v))
                for v in node.values
            )
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            args = [self(a) for a in node.args]
            kwargs = {k.arg: self(k.value) for k in node.keywords if k.arg}
            return self(node.func.value).format(*args, **kwargs)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("upper", "lower", "strip") and not node.args:
                return getattr(self(node.func.value), node.func.attr)()
            if node.func.attr == "escape" and len(node.args) == 1:
                return re.escape(self(node.args[0]))
            if node.func.attr == "build_assignment_regex":
                kwargs = {k.arg: self(k.value) for k in node.keywords if k.arg}
                return _Assignment(**kwargs)
        raise ValueError(ast.dump(node)[:60])


class _Assignment(str):
    """``RegexBasedDetector.build_assignment_regex`` of detect_secrets/plugins/base.py: the
    pattern it builds, as a string (compiled case-insensitively, as there)."""

    def __new__(
        cls, prefix_regex: str, secret_keyword_regex: str, secret_regex: str
    ) -> _Assignment:
        quote = "(?:\"|'|)"
        return super().__new__(
            cls,
            "(?i)(?:(?<=\\W)|(?<=^))(?:\\[|)"
            + quote
            + prefix_regex
            + "(?:_|-|)"
            + secret_keyword_regex
            + quote
            + "(?:\\]|)(?: *)(?:=|:|:=|=>| +|::)(?: *)"
            + quote
            + secret_regex
            + quote,
        )


def _module_env(tree: ast.Module) -> dict[str, Any]:
    """Module-level constants, and class attributes (plugins keep their pieces there)."""
    env: dict[str, Any] = {}
    ev = _Eval(env)
    body = list(tree.body)
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            body.extend(stmt.body)
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                try:
                    env[target.id] = ev(stmt.value)
                except (ValueError, TypeError, KeyError, IndexError):
                    continue
    return env


def _denylist(source: str) -> list[Any]:
    """The compiled ``denylist`` regexes of a plugin module (flags honoured where literal)."""
    tree = ast.parse(source)
    ev = _Eval(_module_env(tree))
    out: list[Any] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "build_assignment_regex":
                try:
                    regex = compile_foreign(ev(node))
                except (ValueError, TypeError, KeyError):
                    continue
                if regex is not None:
                    out.append(regex)
                continue
            if node.func.attr != "compile" or not node.args:
                continue
            try:
                pattern = ev(node.args[0])
            except (ValueError, TypeError, KeyError, IndexError):
                continue
            flags = ast.unparse(node)
            prefix = "(?i)" if "IGNORECASE" in flags or "re.I)" in flags else ""
            regex = compile_foreign(prefix + pattern) if isinstance(pattern, str) else None
            if regex is not None:
                out.append(regex)
    return out


def _tables(tree: ast.Module, env: dict[str, Any]) -> list[tuple[str, Any]]:
    """(line, expected) rows: module-level ``*_CASES`` tables and parametrize lists whose rows
    are (text, bool) or (text, expected secret)."""
    rows: list[tuple[str, Any]] = []
    ev = _Eval(env)
    candidates: list[ast.AST] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("CASES") for t in stmt.targets
        ):
            candidates.append(stmt.value)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "parametrize"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Constant)
            and len(str(node.args[0].value).split(",")) == 2
        ):
            candidates.append(node.args[1])
    for table in candidates:
        if not isinstance(table, (ast.List, ast.Tuple)):
            continue
        for row in table.elts:
            try:
                value = ev(row)
            except (ValueError, TypeError, KeyError, IndexError):
                continue
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                rows.append((value[0], value[1]))
    return rows


def cases(snapshot: Snapshot) -> tuple[list[Case], dict[str, int]]:
    skipped = {"no_secret_found": 0, "names_a_secret": 0}
    out: list[Case] = []
    for path in snapshot.files("tests/plugins/", "_test.py"):
        name = path.rsplit("/", 1)[1][: -len("_test.py")]
        if name in SKIPPED_PLUGINS:
            continue
        tree = ast.parse(snapshot.read(path))
        plugin_file = next(
            (
                f"detect_secrets/plugins/{n.module.rsplit('.', 1)[1]}.py"
                for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom)
                and n.module
                and n.module.startswith("detect_secrets.plugins.")
            ),
            None,
        )
        try:
            denylist = _denylist(snapshot.read(plugin_file)) if plugin_file else []
        except KeyError:
            denylist = []
        env = _module_env(tree)
        declared = [
            v for k, v in env.items() if k.endswith("SECRET") and isinstance(v, str) and v.strip()
        ]
        for text, expected in _tables(tree, env):
            if expected is True or (isinstance(expected, str) and expected):
                if isinstance(expected, str):
                    values = [expected] if expected in text else []
                else:
                    values = [
                        v if isinstance(v, str) else next((g for g in v if g), "")
                        for regex in denylist
                        for v in regex.findall(text)
                    ]
                    values = [v for v in values if v]
                if values:
                    out.append(Case("detect-secrets", name, text, tuple(values), path))
                else:
                    skipped["no_secret_found"] += 1
            elif expected is False or expected is None:
                if any(d in text for d in declared):
                    skipped["names_a_secret"] += 1
                else:
                    out.append(Case("detect-secrets", name, text, (), path))
    return out, skipped


def checkers(snapshot: Snapshot) -> list[Callable[[str], bool]]:
    """Each plugin's denylist regexes (the plugins whose tests are read): used to find
    look-alikes another scanner disputes."""
    out: list[Callable[[str], bool]] = []
    for path in snapshot.files("detect_secrets/plugins/", ".py"):
        name = path.rsplit("/", 1)[1][:-3]
        if name in SKIPPED_PLUGINS or name.startswith("_"):
            continue
        for regex in _denylist(snapshot.read(path)):
            out.append(lambda text, regex=regex: regex.search(text) is not None)
    return out

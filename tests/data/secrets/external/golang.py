"""Just enough Go to read gitleaks' rule files: tokens, function bodies, and the expressions their
``tps`` / ``fps`` lists are built from (string literals, ``+``, ``[]string{...}``,
``map[string]string{...}``, ``append``, ``fmt.Sprintf`` and the generators of
``cmd/generate/config/utils`` and ``secrets``), evaluated in Python.

Nothing here runs or builds gitleaks: the rule files are read as text. An expression this module
cannot evaluate raises :class:`Unsupported` and the element is counted as skipped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


class Unsupported(Exception):
    """An expression outside the subset this reader evaluates."""


@dataclass(frozen=True)
class Tok:
    kind: str  # str, ident, num, op, nl
    value: str


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_OPS = (":::=", "::=", "...", ":=", "+=", "==", "!=", "&&", "||", "<-", "?=")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_NUM = re.compile(r"[0-9][0-9_.xXa-fA-F]*")


def _interpreted(src: str, i: int, quote: str) -> tuple[str, int]:
    """Decode a "..." or '...' literal starting after its opening quote; (value, index after)."""
    out: list[str] = []
    while True:
        c = src[i]
        if c == quote:
            return "".join(out), i + 1
        if c == "\n":
            raise Unsupported("newline in a string literal")
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = src[i + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e in "\\'\"":
            out.append(e)
            i += 2
        elif e == "x":
            out.append(chr(int(src[i + 2 : i + 4], 16)))
            i += 4
        elif e == "u":
            out.append(chr(int(src[i + 2 : i + 6], 16)))
            i += 6
        elif e == "U":
            out.append(chr(int(src[i + 2 : i + 10], 16)))
            i += 10
        elif e in "01234567":
            out.append(chr(int(src[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise Unsupported(f"escape \\{e}")


def tokenize(src: str) -> list[Tok]:
    """Go tokens; comments dropped, newlines kept (they end statements)."""
    toks: list[Tok] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            toks.append(Tok("nl", "\n"))
            i += 1
        elif c in " \t\r":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j == -1 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j == -1 else j + 2
        elif c == "`":
            j = src.index("`", i + 1)
            toks.append(Tok("str", src[i + 1 : j].replace("\r", "")))
            i = j + 1
        elif c in "\"'":
            value, i = _interpreted(src, i + 1, c)
            toks.append(Tok("str" if c == '"' else "rune", value))
        elif m := _IDENT.match(src, i):
            toks.append(Tok("ident", m.group()))
            i = m.end()
        elif m := _NUM.match(src, i):
            toks.append(Tok("num", m.group()))
            i = m.end()
        else:
            op = next((o for o in _OPS if src.startswith(o, i)), c)
            toks.append(Tok("op", op))
            i += len(op)
    return toks


def functions(toks: list[Tok]) -> Iterator[tuple[str, list[Tok]]]:
    """(name, body tokens) of every top-level ``func``."""
    i = 0
    while i < len(toks):
        if toks[i] == Tok("ident", "func") and toks[i + 1].kind == "ident":
            name = toks[i + 1].value
            j = i + 2
            while toks[j] != Tok("op", "{"):
                j += 1
            depth, k = 0, j
            while True:
                if toks[k] == Tok("op", "{"):
                    depth += 1
                elif toks[k] == Tok("op", "}"):
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            yield name, toks[j + 1 : k]
            i = k + 1
        else:
            i += 1


Builtin = Callable[..., Any]


class Evaluator:
    """Evaluates the expressions of one function body with local string/list variables."""

    def __init__(self, builtins: dict[str, Builtin], env: dict[str, Any] | None = None) -> None:
        self.builtins = builtins
        self.env: dict[str, Any] = dict(env or {})
        self.toks: list[Tok] = []
        self.i = 0

    # ---------------------------------------------------------------- statements

    def assignments(self, body: list[Tok]) -> Iterator[tuple[str, str, int, int]]:
        """(name, operator, start, end) token ranges of ``name := expr`` / ``name = expr``
        statements at the start of a line."""
        self.toks = body
        for k in range(len(body) - 2):
            at_line_start = k == 0 or body[k - 1].kind == "nl" or body[k - 1] == Tok("op", "{")
            if at_line_start and body[k].kind == "ident" and body[k + 1].value in (":=", "="):
                yield body[k].value, body[k + 1].value, k + 2, len(body)

    def run(self, body: list[Tok], wanted: Callable[[str], bool]) -> dict[str, list[Any]]:
        """Execute the assignments of a body in order; return the final value of each name
        ``wanted`` accepts (others are kept as locals when they evaluate)."""
        results: dict[str, list[Any]] = {}
        for name, _op, start, _ in list(self.assignments(body)):
            self.toks, self.i = body, start
            try:
                value = self.expr()
            except (Unsupported, IndexError, ValueError, KeyError, TypeError) as exc:
                if wanted(name):
                    raise Unsupported(f"{name}: {exc}") from exc
                continue
            self.env[name] = value
            if wanted(name):
                results[name] = value
        return results

    # ---------------------------------------------------------------- expressions

    def _peek(self) -> Tok:
        while self.toks[self.i].kind == "nl" and self._inside:
            self.i += 1
        return self.toks[self.i]

    _inside = 0

    def _next(self) -> Tok:
        tok = self._peek()
        self.i += 1
        return tok

    def _expect(self, value: str) -> None:
        tok = self._next()
        if tok.value != value:
            raise Unsupported(f"expected {value!r}, got {tok.value!r}")

    def expr(self) -> Any:
        left = self.primary()
        while self.i < len(self.toks) and self._peek() == Tok("op", "+"):
            self.i += 1
            right = self.primary()
            left = left + right
        return left

    def _elements(self, close: str, keyed: bool = False) -> list[Any]:
        """Comma-separated elements up to ``close``; an element that fails to evaluate is kept
        as an :class:`Unsupported` instance so its neighbours still count."""
        self._inside += 1
        out: list[Any] = []
        try:
            while self._peek().value != close:
                start = self.i
                try:
                    if keyed:
                        key = self.expr()
                        self._expect(":")
                        out.append((key, self.expr()))
                    else:
                        out.append(self.expr())
                    if self._peek() == Tok("op", "..."):
                        self.i += 1
                        spread = out.pop()
                        out.extend(spread if isinstance(spread, list) else [spread])
                except (Unsupported, ValueError, KeyError, TypeError) as exc:
                    self.i = start
                    self._skip_element(close)
                    out.append(Unsupported(str(exc)))
                if self._peek() == Tok("op", ","):
                    self.i += 1
            self.i += 1
        finally:
            self._inside -= 1
        return out

    def _skip_element(self, close: str) -> None:
        depth = 0
        while True:
            tok = self._peek()
            if depth == 0 and tok.value in (",", close) and tok.kind == "op":
                return
            if tok.value in "([{" and tok.kind == "op":
                depth += 1
            elif tok.value in ")]}" and tok.kind == "op":
                depth -= 1
            self.i += 1

    def primary(self) -> Any:
        while self.toks[self.i].kind == "nl":  # "a +" then the operand on the next line
            self.i += 1
        tok = self._next()
        if tok.kind == "str":
            return tok.value
        if tok.kind == "num":
            return int(tok.value)
        if tok.value == "[":  # []string{...}, or a conversion such as []byte(s)
            self._expect("]")
            self._next()  # element type
            if self._peek() == Tok("op", "("):
                self.i += 1
                value = self.expr()
                self._expect(")")
                return value
            self._expect("{")
            return self._elements("}")
        if tok.value == "map":
            while self._next().value != "{":
                pass
            return self._elements("}", keyed=True)
        if tok.kind == "ident":
            name = tok.value
            while self._peek() == Tok("op", ".") and self.toks[self.i + 1].kind == "ident":
                name += "." + self.toks[self.i + 1].value
                self.i += 2
            if self._peek() == Tok("op", "("):
                self.i += 1
                args = self._elements(")")
                for arg in args:
                    if isinstance(arg, Unsupported):
                        raise arg
                fn = self.builtins.get(name)
                if fn is None:
                    raise Unsupported(f"call of {name}")
                return fn(*args)
            if name in self.env:
                return self.env[name]
            raise Unsupported(f"name {name}")
        raise Unsupported(f"token {tok.value!r}")


def sprintf(fmt: str, *args: Any) -> str:
    """Go's fmt.Sprintf for the verbs the rule files use."""
    values = iter(args)

    def repl(m: re.Match[str]) -> str:
        verb = m.group(1)
        if verb == "%":
            return "%"
        value = next(values)
        return f'"{value}"' if verb == "q" else str(value)

    return re.sub(r"%[-+# 0-9.]*([sdvq%])", repl, fmt)


def package_vars(toks: list[Tok], evaluator: Evaluator) -> None:
    """Evaluate ``var NAME = expr`` at the top level of a file into the evaluator's names."""
    depth = 0
    for k, tok in enumerate(toks):
        if tok.kind == "op" and tok.value in "({[":
            depth += 1
        elif tok.kind == "op" and tok.value in ")}]":
            depth -= 1
        elif (
            depth == 0
            and tok == Tok("ident", "var")
            and toks[k + 1].kind == "ident"
            and toks[k + 2] == Tok("op", "=")
        ):
            evaluator.toks, evaluator.i = toks, k + 3
            try:
                evaluator.env[toks[k + 1].value] = evaluator.expr()
            except (Unsupported, ValueError, KeyError, TypeError):
                continue

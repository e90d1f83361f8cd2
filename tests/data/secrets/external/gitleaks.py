"""Cases from gitleaks' rule tests (MIT): every rule in ``cmd/generate/config/rules/*.go`` lists
true positives (``tps``) and false positives (``fps``) that gitleaks' own test run checks.

The secret of a positive is what the rule's own regex (from ``config/gitleaks.toml``) captures
in it (its ``secretGroup``, else the first non-empty group, as gitleaks reports it); where that
regex does not compile in Python, the values the rule file generated for it. Generated samples
(``utils.GenerateSampleSecrets``: one secret written in 29 assignment forms) are many and alike,
so three forms per call are kept, chosen by a seeded draw.

Two kinds of ``fps`` are not look-alikes and are left out: those that are negative only because
of the file path they are tested under (``ValidateWithPaths``: a redactor sees no path), and real
keys a rule's allowlist names by their exact value (keys published on purpose; no rule about the
form of a secret can tell them from a leaked one)."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from typing import Any

from . import golang, regen
from .common import Case, Snapshot, compile_foreign, secrets_in

SAMPLES_PER_CALL = 3


def _patterns() -> dict[str, Callable[..., str]]:
    """``cmd/generate/config/utils/patterns.go``, which only formats character classes."""
    return {
        "utils.Numeric": lambda n: f"[0-9]{{{n}}}",
        "utils.Hex": lambda n: f"[a-f0-9]{{{n}}}",
        "utils.AlphaNumeric": lambda n: f"[a-z0-9]{{{n}}}",
        "utils.AlphaNumericExtendedShort": lambda n: f"[a-z0-9_-]{{{n}}}",
        "utils.AlphaNumericExtended": lambda n: f"[a-z0-9=_\\-]{{{n}}}",
        "utils.AlphaNumericExtendedLong": lambda n: f"[a-z0-9\\/=_\\+\\-]{{{n}}}",
        "utils.Hex8_4_4_4_12": lambda: (
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        ),
    }


def _builtins(
    templates: list[str], rng: random.Random, generated: list[str]
) -> dict[str, Callable[..., Any]]:
    """The calls a rule function may make, evaluated in Python; generated values are recorded
    in ``generated`` (the secrets of samples whose rule regex does not compile)."""

    def secret(pattern: str, plausible: bool = False) -> str:
        while True:  # newPlausibleSecret: retried until it holds a digit 1-9
            value = regen.generate(pattern, rng)
            if not plausible or any(c in value for c in "123456789"):
                generated.append(value)
                return value

    def samples(identifier: str, value: str) -> list[str]:
        chosen = rng.sample(templates, SAMPLES_PER_CALL)
        return [
            t.replace("{i}", identifier).replace("{I}", identifier.upper()).replace("{s}", value)
            for t in chosen
        ]

    return {
        **_patterns(),
        "secrets.NewSecret": secret,
        "newPlausibleSecret": lambda p: secret(p, plausible=True),
        "utils.GenerateSampleSecrets": samples,
        "utils.GenerateSampleSecret": lambda i, s: f'{i}_api_token = "{s}"',
        "fmt.Sprintf": golang.sprintf,
        "append": lambda first, *rest: [*first, *rest],
        "strings.Repeat": lambda s, n: s * n,
        "strings.ToUpper": str.upper,
        "base64.StdEncoding.EncodeToString": lambda s: base64.b64encode(s.encode()).decode(),
    }


def _sample_templates(snapshot: Snapshot) -> list[str]:
    """The ``samples`` map of ``GenerateSampleSecrets`` in utils/generate.go, in file order."""
    toks = golang.tokenize(snapshot.read("cmd/generate/config/utils/generate.go"))
    for name, body in golang.functions(toks):
        if name == "GenerateSampleSecrets":
            found = golang.Evaluator({}).run(body, lambda n: n == "samples")
            return [value for _key, value in found["samples"]]
    raise ValueError("GenerateSampleSecrets not found in utils/generate.go")


def _rule_regexes(snapshot: Snapshot) -> dict[str, tuple[Any, int, list[str]]]:
    """rule id -> (compiled regex or None, secretGroup, values its allowlists name verbatim)
    from config/gitleaks.toml."""
    config = tomllib.loads(snapshot.read("config/gitleaks.toml"))
    out: dict[str, tuple[Any, int, list[str]]] = {}
    for rule in config.get("rules", []):
        if "regex" in rule:
            verbatim = [
                p
                for allow in rule.get("allowlists", [])
                for p in allow.get("regexes", [])
                if len(_literal(p)) >= 8 and not _META.search(re.sub(r"\\.", "", p))
            ]
            out[rule["id"]] = (
                compile_foreign(rule["regex"]),
                int(rule.get("secretGroup", 0)),
                verbatim,
            )
    return out


#: what makes an allowlist "regex" a pattern rather than one literal value (a key published on
#: purpose, such as a sample from a vendor's documentation)
_META = re.compile(r"[.^$*+?{}\[\]()|\\]")


def _literal(pattern: str) -> str:
    r"""The value a pattern of escaped characters only (``hal\+9ooo``) stands for."""
    return re.sub(r"\\([^A-Za-z0-9])", r"\1", pattern)


def _extension(path: str) -> str:
    return path.rsplit(".", 1)[-1].lower() if "." in path else ""


def _rule_id(body: list[golang.Tok]) -> str | None:
    for k in range(len(body) - 2):
        if body[k].value == "RuleID" and body[k + 1].value == ":" and body[k + 2].kind == "str":
            return body[k + 2].value
    return None


def _capture(regex: Any, group: int, text: str) -> list[str]:
    """What gitleaks would report as the secret of each match of ``regex`` in ``text``."""
    found: list[str] = []
    for m in regex.finditer(text):
        if group:
            value = m.group(group) if group <= (regex.groups or 0) else None
        else:
            value = next((g for g in m.groups() if g), None) or m.group()
        if value:
            found.append(value)
    return found


def cases(snapshot: Snapshot) -> tuple[list[Case], dict[str, int]]:
    """Positives and negatives of every rule, and counts of what could not be used."""
    templates = _sample_templates(snapshot)
    regexes = _rule_regexes(snapshot)
    skipped = {
        "unevaluated": 0,
        "no_secret_found": 0,
        "negative_by_path": 0,
        "negative_allowlisted_verbatim": 0,
    }
    out: list[Case] = []
    for path in snapshot.files("cmd/generate/config/rules/", ".go"):
        toks = golang.tokenize(snapshot.read(path))
        package = golang.Evaluator({})
        golang.package_vars(toks, package)
        for _func, body in golang.functions(toks):
            rule = _rule_id(body)
            if rule is None:
                continue
            seed = int.from_bytes(hashlib.sha256(f"gitleaks/{rule}".encode()).digest()[:8], "big")
            rng = random.Random(seed)
            generated: list[str] = []
            builtins = _builtins(templates, rng, generated)
            try:
                found = golang.Evaluator(builtins, package.env).run(
                    body, lambda n: n in ("tps", "fps")
                )
            except golang.Unsupported:
                skipped["unevaluated"] += 1
                continue
            regex, group, verbatim = regexes.get(rule, (None, 0, []))
            tp_paths = {_extension(v[0]) for v in found.get("tps", []) if isinstance(v, tuple)}
            tps = _texts(found.get("tps", []), skipped)
            tp_set = set(tps)
            for text in tps:
                values = _capture(regex, group, text) if regex is not None else []
                values = values or secrets_in(text, generated)
                if not values:
                    skipped["no_secret_found"] += 1
                    continue
                out.append(Case("gitleaks", rule, text, tuple(values), path))
            path_fps = {
                v[1]
                for v in found.get("fps", [])
                if isinstance(v, tuple) and _extension(v[0]) not in tp_paths
            }
            for text in _texts(found.get("fps", []), skipped):
                if text in tp_set or text in path_fps:
                    # ValidateWithPaths: negative only because of the file it is in, which a
                    # text redactor never sees
                    skipped["negative_by_path"] += 1
                elif any(v in text for v in verbatim):
                    # a real key the rule allows by its exact value (published on purpose):
                    # no rule about form can tell it from a leaked one
                    skipped["negative_allowlisted_verbatim"] += 1
                else:
                    out.append(Case("gitleaks", rule, text, (), path))
    return out, skipped


def _texts(values: list[Any], skipped: dict[str, int]) -> list[str]:
    """The strings of a tps/fps list (map values for ValidateWithPaths); unevaluated counted."""
    texts: list[str] = []
    for v in values:
        if isinstance(v, tuple):
            v = v[1]
        if isinstance(v, str) and v.strip():
            texts.append(v)
        elif isinstance(v, golang.Unsupported):
            skipped["unevaluated"] += 1
    return texts


def checkers(snapshot: Snapshot) -> list[Callable[[str], bool]]:
    """Each rule as gitleaks applies it to text: its keywords, its regex, its entropy floor on
    the secret (allowlists aside): used to find look-alikes another scanner disputes."""
    config = tomllib.loads(snapshot.read("config/gitleaks.toml"))
    out: list[Callable[[str], bool]] = []
    for rule in config.get("rules", []):
        regex = compile_foreign(rule["regex"]) if "regex" in rule else None
        if regex is not None:
            out.append(
                _Checker(
                    regex,
                    float(rule.get("entropy", 0)),
                    int(rule.get("secretGroup", 0)),
                    [k.lower() for k in rule.get("keywords", [])],
                )
            )
    return out


class _Checker:
    def __init__(self, regex: Any, entropy: float, group: int, keywords: list[str]) -> None:
        self.regex, self.entropy, self.group, self.keywords = regex, entropy, group, keywords

    def __call__(self, text: str) -> bool:
        if self.keywords and not any(k in text.lower() for k in self.keywords):
            return False
        return any(_entropy(v) >= self.entropy for v in _capture(self.regex, self.group, text))


def _entropy(value: str) -> float:
    n = len(value)
    return -sum(k / n * math.log2(k / n) for k in Counter(value).values()) if n else 0.0

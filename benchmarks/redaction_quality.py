"""Quality and speed of secret/PII redaction (forge_cli.redact).

Run: ``python benchmarks/redaction_quality.py`` (add ``--errors`` to list every miss and every false
positive).

Quality is measured on two corpora, and the first to trust is the external one:

- **external**: other secret scanners' own rule tests (gitleaks, detect-secrets, Nosey Parker,
  Kingfisher, Semgrep),
  rebuilt from fetched snapshots of their repositories by ``tests/data/secrets/external/corpus.py``
  (never copied into this repository; where the snapshots are not here this section says so). A
  positive is caught when every secret value the scanner's rule captures is gone and a marker
  stands in; a negative (a look-alike) is a false positive when anything at all changes. Both run
  with ``pii=False``, forge's default. Parts: gitleaks, detect-secrets and Nosey Parker split by
  rule into ``tune`` and ``holdout`` (both looked at while improving the detectors by now);
  ``kingfisher`` (Kingfisher's rule examples: held out for two rounds, tuned on in the third);
  ``unseen``: Semgrep's secret rules' tests, added before the third round and only measured;
  ``--errors`` does not list them, so they stay a fair test.
- **own**: the corpus built by ``tests/data/secrets/make_corpus.py``: a positive counts as caught
  when its secret value is gone and a marker of the expected type stands in its place; a negative
  counts as a false positive when anything at all is redacted (``pii=True``, the stricter mode). It
  was written alongside the detectors, so read its recall as an upper bound: it proves each form is
  handled, not how often real diffs use other forms.

Speed is measured where it matters, on a 200-line unified diff (the size the commit hook sees most):
best of 7 rounds, so machine noise does not count. The hook's budget is 2 ms per such diff.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import random
import re
import sys
import tempfile
import time
import timeit
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from forge_cli.redact import PII_TYPES, SECRET_TYPES, redact  # noqa: E402

CORPUS_SCRIPT = ROOT / "tests" / "data" / "secrets" / "make_corpus.py"
EXTERNAL_DIR = ROOT / "tests" / "data" / "secrets" / "external"
BUDGET_US = 2000.0


def load_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------ 200-line diffs

#: ordinary lines of a change: code, config, docs; several mention tokens, keys and passwords
#: without holding one, as real diffs do
PLAIN_LINES = (
    "def handle(self, request: Request) -> Response:",
    '    """Refresh the access token when it is about to expire."""',
    "    token = self.store.get(request.user_id)",
    "    if token is None or token.expires_at < now():",
    "        token = await self.client.refresh(token)",
    "    return Response(status=200, body=json.dumps(payload))",
    "for key, value in sorted(settings.items()):",
    '    logger.info("loaded %s", key)',
    "class PasswordPolicy(BaseModel):",
    "    min_length: int = 12",
    "    require_digit: bool = True",
    "    password: SecretStr",
    '        "max_tokens": 4096,',
    '        "model": "gpt-4o-mini",',
    '        "temperature": 0.2,',
    "  retries: 3",
    "  timeout: 30s",
    "  image: ghcr.io/acme/api:1.14.2",
    "  password: ${DB_PASSWORD}",
    "  api_key: ${{ secrets.API_KEY }}",
    "- Rotate the signing key every 90 days.",
    "- Tokens are cached for 10 minutes; see docs/auth.md.",
    "import { useAuth } from './hooks/useAuth';",
    "export const fetchItems = async (page = 1) => api.get(`/items?page=${page}`);",
    "const headers = { Authorization: `Bearer ${token}` };",
    "    assert response.status_code == 200",
    "    assert 'token' in response.json()",
    "CREATE INDEX idx_orders_customer ON orders (customer_id);",
    "    cache_key = f'user:{user.id}:v2'",
    "color: #1f2937; margin: 0 auto; max-width: 72rem;",
    "",
    "    # keep the old behaviour for one release",
    "    return sha256(data).hexdigest()",
    "    uuid = '550e8400-e29b-41d4-a716-446655440000'",
    "    version = '2.14.0'",
)


def make_diff(fakes: Any, rng: random.Random, *, secrets_every: int = 0) -> str:
    """A 200-line unified diff: headers, hunks, context/added/removed lines, a few secrets."""
    secret_lines = [
        lambda: f"AWS_ACCESS_KEY_ID={fakes.aws_access_key()}",
        lambda: f"  password: {fakes.password()}",
        lambda: f'GITHUB_TOKEN = "{fakes.github("p")}"',
        lambda: f"DATABASE_URL=postgres://app:{fakes.password()}@db:5432/app",
    ]
    lines: list[str] = []
    content: list[int] = []  # indexes of context/added/removed lines
    n_file = 0
    while len(lines) < 200:
        if len(lines) % 40 == 0:
            n_file += 1
            name = f"src/app/module_{n_file}.py"
            lines += [
                f"diff --git a/{name} b/{name}",
                f"index {rng.getrandbits(28):07x}..{rng.getrandbits(28):07x} 100644",
                f"--- a/{name}",
                f"+++ b/{name}",
            ]
        if len(lines) % 12 == 4:
            start = rng.randint(1, 400)
            lines.append(f"@@ -{start},12 +{start},14 @@ class Service:")
            continue
        content.append(len(lines))
        lines.append(rng.choices(" +-", weights=(6, 3, 1))[0] + rng.choice(PLAIN_LINES))
    lines = lines[:200]
    content = [i for i in content if i < 200]
    every = secrets_every or len(content) // 4
    for n, i in enumerate(content[every // 2 :: every]):
        lines[i] = lines[i][0] + secret_lines[n % len(secret_lines)]()
    return "\n".join(lines) + "\n"


def best_us(text: str, *, pii: bool) -> float:
    number = 200
    runs = timeit.repeat(lambda: redact(text, pii=pii), number=number, repeat=7)
    return min(runs) / number * 1e6


def import_ms() -> float:
    """Best-of-20 time to import the package afresh, every module of it, as the hook does: from
    cached bytecode, regexes compiled anew, the stdlib already loaded.

    The bytecode goes to a temporary ``sys.pycache_prefix`` (written by a first, untimed round), so
    the figure is the same whether or not this machine sets PYTHONDONTWRITEBYTECODE, and nothing is
    written next to the sources.
    """
    package = "forge_cli.redact"
    names = [n for n in sys.modules if n == package or n.startswith(package + ".")]
    saved = {n: sys.modules[n] for n in names}
    prefix, dont_write = sys.pycache_prefix, sys.dont_write_bytecode
    best = float("inf")
    with tempfile.TemporaryDirectory() as cache:
        sys.pycache_prefix, sys.dont_write_bytecode = cache, False
        try:
            for round_ in range(21):
                for name in names:
                    sys.modules.pop(name, None)
                re.purge()
                start = time.perf_counter()
                importlib.import_module(package)
                if round_:
                    best = min(best, time.perf_counter() - start)
        finally:
            sys.pycache_prefix, sys.dont_write_bytecode = prefix, dont_write
            sys.modules.update(saved)  # leave the modules as they were before the timing
            sys.modules["forge_cli"].redact = saved[package]  # type: ignore[attr-defined]
    return best * 1e3


# ------------------------------------------------------------------------------------ quality


def load_external() -> ModuleType:
    """tests/data/secrets/external, imported by path (tests/data is not a package)."""
    name = "forge_external_secrets"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, EXTERNAL_DIR / "__init__.py", submodule_search_locations=[str(EXTERNAL_DIR)]
        )
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return importlib.import_module(f"{name}.corpus")


def external_caught(text: str, secrets: tuple[str, ...]) -> bool:
    """Every value the scanner's rule captures is gone, and a marker stands in."""
    out = redact(text).text
    return "[REDACTED:" in out and not any(s in out for s in secrets)


def external_quality(snapshots: str | None, errors: bool, parts: list[str]) -> None:
    """Recall and false positives per source and part on the scanners' own rule tests."""
    try:
        import regex  # noqa: F401  (the scanners' regexes are read as written only by it)

        external = load_external()  # imports PyYAML for Nosey Parker's rules
    except ImportError as exc:
        print(f"== external corpus: needs PyYAML and the regex module ({exc})")
        return
    corpus = external.build(external.snapshot_dir(snapshots))
    if not corpus.cases:
        print(f"== external corpus: no scanner snapshots in {external.snapshot_dir(snapshots)}")
        print(
            "   (fetch gitleaks/gitleaks, Yelp/detect-secrets, praetorian-inc/noseyparker,"
            " mongodb/kingfisher, semgrep/semgrep-rules)"
        )
        return
    if corpus.missing:
        print(f"== external corpus: missing {', '.join(corpus.missing)}")
    stats: dict[tuple[str, str], list[int]] = {}  # (source, part) -> [pos, caught, neg, fp]
    listed: list[str] = []
    for case in corpus.cases:
        row = stats.setdefault((case.source, case.part), [0, 0, 0, 0])
        if case.positive:
            ok = external_caught(case.text, case.secrets)
            row[0] += 1
            row[1] += ok
            wrong = not ok
        else:
            wrong = redact(case.text).text != case.text
            row[2] += 1
            row[3] += wrong
        if errors and wrong and case.part in parts and case.part not in external.HIDDEN_PARTS:
            what = "miss" if case.positive else "false positive"
            listed.append(f"  {what} {case.source}/{case.rule}: {case.text[:160]!r}")
    commits = ", ".join(f"{k} {v[:10]}" for k, v in corpus.commits.items())
    print(f"== external corpus: scanners' own rule tests ({commits})")
    print(
        f"  {'source':<15} {'part':<8} {'positives':>9} {'recall':>7} {'negatives':>9} {'FP':>4} {'FP rate':>7}"
    )
    totals: dict[str, list[int]] = {}
    for (source, part), (pos, caught, neg, fp) in sorted(stats.items()):
        print(
            f"  {source:<15} {part:<8} {pos:>9} {caught / max(pos, 1):>7.3f} {neg:>9} {fp:>4} "
            f"{fp / max(neg, 1):>7.3f}"
        )
        total = totals.setdefault(part, [0, 0, 0, 0])
        for i, v in enumerate((pos, caught, neg, fp)):
            total[i] += v
    for part, (pos, caught, neg, fp) in sorted(totals.items(), reverse=True):
        print(
            f"  {'all':<15} {part:<8} {pos:>9} {caught / max(pos, 1):>7.3f} {neg:>9} {fp:>4} "
            f"{fp / max(neg, 1):>7.3f}"
        )
    held = corpus.placeholders
    kept = sum(not external_caught(c.text, c.secrets) for c in held if c.positive)
    left = sum(redact(c.text).text == c.text for c in held if not c.positive)
    print(
        "  placeholders, scored apart (masks such as xxxx or EXAMPLE, words such as 'password'"
        " where a secret goes; forge keeps them on purpose):\n"
        f"    {sum(c.positive for c in held)} the scanners call secrets, {kept} kept;"
        f" {sum(not c.positive for c in held)} they call look-alikes, {left} unchanged"
    )
    disputed = corpus.contested
    left = sum(redact(c.text).text == c.text for c in disputed)
    print(
        f"  contested look-alikes, scored apart (another scanner's rule flags them):"
        f" {len(disputed)}, {left} unchanged"
    )
    every = (*corpus.cases, *held, *disputed)
    all_pos = [c for c in every if c.positive]
    all_neg = [c for c in every if not c.positive]
    caught_all = sum(external_caught(c.text, c.secrets) for c in all_pos)
    fp_all = sum(redact(c.text).text != c.text for c in all_neg)
    print(
        f"  all in (placeholders and contested look-alikes as the scanners label them): recall"
        f" {caught_all / len(all_pos):.3f} ({len(all_pos)}), false positives"
        f" {fp_all / len(all_neg):.3f} ({len(all_neg)})"
    )
    if errors:
        print(
            f"external misses and false positives ({', '.join(parts)}):",
            *(listed or ["  none"]),
            sep="\n",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list misses and false positives")
    parser.add_argument(
        "--snapshots",
        help="folder of fetched scanner snapshots (default: ../.mirror or $FORGE_SCANNER_SNAPSHOTS)",
    )
    parser.add_argument(
        "--part",
        choices=("tune", "holdout", "kingfisher"),
        action="append",
        help="with --errors, list the external cases of this part only (repeatable; default tune)",
    )
    parser.add_argument(
        "--corpus", action="store_true", help="print the external corpus' counts and stop"
    )
    args = parser.parse_args()
    if args.corpus:
        external = load_external()
        external.describe(external.build(external.snapshot_dir(args.snapshots)))
        return
    external_quality(args.snapshots, args.errors, args.part or ["tune"])
    corpus = load_corpus()
    positives, negatives = corpus.positives(), corpus.negatives()

    per_type: dict[str, list[bool]] = {kind: [] for kind in (*SECRET_TYPES, *PII_TYPES)}
    misses: list[str] = []
    for case in positives:
        result = redact(case.text, pii=case.type in PII_TYPES)
        ok = case.value not in result.text and f"[REDACTED:{case.type}]" in result.text
        per_type[case.type].append(ok)
        if not ok:
            misses.append(f"  {case.type} ({case.context}): {case.text[:100]!r}")
    false_positives: list[str] = []
    for case in negatives:
        result = redact(case.text, pii=True)
        if result.findings:
            kinds = ",".join(f.type for f in result.findings)
            false_positives.append(f"  {kinds} ({case.context}): {case.text[:100]!r}")

    print(
        f"== own corpus: recall on {len(positives)} positives (tests/data/secrets/make_corpus.py)"
    )
    print(f"  {'type':<20} {'n':>4} {'caught':>7} {'recall':>7}")
    for kind, oks in per_type.items():
        if oks:
            print(f"  {kind:<20} {len(oks):>4} {sum(oks):>7} {sum(oks) / len(oks):>7.3f}")
    caught = sum(sum(oks) for oks in per_type.values())
    recall = caught / len(positives)
    fp_rate = len(false_positives) / len(negatives)
    print(f"  {'overall':<20} {len(positives):>4} {caught:>7} {recall:>7.3f}")
    print(
        f"== false positives on {len(negatives)} look-alikes (pii=True): "
        f"{len(false_positives)}, rate {fp_rate:.3f}"
    )
    if args.errors:
        for title, rows in (("misses", misses), ("false positives", false_positives)):
            print(f"{title}:", *(rows or ["  none"]), sep="\n")

    fakes = corpus.Fakes(99)
    typical = make_diff(fakes, random.Random(1))
    dense = make_diff(fakes, random.Random(2), secrets_every=5)
    print("== speed (best of 7), budget 2,000 µs per 200-line diff")
    for name, diff in (("typical (4 secrets)", typical), ("dense (1 in 5 lines)", dense)):
        n = len(redact(diff, pii=True).findings)
        secrets_us, pii_us = best_us(diff, pii=False), best_us(diff, pii=True)
        print(
            f"  {name:<20} {len(diff):>6,} chars, {n:>2} findings: "
            f"{secrets_us:>7.0f} µs secrets ({secrets_us / BUDGET_US:.2f} of budget), "
            f"{pii_us:>7.0f} µs with pii"
        )
    print(f"== import: {import_ms():.1f} ms (every module, from bytecode, stdlib loaded)")


if __name__ == "__main__":
    main()

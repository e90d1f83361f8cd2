"""The external redaction corpus: other secret scanners' own rule tests, read from fetched
snapshots of their repositories, never copied into this one.

Why not committed: the snapshots are other projects' files, and this workplace keeps fetched
material out of the project's commits (data only under the steering repository's shared/, which
developers do not write). So the corpus is rebuilt, in a few seconds, from the snapshots
wherever they are (``../.mirror/<owner>+<name>/repo`` beside the checkout, as the ``fetch`` tool
leaves them, or ``$FORGE_SCANNER_SNAPSHOTS``); where they are not, the benchmark says so and the
tests that need it skip. Nothing is downloaded here.

Sources, their licences, and what is taken (the SOURCES table below):
gitleaks (MIT) rule tps/fps; detect-secrets (Apache-2.0) plugin test tables; Nosey Parker
(Apache-2.0) rule examples and negative examples. TruffleHog (AGPL-3.0) was considered and left
out: its detector tests are Go tables built around each vendor's keyword, and its licence asks
more of anything that copies them.

Placeholders (a mask such as ``xxxx``, ``AKIAZZZZ...``, ``EXAMPLE``, or a word such as
``password`` where the secret goes) are scored apart: the scanners disagree on them (gitleaks
calls ``hf_xxxx...`` a look-alike, detect-secrets tests its AWS rule with ``AKIAZZZZ...`` as a
secret) and forge keeps them on purpose, so they are counted and reported beside the score,
not in it.

Look-alikes that another scanner's own rule flags as a secret (a Nosey Parker pattern, a gitleaks
rule with its keywords and entropy floor, a detect-secrets plugin's regex) are contested: one
scanner lists them as harmless, another would report them. They are scored apart too, and forge's
result on them is reported beside the score.

Labels, as the scanners give them, with two corrections that are rules, not picks:
- a negative that is another rule's positive, or holds another rule's token-like secret (12+
  characters, letters and digits), is dropped: scanners list other rules' true secrets as a
  rule's false positives ("GitLab is not GitHub", Cloudflare's three key kinds);
- duplicates (same source, same text, same label) count once.

Split: by rule, so a whole vendor is either tuned on or held out: ``sha256(source/rule)`` below
``HOLDOUT_SHARE`` of the range goes to ``holdout``, the rest to ``tune``. The detectors were first
improved looking at ``tune`` only; then ``holdout``'s totals had been seen, so it was opened too,
and a third part was added: every rule example of Kingfisher (MongoDB, Apache-2.0), less the texts
the older sources already hold. It stayed unseen for two rounds (measured, never listed); in the
third round it was opened and tuned on, so it is now the ``kingfisher`` part, a tune part. The
held-out part is now ``unseen``: Semgrep's secret rules' tests (``generic/secrets/``, ``ruleid:``
and ``ok:`` markers), less the texts any older source holds. Its loader was written and its
figure recorded before the third round changed any detector; its cases are never listed
(``--errors`` does not take it).

A source added later (``part`` set) is kept apart from the older ones' bookkeeping, so adding it
leaves their figures as they were: only the sources before it judge its look-alikes and dedupe its
texts.

``python benchmarks/redaction_quality.py --corpus`` prints counts per source and part; the package
is imported by file path (tests/data is not an importable package). NOTICE.md beside this file
names the sources, their licences and the snapshots read."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from . import detect_secrets, gitleaks, noseyparker, semgrep
from .common import Case, Snapshot

ROOT = Path(__file__).resolve().parents[4]
HOLDOUT_SHARE = 0.3
KINGFISHER_RULES = "data/rules/"

Extractor = Callable[[Snapshot], tuple[list[Case], dict[str, int]]]


@dataclasses.dataclass(frozen=True)
class Source:
    name: str
    repo: str  # owner/name, as fetched
    licence: str
    commit: str  # the snapshot the figures in benchmarks/README.md were measured on
    paths: tuple[str, ...]
    extract: Extractor
    rules: Callable[[Snapshot], list[Callable[[str], bool]]]
    #: added after the detectors were tuned on the ones before it: every case goes to this part
    #: (None: split by rule into ``tune`` and ``holdout``)
    part: str | None = None


SOURCES: tuple[Source, ...] = (
    Source(
        "gitleaks",
        "gitleaks/gitleaks",
        "MIT",
        "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b",
        ("cmd/generate", "config/gitleaks.toml"),
        gitleaks.cases,
        gitleaks.checkers,
    ),
    Source(
        "detect-secrets",
        "Yelp/detect-secrets",
        "Apache-2.0",
        "5e141933554a0b74e7341841f318be21e895339c",
        ("tests/plugins", "detect_secrets/plugins"),
        detect_secrets.cases,
        detect_secrets.checkers,
    ),
    Source(
        "noseyparker",
        "praetorian-inc/noseyparker",
        "Apache-2.0",
        "2e6e7f36ce36619852532bbe698d8cb7a26d2da7",
        (noseyparker.RULES,),
        noseyparker.cases,
        noseyparker.checkers,
    ),
    Source(
        "kingfisher",
        "mongodb/kingfisher",
        "Apache-2.0",
        "ee7c0db3ef87575768f817820c24736249ffcdef",
        (KINGFISHER_RULES,),
        functools.partial(noseyparker.cases, source="kingfisher", rules_dir=KINGFISHER_RULES),
        functools.partial(noseyparker.checkers, rules_dir=KINGFISHER_RULES),
        part="kingfisher",
    ),
    Source(
        "semgrep",
        "semgrep/semgrep-rules",
        "Semgrep Rules License v1.0 (Commons Clause on LGPL-2.1)",
        "157ae4706d7f54aa33647332f234dd68f30da195",
        (semgrep.RULES,),
        semgrep.cases,
        semgrep.checkers,
        part="unseen",
    ),
)
#: parts whose cases are measured only, never listed
HIDDEN_PARTS = ("unseen",)


@dataclasses.dataclass
class Corpus:
    cases: list[Case]
    commits: dict[str, str]  # source -> commit read
    skipped: dict[str, dict[str, int]]
    missing: list[str]  # sources whose snapshot is not here
    placeholders: list[Case] = dataclasses.field(default_factory=list)  # scored apart
    contested: list[Case] = dataclasses.field(default_factory=list)  # look-alikes, scored apart

    def part(self, name: str) -> list[Case]:
        return [c for c in self.cases if c.part == name]


def snapshot_dir(override: str | None = None) -> Path:
    """Where fetched snapshots are: an explicit path, $FORGE_SCANNER_SNAPSHOTS, or the
    ``.mirror`` folder beside the checkout."""
    chosen = override or os.environ.get("FORGE_SCANNER_SNAPSHOTS")
    return Path(chosen) if chosen else ROOT.parent / ".mirror"


def part_of(source: str, rule: str) -> str:
    digest = hashlib.sha256(f"{source}/{rule}".encode()).digest()
    return "holdout" if int.from_bytes(digest[:8], "big") / 2**64 < HOLDOUT_SHARE else "tune"


def build(mirror: Path | None = None) -> Corpus:
    """Every source whose snapshot is present, labelled, deduplicated, cross-checked, split.

    A source with a fixed ``part`` was added after the detectors were tuned on the ones before
    it, and is kept apart from their bookkeeping, so adding it leaves their figures as they were:
    only the sources before it (and itself) judge its look-alikes, its cases whose text an earlier
    source already holds are left out (Kingfisher began as a fork of Nosey Parker and shares many
    examples; Semgrep ports gitleaks rules), and the rest go to its part whole."""
    mirror = mirror or snapshot_dir()
    found_by: dict[str, list[Case]] = {}
    commits: dict[str, str] = {}
    skipped: dict[str, dict[str, int]] = {}
    missing: list[str] = []
    rules: dict[str, list[Callable[[str], bool]]] = {}
    for source in SOURCES:
        git_dir = mirror / source.repo.replace("/", "+") / "repo"
        if not git_dir.is_dir():
            missing.append(source.name)
            continue
        commit = source.commit if _has(git_dir, source.commit) else "HEAD"
        snap = Snapshot(git_dir, list(source.paths), commit)
        commits[source.name] = snap.commit
        found_by[source.name], skipped[source.name] = source.extract(snap)
        rules[source.name] = source.rules(snap)
    order = [s.name for s in SOURCES]
    later = {s.name: s.part for s in SOURCES if s.part}
    older = _dedup([c for name, cs in found_by.items() if name not in later for c in cs])
    earlier = list(older)
    labelled = _cross_checked(older, skipped)
    for name in [n for n in order if n in later and n in found_by]:
        known = {c.text for c in earlier}
        fresh = []
        for c in _dedup(found_by[name]):
            if c.text in known:
                skipped[name]["text_in_an_older_source"] = (
                    skipped[name].get("text_in_an_older_source", 0) + 1
                )
            else:
                fresh.append(c)
        own = {name: dict(skipped[name])}
        labelled += [c for c in _cross_checked(earlier + fresh, own) if c.source == name]
        skipped[name] = own[name]
        earlier += fresh
    kept: list[Case] = []
    placeholders: list[Case] = []
    contested: list[Case] = []
    for c in labelled:
        part = later.get(c.source) or part_of(c.source, c.rule)
        c = dataclasses.replace(c, part=part)
        rank = order.index(c.source)
        judges = [n for n in rules if n != c.source and (n not in later or order.index(n) < rank)]
        if all(placeholder(s) for s in c.secrets) if c.positive else _NEGATIVE_MASK.search(c.text):
            placeholders.append(c)
        elif not c.positive and any(check(c.text) for n in judges for check in rules[n]):
            contested.append(c)
        else:
            kept.append(c)
    return Corpus(kept, commits, skipped, missing, placeholders, contested)


#: a mask (``xxxx``, ``****``, one character repeated, ``EXAMPLE``) in a value
_MASK = re.compile(r"(?i)x{4,}|\*{4,}|(.)\1{7,}|example")
#: a look-alike that is a mask: a long run of x, * or one letter or digit (not "example", which
#: look-alikes hold in example.com)
_NEGATIVE_MASK = re.compile(r"(?i)x{6,}|\*{6,}|([a-z0-9])\1{9,}")
#: values that name the thing instead of being it (digits dropped first: ``pass123``)
_PLACEHOLDER_WORDS = frozenset(
    [
        "password",
        "passwd",
        "pass",
        "secret",
        "changeme",
        "mypassword",
        "yourpassword",
        "yourpasswrod",
        "test",
        "dummy",
    ]
)


def placeholder(value: str) -> bool:
    """A mask or a placeholder word, not a secret: the scanners disagree about these (gitleaks
    allowlists ``hf_xxxx...`` as a look-alike, detect-secrets tests its AWS rule with
    ``AKIAZZZZZZZZZZZZZZZZ`` as a secret), so they are scored apart (``Corpus.placeholders``)."""
    low = value.lower()
    if _MASK.search(value) or low.rstrip("0123456789") in _PLACEHOLDER_WORDS:
        return True
    return len(low) >= 8 and max(low.count(c) for c in set(low)) * 2 >= len(low)


def _token_like(value: str) -> bool:
    return len(value) >= 12 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _cross_checked(cases: list[Case], skipped: dict[str, dict[str, int]]) -> list[Case]:
    """Cases less the negatives that another rule calls a secret: the same text as another
    rule's positive, or holding a token-like secret (12+ characters, letters and digits) of
    another rule. A rule's own negatives may reuse its own secrets on purpose (the same value
    under a name that is not a credential's), so those stay."""
    by_rule: dict[tuple[str, str], set[str]] = {}
    positive_texts: dict[str, set[tuple[str, str]]] = {}
    for c in cases:
        if c.positive:
            by_rule.setdefault((c.source, c.rule), set()).update(
                s for s in c.secrets if _token_like(s)
            )
            positive_texts.setdefault(c.text, set()).add((c.source, c.rule))
    kept: list[Case] = []
    for c in cases:
        own = (c.source, c.rule)
        if not c.positive and (
            positive_texts.get(c.text, set()) - {own}
            or any(
                rule != own and any(s in c.text for s in secrets)
                for rule, secrets in by_rule.items()
            )
        ):
            counts = skipped.setdefault(c.source, {})
            counts["negative_holds_another_rules_secret"] = (
                counts.get("negative_holds_another_rules_secret", 0) + 1
            )
            continue
        kept.append(c)
    return kept


def _has(git_dir: Path, commit: str) -> bool:
    import subprocess

    return (
        subprocess.run(
            ["git", "--git-dir", str(git_dir), "cat-file", "-e", commit + "^{commit}"],
            capture_output=True,
        ).returncode
        == 0
    )


def _dedup(cases: list[Case]) -> list[Case]:
    seen: set[tuple[str, str, bool]] = set()
    out: list[Case] = []
    for c in cases:
        key = (c.source, c.text, c.positive)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def describe(corpus: Corpus) -> None:
    """Counts of rules, positives and negatives per source and part, and what was left out."""
    if corpus.missing:
        print("not found here:", ", ".join(corpus.missing), f"(looked in {snapshot_dir()})")
    counts = Counter((c.source, c.part, c.positive) for c in corpus.cases)
    rules = Counter(
        (c.source, c.part) for c in {(c.source, c.rule, c.part): c for c in corpus.cases}.values()
    )
    print(f"{'source':<16}{'part':<9}{'rules':>6}{'positives':>10}{'negatives':>10}  commit")
    for source in SOURCES:
        for part in (source.part,) if source.part else ("tune", "holdout"):
            print(
                f"{source.name:<16}{part:<9}{rules[(source.name, part)]:>6}"
                f"{counts[(source.name, part, True)]:>10}{counts[(source.name, part, False)]:>10}"
                f"  {corpus.commits.get(source.name, '-')[:12]}"
            )
    for name, skipped in corpus.skipped.items():
        print(f"{name}: left out {skipped}")
    print(f"contested look-alikes, scored apart: {Counter(c.source for c in corpus.contested)}")
    held = Counter((c.source, c.positive) for c in corpus.placeholders)
    print(
        "placeholders, scored apart: "
        + ", ".join(
            f"{s} {held[(s, True)]} positives {held[(s, False)]} negatives" for s in corpus.commits
        )
    )

"""Accuracy of the offline classifier on the labelled samples and on the held-out set.

Run: ``python benchmarks/offline_accuracy.py`` (add ``--errors`` to list the misclassified tickets,
``--sets samples-jsonl`` to limit the sets).

Why a held-out set: the keyword tables in ``forge_cli.tasks.classify.cues`` were tuned against
``samples/``; ``tests/data/holdout_tickets.jsonl`` was written before the tables and never used to
tune them, so the gap between the two numbers shows how much of the sample accuracy is overfitting.
Unusable sample lines (malformed JSON, no text, invalid UTF-8, not an object) are skipped here: they
are the readers' business, not the classifier's.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import timeit
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from forge_cli.tasks.classify.rules import DEFAULT_CATEGORIES, PRIORITIES, classify  # noqa: E402

TEXT_FIELDS: tuple[str, ...] = ("text", "ticket", "body", "description", "message")
SETS: dict[str, Path] = {
    "samples-jsonl": ROOT / "samples" / "tickets.jsonl",
    "samples-csv": ROOT / "samples" / "tickets.csv",
    "holdout": ROOT / "tests" / "data" / "holdout_tickets.jsonl",
}


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    text: str
    label: str
    priority: str


def load(path: Path) -> Iterator[Labelled]:
    """Usable labelled records of a JSONL or CSV file (same text-field order as the readers)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("text", "").strip() and row.get("label"):
                    yield Labelled(row["id"], row["text"], row["label"], row["expected_priority"])
        return
    with path.open("rb") as fh:
        for raw in fh:
            try:
                rec = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if not isinstance(rec, dict) or "label" not in rec:
                continue
            text = next((rec[k] for k in TEXT_FIELDS if isinstance(rec.get(k), str)), "")
            if text.strip():
                yield Labelled(rec["id"], text, rec["label"], rec["expected_priority"])


def confusion(pairs: list[tuple[str, str]], labels: tuple[str, ...]) -> str:
    """Rows = true label, columns = predicted label."""
    counts = Counter(pairs)
    short = [lab[:8] for lab in labels]
    width = max(len(lab) for lab in labels)
    lines = [" " * (width + 2) + " ".join(f"{s:>8}" for s in short)]
    for true in labels:
        cells = " ".join(f"{counts[(true, pred)]:>8}" for pred in labels)
        lines.append(f"{true:<{width}}  {cells}")
    return "\n".join(lines)


def report(name: str, records: list[Labelled], show_errors: bool) -> tuple[float, float]:
    cat_pairs: list[tuple[str, str]] = []
    prio_pairs: list[tuple[str, str]] = []
    errors: list[str] = []
    for rec in records:
        verdict = classify(rec.text)
        cat_pairs.append((rec.label, verdict.category))
        prio_pairs.append((rec.priority, verdict.priority))
        if show_errors and verdict.category != rec.label:
            snippet = " ".join(rec.text.split())[:110]
            errors.append(f"  {rec.id} {rec.label} -> {verdict.category}: {snippet}")
    n = len(records)
    cat_acc = sum(t == p for t, p in cat_pairs) / n
    prio_acc = sum(t == p for t, p in prio_pairs) / n
    print(f"== {name}: {n} labelled tickets")
    print(f"category accuracy {cat_acc:6.1%}   priority accuracy {prio_acc:6.1%}")
    for label in DEFAULT_CATEGORIES:
        hits = [p == label for t, p in cat_pairs if t == label]
        if hits:
            print(f"  {label:<15} {sum(hits):>3}/{len(hits):<3} {sum(hits) / len(hits):6.1%}")
    print("category confusion (rows true, columns predicted):")
    print(confusion(cat_pairs, DEFAULT_CATEGORIES))
    print("priority confusion (rows true, columns predicted):")
    print(confusion(prio_pairs, PRIORITIES))
    if errors:
        print("misclassified:")
        print("\n".join(errors))
    print()
    return cat_acc, prio_acc


#: a typical ticket of about 300 characters (greeting, problem, detail, question, sign-off)
TYPICAL_TICKET = (
    "Hi team, since this morning the Python SDK raises ConnectionResetError on roughly every "
    "third call to the classify endpoint, and our nightly batch of 40k tickets aborts halfway "
    "through. We are on forge-sdk 3.0.2 with Python 3.11 on Ubuntu 22.04. Is this a known issue "
    "or is it on our side? Thanks, Aylin"
)


def typical_speed() -> float:
    """Best-of-7 µs per classify() call on TYPICAL_TICKET (best-of filters out machine noise)."""
    number = 20_000
    runs = timeit.repeat(lambda: classify(TYPICAL_TICKET), number=number, repeat=7)
    return min(runs) / number * 1e6


def mean_speed(records: list[Labelled]) -> float:
    """Mean µs per classify() call over the given records, long ones included."""
    texts = [r.text for r in records]
    passes = max(1, 20_000 // max(len(texts), 1))
    start = time.perf_counter()
    for _ in range(passes):
        for text in texts:
            classify(text)
    return (time.perf_counter() - start) / (passes * len(texts)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=list(SETS))
    parser.add_argument("--errors", action="store_true", help="list misclassified tickets")
    args = parser.parse_args()
    summary: list[str] = []
    everything: list[Labelled] = []
    for name in args.sets:
        records = list(load(SETS[name]))
        everything += records
        cat, prio = report(name, records, args.errors)
        summary.append(f"{name:<14} n={len(records):<4} category {cat:6.1%}  priority {prio:6.1%}")
    print("== summary")
    print("\n".join(summary))
    mean_len = sum(len(r.text) for r in everything) / len(everything)
    print(
        f"classify(): {typical_speed():.1f} µs for a {len(TYPICAL_TICKET)}-char ticket (best of 7), "
        f"{mean_speed(everything):.1f} µs mean over these {len(everything)} tickets "
        f"(mean length {mean_len:.0f} chars, long pasted logs included)"
    )


if __name__ == "__main__":
    main()

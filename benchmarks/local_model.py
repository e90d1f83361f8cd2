"""The trained local model (``forge train``) on labelled tickets nobody here wrote.

Run: ``python benchmarks/local_model.py`` (reads ``../shared/data/tickets_dev.csv``, or
``--data FILE``; the data's licence forbids copying it into the project, so it is read in place and
the split is written to a temporary folder). ``--throughput N`` sets the size of the speed run.

What it measures, each as forge's user would meet it (whole processes, ``python -m forge_cli``):
- accuracy per field (queue, type, priority) on a held-out 30 % after ``forge train`` on the other
  70 % (seeded split), beside always answering the commonest label and the TF-IDF + naive Bayes
  reference points the data's README gives (type 0.75, queue 0.36, priority 0.42);
- how many held-out records the model is sure of at each cascade threshold, and its accuracy there;
- training time and model file size;
- ``forge classify --provider local:MODEL`` throughput, whole process, on N distinct tickets, and
  the model alone in process (how fast it could go with the engine's overhead removed).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import run_forge  # noqa: E402

from forge_cli.learn.modelfile import load_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "tickets_dev.csv"
FIELDS = ("queue", "type", "priority")
#: TF-IDF + naive Bayes on held-out tickets of the same source (the data's README)
REFERENCE = {"type": 0.75, "queue": 0.36, "priority": 0.42}
THRESHOLDS = (0.5, 0.7, 0.9)


def load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        {
            "id": r["id"],
            "text": f"{r['subject']}\n{r['body']}".replace("\\n", "\n").strip(),
            **{f: r[f] for f in FIELDS},
        }
        for r in rows
    ]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--throughput", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"{args.data} is not here: nothing to measure (see ../shared/data/README.md)")
        return 0
    rows = load(args.data)
    random.Random(args.seed).shuffle(rows)
    cut = int(len(rows) * 0.7)
    train, test = rows[:cut], rows[cut:]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_jsonl(work / "train.jsonl", train)
        write_jsonl(work / "test.jsonl", [{"id": r["id"], "text": r["text"]} for r in test])
        fields = [a for f in FIELDS for a in ("--field", f)]
        started = time.perf_counter()
        trained = run_forge(["train", "train.jsonl", "-o", "m.model.json", *fields], cwd=work)
        train_s = time.perf_counter() - started
        size = (work / "m.model.json").stat().st_size
        print(f"data: {args.data.name}, {len(train)} training / {len(test)} held-out records")
        print(f"forge train: {train_s:.1f} s whole process, model file {size / 1024:.0f} KB, "
              f"{trained.summary['terms']:,} terms")  # fmt: skip

        ran = run_forge(["classify", "test.jsonl", "--provider", "local:m.model.json"], cwd=work)
        assert ran.summary["done"] == len(test), ran.summary
        answers = {r["id"]: r for r in map(orjson.loads, (work / "test.results.jsonl").open("rb"))}
        print("\nheld-out accuracy (cross-validated on the training part in brackets)")
        print(f"{'field':10} {'forge train':>12} {'commonest':>10} {'TF-IDF+NB ref':>14}")
        for f in FIELDS:
            right = sum(answers[r["id"]][f] == r[f] for r in test) / len(test)
            common = Counter(r[f] for r in train).most_common(1)[0][0]
            majority = sum(r[f] == common for r in test) / len(test)
            cv = trained.summary["fields"][f]["cv_accuracy"]
            print(f"{f:10} {right:>6.3f} ({cv:.3f}) {majority:>10.3f} {REFERENCE[f]:>14.2f}")

        print("\ncascade coverage on the held-out part: records sure in every field, and per field")
        for t in THRESHOLDS:
            sure = [
                r for r in test if all(answers[r["id"]][f"{f}_confidence"] >= t for f in FIELDS)
            ]
            parts = []
            for f in FIELDS:
                mine = [r for r in test if answers[r["id"]][f"{f}_confidence"] >= t]
                acc = sum(answers[r["id"]][f] == r[f] for r in mine) / len(mine) if mine else 0.0
                parts.append(f"{f} {len(mine) / len(test):.0%} at {acc:.2f}")
            print(f"threshold {t}: all fields {len(sure) / len(test):.1%}; " + ", ".join(parts))

        pool = [r["text"] for r in test]
        big = [
            {"id": f"B{i}", "text": f"{pool[i % len(pool)]} (ref {i})"}
            for i in range(args.throughput)
        ]
        write_jsonl(work / "big.jsonl", big)
        speed = run_forge(["classify", "big.jsonl", "--provider", "local:m.model.json"], cwd=work)
        assert speed.summary["done"] == args.throughput, speed.summary
        offline = run_forge(["classify", "big.jsonl", "--provider", "offline"], cwd=work)
        model = load_model(work / "m.model.json")
        texts = [r["text"] for r in big]
        started = time.perf_counter()
        model.predict(texts)
        alone = time.perf_counter() - started
        print(f"\nthroughput on {args.throughput:,} distinct tickets:")
        print(f"forge classify --provider local: {args.throughput / speed.wall_s:,.0f} tickets/s "
              f"whole process ({speed.wall_s:.2f} s, peak RSS {speed.peak_rss_mb:.0f} MB)")  # fmt: skip
        print(f"forge classify --provider offline (keywords), same input: "
              f"{args.throughput / offline.wall_s:,.0f} tickets/s whole process")  # fmt: skip
        print(f"the model alone, in process: {args.throughput / alone:,.0f} tickets/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Accuracy of forge's classify on public labelled tickets nobody here wrote, through a real model.

Data: ``../shared/data/tickets_dev.csv`` (1,395 synthetic support tickets with queue, type and
priority; licence CC BY-NC 4.0: read from ../shared when it is there, never copied into the project).
A fixed split: every ticket whose id hashes (sha256) into the chosen bucket, sorted by id, first
``--n`` of them. Model: any OpenAI-compatible server, by default the small local LLM that
``../shared/tools/local-llm.sh`` starts on 127.0.0.1:8089 (Qwen2.5-Coder-0.5B behind llama.cpp).

For each variant (pack size; with or without labelled examples when forge has them) it reports, per
field, the share of records that got a valid answer and the accuracy against the gold label, plus
calls and tokens per record. What is judged is forge's part (every record answered, within the labels;
packing costing little accuracy), not the 0.5B model's skill.

    python benchmarks/accuracy.py --n 300 --packs default adaptive --examples --save accuracy.json
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "tickets_dev.csv"
FIELDS = ("queue", "type", "priority")


def load(n: int, bucket: int, buckets: int) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    labels = {name: sorted({r[name] for r in rows}) for name in FIELDS}
    chosen = sorted(
        (
            r
            for r in rows
            if int(hashlib.sha256(r["id"].encode()).hexdigest(), 16) % buckets == bucket
        ),
        key=lambda r: r["id"],
    )[:n]
    records = [
        {
            "id": r["id"],
            "text": (r["subject"] + "\n" + r["body"].replace("\\n", "\n")).strip(),
            **{f"gold_{name}": r[name] for name in FIELDS},
        }
        for r in chosen
    ]
    return records, labels


def examples_file(labels_from: list[dict[str, Any]], folder: Path) -> Path:
    """Labelled examples from another bucket of the data, in a temporary file (never the project)."""
    import orjson

    path = folder / "examples.jsonl"
    with path.open("wb") as f:
        for rec in labels_from:
            row = {"id": rec["id"], "text": rec["text"]}
            row.update({name: rec[f"gold_{name}"] for name in FIELDS})
            f.write(orjson.dumps(row) + b"\n")
    return path


def run_variant(
    records: list[dict[str, Any]],
    labels: dict[str, list[str]],
    args: argparse.Namespace,
    pack: int | str,
    examples: Path | None = None,
) -> dict[str, Any]:
    """One variant: ``pack`` a size, "default" (what forge does unless told: one ticket a request
    on a local preset), "adaptive" (the engine's packing by complexity, 5-20 a request) or "probe"
    (adaptive after ``--pack-probe``: packs no larger than the model answers alike)."""
    import forge_cli
    from forge_cli.app.examples import read_examples
    from forge_cli.tasks.classify.fields import Field
    from forge_cli.tasks.classify.task import TicketTask

    fields = [
        Field("queue", tuple(labels["queue"]), description="the team that takes the ticket"),
        Field("type", tuple(labels["type"])),
        Field("priority", tuple(labels["priority"]), urgency=True),
    ]
    pool = None
    if examples is not None:
        pool = read_examples(str(examples), fields, per_label=1, budget=args.examples_tokens)
    task = TicketTask(fields=fields, examples=pool)
    started = time.perf_counter()
    env_pack = f"FORGE_{args.provider.upper()}_PACK"
    if pack in ("adaptive", "probe"):
        os.environ[env_pack] = "0"  # the provider's setting: 0 is the engine's own packing
    result = forge_cli.run(
        task,
        records,
        provider=args.provider,
        base_url=args.base_url,
        model=args.model,
        concurrency=args.concurrency,
        timeout=args.timeout,
        no_cache=True,
        pack=pack if isinstance(pack, int) else None,
        pack_probe=args.probe_records if pack == "probe" else 0,
    )
    os.environ.pop(env_pack, None)
    seconds = time.perf_counter() - started
    by_id = {r["id"]: r for r in result.results}
    out: dict[str, Any] = {
        "pack": pack,
        "records": len(records),
        "seconds": round(seconds, 1),
    }
    out["examples"] = examples is not None
    for name in FIELDS:
        answered = [rec for rec in records if rec["id"] in by_id]
        right = sum(by_id[rec["id"]][name] == rec[f"gold_{name}"] for rec in answered)
        out[f"{name}_valid"] = len(answered) / len(records)
        out[f"{name}_acc"] = right / len(records)
    stats = result.stats
    if stats.pack_probe is not None:
        out["pack_probe"] = stats.pack_probe
    out["calls"] = stats.calls
    out["tokens_per_record"] = (stats.tokens_in + stats.tokens_out) / len(records)
    out["tokens_in_per_record"] = stats.tokens_in / len(records)
    out["tokens_out_per_record"] = stats.tokens_out / len(records)
    out["failures"] = len(result.failures)
    out["failure_reasons"] = sorted({f["message"][:80] for f in result.failures})
    out["answers"] = {
        rid: {name: row.get(name) for name in FIELDS} for rid, row in sorted(by_id.items())
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="tickets in the split")
    parser.add_argument("--bucket", type=int, default=0)
    parser.add_argument("--buckets", type=int, default=4, help="the split is 1/BUCKETS of the data")
    parser.add_argument(
        "--packs",
        nargs="+",
        default=["1", "default"],
        help="pack sizes to compare; 'default' is what forge does unless told (a local preset: 1 a "
        "request), 'adaptive' the engine's packing by complexity (5-20 a request), 'probe' adaptive "
        "after --pack-probe",
    )
    parser.add_argument("--save", type=Path, help="write every variant's figures and answers here")
    parser.add_argument("--provider", default="llamacpp")
    parser.add_argument("--base-url", default="http://127.0.0.1:8089/v1")
    parser.add_argument("--model", default=None)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--examples",
        action="store_true",
        help="also run every pack size with labelled examples from the next bucket",
    )
    parser.add_argument(
        "--examples-only", action="store_true", help="run only the variants with examples"
    )
    parser.add_argument("--examples-tokens", type=int, default=400)
    parser.add_argument(
        "--probe-records", type=int, default=24, help="records the 'probe' variant asks first"
    )
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is not there: this benchmark needs ../shared/data")
    records, labels = load(args.n, args.bucket, args.buckets)
    print(f"{len(records)} tickets from {DATA.name} (bucket {args.bucket}/{args.buckets})")
    split = {"n": len(records), "bucket": args.bucket, "buckets": args.buckets}
    # the floor a model has to clear: always answering the split's commonest label of each field
    floor = {
        name: Counter(r[f"gold_{name}"] for r in records).most_common(1)[0][1] / len(records)
        for name in FIELDS
    }
    split["commonest_label_accuracy"] = floor
    print("always the commonest label: " + ", ".join(f"{n} {a:.1%}" for n, a in floor.items()))
    head = f"{'pack':>7} {'ex':>3} {'calls':>5} {'tok/rec':>7}"
    head += "".join(f" {n + ' valid':>14} {n + ' acc':>12}" for n in FIELDS)
    print(head)
    variants: list[Path | None] = [] if args.examples_only else [None]
    folder = Path(tempfile.mkdtemp(prefix="forge-accuracy-"))
    if args.examples or args.examples_only:
        pool, _ = load(200, (args.bucket + 1) % args.buckets, args.buckets)
        variants.append(examples_file(pool, folder))
    saved: list[dict[str, Any]] = []
    # every pack size without examples first: the packing comparison, then what examples add
    for examples in variants:
        for pack_arg in args.packs:
            pack = pack_arg if pack_arg in ("default", "adaptive", "probe") else int(pack_arg)
            row = run_variant(records, labels, args, pack, examples)
            saved.append(row)
            if args.save is not None:  # after each variant: a long run keeps what it measured
                args.save.write_text(json.dumps({"split": split, "variants": saved}, indent=1))
            mark = "yes" if row["examples"] else "no"
            line = (
                f"{row['pack']!s:>7} {mark:>3} {row['calls']:>5} {row['tokens_per_record']:>7.0f}"
            )
            for name in FIELDS:
                line += f" {row[name + '_valid']:>14.1%} {row[name + '_acc']:>12.1%}"
            print(line, f"({row['seconds']} s, {row['failures']} failed)", flush=True)
            if "pack_probe" in row:
                rounds = ", ".join(
                    f"{r['size']}: {min(r['agreement'].values()):.0%}"
                    for r in row["pack_probe"]["rounds"]
                )
                print(f"     probe: agreement by size {rounds}; kept {row['pack_probe']['chosen']}")
            for reason in row["failure_reasons"]:
                print(f"     failure: {reason}")


if __name__ == "__main__":
    main()

"""``--out -``: results on stdout for a pipe, failures still in their file, summary on stderr.

Real processes with real pipes: what matters is the bytes another program reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from conftest import distinct_texts, write_tickets

ROOT = Path(__file__).resolve().parents[1]


def forge_proc(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "forge_cli", *args],
        cwd=cwd,
        env=dict(os.environ),
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def test_results_are_piped_as_jsonl_and_failures_go_to_their_file(tmp_path: Path) -> None:
    src = tmp_path / "tickets.jsonl"
    src.write_bytes((ROOT / "samples" / "tickets.jsonl").read_bytes())
    # a real pipe into another process, as `forge ... --out - | python -c ...` would be
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, json; print(sum(1 for l in sys.stdin if json.loads(l)))",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert reader.stdin is not None
    done = subprocess.run(
        [sys.executable, "-m", "forge_cli", "classify", str(src), "--out", "-"],
        cwd=tmp_path,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    reader.stdin.close()
    assert reader.stdout is not None
    counted = reader.stdout.read()
    reader.wait(timeout=60)
    assert done.returncode == 1  # the samples' 6 broken lines
    assert int(counted) == 240
    failures = (tmp_path / "tickets.failures.jsonl").read_bytes().splitlines()
    assert len(failures) == 6
    assert not (tmp_path / "tickets.results.jsonl").exists()
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.lock"))
    assert b"<stdout>" in done.stderr  # the summary says where the results went


def test_stdin_to_stdout(tmp_path: Path) -> None:
    texts = distinct_texts(5)
    lines = b"".join(orjson.dumps({"id": f"r{n}", "text": t}) + b"\n" for n, t in enumerate(texts))
    done = forge_proc("classify", "-", "--out", "-", "-q", cwd=tmp_path, stdin=lines + b"{oops\n")
    assert done.returncode == 1
    rows = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert sorted(row["id"] for row in rows) == [f"r{n}" for n in range(5)]
    assert done.stderr == b""
    # stdin has no folder of its own: its failures go to this one
    (failure,) = (tmp_path / "stdin.failures.jsonl").read_bytes().splitlines()
    assert orjson.loads(failure)["line"] == 6


def test_csv_to_stdout_keeps_the_other_fields_in_extra(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(3), customer="acme")
    done = forge_proc("classify", str(src), "--out", "-", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.decode().splitlines()
    assert header.startswith("id,line,category") and header.endswith(",extra")
    assert len(rows) == 3 and all('""customer"":""acme""' in row for row in rows)


def test_json_summary_cannot_share_stdout(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(2))
    done = forge_proc("classify", str(src), "--out", "-", "--json-summary", cwd=tmp_path)
    assert done.returncode == 2
    assert b"--json-summary" in done.stderr and done.stdout == b""


def test_out_takes_only_a_dash(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(2))
    done = forge_proc("classify", str(src), "--out", "results.jsonl", cwd=tmp_path)
    assert done.returncode == 2 and b"--out-dir" in done.stderr


def test_a_reader_that_stops_early_gets_one_line_not_a_disk_full_story(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(3000))
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE
    )
    assert reader.stdin is not None
    done = subprocess.run(
        [sys.executable, "-m", "forge_cli", "classify", str(src), "--out", "-", "-q"],
        cwd=tmp_path,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    reader.stdin.close()
    reader.wait(timeout=60)
    lines = done.stderr.decode().splitlines()
    assert done.returncode == 2
    assert len(lines) == 1 and "broken pipe" in lines[0] and "disk" not in lines[0]

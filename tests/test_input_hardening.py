"""Bad input is named, once, where it is: unclosed CSV quotes, a CSV without a text column, ids
that are not strings, values described in words, and a --diff that is no diff."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from conftest import KEY_ENV, read_jsonl
from forge_cli.core.errors import InputError
from forge_cli.core.models import Failure, Item
from forge_cli.io.sources import open_source
from forge_cli.testing.sim.server import FakeUpstream


def run_forge(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "forge_cli", *args],
        capture_output=True,
        input=stdin,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def read(tmp_path: Path, name: str, data: str) -> list[Item | Failure]:
    path = tmp_path / name
    path.write_text(data, encoding="utf-8")
    return list(open_source(str(path)))


def shape(records: list[Item | Failure]) -> list[tuple[str, str | None, int]]:
    return [
        ("item", r.id, r.line) if isinstance(r, Item) else (r.error, r.id, r.line) for r in records
    ]


# -- unclosed CSV quotes ----------------------------------------------------------------------------


def test_an_unclosed_quote_fails_its_record_and_the_next_rows_are_still_read(tmp_path):
    records = read(tmp_path, "q.csv", 'id,text\n1,"broken\n2,fine\n3,"quoted"\n4,last\n')
    assert shape(records) == [
        ("MalformedRecord", "1", 2),
        ("item", "2", 3),
        ("item", "3", 4),
        ("item", "4", 5),
    ]
    bad = records[0]
    assert isinstance(bad, Failure)
    assert bad.message.startswith(
        "q.csv:2: malformed CSV: the quote opened on line 2 is never closed"
    )
    assert [r.text for r in records[1:] if isinstance(r, Item)] == ["fine", "quoted", "last"]


def test_a_quote_left_open_to_the_end_of_the_file(tmp_path):
    records = read(tmp_path, "q.csv", 'id,text\n1,ok\n2,"never closed\n3,after\n4,end')
    assert shape(records) == [
        ("item", "1", 2),
        ("MalformedRecord", "2", 3),
        ("item", "3", 4),
        ("item", "4", 5),
    ]


def test_a_stray_quote_before_a_field_that_starts_with_a_delimiter(tmp_path):
    # the stray quote "closes" at the next row's opening quote (followed by a comma, cleanly),
    # and the file then ends inside that row's closing quote: still the stray's record that fails
    records = read(tmp_path, "q.csv", 'id,text\n0,"zero\n1,",one"\n2,two\n')
    assert shape(records) == [("MalformedRecord", "0", 2), ("item", "1", 3), ("item", "2", 4)]
    assert [r.text for r in records if isinstance(r, Item)] == [",one", "two"]


def test_a_quote_left_open_on_the_last_line(tmp_path):
    records = read(tmp_path, "q.csv", 'id,text\n1,ok\n2,"never closed')
    assert shape(records) == [("item", "1", 2), ("MalformedRecord", "2", 3)]


def test_quirks_csv_always_read_are_still_read(tmp_path):
    data = 'id,text\n1,"abc"def\n2,my 5" screen\n3,"multi\nline ""quoted"" text"\n4,end\n'
    records = read(tmp_path, "q.csv", data)
    assert shape(records) == [
        ("item", "1", 2),
        ("item", "2", 3),
        ("item", "3", 4),
        ("item", "4", 6),
    ]
    assert [r.text for r in records if isinstance(r, Item)] == [
        "abcdef",
        'my 5" screen',
        'multi\nline "quoted" text',
        "end",
    ]


def test_a_header_with_an_unclosed_quote_is_one_input_error(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text('id,"text\n1,a\n2,b\n')
    with pytest.raises(
        InputError, match=r"h\.csv:1: unreadable CSV header: the quote opened on line 1"
    ):
        open_source(str(path))


# -- a CSV without its text column ------------------------------------------------------------------


def test_a_csv_without_a_text_column_is_one_exit_2_line_before_any_call(tmp_path):
    src = tmp_path / "tickets.csv"
    src.write_text("id,subject,customer\n1,printer on fire,acme\n2,refund,globex\n")
    with FakeUpstream() as server:
        proc = run_forge(
            "classify",
            str(src),
            *("--provider", "openai", "--base-url", server.base_url, "--api-key-env", KEY_ENV),
        )
        assert server.stats.requests == 0
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert lines == [
        f"forge: error: {src}: no text column: none of text, ticket, body, description, message "
        "(columns: id, subject, customer); name it with --text-field"
    ]
    assert not (tmp_path / "tickets.results.jsonl").exists()


def test_eval_gold_without_text_is_still_read(tmp_path):
    # gold labels need no text: only what classify reads must have one
    from forge_cli.app.evaluation.tables import read_table

    gold = tmp_path / "gold.csv"
    gold.write_text("id,category\n1,billing\n2,other\n")
    table = read_table(str(gold), id_field="id")
    assert table.rows == {"1": {"category": "billing"}, "2": {"category": "other"}}


# -- ids and values in words ------------------------------------------------------------------------


def test_ids_that_are_not_strings_read_as_their_json(tmp_path):
    lines = [
        {"id": ["a", 1], "text": "array id"},
        {"id": {"k": "v"}, "text": "object id"},
        {"id": True, "text": "boolean id"},
        {"id": 7, "text": "number id"},
        {"id": 2.5, "text": "float id"},
    ]
    path = tmp_path / "ids.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    ids = [r.id for r in open_source(str(path))]
    assert ids == ['["a",1]', '{"k":"v"}', "true", "7", "2.5"]


def test_values_are_described_in_words_not_python_type_names(tmp_path):
    path = tmp_path / "v.jsonl"
    path.write_bytes(b'3\n{"id": "a", "text": true}\n{"id": "b", "text": [1]}\nnull\n')
    messages = [r.message for r in open_source(str(path)) if isinstance(r, Failure)]
    assert messages == [
        "v.jsonl:1: malformed record: expected a JSON object or string, got 3 (a number)",
        "v.jsonl:2: no text: 'text' is true (a boolean), not text",
        "v.jsonl:3: no text: 'text' is an array, not text",
        "v.jsonl:4: malformed record: expected a JSON object or string, got null",
    ]
    assert not any(" a int" in m or "NoneType" in m or " a bool" in m for m in messages)


def test_the_whole_run_shows_array_ids_as_json(tmp_path):
    src = tmp_path / "t.jsonl"
    src.write_bytes(orjson.dumps({"id": ["x", 2], "text": "printer on fire"}) + b"\n")
    proc = run_forge("classify", str(src), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    (row,) = read_jsonl(tmp_path / "t.results.jsonl")
    assert row["id"] == '["x",2]'


# -- commit-msg --diff that is no diff --------------------------------------------------------------


def test_random_bytes_given_as_a_diff_are_one_exit_2_line(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 8)
    proc = run_forge("commit-msg", "--diff", str(junk))
    assert proc.returncode == 2
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert err.strip().splitlines() == [
        f"forge: error: {junk}: not a unified diff (no file change in it); give it what git diff prints"
    ]
    proc = run_forge("commit-msg", "--diff", "-", stdin=b"just some notes\nnothing else\n")
    assert proc.returncode == 2 and b"standard input: not a unified diff" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_a_real_diff_file_still_gets_a_message(tmp_path):
    diff = tmp_path / "change.diff"
    diff.write_text(
        "diff --git a/src/app.py b/src/app.py\n"
        "--- a/src/app.py\n+++ b/src/app.py\n"
        "@@ -1,2 +1,3 @@\n def main():\n-    pass\n+    print('hello')\n+    return 0\n"
    )
    proc = run_forge("commit-msg", "--diff", str(diff))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() and b"empty commit" not in proc.stdout

"""Streaming readers: every record rule, every failure kind, and flat memory on large inputs."""

from __future__ import annotations

import io
import os
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from forge_cli.core.errors import InputError
from forge_cli.core.models import Failure, Item
from forge_cli.io.sources import Source, input_formats, open_source, register_reader
from forge_cli.io.sources import registry as sources_registry
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.tasks.classify.urgency import urgency_of


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def jsonl(*records: Any) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def read_all(path: str, **kwargs: Any) -> list[Item | Failure]:
    return list(open_source(path, **kwargs))


def only_items(records: list[Item | Failure]) -> list[Item]:
    assert all(isinstance(r, Item) for r in records), records
    return [r for r in records if isinstance(r, Item)]


def failure(record: Item | Failure) -> Failure:
    assert isinstance(record, Failure), record
    return record


# --- JSONL ---------------------------------------------------------------------------------------


def test_jsonl_item_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tickets.jsonl",
        jsonl(
            {"id": "A-1", "text": "  printer on fire \n", "customer": "acme", "tags": ["x"]},
            {"id": 7, "body": "screen flickers", "priority": "P1"},
        ),
    )
    first, second = only_items(read_all(path))
    assert (first.id, first.line, first.text) == ("A-1", 1, "printer on fire")
    assert first.extra == {"customer": "acme", "tags": ["x"]}
    assert (second.id, second.line, second.text) == ("7", 2, "screen flickers")
    assert second.extra == {"priority": "P1"}  # the urgency field is passed through
    # how urgent a record is, is the task's business, read from what the reader passed through
    task = TicketTask()
    assert (task.urgency(first.extra), task.urgency(second.extra)) == (0, 3)


def test_jsonl_blank_lines_are_skipped_and_lines_stay_physical(tmp_path: Path) -> None:
    data = b'\n{"text": "a"}\n   \n\t\r\n{"text": "b"}\n\n'
    items = only_items(read_all(write(tmp_path, "t.jsonl", data)))
    assert [(i.line, i.id, i.text) for i in items] == [(2, "2", "a"), (5, "5", "b")]


def test_id_falls_back_to_line_number(tmp_path: Path) -> None:
    data = jsonl(
        {"text": "a"}, {"id": None, "text": "b"}, {"id": "", "text": "c"}, {"id": 0, "text": "d"}
    )
    assert [i.id for i in only_items(read_all(write(tmp_path, "t.jsonl", data)))] == [
        "1",
        "2",
        "3",
        "0",
    ]


def test_custom_id_field(tmp_path: Path) -> None:
    data = jsonl({"ticket_id": 99, "id": "kept", "text": "a"})
    (item,) = only_items(read_all(write(tmp_path, "t.jsonl", data), id_field="ticket_id"))
    assert item.id == "99"
    assert item.extra == {"id": "kept"}


def test_text_field_fallback_order(tmp_path: Path) -> None:
    data = jsonl(
        {"message": "m", "description": "d", "body": "b", "ticket": "t", "text": "x"},
        {"message": "m", "description": "d", "body": "b", "ticket": "t"},
        {"message": "m", "description": "d", "body": "b"},
        {"message": "m", "description": "d"},
        {"message": "m"},
        {"text": None, "ticket": "t"},  # null does not count as present
    )
    items = only_items(read_all(write(tmp_path, "t.jsonl", data)))
    assert [i.text for i in items] == ["x", "t", "b", "d", "m", "t"]
    # the other candidate fields are not text any more: they are passed through
    assert items[1].extra == {"message": "m", "description": "d", "body": "b"}


def test_explicit_text_field(tmp_path: Path) -> None:
    data = jsonl({"summary": "s", "text": "x"}, {"text": "x"})
    path = write(tmp_path, "t.jsonl", data)
    item, missing = read_all(path, text_field="summary")
    assert isinstance(item, Item)
    assert (item.text, item.extra) == ("s", {"text": "x"})
    missing = failure(missing)
    assert missing.error == "MissingText"
    assert missing.message == "t.jsonl:2: no text: field 'summary' is missing"
    assert (missing.id, missing.line) == ("2", 2)


def test_missing_text_failures(tmp_path: Path) -> None:
    data = jsonl(
        {"id": "n1", "subject": "no text here"},
        {"id": "n2", "text": "   "},
        {"id": "n3", "text": ["a", "list"]},
        {"id": "n4", "text": True},
        {"id": "ok", "text": 12.5},
    )
    records = read_all(write(tmp_path, "tickets.jsonl", data))
    f1, f2, f3, f4 = (failure(r) for r in records[:4])
    assert all(f.error == "MissingText" for f in (f1, f2, f3, f4))
    assert f1.message == (
        "tickets.jsonl:1: no text: none of text, ticket, body, description, message is present"
    )
    assert (f1.id, f1.line, f1.extra) == ("n1", 1, {"subject": "no text here"})
    assert f2.message == "tickets.jsonl:2: no text: 'text' is empty"
    assert f3.message == "tickets.jsonl:3: no text: 'text' is an array, not text"
    assert "tickets.jsonl:4: " in f4.message and "boolean" in f4.message
    assert [f.id for f in (f1, f2, f3, f4)] == ["n1", "n2", "n3", "n4"]
    number = records[4]
    assert isinstance(number, Item) and number.text == "12.5"


def test_bare_json_string_is_the_text(tmp_path: Path) -> None:
    records = read_all(write(tmp_path, "t.jsonl", b'"  just text "\n""\n'))
    item = records[0]
    assert isinstance(item, Item)
    assert (item.id, item.text, item.extra) == ("1", "just text", {})
    assert failure(records[1]).error == "MissingText"


def test_malformed_json(tmp_path: Path) -> None:
    data = (
        jsonl({"id": "a", "text": "fine"})
        + b'{"id": "T-9", "text": "unterminated\n'
        + b"[1, 2, 3]\n"
        + b"not json at all\n"
        + jsonl({"id": "z", "text": "still read"})
    )
    records = read_all(write(tmp_path, "tickets.jsonl", data))
    assert len(records) == 5
    broken, array, garbage = (failure(r) for r in records[1:4])
    assert broken.error == "MalformedRecord"
    assert broken.line == 2
    assert broken.id == "T-9"  # recovered from the broken line
    assert broken.message.startswith("tickets.jsonl:2: malformed JSON: ")
    assert "column" in broken.message
    assert (array.error, array.line, array.id) == ("MalformedRecord", 3, None)
    assert array.message == (
        "tickets.jsonl:3: malformed record: expected a JSON object or string, got an array"
    )
    assert (garbage.error, garbage.line) == ("MalformedRecord", 4)
    assert garbage.message.startswith("tickets.jsonl:4: malformed JSON: ")
    last = records[4]
    assert isinstance(last, Item) and last.line == 5


def test_invalid_utf8(tmp_path: Path) -> None:
    data = jsonl({"text": "ok"}) + b'{"id": "E1", "text": "caf\xe9"}\n' + jsonl({"text": "ok"})
    records = read_all(write(tmp_path, "enc.jsonl", data))
    bad = failure(records[1])
    assert bad.error == "InvalidEncoding"
    assert bad.line == 2
    assert bad.id == "E1"
    # byte 26 (1-based) is the \xe9
    assert bad.message == "enc.jsonl:2: invalid UTF-8 at byte 26"
    assert isinstance(records[2], Item)


def test_record_too_large(tmp_path: Path) -> None:
    big = orjson.dumps({"id": "BIG", "text": "x" * 5000})
    data = jsonl({"text": "before"}) + big + b"\n" + jsonl({"text": "after"})
    records = read_all(write(tmp_path, "big.jsonl", data), max_record_bytes=1000)
    assert [type(r) for r in records] == [Item, Failure, Item]
    too_large = failure(records[1])
    assert (too_large.error, too_large.line, too_large.id) == ("RecordTooLarge", 2, "BIG")
    assert too_large.message.startswith(f"big.jsonl:2: record too large: {len(big):,} bytes")
    after = records[2]
    assert isinstance(after, Item) and (after.text, after.line) == ("after", 3)


def test_record_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    line = orjson.dumps({"text": "y" * 100})
    path = write(tmp_path, "t.jsonl", line + b"\r\n" + line)  # CRLF, and no final newline
    records = read_all(path, max_record_bytes=len(line))
    assert [type(r) for r in records] == [Item, Item]
    records = read_all(path, max_record_bytes=len(line) - 1)
    assert [failure(r).error for r in records] == ["RecordTooLarge", "RecordTooLarge"]


def test_oversized_line_is_never_held_whole(tmp_path: Path) -> None:
    data = b'{"text": "' + b"z" * 8_000_000 + b'"}\n' + jsonl({"text": "next"})
    path = write(tmp_path, "huge.jsonl", data)
    del data
    tracemalloc.start()
    try:
        records = read_all(path, max_record_bytes=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [type(r) for r in records] == [Failure, Item]
    assert failure(records[0]).error == "RecordTooLarge"
    assert peak < 3_000_000, peak  # 100 kB + one 1 MiB chunk, never the 8 MB line


def test_jsonl_bom_and_crlf(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + b'{"text": "a"}\r\n{"text": "b"}\r\n'
    items = only_items(read_all(write(tmp_path, "t.jsonl", data)))
    assert [(i.line, i.text) for i in items] == [(1, "a"), (2, "b")]


# --- urgency -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("urgent", 4),
        ("CRITICAL", 4),
        ("blocker", 4),
        ("P0", 4),
        ("sev1", 4),
        ("Sev-1", 4),
        ("emergency", 4),
        ("high", 3),
        ("p1", 3),
        ("sev2", 3),
        ("major", 3),
        ("Medium", 2),
        ("normal", 2),
        ("p2", 2),
        ("sev3", 2),
        ("low", 1),
        ("minor", 1),
        ("p3", 1),
        ("p4", 1),
        ("trivial", 1),
        ("sev4", 1),
        (1, 1),
        (4, 4),
        (9, 4),
        (0, 0),
        (-2, 0),
        (3.0, 3),
        (2.5, 0),
        ("3", 3),
        (True, 0),
        (None, 0),
        ("whenever", 0),
        ("", 0),
        (["high"], 0),
    ],
)
def test_urgency_mapping(value: Any, expected: int) -> None:
    assert urgency_of(value) == expected


def test_urgency_field_order(tmp_path: Path) -> None:
    data = jsonl(
        {"text": "a", "severity": "low", "urgency": "high", "priority": "urgent"},
        {"text": "b", "severity": "low", "urgency": "high"},
        {"text": "c", "severity": "low"},
        {"text": "d", "priority": "someday", "urgency": "high"},  # first present field wins
    )
    items = only_items(read_all(write(tmp_path, "t.jsonl", data)))
    assert [TicketTask().urgency(i.extra) for i in items] == [4, 3, 1, 0]
    assert items[2].extra == {"severity": "low"}


# --- CSV -----------------------------------------------------------------------------------------


def test_csv_basic(tmp_path: Path) -> None:
    data = (
        "id,text,priority,customer\nA,printer broke,high,acme\n,no id here,,\nC,  padded  ,P0,x\n"
    )
    items = only_items(read_all(write(tmp_path, "t.csv", data)))
    urgency = TicketTask().urgency
    assert [(i.id, i.line, i.text, urgency(i.extra)) for i in items] == [
        ("A", 2, "printer broke", 3),
        ("3", 3, "no id here", 0),  # an empty cell is no id: the line number stands in
        ("C", 4, "padded", 4),
    ]
    assert items[0].extra == {"priority": "high", "customer": "acme"}
    assert items[1].extra == {"priority": "", "customer": ""}


@pytest.mark.parametrize(("delimiter", "ext"), [(";", ".csv"), ("\t", ".csv"), ("|", ".csv")])
def test_csv_sniffs_the_delimiter(tmp_path: Path, delimiter: str, ext: str) -> None:
    rows = [["id", "text", "note"], ["1", "a, with commas, inside", "n"], ["2", "b", "m"]]
    data = "".join(delimiter.join(r) + "\n" for r in rows)
    items = only_items(read_all(write(tmp_path, "t" + ext, data)))
    assert [(i.id, i.text, i.extra) for i in items] == [
        ("1", "a, with commas, inside", {"note": "n"}),
        ("2", "b", {"note": "m"}),
    ]


def test_tsv_extension_means_tab(tmp_path: Path) -> None:
    data = "id\ttext\n1\tsemi;colons, commas|pipes\n"
    (item,) = only_items(read_all(write(tmp_path, "t.tsv", data)))
    assert item.text == "semi;colons, commas|pipes"


def test_single_column_csv_keeps_commas_in_text(tmp_path: Path) -> None:
    data = "text\nhello, world, again\n"
    (item,) = only_items(read_all(write(tmp_path, "t.csv", data)))
    assert item.text == "hello, world, again"


def test_csv_multiline_quoted_field_line_numbers(tmp_path: Path) -> None:
    data = 'id,text\n1,"first\nsecond\n\nfourth"\n2,plain\n\n3,"a ""quoted"" word"\n'
    items = only_items(read_all(write(tmp_path, "t.csv", data)))
    assert [(i.id, i.line) for i in items] == [("1", 2), ("2", 6), ("3", 8)]
    assert items[0].text == "first\nsecond\n\nfourth"
    assert items[2].text == 'a "quoted" word'


def test_csv_field_counts(tmp_path: Path) -> None:
    data = "id,text,a,b\n1,x,y\n2,x,y,z,EXTRA\n3,x,y,z,,\n"
    records = read_all(write(tmp_path, "rows.csv", data))
    short = records[0]
    assert isinstance(short, Item) and short.extra == {"a": "y"}  # missing cells are absent
    long = failure(records[1])
    assert (long.error, long.line, long.id) == ("MalformedRecord", 3, "2")
    assert long.message == "rows.csv:3: malformed CSV: 5 fields but the header has 4"
    trailing = records[2]  # empty cells after a trailing delimiter are harmless
    assert isinstance(trailing, Item) and trailing.extra == {"a": "y", "b": "z"}


def test_csv_missing_text_and_custom_fields(tmp_path: Path) -> None:
    data = "key,summary,body\nk1,s1,b1\nk2,,b2\n"
    path = write(tmp_path, "t.csv", data)
    items = only_items(read_all(path, id_field="key"))
    assert [(i.id, i.text, i.extra) for i in items] == [
        ("k1", "b1", {"summary": "s1"}),
        ("k2", "b2", {"summary": ""}),
    ]
    item, missing = read_all(path, text_field="summary", id_field="key")
    assert isinstance(item, Item) and item.text == "s1"
    missing = failure(missing)
    assert (missing.error, missing.id, missing.line) == ("MissingText", "k2", 3)
    assert missing.message == "t.csv:3: no text: field 'summary' is empty"
    # no text column at all: one line for the whole file, before any record is read
    with pytest.raises(InputError) as refused:
        read_all(write(tmp_path, "n.csv", "id,subject\n1,x\n"))
    assert str(refused.value) == (
        f"{tmp_path / 'n.csv'}: no text column: none of text, ticket, body, description, message "
        "(columns: id, subject); name it with --text-field"
    )


def test_csv_bom_and_crlf(tmp_path: Path) -> None:
    data = "\ufeffid,text\r\n1,a\r\n2,b\r\n".encode()
    items = only_items(read_all(write(tmp_path, "t.csv", data)))
    assert [(i.id, i.line, i.text) for i in items] == [("1", 2, "a"), ("2", 3, "b")]


def test_csv_invalid_utf8(tmp_path: Path) -> None:
    data = b"id,text\n1,fine\n2,caf\xe9 au lait\n3,also fine\n"
    records = read_all(write(tmp_path, "enc.csv", data))
    bad = failure(records[1])
    assert (bad.error, bad.line, bad.id) == ("InvalidEncoding", 3, "2")
    assert bad.message == "enc.csv:3: invalid UTF-8 at byte 6"
    assert isinstance(records[0], Item) and isinstance(records[2], Item)


def test_csv_record_too_large(tmp_path: Path) -> None:
    data = "id,text\n1,short\n2," + "x" * 5000 + "\n3,after\n"
    records = read_all(write(tmp_path, "big.csv", data), max_record_bytes=1000)
    assert [type(r) for r in records] == [Item, Failure, Item]
    big = failure(records[1])
    assert (big.error, big.line) == ("RecordTooLarge", 3)
    assert big.message.startswith("big.csv:3: record too large:")
    last = records[2]
    assert isinstance(last, Item) and (last.id, last.line) == ("3", 4)


def test_csv_runaway_quote_is_bounded(tmp_path: Path) -> None:
    # a quoted field spanning many short lines: csv.reader alone would gather them all
    body = "".join(f"line {n} of a long quoted note\n" for n in range(200))
    data = f'id,text\n1,ok\n2,"{body}"\n3,after\n'
    records = read_all(write(tmp_path, "q.csv", data), max_record_bytes=1000)
    assert [type(r) for r in records] == [Item, Failure, Item]
    assert (failure(records[1]).error, records[1].line) == ("RecordTooLarge", 3)
    last = records[2]
    assert isinstance(last, Item) and (last.id, last.text, last.line) == ("3", "after", 204)


def test_csv_blank_lines_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    data = "\n\nid,text\n\n1,a\n,\n  \n2,b\n"
    items = only_items(read_all(write(tmp_path, "t.csv", data)))
    assert [(i.id, i.line) for i in items] == [("1", 5), ("2", 8)]


def test_csv_header_names_are_cleaned(tmp_path: Path) -> None:
    data = " id , text ,note,note,\n1,a,n1,n2,e\n"
    src = open_source(write(tmp_path, "t.csv", data))
    assert src.columns == ["id", "text", "note", "note_2", "column_5"]
    (item,) = only_items(list(src))
    assert item.extra == {"note": "n1", "note_2": "n2", "column_5": "e"}


@pytest.mark.parametrize("data", ["", "\n\n", ",,\n"])
def test_csv_without_header_is_an_input_error(tmp_path: Path, data: str) -> None:
    with pytest.raises(InputError, match=r"empty\.csv: empty CSV file"):
        open_source(write(tmp_path, "empty.csv", data))


# --- stdin ---------------------------------------------------------------------------------------


def test_stdin_jsonl_is_sniffed() -> None:
    stream = io.BytesIO(b"\n  " + jsonl({"id": 1, "text": "from a pipe"}) + b"{broken\n")
    src = open_source("-", stdin=stream)
    assert (src.name, src.format) == ("<stdin>", "jsonl")
    assert src.count_hint() is None
    item, bad = list(src)
    assert isinstance(item, Item) and (item.id, item.text, item.line) == ("1", "from a pipe", 2)
    bad = failure(bad)
    assert bad.message.startswith("<stdin>:3: malformed JSON")
    assert not stream.closed  # the process's stdin is not ours to close


def test_stdin_csv_is_sniffed() -> None:
    stream = io.BytesIO(b"id;text\n1;semicolons\n")
    src = open_source("-", stdin=stream)
    assert src.format == "csv"
    (item,) = only_items(list(src))
    assert (item.id, item.text) == ("1", "semicolons")


def test_stdin_format_override_and_large_input() -> None:
    rows = b"".join(b'"ticket number %d"\n' % n for n in range(20_000))  # > the sniffing prefix
    src = open_source("-", stdin=io.BytesIO(rows), fmt="JSONL")
    items = only_items(list(src))
    assert len(items) == 20_000
    assert (items[-1].text, items[-1].line) == ("ticket number 19999", 20_000)
    with pytest.raises(InputError, match="unknown input format 'xml'"):
        open_source("-", stdin=io.BytesIO(b""), fmt="xml")


def test_empty_stdin_yields_nothing() -> None:
    assert list(open_source("-", stdin=io.BytesIO(b""))) == []


def test_stdin_failure_messages_name_stdin() -> None:
    src = open_source("-", stdin=io.BytesIO(b"id,text\n1,\n"))
    (missing,) = list(src)
    assert failure(missing).message.startswith("<stdin>:2: no text")


# --- opening -------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.jsonl")
    with pytest.raises(InputError) as info:
        open_source(path)
    assert str(info.value) == f"cannot read {path!r}: no such file"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        open_source(str(tmp_path))
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        open_source(str(tmp_path / "dir.jsonl"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.jsonl", b"{}\n")
    os.chmod(path, 0)
    with pytest.raises(InputError, match="permission denied"):
        open_source(path)


def test_unknown_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", jsonl({"text": "a"}))
    with pytest.raises(InputError) as info:
        open_source(path)
    assert str(info.value) == "cannot tell the format of 'x.txt': use --input-format jsonl or csv"
    (item,) = only_items(read_all(path, fmt="jsonl"))
    assert item.text == "a"


def test_format_override_and_extensions(tmp_path: Path) -> None:
    assert open_source(write(tmp_path, "a.ndjson", b"")).format == "jsonl"
    assert open_source(write(tmp_path, "a.json", b"")).format == "jsonl"
    assert open_source(write(tmp_path, "a.CSV", b"text\n")).format == "csv"
    csv_named_jsonl = write(tmp_path, "b.csv", jsonl({"text": "json after all"}))
    src = open_source(csv_named_jsonl, fmt="jsonl")
    assert (src.format, src.name) == ("jsonl", csv_named_jsonl)
    with pytest.raises(InputError, match="unknown input format"):
        open_source(csv_named_jsonl, fmt="parquet")


def test_fifo_without_extension_is_sniffed(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as f:
            f.write(jsonl({"text": "through a fifo"}))

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        src = open_source(str(fifo))
        assert src.format == "jsonl"
        assert src.count_hint() is None  # counting would consume the pipe
        (item,) = only_items(list(src))
    finally:
        writer.join(5)
    assert item.text == "through a fifo"


def test_count_hint(tmp_path: Path) -> None:
    assert open_source(write(tmp_path, "a.jsonl", jsonl(*[{"text": "x"}] * 5))).count_hint() == 5
    assert (
        open_source(write(tmp_path, "b.jsonl", b'{"text": "x"}\n{"text": "y"}')).count_hint() == 1
    )
    # lines after the header: records to expect, for the progress bar
    assert open_source(write(tmp_path, "c.csv", "text\na\n\nb\n")).count_hint() == 3


def test_source_closes_after_iteration(tmp_path: Path) -> None:
    src = open_source(write(tmp_path, "a.jsonl", jsonl({"text": "x"})))
    assert isinstance(src, Source)
    list(src)
    with open_source(write(tmp_path, "b.csv", "text\na\n")) as csv_src:
        next(iter(csv_src))


# --- flat memory ---------------------------------------------------------------------------------


def test_jsonl_memory_is_flat(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    line = b'{"id": "T-%d", "text": "ticket %d: the printer stopped again", "priority": "high"}\n'
    with open(path, "wb") as f:
        for start in range(0, 200_000, 10_000):
            f.write(b"".join(line % (n, n) for n in range(start, start + 10_000)))
    tracemalloc.start()
    try:
        count = 0
        for record in open_source(str(path)):
            assert isinstance(record, Item)
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert peak < 2_000_000, peak


def test_csv_memory_is_flat(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,text,priority\n")
        for start in range(0, 50_000, 10_000):
            f.write("".join(f'{n},"ticket {n}, again",low\n' for n in range(start, start + 10_000)))
    tracemalloc.start()
    try:
        count = sum(1 for _ in open_source(str(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 2_000_000, peak


def test_stdin_jsonl_starts_before_the_pipe_fills() -> None:
    """``tail -f x | forge classify -``: the first record must not wait for 64 KiB or EOF."""
    read_fd, write_fd = os.pipe()
    got: list[Item | Failure] = []

    def consume() -> None:
        with os.fdopen(read_fd, "rb") as stdin:
            got.append(next(iter(open_source("-", stdin=stdin))))

    os.write(write_fd, b'{"text": "first"}\n')
    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    reader.join(5)
    os.close(write_fd)
    assert not reader.is_alive(), "open_source waited for more input"
    assert isinstance(got[0], Item) and got[0].text == "first"


def test_csv_text_field_missing_from_header_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,body\n1,hello\n")
    with pytest.raises(InputError, match=r"no column 'text' for --text-field .*columns: id, body"):
        open_source(str(path), text_field="text")
    assert next(iter(open_source(str(path), text_field="body"))).text == "hello"


def test_a_json_array_file_is_read_element_by_element(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(
        '\n  [\n  {"id": "A", "text": "printer on fire"},\n  "just a string ticket",\n'
        '  42,\n  {"id": "B", "body": "cannot log in"},\n  {"id": "C", "text": ""}\n]\n',
        encoding="utf-8",
    )
    records = list(open_source(str(path)))
    items = [r for r in records if isinstance(r, Item)]
    failures = [r for r in records if isinstance(r, Failure)]
    assert [(i.id, i.line, i.text) for i in items] == [
        ("A", 1, "printer on fire"),
        ("2", 2, "just a string ticket"),
        ("B", 4, "cannot log in"),
    ]
    assert [(f.line, f.error) for f in failures] == [(3, "MalformedRecord"), (5, "MissingText")]
    assert "export.json element 3" in failures[0].message


def test_a_broken_json_array_is_one_clear_failure(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[{"id": "A", "text": "x"},\n {"id": "B", "text": ', encoding="utf-8")
    (failure,) = list(open_source(str(path)))
    assert isinstance(failure, Failure) and failure.error == "MalformedRecord"
    assert failure.message.startswith("export.json:2: malformed JSON array: ")


def test_a_json_array_on_stdin_is_recognised():
    stream = io.BytesIO(b'[{"text": "one"}, {"text": "two"}]')
    texts = [r.text for r in open_source("-", stdin=stream) if isinstance(r, Item)]
    assert texts == ["one", "two"]


# --- the reader registry -------------------------------------------------------------------------


class LinesSource(Source):
    """A whole input format in a few lines: each non-blank line of a text file is one ticket."""

    format = "lines"
    extensions = (".txt",)

    def __iter__(self) -> Iterator[Item | Failure]:
        try:
            for n, raw in enumerate(self._stream, 1):
                if raw.strip():
                    yield self._record({"text": raw.decode("utf-8", "replace")}, n, False)
        finally:
            self.close()


def test_a_registered_reader_is_one_class_and_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_registry, "_READERS", dict(sources_registry._READERS))
    monkeypatch.setattr(sources_registry, "_BY_EXTENSION", dict(sources_registry._BY_EXTENSION))
    path = write(tmp_path, "notes.txt", "printer on fire\n\n  cannot log in \n")
    with pytest.raises(InputError, match=r"use --input-format jsonl or csv$"):
        open_source(path)
    register_reader(LinesSource)
    assert input_formats() == ("jsonl", "csv", "lines")
    items = only_items(read_all(path))
    assert [(i.id, i.line, i.text) for i in items] == [
        ("1", 1, "printer on fire"),
        ("3", 3, "cannot log in"),
    ]
    piped = open_source("-", fmt="lines", stdin=io.BytesIO(b'{"text": "not JSON to it"}\n'))
    assert [r.text for r in only_items(list(piped))] == ['{"text": "not JSON to it"}']

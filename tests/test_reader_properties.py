"""Properties of the readers, over inputs hypothesis makes up: any bytes in give records or clear
per-line failures naming the file and the line (or one InputError for an input that is unusable
as a whole), never another exception, and every record in comes out once, as an item or a failure.

Runs on real files in a temporary folder (and stdin as a byte stream), as a user's input arrives.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forge_cli.core.errors import InputError
from forge_cli.core.models import Failure, Item
from forge_cli.io.sources import TEXT_FIELDS, open_source

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: a small limit, so that oversized records are among what hypothesis makes
MAX_BYTES = 300
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@contextmanager
def input_file(name: str, data: bytes) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield str(path)


def read(path: str, **kwargs: Any) -> list[Item | Failure] | InputError:
    """Every record of the input, or the InputError that refused the whole of it; any other
    exception fails the test."""
    try:
        source = open_source(path, **kwargs)
    except InputError as exc:
        return exc
    records = list(source)
    assert all(isinstance(r, Item | Failure) for r in records)
    return records


def assert_named(records: list[Item | Failure], label: str, last_line: int) -> None:
    """Every failure names the input and a line, in one line of text; records in input order."""
    where = re.compile(rf"^{re.escape(label)}(?::(\d+)| element (\d+)): \S")
    lines = [r.line for r in records]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    for r in records:
        assert 1 <= r.line <= max(last_line, 1)
        if isinstance(r, Failure):
            m = where.match(r.message)
            assert m is not None, r.message
            assert "\n" not in r.message and "Traceback" not in r.message
            assert int(m.group(1) or m.group(2)) >= r.line  # where the bad byte is, or the record
        else:
            assert r.text and r.text == r.text.strip()


def id_of(value: Any, line: int) -> str:
    """The id a record shows: a string as it is, a number as written, else its JSON."""
    if value is None or value == "":
        return str(line)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return orjson.dumps(value).decode()


def structural(chars: str, size: int = 400) -> st.SearchStrategy[str]:
    """Text heavy in a format's own punctuation, where readers break."""
    return st.text(st.sampled_from(list(chars)) | st.characters(codec="utf-8"), max_size=size)


# -- JSONL --------------------------------------------------------------------------------------

jsonish = st.binary(max_size=2_000) | structural('{}[]":,\\ \n\r\tabtrue01-.').map(str.encode)


@PROPERTY
@given(jsonish)
def test_jsonl_any_bytes_give_one_outcome_per_non_blank_line(data: bytes) -> None:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    with input_file("t.jsonl", data) as path:
        records = read(path, max_record_bytes=MAX_BYTES)
    assert not isinstance(records, InputError)
    if body.lstrip().startswith(b"["):  # one JSON array: its elements, or one failure
        try:
            value = orjson.loads(body)
            expected = len(value) if isinstance(value, list) else 1
        except orjson.JSONDecodeError:
            expected = 1
        assert len(records) == expected
        assert_named(records, "t.jsonl", max(expected, 1))
        return
    assert len(records) == sum(1 for line in lines if line and not line.isspace())
    assert_named(records, "t.jsonl", len(lines))


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", *TEXT_FIELDS, "x"]) | st.text(max_size=4), inner)
    ),
    max_leaves=6,
)
record_lines = st.one_of(
    st.fixed_dictionaries(
        {"text": st.text(max_size=80)}, optional={"id": json_values, "body": json_values}
    ).map(orjson.dumps),
    json_values.map(orjson.dumps),
    st.binary(max_size=60).filter(lambda b: b"\n" not in b),
)


@PROPERTY
@given(st.lists(record_lines, max_size=25))
def test_jsonl_records_in_are_items_plus_failures(given_lines: list[bytes]) -> None:
    lines = [b'"a first record"', *given_lines]  # the file is JSONL, not one array
    with input_file("t.jsonl", b"".join(line + b"\n" for line in lines)) as path:
        records = read(path)
    assert not isinstance(records, InputError)
    expected = [n for n, line in enumerate(lines, 1) if line and not line.isspace()]
    assert [r.line for r in records] == expected
    for r in records:
        if not isinstance(r, Item):
            continue
        rec = orjson.loads(lines[r.line - 1])
        if isinstance(rec, str):
            assert (r.id, r.text) == (str(r.line), rec.strip())
            continue
        text = next(rec[f] for f in TEXT_FIELDS if rec.get(f) is not None)
        assert r.text == (text.strip() if isinstance(text, str) else str(text))
        assert r.id == id_of(rec.get("id"), r.line)


# -- CSV ------------------------------------------------------------------------------------------

csvish = st.binary(max_size=2_000) | structural(',"\n\r\t; ab').map(str.encode)


@PROPERTY
@given(st.sampled_from([b"", b"id,text\n", b'"id","text"\r\n']), csvish)
def test_csv_any_bytes_give_items_failures_or_one_input_error(header: bytes, data: bytes) -> None:
    data = header + data
    with input_file("t.csv", data) as path:
        records = read(path, max_record_bytes=MAX_BYTES)
    if isinstance(records, InputError):
        assert str(records).startswith(("t.csv", str(Path(path).parent)))
        assert "\n" not in str(records)
        return
    assert_named(records, "t.csv", len(_LINE_BREAK.findall(data.decode("utf-8", "replace"))) + 1)


cells = st.text(max_size=30)
words = st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True)


def csv_row(row: tuple[str, str]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out).writerow(row)  # "\r\n": \r and \n inside a cell get quoted
    return out.getvalue()


@PROPERTY
@given(st.lists(st.tuples(cells | words, cells | words), max_size=20), st.data())
def test_csv_rows_in_are_items_plus_failures_even_with_a_stray_quote(
    rows: list[tuple[str, str]], data: st.DataObject
) -> None:
    """Rows csv.writer wrote come back one each, as written. A quote that opens a field and is
    never closed fails its own row, naming its line, and every other row still comes back, as
    long as the quote finds no other quote to pair with: a stray quote that closes cleanly on a
    later row's quote is legal CSV (a field spanning lines), which no reader can tell apart."""
    parts = [csv_row(row) for row in rows]
    starts, line = [], 2
    for part in parts:
        starts.append(line)
        line += len(_LINE_BREAK.findall(part))
    stray: int | None = None
    plain = [n for n, row in enumerate(rows) if all(re.fullmatch(r"[A-Za-z0-9]+", c) for c in row)]
    if plain and data.draw(st.booleans(), label="stray quote"):
        stray = data.draw(st.sampled_from(plain), label="row")
        rid, text = rows[stray]
        parts[stray] = f'{rid},"{text}\r\n'  # the quote opens the text field and never closes
    with input_file("t.csv", ("id,text\n" + "".join(parts)).encode()) as path:
        records = read(path)
    assert not isinstance(records, InputError)
    kept = [n for n, row in enumerate(rows) if any(c.strip() for c in row)]
    if stray is not None and any('"' in part for part in parts[stray + 1 :]):
        # the stray may pair with a later quote: only the rows before it are known
        kept = [n for n in kept if n < stray]
        records = [r for r in records if r.line < starts[stray]]
    assert [r.line for r in records] == [starts[n] for n in kept]
    for n, r in zip(kept, records, strict=True):
        if n == stray:
            assert isinstance(r, Failure) and r.error == "MalformedRecord"
            assert f"t.csv:{starts[n]}: malformed CSV: the quote opened on line {starts[n]}" in (
                r.message
            )
        elif isinstance(r, Item):
            assert r.text == rows[n][1].strip()
            assert r.id == (rows[n][0] or str(starts[n]))
        else:
            assert r.error == "MissingText", r


# -- stdin ----------------------------------------------------------------------------------------


@PROPERTY
@given(st.sampled_from([b"", b"id,text\n", b'{"text": "x"}\n']), jsonish | csvish)
def test_stdin_any_bytes_give_items_failures_or_one_input_error(head: bytes, data: bytes) -> None:
    data = head + data
    try:
        source = open_source("-", stdin=io.BytesIO(data), max_record_bytes=MAX_BYTES)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    records = list(source)
    assert_named(records, "<stdin>", len(_LINE_BREAK.findall(data.decode("utf-8", "replace"))) + 1)

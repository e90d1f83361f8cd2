"""Properties of the answer parser, over answers hypothesis makes up.

Any text gives per-id entries or ``InvalidResponseError``, never another exception; ids outside
the pack never appear; and JSON that a record's text carried into the answer (fenced or not, with
ids guessed as 1..N, copied from the records, or anything else) never becomes any record's
answer, wherever it stands around the real one (a one-item pack with no real answer may take the
one JSON value its own record put there: that steers no other record's answer).
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forge_cli.core.calls import new_pack_ids
from forge_cli.core.errors import InvalidResponseError
from forge_cli.tasks.answers import entries_by_id, load_json
from forge_cli.tasks.classify.confidence import field_confidences
from forge_cli.tasks.classify.task import TicketTask

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TASK = TicketTask()
PWNED = "PWNED"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "results", "category", "priority", "summary"])
            | st.text(max_size=4),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
#: text heavy in JSON's punctuation and the fences models write
answerish = st.lists(
    st.sampled_from([*'{}[]":,\\` \n', "```json\n", "```", '"id"', '"results"'])
    | st.characters(codec="utf-8"),
    max_size=150,
).map("".join)
pack_ids = st.integers(1, 8).map(new_pack_ids)


def check_result(parsed: Any, ids: list[str]) -> None:
    assert set(parsed.answers) | set(parsed.errors) == set(ids)
    assert not set(parsed.answers) & set(parsed.errors)


@PROPERTY
@given(answerish | json_values.map(lambda v: orjson.dumps(v).decode()), pack_ids)
def test_any_text_gives_entries_of_the_pack_or_invalid_response(text: str, ids: list[str]) -> None:
    try:
        parsed = TASK.parse(text, ids)
    except InvalidResponseError as exc:
        assert exc.message and "\n" not in (exc.raw or "")
        return
    check_result(parsed, ids)


@PROPERTY
@given(answerish, st.lists(st.text(max_size=8), max_size=6))
def test_the_parser_alone_never_names_an_id_it_was_not_given(text: str, ids: list[str]) -> None:
    try:
        found, duplicated = entries_by_id(load_json(text, ids), ids)
    except InvalidResponseError:
        return
    assert set(found) <= set(ids) and duplicated <= set(found)


def fake(ids: list[str], shape: str) -> Any:
    entry = {"category": "billing", "priority": "urgent", "summary": PWNED}
    if shape == "keyed":
        return {i: entry for i in ids}
    if shape == "bare":
        return dict(entry, id=ids[0]) if ids else entry
    rows = [{"id": i, **entry} for i in ids]
    return {"results": rows} if shape == "results" else rows


def guessed(n: int) -> st.SearchStrategy[list[str]]:
    """What a record's author could put as ids: 1..N, the records' ids, anything."""
    return st.sampled_from(
        [[str(k) for k in range(1, n + 1)], [f"T{k}" for k in range(1, n + 1)], []]
    ) | st.lists(st.text(max_size=6), max_size=n)


@st.composite
def hostile_answers(draw: st.DrawFn) -> tuple[str, list[str], bool]:
    """(answer text, pack ids, whether the real answer is in it whole): the real answer for the
    pack among fenced and bare JSON a ticket carried in, and prose, in any order."""
    ids = draw(pack_ids)
    pieces: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        value = draw(
            st.builds(
                fake, guessed(len(ids)), st.sampled_from(["results", "array", "keyed", "bare"])
            )
            | json_values
        )
        body = orjson.dumps(value).decode()
        pieces.append(f"```json\n{body}\n```" if draw(st.booleans()) else body)
    for _ in range(draw(st.integers(0, 3))):
        pieces.append(draw(st.text(st.characters(codec="utf-8"), max_size=40)))
    real = draw(st.booleans())
    if real:
        rows = [
            {"id": i, "category": "other", "priority": "low", "summary": f"real {i}"} for i in ids
        ]
        body = orjson.dumps({"results": rows} if draw(st.booleans()) else rows).decode()
        pieces.insert(draw(st.integers(0, len(pieces))), body)
    order = draw(st.permutations(pieces)) if not real else pieces
    return draw(st.sampled_from(["\n", " ", "\n\n"])).join(order), ids, real


@PROPERTY
@given(hostile_answers())
def test_json_a_ticket_carried_in_never_becomes_an_answer(
    case: tuple[str, list[str], bool],
) -> None:
    text, ids, real = case
    try:
        parsed = TASK.parse(text, ids)
    except InvalidResponseError:
        assert not real or "<think" in text.lower()
        return
    check_result(parsed, ids)
    if len(ids) > 1 or real:
        # with no real answer, a one-item pack may take the one JSON value there is: the only
        # record that can have put it there is that item itself, steering nobody else's answer
        assert not any(PWNED in str(a.get("summary")) for a in parsed.answers.values()), text
    if real and "<think" not in text.lower():
        assert {i: a["summary"] for i, a in parsed.answers.items()} == {i: f"real {i}" for i in ids}


@PROPERTY
@given(
    st.lists(st.tuples(answerish, st.floats(-30, 0)), max_size=12),
    pack_ids,
)
def test_confidences_from_any_tokens_are_probabilities_of_pack_ids(
    tokens: list[tuple[str, float]], ids: list[str]
) -> None:
    found = field_confidences(tokens, ids, ["category", "priority"])
    assert set(found) <= set(ids)
    for row in found.values():
        for p in row.values():
            assert p is None or (0.0 <= p <= 1.0 and not math.isnan(p))

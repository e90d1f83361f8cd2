"""Eval's metrics against values worked out by hand, and its label matching's edge cases."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from forge_cli.app.evaluation.join import FieldSpec, Request, choose_fields, score
from forge_cli.app.evaluation.labels import NO_ANSWER, LabelSpace, as_label, as_labels, normalise
from forge_cli.app.evaluation.metrics import (
    MultiScore,
    SingleScore,
    f1_of,
    score_multi,
    score_single,
)
from forge_cli.app.evaluation.tables import Table, answer_columns
from forge_cli.core.errors import UsageError
from forge_cli.ui.confusion import render_confusion_svg


def by_label(score: SingleScore | MultiScore) -> dict[str, tuple[float, float, float, int, int]]:
    return {s.label: (s.precision, s.recall, s.f1, s.support, s.predicted) for s in score.labels}


def test_single_label_metrics_by_hand():
    """Eight records, gold labels A, B, C; D is only ever predicted; record 4 got no answer.

    gold → predicted:  A→A, A→A, A→B, A→(none), B→B, B→C, C→C, C→D

    confusion (rows gold; columns A B C D (no answer)):
        A: 2 1 0 0 1    (4)
        B: 0 1 1 0 0    (2)
        C: 0 0 1 1 0    (2)

    accuracy = (2 + 1 + 1) / 8 = 0.5 (the record with no answer counts as wrong)
    A: tp 2, predicted 2, support 4 -> P 1,   R 0.5, F1 = 2·1·0.5/1.5 = 2/3
    B: tp 1, predicted 2, support 2 -> P 0.5, R 0.5, F1 0.5
    C: tp 1, predicted 2, support 2 -> P 0.5, R 0.5, F1 0.5
    D: tp 0, predicted 1, support 0 -> P 0,   R 0,   F1 0
    macro-F1 = (2/3 + 0.5 + 0.5 + 0) / 4 = 5/12
    """
    pairs = [
        ("A", "A"),
        ("A", "A"),
        ("A", "B"),
        ("A", None),
        ("B", "B"),
        ("B", "C"),
        ("C", "C"),
        ("C", "D"),
    ]
    s = score_single(pairs)
    assert (s.records, s.answered, s.correct) == (8, 7, 4)
    assert s.accuracy == 0.5
    assert s.macro_f1 == pytest.approx(5 / 12)
    labels = by_label(s)
    assert labels["A"] == pytest.approx((1.0, 0.5, 2 / 3, 4, 2))
    assert labels["B"] == pytest.approx((0.5, 0.5, 0.5, 2, 2))
    assert labels["C"] == pytest.approx((0.5, 0.5, 0.5, 2, 2))
    assert labels["D"] == (0.0, 0.0, 0.0, 0, 1)
    c = s.confusion
    assert c.rows == ("A", "B", "C")
    assert c.columns == ("A", "B", "C", "D", NO_ANSWER)
    assert c.counts == ((2, 1, 0, 0, 1), (0, 1, 1, 0, 0), (0, 0, 1, 1, 0))
    assert c.cell("C", "D") == 1


def test_multi_label_metrics_by_hand():
    """Five records, labels x, y, z; record 3 got no answer, record 4 has no labels at all.

    gold → predicted:  {x,y}→{x,y}, {x}→{x,z}, {y}→(none), {}→{}, {x,z}→{z}

    x: gold in 1, 2, 5; predicted in 1, 2 -> tp 2, fp 0, fn 1 -> P 1,   R 2/3, F1 0.8
    y: gold in 1, 3;    predicted in 1    -> tp 1, fp 0, fn 1 -> P 1,   R 0.5, F1 2/3
    z: gold in 5;       predicted in 2, 5 -> tp 1, fp 1, fn 0 -> P 0.5, R 1,   F1 2/3
    micro-F1 = 2·4 / (2·4 + 1 + 2) = 8/11
    macro-F1 = (0.8 + 2/3 + 2/3) / 3 = 32/45
    exact match = records 1 and 4 = 2/5
    """
    f = frozenset
    pairs = [
        (f("xy"), f("xy")),
        (f("x"), f("xz")),
        (f("y"), None),
        (f(), f()),
        (f("xz"), f("z")),
    ]
    s = score_multi(pairs)
    assert (s.records, s.answered, s.exact_matches) == (5, 4, 2)
    assert s.accuracy == pytest.approx(0.4)
    assert s.micro_f1 == pytest.approx(8 / 11)
    assert s.macro_f1 == pytest.approx(32 / 45)
    labels = by_label(s)
    assert labels["x"] == pytest.approx((1.0, 2 / 3, 0.8, 3, 2))
    assert labels["y"] == pytest.approx((1.0, 0.5, 2 / 3, 2, 1))
    assert labels["z"] == pytest.approx((0.5, 1.0, 2 / 3, 1, 2))


def test_zero_denominators_and_empty_input():
    assert f1_of(0, 0, 0) == (0.0, 0.0, 0.0)
    assert f1_of(0, 3, 0) == (0.0, 0.0, 0.0)
    empty = score_single([])
    assert (empty.records, empty.accuracy, empty.macro_f1) == (0, 0.0, 0.0)
    nothing = score_single([("A", None), ("B", None)])
    assert nothing.accuracy == 0.0 and nothing.answered == 0
    assert nothing.confusion.counts == ((0, 0, 1), (0, 0, 1))


@pytest.mark.parametrize(
    "spelling",
    [
        "Technical Support",
        "technical_support",
        "  TECHNICAL-SUPPORT ",
        '"Technical   Support"',
        "'technical__-_support'",
        "\u201ctechnical support\u201d",  # curly quotes
        "technical\u00a0support",  # a no-break space
        "\uff34echnical support",  # a full-width T
    ],
)
def test_normalisation_forgives_case_spaces_quotes_and_separators(spelling):
    assert normalise(spelling) == "technical support"


def test_normalisation_keeps_what_makes_labels_different():
    assert normalise("Cafe\u0301") == normalise("CAFÉ") == "café"  # decomposed accent, case
    assert normalise("café") != normalise("cafe")  # accents are not dropped
    assert normalise("Billing") != normalise("Billings")
    assert normalise("reopen") != normalise("re-open")  # no guessing across a separator
    assert normalise("Ärger") == normalise("ärger")


def test_label_space_maps_answers_onto_the_gold_spelling():
    space = LabelSpace(["Technical Support", "Billing and Payments", "Billing and Payments"])
    assert not space.exact and space.note() is None
    assert space.key("technical_support") == "Technical Support"
    assert space.key("BILLING-AND-PAYMENTS") == "Billing and Payments"
    # a label gold never uses keeps its first spelling, and later spellings join it
    assert space.key("Security Support") == "Security Support"
    assert space.key("security_support") == "Security Support"


def test_near_duplicate_gold_labels_are_never_merged():
    space = LabelSpace(["Technical Support", "technical_support", "Billing"])
    assert space.exact
    assert space.collisions == (("Technical Support", "technical_support"),)
    note = space.note()
    assert note is not None and "'Technical Support' and 'technical_support'" in note
    # exact from then on: for every label of the field
    assert space.key("technical_support") == "technical_support"
    assert space.key("billing") == "billing" != space.key("Billing")


def test_near_duplicates_end_to_end_keep_their_own_counts():
    gold = Table("gold.jsonl", {"1": {"q": "IT"}, "2": {"q": "it"}, "3": {"q": "Sales"}}, ["q"])
    results = {"1": {"q": "IT"}, "2": {"q": "IT"}, "3": {"q": "sales"}}
    result = score(FieldSpec("q", "q"), gold, results)
    assert result is not None and result.note is not None
    assert isinstance(result.score, SingleScore)
    # compared exactly: only record 1 is right
    assert result.score.correct == 1
    assert result.score.confusion.cell("it", "IT") == 1


def test_values_become_labels():
    assert as_label(None) is None and as_label("") is None and as_label("  ") is None
    assert as_label(3) == "3" and as_label(True) == "true"
    assert as_label(["only"]) == "only" and as_label(["a", "b"]) is None
    assert as_labels(None) is None
    assert as_labels("") == []
    assert as_labels("a; b") == ["a", "b"]
    assert as_labels("a,b,,") == ["a", "b"]
    assert as_labels('["x", "y"]') == ["x", "y"]  # a CSV writer's list
    assert as_labels(["x", 2]) == ["x", "2"]


def test_answer_columns_stop_at_the_engine_fields():
    forge_row = ["line", "queue", "type", "complexity", "provider", "model", "queue_hint", "type2"]
    assert answer_columns(forge_row) == ["queue", "type"]
    assert answer_columns(["line", "category"]) == ["category"]  # not written by forge


def test_fields_are_chosen_by_name_and_free_text_is_left_out():
    rows = {str(n): {"queue": "a" if n % 2 else "b", "summary": f"text {n}"} for n in range(60)}
    gold = Table("gold.csv", rows, ["queue", "summary"])
    specs, notes = choose_fields(["queue", "summary"], gold, Request(), where="results")
    assert [s.name for s in specs] == ["queue"]
    assert notes and "summary" in notes[0] and "free text" in notes[0]
    specs, _ = choose_fields(["queue", "summary"], gold, Request(fields=("summary",)), where="r")
    assert [s.name for s in specs] == ["summary"]
    mapped, _ = choose_fields(
        ["category"], gold, Request(maps={"category": "queue"}), where="results"
    )
    assert mapped == [FieldSpec("category", "queue")]
    with pytest.raises(UsageError, match="--field nope"):
        choose_fields(["queue"], gold, Request(fields=("nope",)), where="results")
    with pytest.raises(UsageError, match="no field to score"):
        choose_fields(["category"], gold, Request(), where="results")


def test_confusion_svg_escapes_labels_and_draws_every_cell():
    svg = render_confusion_svg(
        "t <1>", ["a&b", "c"], ["a&b", "c", NO_ANSWER], [[2, 1, 0], [0, 3, 1]]
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    cells = [g for g in root.iter(f"{ns}g") if g.find(f"{ns}rect") is not None]
    assert len(cells) == 6
    assert "a&amp;b" in svg and "<1>" not in svg

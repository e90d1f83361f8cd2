"""The user's own labels and fields: labels kept as written, forgiving but never-guessing matching,
fields from flags and forge.toml, the answer schema built from them, and whole runs through the
simulator with labels that have capitals, spaces and non-ASCII letters."""

from __future__ import annotations

import orjson
import pytest

from conftest import API_KEY, forge, read_jsonl, remote_args, write_tickets
from forge_cli.tasks.classify.fields import (
    Field,
    LabelSet,
    field_from_flag,
    field_from_table,
    label_key,
    parse_labels,
)
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.server import FakeUpstream

QUEUES = ("Technical Support", "Billing and Payments", "Product Support", "Returns & Exchanges")


# ------------------------------------------------------------------------------- label matching


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Technical Support", "Technical Support"),
        ("technical support", "Technical Support"),
        ("TECHNICAL_SUPPORT", "Technical Support"),
        ("technical-support", "Technical Support"),
        ("  'Technical   Support' ", "Technical Support"),
        ('"billing and payments"', "Billing and Payments"),
        ("returns & exchanges", "Returns & Exchanges"),
        ("Returns and Exchanges", None),  # a different word: never guessed
        ("Technical", None),  # a prefix is not a label
        ("Support", None),
        ("", None),
    ],
)
def test_answers_match_labels_forgivingly(answer, expected):
    assert LabelSet(QUEUES).match(answer) == expected


def test_unicode_forms_and_non_ascii_labels():
    labels = LabelSet(["Facturación", "Técnico", "Ｗｉｄｅ"])
    assert labels.match("facturacio\u0301n") == "Facturación"  # decomposed accent (NFD)
    assert labels.match("TÉCNICO") == "Técnico"
    assert labels.match("wide") == "Ｗｉｄｅ"  # full-width letters (NFKC)
    assert labels.match("Tecnico") is None  # an accent is part of the word


def test_labels_that_differ_only_in_spelling_must_be_answered_exactly():
    labels = LabelSet(["Billing", "billing", "Bug"])
    assert labels.match("Billing") == "Billing" and labels.match("billing") == "billing"
    assert labels.match("BILLING") is None
    assert "could be any of" in labels.why_not("BILLING")
    assert labels.match("bug") == "Bug"  # the clash of two labels leaves the others loose


def test_label_key_folds_only_spelling():
    assert label_key(" Billing_and-Payments ") == label_key("billing and payments")
    assert label_key("a&b") != label_key("a and b")


def test_labels_are_kept_as_written():
    assert parse_labels("Technical Support, Billing and Payments,Ünïcode") == (
        "Technical Support",
        "Billing and Payments",
        "Ünïcode",
    )
    with pytest.raises(ValueError, match="twice"):
        parse_labels("a,b,a")
    with pytest.raises(ValueError, match="at least two"):
        parse_labels("only")


# ------------------------------------------------------------------------------------ fields


def test_fields_from_flags():
    assert field_from_flag("queue=A, B") == Field("queue", ("A", "B"))
    tags = field_from_flag("tags[]=x,y,z")
    assert tags.multi and tags.labels == ("x", "y", "z")
    assert field_from_flag("summary").is_text
    assert field_from_flag("priority=low,medium,high").urgency
    with pytest.raises(ValueError, match="field name"):
        field_from_flag("9lives=a,b")


def test_fields_from_a_table():
    f = field_from_table(
        "type",
        {"labels": ["Incident", "Request"], "description": "what kind", "multi": False},
    )
    assert f == Field("type", ("Incident", "Request"), description="what kind")
    with pytest.raises(ValueError, match="unknown setting"):
        field_from_table("type", {"labls": ["a", "b"]})


def test_the_schema_and_prompt_come_from_the_fields():
    task = TicketTask(
        fields=[
            Field("queue", QUEUES),
            Field("tags", ("vpn", "email"), multi=True),
            Field("summary"),
        ]
    )
    entry = task.answer_schema()["properties"]["results"]["items"]  # type: ignore[index]
    assert entry["properties"]["queue"] == {"type": "string", "enum": list(QUEUES)}
    assert entry["properties"]["tags"]["items"]["enum"] == ["vpn", "email"]
    assert entry["required"] == ["id", "queue", "tags", "summary"]
    assert '- "Returns & Exchanges"' in task.system_prompt
    assert task.answer_columns == ("queue", "tags", "summary")


def test_answers_carry_the_users_exact_labels():
    task = TicketTask(fields=[Field("queue", QUEUES), Field("tags", ("VPN", "E-mail"), multi=True)])
    content = orjson.dumps(
        {
            "results": [
                {"id": "a", "queue": "technical_support", "tags": ["vpn", "e mail"]},
                {"id": "b", "queue": "Sales", "tags": ["vpn"]},
                {"id": "c", "queue": "Product Support", "tags": "e-mail; VPN"},
                {"id": "d", "tags": ["vpn"]},
            ]
        }
    ).decode()
    parsed = task.parse(content, ["a", "b", "c", "d"])
    unsure = {"queue_confidence": None, "tags_confidence": None}  # no token probabilities given
    assert parsed.answers["a"] == {
        "queue": "Technical Support",
        "tags": ["VPN", "E-mail"],
        **unsure,
    }
    assert parsed.answers["c"] == {"queue": "Product Support", "tags": ["E-mail", "VPN"], **unsure}
    assert parsed.errors["b"] == "queue 'Sales' is not one of the labels"
    assert parsed.errors["d"] == "queue: missing from the answer"


def test_the_offline_rule_answers_any_fields_within_their_labels():
    task = TicketTask(
        fields=[
            Field("queue", QUEUES),
            Field("priority", ("low", "medium", "high"), urgency=True),
            Field("note"),
        ]
    )
    entry = task.offline_entry("Our server is down and nothing works!!! urgent")
    assert entry["queue"] in QUEUES
    assert entry["priority"] == "high"  # "urgent" is not on this scale: the nearest step
    assert isinstance(entry["note"], str)


def test_a_field_marked_urgency_schedules_by_the_records_own_value():
    task = TicketTask(fields=[Field("level", ("Minor", "Major", "Critical"), urgency=True)])
    assert task.urgency({"level": "critical"}) > task.urgency({"level": "Minor"}) > 0
    assert task.urgency({"other": "x"}) == 0


# -------------------------------------------------------------------------------- whole runs


def _queue_responder(items):
    """A model that answers in its own spelling: lower case, underscores."""
    return [
        {"id": it["id"], "queue": "billing_and_payments", "type": "incident", "summary": "s"}
        for it in items
    ]


def test_labels_with_capitals_and_spaces_work_end_to_end(tmp_path):
    src = write_tickets(tmp_path / "t.jsonl", [f"I was charged twice, case {n}" for n in range(6)])
    with FakeUpstream(api_key=API_KEY, responder=_queue_responder) as server:
        run = forge(
            "classify",
            str(src),
            *remote_args(server),
            "--field",
            "queue=" + ",".join(QUEUES),
            "--field",
            "type=Incident,Request,Problem,Change",
            "--field",
            "summary",
            "--no-progress",
        )
        sent = server.stats.records[-1].texts
    assert run.exit_code == 0, run.stderr
    rows = read_jsonl(tmp_path / "t.results.jsonl")
    assert {(r["queue"], r["type"]) for r in rows} == {("Billing and Payments", "Incident")}
    assert not (tmp_path / "t.failures.jsonl").read_text()
    assert sent and all(text.startswith("I was charged twice") for text in sent)


def test_fields_from_forge_toml(tmp_path):
    (tmp_path / "forge.toml").write_text(
        "[classify.fields.queue]\n"
        'labels = ["Technical Support", "Billing and Payments", "Product Support"]\n'
        'description = "the team that takes the ticket"\n'
        "[classify.fields.type]\n"
        'labels = ["Incident", "Request", "Problem", "Change"]\n'
        "[classify.fields.summary]\n"
        "text = true\n",
        encoding="utf-8",
    )
    src = write_tickets(tmp_path / "t.jsonl", ["Refund my double charge", "VPN drops hourly"])
    run = forge("classify", str(src), "--no-progress")
    assert run.exit_code == 0, run.stderr
    rows = read_jsonl(tmp_path / "t.results.jsonl")
    assert [sorted(k for k in r if k in ("queue", "type", "summary")) for r in rows] == [
        ["queue", "summary", "type"]
    ] * 2
    assert all(
        r["queue"] in ("Technical Support", "Billing and Payments", "Product Support") for r in rows
    )
    assert "category" not in rows[0]


def test_bad_field_flags_are_one_usage_line(tmp_path):
    src = write_tickets(tmp_path / "t.jsonl", ["x"])
    run = forge("classify", str(src), "--field", "queue=OnlyOne")
    assert run.exit_code == 2 and "--field" in run.stderr and "at least two" in run.stderr
    run = forge("classify", str(src), "--field", "queue=A,B", "--labels", "x,y")
    assert run.exit_code == 2 and "--labels" in run.stderr
    run = forge("classify", str(src), "--field", "summary")
    assert run.exit_code == 2 and "at least one field with labels" in run.stderr

"""Gold and answers matched by id, the fields to score chosen, and each field scored.

Fields are chosen by column name only: a results column (an answer field) is scored against the
gold column of the same name, or the one ``--map result_col=gold_col`` names. Every gold record
counts: one that failed or is missing from the results is a record with no answer, so coverage and
accuracy can never disagree about what was asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from forge_cli.app.evaluation.labels import LabelSpace, as_label, as_labels
from forge_cli.app.evaluation.metrics import MultiScore, SingleScore, score_multi, score_single
from forge_cli.app.evaluation.tables import Table
from forge_cli.core.errors import UsageError

__all__ = ["Coverage", "FieldResult", "FieldSpec", "Request", "choose_fields", "coverage", "score"]

#: a gold column with more distinct values than this, most of them different, is free text
_FREE_TEXT_LABELS = 20


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field to score: the answer column, the gold column it is compared with, its kind."""

    name: str
    gold: str
    multi: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """What the user asked to score: ``--field`` (answer columns), ``--map``, ``--multi``."""

    fields: tuple[str, ...] = ()
    maps: Mapping[str, str] = field(default_factory=dict)
    multi: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Coverage:
    """How the gold records met the answers."""

    gold: int
    #: gold records with a results row
    answered: int
    #: gold records in the failures (and not in the results)
    failed: int
    #: gold records in neither
    missing: int
    #: results rows whose id is not in gold (not scored)
    extra: int


@dataclass(frozen=True, slots=True)
class FieldResult:
    spec: FieldSpec
    score: SingleScore | MultiScore
    #: gold records without a value in the gold column (not scored for this field)
    no_gold: int = 0
    #: why labels were compared exactly, if they were
    note: str | None = None


def choose_fields(
    answers: Sequence[str], gold: Table, request: Request, *, where: str
) -> tuple[list[FieldSpec], list[str]]:
    """The fields to score and notes on the ones left out; UsageError for a name that is not there.

    ``answers`` are the answer columns of the results (``where`` names them in messages).
    """
    gold_columns = set(gold.columns)
    for name, gold_name in request.maps.items():
        if name not in answers:
            raise UsageError(
                f"--map {name}={gold_name}: {where} has no answer column {name!r} "
                f"(answer columns: {_listed(answers)})"
            )
        if gold_name not in gold_columns:
            raise UsageError(
                f"--map {name}={gold_name}: {gold.name} has no column {gold_name!r} "
                f"(columns: {_listed(gold.columns)})"
            )
    by_gold = {gold_name: name for name, gold_name in request.maps.items()}
    notes: list[str] = []
    if request.fields:
        names = []
        for asked in request.fields:
            name = asked if asked in answers else by_gold.get(asked, asked)
            if name not in answers:
                raise UsageError(
                    f"--field {asked}: {where} has no answer column {asked!r} "
                    f"(answer columns: {_listed(answers)})"
                )
            if request.maps.get(name, name) not in gold_columns:
                raise UsageError(
                    f"--field {asked}: {gold.name} has no column {request.maps.get(name, name)!r}; "
                    f"name the gold column with --map {name}=GOLD_COLUMN "
                    f"(columns: {_listed(gold.columns)})"
                )
            names.append(name)
    else:
        names = []
        for name in answers:
            gold_name = request.maps.get(name, name)
            if gold_name not in gold_columns:
                continue
            why = None if name in request.maps else _free_text(gold, gold_name)
            if why is None:
                names.append(name)
            else:
                notes.append(f"{name}: not scored, {why}; --field {name} scores it anyway")
    if not names:
        raise UsageError(
            f"no field to score: {where} answers {_listed(answers)}, {gold.name} has columns "
            f"{_listed(gold.columns)}; pair them with --map RESULT_COLUMN=GOLD_COLUMN"
        )
    specs = []
    for name in dict.fromkeys(names):
        gold_name = request.maps.get(name, name)
        multi = name in request.multi or gold_name in request.multi or _holds_lists(gold, gold_name)
        specs.append(FieldSpec(name, gold_name, multi))
    return specs, notes


def coverage(gold: Table, results: Mapping[str, Any], failed: set[str]) -> Coverage:
    answered = sum(1 for rid in gold.rows if rid in results)
    failed_only = sum(1 for rid in gold.rows if rid in failed and rid not in results)
    return Coverage(
        gold=len(gold.rows),
        answered=answered,
        failed=failed_only,
        missing=len(gold.rows) - answered - failed_only,
        extra=sum(1 for rid in results if rid not in gold.rows),
    )


def score(
    spec: FieldSpec, gold: Table, results: Mapping[str, Mapping[str, Any]]
) -> FieldResult | None:
    """One field scored over every gold record that has a gold value; None when none has one."""
    return _score_multi(spec, gold, results) if spec.multi else _score_single(spec, gold, results)


def _score_single(
    spec: FieldSpec, gold: Table, results: Mapping[str, Mapping[str, Any]]
) -> FieldResult | None:
    raw: list[tuple[str, str | None]] = []
    no_gold = 0
    for rid, fields in gold.rows.items():
        expected = as_label(fields.get(spec.gold))
        if expected is None:
            no_gold += 1
            continue
        row = results.get(rid)
        raw.append((expected, as_label(row.get(spec.name)) if row is not None else None))
    if not raw:
        return None
    space = LabelSpace(expected for expected, _ in raw)
    pairs = [(space.key(g), None if p is None else space.key(p)) for g, p in raw]
    return FieldResult(spec, score_single(pairs), no_gold, space.note())


def _score_multi(
    spec: FieldSpec, gold: Table, results: Mapping[str, Mapping[str, Any]]
) -> FieldResult | None:
    raw: list[tuple[list[str], list[str] | None]] = []
    no_gold = 0
    for rid, fields in gold.rows.items():
        expected = as_labels(fields.get(spec.gold))
        if expected is None:
            no_gold += 1
            continue
        row = results.get(rid)
        raw.append((expected, as_labels(row.get(spec.name)) if row is not None else None))
    if not raw:
        return None
    space = LabelSpace(label for expected, _ in raw for label in expected)
    pairs = [
        (
            frozenset(map(space.key, g)),
            None if p is None else frozenset(map(space.key, p)),
        )
        for g, p in raw
    ]
    return FieldResult(spec, score_multi(pairs), no_gold, space.note())


def _free_text(gold: Table, column: str) -> str | None:
    """Why a gold column looks like free text rather than labels (a summary), or None."""
    values = [v for v in (as_label(f.get(column)) for f in gold.rows.values()) if v is not None]
    distinct = len(set(values))
    if distinct > _FREE_TEXT_LABELS and distinct * 2 > len(values):
        return f"it looks like free text ({distinct:,} different values in {len(values):,} records)"
    return None


def _holds_lists(gold: Table, column: str) -> bool:
    return any(isinstance(f.get(column), list) for f in gold.rows.values())


def _listed(columns: Sequence[str]) -> str:
    return ", ".join(columns) if columns else "none"

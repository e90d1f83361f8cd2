"""``forge eval``: the command's flags; ``app.evaluation`` does the work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from forge_cli.app.settings import EvalSettings
from forge_cli.cli.options import (
    CALLS,
    CHAIN,
    OUTPUT,
    JsonOpt,
    Shared,
    choices,
    opt,
    with_options,
)
from forge_cli.cli.support import run_command

#: the run options that make sense for eval: the chain, calls, the cache and progress (no output
#: format: eval writes eval.json, eval.csv and SVGs, and its own --json)
EVAL_OPTIONS = (
    *CHAIN,
    *CALLS,
    *(
        o
        for o in OUTPUT
        if o.name in ("cache_dir", "cache_ttl", "no_cache", "no_progress", "verbose")
    ),
    Shared(
        "out_dir",
        Path | None,
        "Where eval.json, eval.csv and the confusion-matrix SVGs go (default: this folder).",
    ),
)


@with_options(EVAL_OPTIONS, EvalSettings)
def eval_command(
    gold: Annotated[
        str,
        typer.Argument(
            help="Labelled records (.jsonl, .csv, ...; - for stdin): an id, the text and one "
            "column per field to score."
        ),
    ],
    results: Annotated[
        str | None,
        typer.Option(
            "--results",
            metavar="FILE",
            help="Score this results file (forge classify's output, or any file with an id and "
            "answer columns) without calling anything; its .failures file next to it counts as "
            "no answer.",
        ),
    ] = None,
    variants: Annotated[
        list[str] | None,
        typer.Option(
            "--variant",
            metavar="NAME:KEY=VALUE,...",
            help="NAME:key=value,... classify settings to run and score, e.g. "
            "pack1:provider=llamacpp,pack=1 (repeat to compare; values may hold commas: "
            "provider=groq,offline).",
        ),
    ] = None,
    fields: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="COLUMN",
            help="Score this answer column (repeat; default: every answer column the gold has). "
            "NAME=L1,L2 (or NAME[]=L1,L2) also defines the field for the runs, as classify's "
            "--field does.",
        ),
    ] = None,
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="RESULT=GOLD",
            help="RESULT_COLUMN=GOLD_COLUMN where the names differ, e.g. category=queue (repeat).",
        ),
    ] = None,
    multi: Annotated[
        list[str] | None,
        typer.Option(
            "--multi",
            metavar="COLUMN",
            help="This field holds several labels: a list, or labels separated by ; or , (repeat).",
        ),
    ] = None,
    id_field: Annotated[
        str, opt("--id-field", "Gold field holding the id the records are joined on.")
    ] = "id",
    text_field: Annotated[
        str | None,
        opt(
            "--text-field",
            "Gold field holding the text to classify (default: text, ticket, body, description or message).",
        ),
    ] = None,
    input_format: Annotated[
        str | None,
        opt(
            "--input-format",
            "Gold format when the extension does not tell: jsonl or csv.",
            metavar=choices("jsonl", "csv"),
        ),
    ] = None,
    pack: Annotated[
        int | None, opt("--pack", "Records per request for the variants (default adapts).")
    ] = None,
    labels: Annotated[
        str | None, opt("--labels", "Comma-separated labels for the variants' classify task.")
    ] = None,
    instructions: Annotated[
        str | None, opt("--instructions", "Extra guidance for the model, for the variants.")
    ] = None,
    cascade: Annotated[
        Path | None,
        opt(
            "--cascade",
            "A model from forge train: what it would score answering the records it is sure of, "
            "in front of these answers, at each threshold; picks the cheapest that meets "
            "--target-accuracy.",
            metavar="MODEL",
        ),
    ] = None,
    target_accuracy: Annotated[
        float | None,
        opt(
            "--target-accuracy",
            "Mean accuracy (over the scored fields) the cascade must reach (default: the "
            "answers' own, without a cascade).",
        ),
    ] = None,
    json_output: JsonOpt = False,
    **shared: Any,
) -> None:
    """Score classification answers against labelled data.

    Joins the answers to the gold records by id and, per field, prints accuracy, macro-F1, a
    per-label table (precision, recall, F1, support) and the confusion matrix, with tokens, cost
    and latency per record; writes eval.json, eval.csv and one confusion-matrix SVG per field.
    With --results it scores an existing file and calls nothing; with --variant it runs classify
    once per variant on the gold texts and compares them side by side; with neither it runs
    classify once with these flags. Exit codes: 0 scored, 2 usage or input error.
    """
    from forge_cli.app.evaluation.command import run_eval

    values = {k: v for k, v in locals().items() if k != "shared"}
    for name in ("variants", "fields", "maps", "multi"):
        if values[name] is None:
            values[name] = []
    run_command(run_eval, EvalSettings, "eval", {**values, **shared})

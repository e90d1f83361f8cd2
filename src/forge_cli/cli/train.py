"""``forge train``: the command's flags; ``app.train`` does the work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forge_cli.app.settings import TrainSettings
from forge_cli.cli.options import choices, opt
from forge_cli.cli.support import run_command


def train_command(
    input: Annotated[
        str,
        typer.Argument(
            help="Labelled records (.jsonl, .csv, ...; - for stdin): a text and one column per field."
        ),
    ],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="NAME[=L1,L2]",
            help="A column of labels to learn (repeat). NAME alone learns the labels the data "
            "has; NAME=L1,L2 keeps only records with these labels. Default: category and "
            "priority, when the data has them.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where the model goes (default: INPUT's name + .model.json, here).",
        ),
    ] = None,
    text_field: Annotated[
        str | None,
        opt(
            "--text-field",
            "Field holding the text (default: text, ticket, body, description or message).",
        ),
    ] = None,
    id_field: Annotated[str | None, opt("--id-field", "Field holding the id.")] = None,
    input_format: Annotated[
        str | None,
        opt(
            "--input-format",
            "Input format when the extension does not tell: jsonl or csv.",
            metavar=choices("jsonl", "csv"),
        ),
    ] = None,
    folds: Annotated[
        int, opt("--folds", "Cross-validation folds that measure and calibrate the model.")
    ] = 5,
    no_progress: Annotated[bool, opt("--no-progress", "No progress bar.")] = False,
    json_summary: Annotated[
        bool, opt("--json-summary", "Print the summary as one JSON line on stdout.")
    ] = False,
) -> None:
    """Train a local classifier on labelled records: free, offline and fast.

    Learns one classifier per field (words and word pairs, logistic regression), measures it by
    cross-validation (accuracy, and how many records it is sure of at each threshold), calibrates
    its confidence and saves it as one JSON file. Use it with --provider local:FILE, or with
    --cascade FILE to answer the records it is sure of and send only the rest to a paid model.
    Exit codes: 0 trained, 2 usage or input error.
    """
    from forge_cli.app.train import run_train

    values = dict(locals())
    values["field"] = values["field"] or []
    run_command(run_train, TrainSettings, "train", values)

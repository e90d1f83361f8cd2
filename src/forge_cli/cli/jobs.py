"""``forge jobs``: the batch jobs of ``--batch`` runs (list, status, collect, cancel).

Flags only; ``app/jobs.py`` does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from forge_cli.cli.options import CONTEXT, JsonOpt
from forge_cli.cli.support import err, fail
from forge_cli.core.errors import ForgeError

jobs_app = typer.Typer(
    help="Batch jobs of --batch runs: list, status, collect, cancel.",
    no_args_is_help=True,
    context_settings=CONTEXT,
)

Where = Annotated[
    Path | None,
    typer.Argument(help="A NAME.jobs.json journal, or a folder of them (default: this folder)."),
]


def _run(action: Callable[[], int]) -> None:
    try:
        code = action()
    except ForgeError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)


@jobs_app.command("list")
def jobs_list(where: Where = None, json_output: JsonOpt = False) -> None:
    """The jobs every journal records, as last seen (no call to the provider)."""
    from forge_cli.app.jobs import list_jobs

    _run(lambda: list_jobs(where, json_output=json_output))


@jobs_app.command("status")
def jobs_status(where: Where = None, json_output: JsonOpt = False) -> None:
    """Ask the provider how each job is doing, and record it."""
    from forge_cli.app.jobs import jobs_status as status

    _run(lambda: status(where, json_output=json_output))


@jobs_app.command("collect")
def jobs_collect(
    where: Where = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Collect what is finished; do not wait for the rest.")
    ] = False,
) -> None:
    """Wait for the jobs, collect their answers and write the outputs (the recorded command,
    run again where it ran)."""
    from forge_cli.app.jobs import collect_jobs

    _run(lambda: collect_jobs(where, err, no_wait=no_wait))


@jobs_app.command("cancel")
def jobs_cancel(where: Where = None) -> None:
    """Cancel the journal's running jobs; a later collect keeps what they answered and asks
    the rest synchronously."""
    from forge_cli.app.jobs import cancel_jobs

    _run(lambda: cancel_jobs(where, err))

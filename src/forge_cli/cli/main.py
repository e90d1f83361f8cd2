"""The ``forge`` command line: parse flags, build settings, call the command, set the exit code.

Exit codes: 0 all done, 1 finished with some failures, 2 usage or input error (also a run stopped
because no provider of its chain could answer, or because its outputs could not be written: a full
disk, another run on them), 130 interrupted (143 by SIGTERM).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from forge_cli import __version__
from forge_cli.app.config_files import load_config
from forge_cli.app.settings import BenchSettings, ClassifySettings, CommitSettings
from forge_cli.cli.evaluate import eval_command
from forge_cli.cli.jobs import jobs_app
from forge_cli.cli.options import (
    BATCH,
    CONTEXT,
    RUN,
    PackOpt,
    PackProbeOpt,
    choices,
    literal_choices,
    opt,
    with_help,
    with_options,
)
from forge_cli.cli.support import VERBOSITY, run_command
from forge_cli.cli.support import err as _err
from forge_cli.cli.support import fail as _fail
from forge_cli.cli.tools import cache_app, hook_app, providers_app
from forge_cli.cli.train import train_command
from forge_cli.core.errors import ForgeError

app = typer.Typer(
    name="forge",
    help="Push large batches of text through LLM providers fast, cheaply and without losing anything.",
    no_args_is_help=True,
    context_settings=CONTEXT,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(cache_app, name="cache")
app.add_typer(hook_app, name="hook")
app.add_typer(providers_app, name="providers")
app.add_typer(jobs_app, name="jobs")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forge {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="FORGE_CONFIG",
            help="Read only this settings file (default: forge.toml in the user config dir and in this folder or a parent, up to the repository root).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Errors and warnings only on stderr (any command)."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Show every HTTP exchange on stderr, keys masked (any command)."
        ),
    ] = False,
) -> None:
    """Settings come from defaults < forge.toml < FORGE_* variables < flags."""
    try:
        loaded = load_config(config)
    except ForgeError as exc:
        raise _fail(exc) from None
    ctx.obj = loaded
    ctx.meta[VERBOSITY] = {"quiet": quiet, "verbose": verbose}


@app.command()
@with_options(RUN + BATCH, ClassifySettings)
def classify(
    input: Annotated[str, typer.Argument(help="Tickets file (.jsonl or .csv), or - for stdin.")],
    pack: PackOpt = None,
    pack_probe: PackProbeOpt = 0,
    labels: Annotated[
        str | None,
        opt(
            "--labels",
            "Comma-separated categories (default: hardware_issue,software_issue,model_quality,billing,other).",
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="A field of the answer, replacing the default category/priority/summary "
            "(repeat for several): NAME=L1,L2 (one label), NAME[]=L1,L2 (one or more), NAME "
            "(free text). Or [classify.fields.NAME] tables in forge.toml.",
        ),
    ] = None,
    input_format: Annotated[
        str | None,
        opt(
            "--input-format",
            "Input format when the extension does not tell: jsonl or csv.",
            metavar=choices("jsonl", "csv"),
        ),
    ] = None,
    text_field: Annotated[
        str | None,
        opt(
            "--text-field",
            "Field holding the text (default: text, ticket, body, description or message).",
        ),
    ] = None,
    id_field: Annotated[
        str | None, opt("--id-field", "Field holding the id (default: id, else the line number).")
    ] = None,
    dry_run: Annotated[
        bool,
        opt(
            "--dry-run",
            "Count records, unique texts, cache hits, calls, tokens and cost; call nothing.",
        ),
    ] = False,
    max_record_bytes: Annotated[
        int, opt("--max-record-bytes", "Longer input records are rejected to the failures file.")
    ] = 1_000_000,
    redact: Annotated[
        str,
        opt(
            "--redact",
            "Mask before sending: secrets (keys, tokens, passwords; the value when --redact is given alone) or pii (secrets plus e-mails, phones, card numbers).",
            metavar=literal_choices(ClassifySettings, "redact"),
        ),
    ] = "none",
    instructions: Annotated[
        str,
        opt(
            "--instructions",
            "Extra guidance for the model, added to forge's prompt (e.g. what counts as urgent for you).",
        ),
    ] = "",
    examples: Annotated[
        str | None,
        opt(
            "--examples",
            "Labelled records (.jsonl or .csv, or - for stdin) with a text and a column per field "
            "(category, priority, ... or your --field names): each pack's prompt shows a few, near "
            "its texts.",
        ),
    ] = None,
    examples_per_label: Annotated[
        int,
        opt("--examples-per-label", "Examples per label of the first field, budget permitting."),
    ] = 2,
    examples_tokens: Annotated[
        int, opt("--examples-tokens", "The most tokens the examples may add to one request.")
    ] = 500,
    cascade: Annotated[
        Path | None,
        opt(
            "--cascade",
            "A model from forge train answers the records it is sure of, free; only the rest go "
            "to --provider.",
            metavar="MODEL",
        ),
    ] = None,
    cascade_threshold: Annotated[
        float,
        opt(
            "--cascade-threshold",
            "How sure the model must be (calibrated probability, every field) to answer a record.",
        ),
    ] = 0.9,
    cascade_hint: Annotated[
        bool,
        opt(
            "--cascade-hint",
            "Show the chain the model's guesses (and how sure it is) for the records it passes on.",
        ),
    ] = False,
    **shared: Any,
) -> None:
    """Classify support tickets into categories, with a priority and a one-line summary.

    Writes <input>.results.jsonl and <input>.failures.jsonl next to the input, or in --out-dir
    (stdin's: stdin.results.jsonl and stdin.failures.jsonl in this folder); outputs of an earlier
    run are replaced when the run ends (.partial files until then); every record ends in exactly
    one of them. --out - sends the results to stdout instead. Texts over 8,000 characters are cut
    before sending (the model is told).

    Exit codes: 0 all done; 1 some records failed; 2 usage or input error, or outputs that cannot
    be written (a full disk, another run on them); 130 interrupted by Ctrl-C, 143 by SIGTERM (run
    the same command again to finish: answers already received are cached).
    """
    from forge_cli.app.classify import run_classify

    values = {k: v for k, v in locals().items() if k != "shared"}
    run_command(run_classify, ClassifySettings, "classify", {**values, **shared})


#: commit-msg --range has no input file to write next to: its outputs go to this folder
COMMIT_RUN = with_help(
    RUN,
    out_dir="Where --range writes commits.results.jsonl and commits.failures.jsonl "
    "(default: this folder).",
)


@app.command("commit-msg")
@with_options(COMMIT_RUN + BATCH, CommitSettings)
def commit_msg(
    diff: Annotated[
        str | None,
        typer.Option(
            "--diff", help="Read the diff from FILE, or - for stdin (default: the staged changes)."
        ),
    ] = None,
    range: Annotated[
        str | None,
        typer.Option(
            "--range",
            help="Report every commit of A..B through the batch pipeline into commits.results.jsonl.",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print a JSON report {title, type, scope, breaking, summary, changes}."
        ),
    ] = False,
    show_prompt: Annotated[
        bool,
        typer.Option(
            "--show-prompt", help="Print the prompt (redacted) instead of calling a provider."
        ),
    ] = False,
    show_redactions: Annotated[
        bool,
        typer.Option(
            "--show-redactions", help="List what was redacted (type and place, never the value)."
        ),
    ] = False,
    max_tokens: Annotated[
        int, opt("--max-tokens", "Token budget for the diffs in one request.")
    ] = 6000,
    **shared: Any,
) -> None:
    """Write a Conventional Commits message for the staged changes (or a diff, or a range).

    Secrets are redacted before anything is sent. Exit codes: 0 done, 1 some commits of a range
    failed, 2 usage error (not a git repository, nothing staged, ...) or --range outputs that
    cannot be written, 130 interrupted by Ctrl-C (143 by SIGTERM).
    """
    from forge_cli.app.commit_msg import run_commit_msg

    values = {k: v for k, v in locals().items() if k != "shared"}
    run_command(run_commit_msg, CommitSettings, "commit-msg", {**values, **shared})


@app.command("bench")
def bench(
    input: Annotated[
        str | None,
        typer.Argument(
            help="Dataset (anything classify reads; default: the sample tickets installed with forge)."
        ),
    ] = None,
    packs: Annotated[str, typer.Option("--packs", help="Pack sizes to sweep.")] = "1,5,10,20",
    concurrency: Annotated[
        str, typer.Option("--concurrency", help="Concurrency levels to sweep.")
    ] = "1,4,16,64",
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Runs per cell (median).")] = 3,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Use only the first N tickets.")
    ] = None,
    latency: Annotated[
        float, typer.Option("--latency", min=0, help="Simulator: base seconds per call.")
    ] = 0.05,
    per_token_latency: Annotated[
        float,
        typer.Option("--per-token-latency", min=0, help="Simulator: seconds per answer token."),
    ] = 0.0,
    jitter: Annotated[
        float, typer.Option("--jitter", min=0, max=1, help="Simulator: +- fraction of latency.")
    ] = 0.1,
    rpm: Annotated[
        int | None, typer.Option("--rpm", min=1, help="Simulator: requests per minute before 429.")
    ] = None,
    failure_rate: Annotated[
        float,
        typer.Option(
            "--failure-rate", min=0, max=1, help="Simulator: share of calls answered 503."
        ),
    ] = 0.0,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Sweep a real provider instead (asks first).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Endpoint of that provider.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model of that provider.")] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option("--api-key-env", help="Environment variable holding that provider's key."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per request.")] = 30.0,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask before calling a paid provider.")
    ] = False,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Where bench.json, bench.csv and bench.svg go.")
    ] = Path("."),
) -> None:
    """Sweep pack size x concurrency and show which settings give the best throughput and cost.

    By default against a simulated OpenAI-compatible upstream started on 127.0.0.1 (latency model,
    RPM limit with 429 + Retry-After, failure rate), so the whole HTTP path is measured. The cache is
    bypassed. Ctrl-C stops and keeps the finished cells.
    """
    from forge_cli.app.bench_command import run_bench

    run_command(run_bench, BenchSettings, "bench", dict(locals()))


app.command("eval")(eval_command)
app.command("train")(train_command)


@app.command("redact")
def redact_command(
    file: Annotated[str, typer.Argument(help="A file, or - for stdin.")] = "-",
    pii: Annotated[
        bool, typer.Option("--pii", help="Also mask e-mails, phone numbers and card numbers.")
    ] = False,
    show_redactions: Annotated[
        bool,
        typer.Option(
            "--show-redactions", help="List what was redacted on stderr (never the value)."
        ),
    ] = False,
) -> None:
    """Print a text with its secrets redacted: exactly what forge would send."""
    from forge_cli.git.repo import read_diff_file
    from forge_cli.redact import describe, redact

    try:
        result = redact(read_diff_file(file), pii=pii)
    except ForgeError as exc:
        raise _fail(exc) from None
    sys.stdout.write(result.text)
    if show_redactions:
        for line in describe(result.findings) or ["no secrets found"]:
            _err.print(f"forge: redacted {line}", markup=False)


REDACT_MODES = ("none", "secrets", "pii")


def bare_redact_means_secrets(argv: list[str]) -> list[str]:
    """``--redact`` alone means ``--redact secrets``: Click has no reliable optional-value option."""
    out: list[str] = []
    for n, arg in enumerate(argv):
        out.append(arg)
        if arg == "--redact" and (n + 1 == len(argv) or not _looks_like_mode(argv[n + 1])):
            out.append("secrets")
    return out


def _looks_like_mode(arg: str) -> bool:
    """A word after ``--redact`` is its value (so ``--redact bogus`` is reported as a bad mode);
    an option, a path or ``-`` (stdin) is the next argument."""
    if arg in REDACT_MODES:
        return True
    return arg.isalpha() and not Path(arg).exists()


def main() -> None:
    app(args=bare_redact_means_secrets(sys.argv[1:]), prog_name="forge")

"""The ``forge`` command line: parse flags, build settings, call the command, set the exit code.

Exit codes: 0 all done, 1 finished with some failures, 2 usage or input error (also an auth error that
stopped the run), 130 interrupted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from forge_cli import __version__
from forge_cli.config import ClassifySettings, load_config_file, validate
from forge_cli.errors import ForgeError

app = typer.Typer(
    name="forge",
    help="Push large batches of text through LLM providers fast, cheaply and without losing anything.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
cache_app = typer.Typer(help="Inspect or empty the dedup cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(exc: ForgeError) -> typer.Exit:
    _err.print(f"forge: error: {exc}", markup=False, soft_wrap=True)
    return typer.Exit(2)


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
            "--config", envvar="FORGE_CONFIG", help="Settings file (default: ./forge.toml)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Settings come from defaults < forge.toml < FORGE_* variables < flags."""
    try:
        ctx.default_map = load_config_file(config)
    except ForgeError as exc:
        raise _fail(exc) from None


def _opt(flag: str, help: str, **kw: Any) -> Any:
    env = "FORGE_" + flag.lstrip("-").replace("-", "_").upper()
    return typer.Option(flag, envvar=env, help=f"{help} [env: {env}]", show_envvar=False, **kw)


@app.command()
def classify(
    input: Annotated[str, typer.Argument(help="Tickets file (.jsonl or .csv), or - for stdin.")],
    provider: Annotated[
        str | None,
        _opt("--provider", "offline, openai, groq, together, openrouter, mistral, ollama, vllm."),
    ] = None,
    base_url: Annotated[
        str | None,
        _opt("--base-url", "Any OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."),
    ] = None,
    model: Annotated[
        str | None, _opt("--model", "Model name (default: the provider's preset).")
    ] = None,
    api_key_env: Annotated[
        str | None, _opt("--api-key-env", "Environment variable holding the API key.")
    ] = None,
    concurrency: Annotated[int, _opt("--concurrency", "Requests in flight at once.")] = 8,
    pack: Annotated[
        int | None,
        _opt(
            "--pack",
            "Tickets per request (default adapts: complex 5, medium 10, simple 20; 1 disables packing).",
        ),
    ] = None,
    timeout: Annotated[float, _opt("--timeout", "Seconds per request.")] = 60.0,
    retries: Annotated[int, _opt("--retries", "Retries per request after the first attempt.")] = 2,
    backoff: Annotated[
        float, _opt("--backoff", "First retry delay in seconds; doubles per attempt, +-20% jitter.")
    ] = 0.5,
    breaker_threshold: Annotated[
        int, _opt("--breaker-threshold", "Consecutive failed calls that open the circuit breaker.")
    ] = 5,
    breaker_cooldown: Annotated[
        float, _opt("--breaker-cooldown", "Seconds an open breaker holds work before a probe call.")
    ] = 10.0,
    labels: Annotated[
        str | None,
        _opt(
            "--labels",
            "Comma-separated categories (default: hardware_issue,software_issue,model_quality,billing,other).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        _opt("--out-dir", "Where results and failures go (default: next to the input)."),
    ] = None,
    format: Annotated[str, _opt("--format", "Output format: jsonl or csv.")] = "jsonl",
    input_format: Annotated[
        str | None,
        _opt("--input-format", "Input format when the extension does not tell: jsonl or csv."),
    ] = None,
    text_field: Annotated[
        str | None,
        _opt(
            "--text-field",
            "Field holding the text (default: text, ticket, body, description or message).",
        ),
    ] = None,
    id_field: Annotated[
        str | None, _opt("--id-field", "Field holding the id (default: id, else the line number).")
    ] = None,
    cache_dir: Annotated[
        Path | None, _opt("--cache-dir", "Dedup cache folder (default: the user cache dir).")
    ] = None,
    cache_ttl: Annotated[
        float, _opt("--cache-ttl", "Seconds a cached answer stays valid (0 = forever).")
    ] = 24 * 3600,
    no_cache: Annotated[bool, _opt("--no-cache", "Neither read nor write the cache.")] = False,
    no_progress: Annotated[
        bool,
        _opt("--no-progress", "No live view: a plain progress line on stderr every few seconds."),
    ] = False,
    json_summary: Annotated[
        bool, _opt("--json-summary", "Print the summary as one JSON line on stdout.")
    ] = False,
    dry_run: Annotated[
        bool,
        _opt(
            "--dry-run",
            "Count records, unique texts, cache hits, calls, tokens and cost; call nothing.",
        ),
    ] = False,
    max_record_bytes: Annotated[
        int, _opt("--max-record-bytes", "Longer input records are rejected to the failures file.")
    ] = 1_000_000,
    price_in: Annotated[
        float | None, _opt("--price-in", "USD per 1M input tokens (overrides the preset).")
    ] = None,
    price_out: Annotated[
        float | None, _opt("--price-out", "USD per 1M output tokens (overrides the preset).")
    ] = None,
) -> None:
    """Classify support tickets into categories, with a priority and a one-line summary.

    Writes <input>.results.jsonl and <input>.failures.jsonl; every record ends in exactly one of them.
    Exit codes: 0 all done, 1 some records failed, 2 usage or input error.
    """
    from forge_cli.classify import run_classify

    values = dict(locals())
    try:
        settings = validate(ClassifySettings, values)
        code = run_classify(settings, _err)
    except ForgeError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@cache_app.command("stats")
def cache_stats(
    cache_dir: Annotated[Path | None, _opt("--cache-dir", "Dedup cache folder.")] = None,
) -> None:
    """Show where the cache is, how many answers it holds and its size."""
    from forge_cli.engine.cache import ResultCache, default_cache_dir

    directory = cache_dir or default_cache_dir()
    with ResultCache(directory) as cache:
        stats = cache.stats()
    typer.echo(f"cache dir: {stats.directory}")
    typer.echo(f"entries:   {stats.entries:,}")
    typer.echo(f"size:      {stats.size_bytes / 1e6:,.2f} MB")


@cache_app.command("clear")
def cache_clear(
    cache_dir: Annotated[Path | None, _opt("--cache-dir", "Dedup cache folder.")] = None,
) -> None:
    """Remove every cached answer."""
    from forge_cli.engine.cache import ResultCache, default_cache_dir

    directory = cache_dir or default_cache_dir()
    with ResultCache(directory) as cache:
        removed = cache.clear()
    typer.echo(f"removed {removed:,} cached answers from {directory}")


def main() -> None:
    app()

"""Command-line options, each declared once.

Options shared by several commands are declared here as groups (``CHAIN``, ``CALLS``, ``OUTPUT``) and
added to a command by ``with_options``, with their defaults read from the settings model, so that the
help text, the validation and the default can never disagree. The command line hands over only the
flags the user typed; ``forge_cli.app.settings.resolve`` adds forge.toml and the FORGE_* variables
(defaults < forge.toml < environment < flags), the same way for every command and the git hook.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args

import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from forge_cli.app.settings import RunSettings

F = TypeVar("F", bound=Callable[..., Any])


#: what every Typer app of forge's takes: ``-h`` as well as ``--help``, as users type it elsewhere
CONTEXT = {"help_option_names": ["-h", "--help"]}


def choices(*names: str) -> str:
    """A metavar listing an option's values, as Click shows its own choices.

    The options stay plain strings: the settings resolver validates them (the same check for a
    flag, FORGE_* and forge.toml), and an output format may come from a plugin.
    """
    return "[" + "|".join(names) + "]"


def literal_choices(model: type[BaseModel], name: str) -> str:
    """The values of a ``Literal`` setting, as a metavar: the help cannot drift from the check."""
    return choices(*get_args(model.model_fields[name].annotation))


def opt(flag: str, help: str, *short: str, **kw: Any) -> Any:
    """An option whose help names its FORGE_* variable (read by the settings resolver, not Click)."""
    env = "FORGE_" + flag.lstrip("-").replace("-", "_").upper()
    return typer.Option(flag, *short, help=f"{help} [env: {env}]", **kw)


@dataclass(frozen=True, slots=True)
class Shared:
    """One option several commands take: its setting's name, the flag's type and help."""

    name: str
    type: Any
    help: str
    #: what the help shows for the value (default: the type's)
    metavar: str | None = None
    #: a one-letter spelling, such as ``-q``
    short: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


CHAIN: tuple[Shared, ...] = (
    Shared(
        "provider",
        str | None,
        "A provider, or a fallback chain such as groq,gemini,offline (NAME:MODEL picks a model). "
        "`forge providers list` shows them all.",
    ),
    Shared(
        "routing",
        str,
        "How packs pick a provider of the chain: ordered, cheapest, fastest or balanced.",
        metavar=literal_choices(RunSettings, "routing"),
    ),
    Shared(
        "base_url", str | None, "Endpoint of the first provider, e.g. http://127.0.0.1:8000/v1."
    ),
    Shared("model", str | None, "Model of the first provider (default: its preset's)."),
    Shared("api_key_env", str | None, "Environment variable holding the first provider's API key."),
    Shared("price_in", float | None, "USD per 1M input tokens (overrides the preset)."),
    Shared("price_out", float | None, "USD per 1M output tokens (overrides the preset)."),
    Shared(
        "rpm",
        float | None,
        "Requests per minute the first provider allows (default: learned from headers).",
    ),
    Shared(
        "tpm",
        float | None,
        "Tokens per minute the first provider allows (default: learned from headers).",
    ),
    Shared("concurrency", int, "Requests in flight at once, per provider."),
    Shared("timeout", float, "Seconds per request."),
)
CALLS: tuple[Shared, ...] = (
    Shared("retries", int, "Retries per request after the first attempt."),
    Shared("backoff", float, "First retry delay in seconds; doubles per attempt, +-20% jitter."),
    Shared("breaker_threshold", int, "Consecutive failed calls that open the circuit breaker."),
    Shared("breaker_cooldown", float, "Seconds an open breaker holds work before a probe call."),
    Shared(
        "stall_timeout",
        float,
        "Seconds a provider may fail every call (timeouts, resets, 5xx) before it is dropped for "
        "the run; nothing listening drops it at once. 0: never.",
    ),
)
OUTPUT: tuple[Shared, ...] = (
    Shared(
        "out_dir",
        Path | None,
        "Where results and failures go (default: next to the input; for stdin, this folder).",
    ),
    Shared(
        "out",
        str | None,
        "- writes the results to stdout as they come, for a pipe; failures still go to their "
        "file and the summary to stderr.",
        metavar="-",
    ),
    # the built-in names written out: listing them from the registry would import the writers
    # (and scan installed packages) on every start-up, for text few ever read
    Shared(
        "format",
        str,
        "Output format: jsonl or csv, or one an installed plugin adds.",
        metavar=choices("jsonl", "csv", "..."),
    ),
    Shared("cache_dir", Path | None, "Dedup cache folder (default: the user cache dir)."),
    Shared("cache_ttl", float, "Seconds a cached answer stays valid (0 = forever)."),
    Shared("no_cache", bool, "Neither read nor write the cache."),
    Shared("no_progress", bool, "No live view: a plain progress line on stderr every few seconds."),
    Shared("json_summary", bool, "Print the summary as one JSON line on stdout."),
    Shared(
        "quiet",
        bool,
        "No progress, summary table or notices on stderr; errors and warnings still show.",
        short="-q",
    ),
    Shared(
        "verbose",
        bool,
        "Show every HTTP exchange on stderr: method, URL, status, latency and headers, with "
        "keys and passwords masked.",
        short="-v",
    ),
)
#: what every command that runs a task through providers takes
RUN = CHAIN + CALLS + OUTPUT
#: batch mode (classify, commit-msg --range): the provider's batch API, half price, resumable
BATCH: tuple[Shared, ...] = (
    Shared(
        "batch",
        bool,
        "Send through the provider's batch API (about half price, answers within 24 h); "
        "the same command again, or `forge jobs collect`, picks the jobs up.",
    ),
    Shared("no_wait", bool, "With --batch: return once the jobs are submitted."),
    Shared(
        "batch_max_requests",
        int | None,
        "With --batch: requests per job at most (default: the provider's limit, 50,000 at OpenAI).",
    ),
    Shared("batch_poll", float, "With --batch: seconds between two looks at the jobs."),
    Shared(
        "batch_reask",
        str,
        "With --batch: ask what a job left unanswered synchronously (sync) or in a follow-up "
        "job (batch, up to 3 rounds, then synchronously).",
        metavar=literal_choices(RunSettings, "batch_reask"),
    ),
)


def with_help(options: Iterable[Shared], **helps: str) -> tuple[Shared, ...]:
    """``options`` with some helps said the way one command means them (its own outputs' place)."""
    return tuple(dataclasses.replace(o, help=helps.get(o.name, o.help)) for o in options)


CacheDirOpt = Annotated[
    Path | None, opt("--cache-dir", "Dedup cache folder (default: the user cache dir).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
PackOpt = Annotated[
    int | None,
    opt(
        "--pack",
        "Tickets per request (default adapts: complex 5, medium 10, simple 20; local servers 1; "
        "1 disables packing).",
    ),
]
PackProbeOpt = Annotated[
    int,
    opt(
        "--pack-probe",
        "Before the run, ask the first N records alone and in packs, and pack no larger than the "
        "model answers alike (it costs about N answers per pack size tried). 0: no probe.",
        metavar="N",
    ),
]


def with_options(options: Iterable[Shared], model: type[BaseModel]) -> Callable[[F], F]:
    """Add shared options to a Typer command as keyword-only parameters.

    The command takes them as ``**shared``; Typer sees them in the signature, so they parse, show in
    ``--help`` and complete like the command's own. Defaults come from ``model``.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        added = [
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=_default(model, option.name),
                annotation=Annotated[
                    option.type,
                    opt(
                        option.flag,
                        option.help,
                        *([option.short] if option.short else []),
                        metavar=option.metavar,
                    ),
                ],
            )
            for option in options
        ]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        params = own + added
        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate


def _default(model: type[BaseModel], name: str) -> Any:
    default = model.model_fields[name].default
    return None if default is PydanticUndefined else default

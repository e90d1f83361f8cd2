"""Command-line options shared by the commands that call providers.

Each option reads ``FORGE_<NAME>`` too and, through Click's default map, the command's table in
forge.toml: defaults < forge.toml < environment < flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def opt(flag: str, help: str, **kw: Any) -> Any:
    env = "FORGE_" + flag.lstrip("-").replace("-", "_").upper()
    return typer.Option(flag, envvar=env, help=f"{help} [env: {env}]", show_envvar=False, **kw)


ProviderOpt = Annotated[
    str | None,
    opt(
        "--provider",
        "A provider, or a fallback chain such as groq,gemini,offline (NAME:MODEL picks a model). "
        "`forge providers list` shows them all.",
    ),
]
RoutingOpt = Annotated[
    str,
    opt(
        "--routing",
        "How packs pick a provider of the chain: ordered, cheapest, fastest or balanced.",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    opt("--base-url", "Endpoint of the first provider, e.g. http://127.0.0.1:8000/v1."),
]
ModelOpt = Annotated[
    str | None, opt("--model", "Model of the first provider (default: its preset's).")
]
ApiKeyEnvOpt = Annotated[
    str | None,
    opt("--api-key-env", "Environment variable holding the first provider's API key."),
]
RpmOpt = Annotated[
    float | None,
    opt("--rpm", "Requests per minute the first provider allows (default: learned from headers)."),
]
TpmOpt = Annotated[
    float | None,
    opt("--tpm", "Tokens per minute the first provider allows (default: learned from headers)."),
]
ConcurrencyOpt = Annotated[int, opt("--concurrency", "Requests in flight at once, per provider.")]
TimeoutOpt = Annotated[float, opt("--timeout", "Seconds per request.")]
RetriesOpt = Annotated[int, opt("--retries", "Retries per request after the first attempt.")]
BackoffOpt = Annotated[
    float, opt("--backoff", "First retry delay in seconds; doubles per attempt, +-20% jitter.")
]
BreakerThresholdOpt = Annotated[
    int, opt("--breaker-threshold", "Consecutive failed calls that open the circuit breaker.")
]
BreakerCooldownOpt = Annotated[
    float, opt("--breaker-cooldown", "Seconds an open breaker holds work before a probe call.")
]
OutDirOpt = Annotated[
    Path | None, opt("--out-dir", "Where results and failures go (default: next to the input).")
]
FormatOpt = Annotated[str, opt("--format", "Output format: jsonl or csv.")]
CacheDirOpt = Annotated[
    Path | None, opt("--cache-dir", "Dedup cache folder (default: the user cache dir).")
]
CacheTtlOpt = Annotated[
    float, opt("--cache-ttl", "Seconds a cached answer stays valid (0 = forever).")
]
NoCacheOpt = Annotated[bool, opt("--no-cache", "Neither read nor write the cache.")]
NoProgressOpt = Annotated[
    bool, opt("--no-progress", "No live view: a plain progress line on stderr every few seconds.")
]
JsonSummaryOpt = Annotated[
    bool, opt("--json-summary", "Print the summary as one JSON line on stdout.")
]
PriceInOpt = Annotated[
    float | None, opt("--price-in", "USD per 1M input tokens (overrides the preset).")
]
PriceOutOpt = Annotated[
    float | None, opt("--price-out", "USD per 1M output tokens (overrides the preset).")
]

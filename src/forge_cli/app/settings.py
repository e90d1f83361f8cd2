"""Settings of a run: defaults < forge.toml < FORGE_* environment < command-line flags.

``resolve`` is the one resolver every command and the git hook use: ``config_files.gather`` collects
the raw values and where each came from, and this module validates them into one pydantic model the
rest of forge reads. The command line hands over only the flags the user typed, so a flag's own
default never hides forge.toml or the environment. API keys are never settings: only the *name* of
the environment variable holding a key is.

forge.toml is looked for in the user config dir (``$XDG_CONFIG_HOME/forge/forge.toml``) and in the
working tree (this folder or a parent, up to the repository root); the working tree's wins setting by
setting. Its layout::

    provider = ["groq", "gemini", "offline"]   # top-level keys apply to every command
    routing = "ordered"

    [classify]                                 # one table per command
    labels = ["billing", "bug", "other"]

    [providers.groq]                           # per provider: model, limits, prices, key variable
    rpm = 30
    api_key_env = ["GROQ_KEY_A", "GROQ_KEY_B"]

    [prices]                                   # USD per 1M tokens, overriding the built-in table
    "gpt-4o-mini" = { input = 0.15, output = 0.60 }
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator

from forge_cli.app.config_files import LoadedConfig, env_name, gather, load_config
from forge_cli.core.errors import UsageError
from forge_cli.tasks.classify.fields import (
    check_fields,
    field_from_flag,
    field_from_table,
    parse_labels,
)


class RunSettings(BaseModel):
    """What every command that calls providers through the engine shares."""

    provider: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    concurrency: int = Field(8, ge=1, le=1024)
    timeout: float = Field(60.0, gt=0)
    retries: int = Field(2, ge=0, le=20)
    backoff: float = Field(0.5, ge=0)
    breaker_threshold: int = Field(5, ge=1)
    breaker_cooldown: float = Field(10.0, ge=0)
    #: seconds a provider may go without progress (every call failing) before it is dropped for
    #: the run; 0 never drops one for that (see engine/resilience/stall.py)
    stall_timeout: float = Field(180.0, ge=0)
    out_dir: Path | None = None
    #: "-": results on stdout (for pipes); failures still go to their file
    out: str | None = None
    #: an output format of forge.io.sinks' registry: built in, or added by a plugin
    format: str = "jsonl"
    cache_dir: Path | None = None
    cache_ttl: float = Field(24 * 3600, ge=0)
    no_cache: bool = False
    no_progress: bool = False
    json_summary: bool = False
    #: -q: no progress, no summary table, no notices; errors and warnings still show
    quiet: bool = False
    #: -v: every HTTP exchange on stderr (method, URL, status, latency, headers; keys masked)
    verbose: bool = False
    price_in: float | None = Field(None, ge=0)
    price_out: float | None = Field(None, ge=0)
    rpm: float | None = Field(None, gt=0)
    tpm: float | None = Field(None, gt=0)
    routing: Literal["ordered", "cheapest", "fastest", "balanced"] = "ordered"
    #: records asked alone and in packs before the run, to pack no larger than the model answers
    #: alike (``engine/probe.py``; a task with labels to compare); 0: no probe
    pack_probe: int = Field(0, ge=0, le=1_000)
    #: --batch: through the provider's batch API (app/batch/); --no-wait returns once submitted
    batch: bool = False
    no_wait: bool = False
    batch_max_requests: int | None = Field(None, ge=1)
    batch_poll: float = Field(30.0, gt=0)
    batch_reask: Literal["sync", "batch"] = "sync"
    #: from forge.toml, filled in by the CLI: [providers.NAME] tables with their file, [prices]
    provider_tables: dict[str, tuple[dict[str, Any], str]] = Field(default_factory=dict)
    prices: dict[str, Any] = Field(default_factory=dict)
    #: setting name -> where it came from ("flag", "env FORGE_MODEL", "forge.toml"), for messages
    setting_sources: dict[str, str] = Field(default_factory=dict)

    @field_validator("out")
    @classmethod
    def _out(cls, value: str | None) -> str | None:
        if value not in (None, "-"):
            raise ValueError(
                f"--out takes - (results on stdout), not {value!r}: give a folder with --out-dir"
            )
        return value

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        # imported here: the git hook validates settings too, and never writes a file
        from forge_cli.io.sinks.registry import validate_format

        return validate_format(value)


class ClassifySettings(RunSettings):
    input: str
    pack: int | None = Field(None, ge=1, le=200)
    #: None: the task's own default labels
    labels: tuple[str, ...] | None = None
    #: ``--field NAME=L1,L2`` (repeatable): the classification's fields, replacing the default ones
    field: tuple[str, ...] | None = None
    #: ``[classify.fields.NAME]`` tables of forge.toml (used when no --field is given)
    fields: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: an input format of forge.io.sources' registry
    input_format: str | None = None
    text_field: str | None = None
    id_field: str | None = None
    dry_run: bool = False
    max_record_bytes: int = Field(1_000_000, ge=1_000)
    redact: Literal["none", "secrets", "pii"] = "none"
    #: extra guidance for the model, added to the prompt (and to the cache key)
    instructions: str = ""
    #: label -> what it means, shown to the model next to the label
    label_descriptions: dict[str, str] = Field(default_factory=dict)
    #: labelled records (JSONL, CSV, or - for stdin): each pack is shown a few near its texts
    examples: str | None = None
    #: examples per label of the first label field, when the token budget has room
    examples_per_label: int = Field(2, ge=1, le=20)
    #: the most tokens a pack's examples may add to its prompt
    examples_tokens: int = Field(500, ge=50, le=100_000)
    #: a model made by ``forge train``: records it is sure of are answered locally, no call
    cascade: Path | None = None
    #: how sure (calibrated probability, every label field) the model must be to answer a record
    cascade_threshold: float = Field(0.9, gt=0, le=1)
    #: the records the model is not sure of reach the chain with its guesses as a hint
    cascade_hint: bool = False

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        return parse_labels(value) if value is not None else None

    @field_validator("field", mode="before")
    @classmethod
    def _field(cls, value: Any) -> Any:
        if value is None or value == []:
            return None
        specs = [value] if isinstance(value, str) else list(value)
        check_fields([field_from_flag(str(spec)) for spec in specs])
        return tuple(specs)

    @field_validator("fields", mode="before")
    @classmethod
    def _fields(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("[classify.fields] must hold one table per field")
        tables = {}
        for name, table in value.items():
            if not isinstance(table, dict):
                raise ValueError(f"[classify.fields.{name}] must be a table (labels = [...])")
            field_from_table(str(name), table)
            tables[str(name)] = table
        if tables:
            check_fields([field_from_table(n, t) for n, t in tables.items()])
        return tables

    @field_validator("input_format")
    @classmethod
    def _input_format(cls, value: str | None) -> str | None:
        from forge_cli.io.sources.registry import input_formats

        if value is not None and value not in input_formats():
            raise ValueError(f"unknown input format {value!r}: use {' or '.join(input_formats())}")
        return value


class TrainSettings(BaseModel):
    """``forge train``: labelled records in, one model file out."""

    input: str
    #: ``NAME`` (labels learned from the data) or ``NAME=L1,L2`` (only these labels), repeatable
    field: tuple[str, ...] = ()
    input_format: str | None = None
    text_field: str | None = None
    id_field: str | None = None
    max_record_bytes: int = Field(1_000_000, ge=1_000)
    #: where the model goes (default: INPUT's name with .model.json, in the working directory)
    output: Path | None = None
    folds: int = Field(5, ge=2, le=20)
    no_progress: bool = False
    json_summary: bool = False
    #: -q: no progress and no summary; errors and warnings (skipped records) still show
    quiet: bool = False

    @field_validator("field", mode="before")
    @classmethod
    def _specs(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else tuple(value or ())


class EvalSettings(RunSettings):
    """``forge eval``: gold data, answers to score (a results file, variants to run) and how.

    The chain, call and cache settings are the base every variant starts from; ``pack``,
    ``labels`` and ``instructions`` too, checked by classify's own settings when a variant is built.
    """

    gold: str
    results: str | None = None
    id_field: str = "id"
    input_format: str | None = None
    text_field: str | None = None
    #: answer columns to score (default: every one the gold has a column for)
    fields: tuple[str, ...] = ()
    #: answer column -> gold column, where their names differ
    maps: dict[str, str] = Field(default_factory=dict)
    #: fields holding several labels (a list, or labels separated by ; or ,)
    multi: tuple[str, ...] = ()
    #: NAME:key=value,... (command line only: forge.toml would join a list with commas)
    variants: tuple[str, ...] = ()
    pack: int | None = Field(None, ge=1, le=200)
    labels: str | None = None
    instructions: str | None = None
    json_output: bool = False
    config_files: list[str] = Field(default_factory=list)
    #: a model from ``forge train``: what a cascade with it in front of the answers would score
    cascade: Path | None = None
    #: the mean accuracy the cascade's threshold must reach (default: the answers' own)
    target_accuracy: float | None = Field(None, ge=0, le=1)

    @field_validator("fields", "multi", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        parts = [value] if isinstance(value, str) else list(value or ())
        names: list[str] = []
        for part in map(str, parts):
            if "=" in part:  # NAME=L1,L2: a field definition, as classify --field takes it
                check_fields([field_from_flag(part)])
                names.append(part.strip())
            else:
                names.extend(n.strip() for n in part.split(",") if n.strip())
        return tuple(names)

    @field_validator("maps", mode="before")
    @classmethod
    def _maps(cls, value: Any) -> Any:
        if isinstance(value, dict):
            pairs = [(str(k), str(v)) for k, v in value.items()]
        else:
            parts = value.split(",") if isinstance(value, str) else list(value or ())
            pairs = []
            for part in parts:
                result, eq, gold = str(part).partition("=")
                if not eq:
                    raise ValueError(f"{part!r} is not RESULT_COLUMN=GOLD_COLUMN")
                pairs.append((result, gold))
        maps = {k.strip(): v.strip() for k, v in pairs}
        if not all(maps) or not all(maps.values()):
            raise ValueError("give both names: RESULT_COLUMN=GOLD_COLUMN")
        return maps

    @field_validator("input_format")
    @classmethod
    def _input_format(cls, value: str | None) -> str | None:
        from forge_cli.io.sources.registry import input_formats

        if value is not None and value not in input_formats():
            raise ValueError(f"unknown input format {value!r}: use {' or '.join(input_formats())}")
        return value


class CommitSettings(RunSettings):
    diff: str | None = None
    range: str | None = None
    json_output: bool = False
    show_prompt: bool = False
    show_redactions: bool = False
    max_tokens: int = Field(6000, ge=500)


class ProvidersSettings(RunSettings):
    """``forge providers list|check``: the chain's settings, to show or to try."""

    json_output: bool = False
    config_files: list[str] = Field(default_factory=list)


class ProvidersCheckSettings(ProvidersSettings):
    """``forge providers check`` makes one tiny call per provider: a short wait is enough."""

    timeout: float = Field(10.0, gt=0)


class CacheSettings(BaseModel):
    """``forge cache stats|clear``: which cache to look at."""

    cache_dir: Path | None = None
    #: ``cache stats --json``: one JSON object on stdout, for scripts
    json_output: bool = False


class BenchSettings(BaseModel):
    """``forge bench``: the sweep, the simulator's behaviour, or a real provider to sweep."""

    #: None: the sample tickets installed with forge (so bench runs from any folder)
    input: str | None = None
    packs: str = "1,5,10,20"
    concurrency: str = "1,4,16,64"
    repeat: int = Field(3, ge=1)
    limit: int | None = Field(None, ge=1)
    latency: float = Field(0.05, ge=0)
    per_token_latency: float = Field(0.0, ge=0)
    jitter: float = Field(0.1, ge=0, le=1)
    rpm: int | None = Field(None, ge=1)
    failure_rate: float = Field(0.0, ge=0, le=1)
    provider: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    timeout: float = Field(30.0, gt=0)
    yes: bool = False
    out_dir: Path = Path(".")
    #: -q: the results table alone (stdout); no progress, recommendation or file list on stderr
    quiet: bool = False


S = TypeVar("S", bound=BaseModel)


def resolve(
    model: type[S],
    command: str,
    flags: Mapping[str, Any] | None = None,
    *,
    config: Path | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    loaded: LoadedConfig | None = None,
) -> S:
    """A command's validated settings from forge.toml, FORGE_* variables and the given flags.

    ``config`` (or FORGE_CONFIG) names the only file to read; otherwise forge.toml is looked for in
    the user config dir and from ``cwd`` up to the repository root. A bad value is one UsageError
    line naming where it came from.
    """
    if loaded is None:
        explicit = config or _env_path(environ, "FORGE_CONFIG")
        loaded = load_config(explicit, start=cwd)
    values, sources = gather(command, model.model_fields, flags, loaded=loaded, environ=environ)
    if "provider_tables" in model.model_fields:
        values.update(provider_tables=loaded.providers, prices=loaded.prices)
        values["setting_sources"] = sources
    return validate(model, values, sources)


def _env_path(environ: Mapping[str, str] | None, name: str) -> Path | None:
    value = (os.environ if environ is None else environ).get(name)
    return Path(value) if value else None


def validate(model: type[S], values: dict[str, Any], sources: Mapping[str, str] | None = None) -> S:
    """Validate settings; a bad value becomes one readable UsageError line naming its source."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise UsageError(f"{_where(field, (sources or {}).get(field, ''))}: {msg}") from None


def _where(field: str, source: str) -> str:
    if not field:
        return "settings"
    flag = "--" + field.replace("_", "-")
    if source.startswith("env "):
        return f"{env_name(field)} ({flag})"
    if source and not source.startswith("flag"):
        # a forge.toml key is named as the file spells it, not as the flag it stands for
        return f"{source}: {field}"
    return flag

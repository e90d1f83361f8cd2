"""Settings of a run: defaults < forge.toml < FORGE_* environment < command-line flags.

The precedence is Click's own (flag > envvar > default_map > default): the CLI loads ``forge.toml``
into the default map, each option names its ``FORGE_*`` variable, and this module validates the merged
result into one pydantic model the rest of forge reads. API keys are never settings: only the *name*
of the environment variable holding a key is.

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

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from forge_cli.core.errors import UsageError
from forge_cli.tasks.classify.rules import DEFAULT_CATEGORIES

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


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
    out_dir: Path | None = None
    format: Literal["jsonl", "csv"] = "jsonl"
    cache_dir: Path | None = None
    cache_ttl: float = Field(24 * 3600, ge=0)
    no_cache: bool = False
    no_progress: bool = False
    json_summary: bool = False
    price_in: float | None = Field(None, ge=0)
    price_out: float | None = Field(None, ge=0)
    rpm: float | None = Field(None, gt=0)
    tpm: float | None = Field(None, gt=0)
    routing: Literal["ordered", "cheapest", "fastest", "balanced"] = "ordered"
    #: from forge.toml, filled in by the CLI: [providers.NAME] tables with their file, [prices]
    provider_tables: dict[str, tuple[dict[str, Any], str]] = Field(default_factory=dict)
    prices: dict[str, Any] = Field(default_factory=dict)
    #: setting name -> where it came from ("flag", "env FORGE_MODEL", "forge.toml"), for messages
    setting_sources: dict[str, str] = Field(default_factory=dict)


class ClassifySettings(RunSettings):
    input: str
    pack: int | None = Field(None, ge=1, le=200)
    labels: tuple[str, ...] = DEFAULT_CATEGORIES
    input_format: Literal["jsonl", "csv"] | None = None
    text_field: str | None = None
    id_field: str | None = None
    dry_run: bool = False
    max_record_bytes: int = Field(1_000_000, ge=1_000)
    redact: Literal["none", "secrets", "pii"] = "none"
    #: extra guidance for the model, added to the prompt (and to the cache key)
    instructions: str = ""
    #: label -> what it means, shown to the model next to the label
    label_descriptions: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        return parse_labels(value) if value is not None else DEFAULT_CATEGORIES


class CommitSettings(RunSettings):
    diff: str | None = None
    range: str | None = None
    json_output: bool = False
    show_prompt: bool = False
    show_redactions: bool = False
    max_tokens: int = Field(6000, ge=500)


def parse_labels(value: Any) -> tuple[str, ...]:
    """``"a, b,c"`` or a list -> a tuple of distinct, well-formed label names."""
    raw = value.split(",") if isinstance(value, str) else list(value)
    labels: list[str] = []
    for part in raw:
        name = str(part).strip()
        if not name:
            continue
        if not _LABEL.match(name):
            raise ValueError(f"label {name!r} may hold only letters, digits, _ and -")
        if name not in labels:
            labels.append(name)
    if len(labels) < 2:
        raise ValueError("give at least two labels, separated by commas")
    return tuple(labels)


def validate(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """Validate settings; a bad value becomes one readable UsageError line."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "--" + str(err["loc"][0]).replace("_", "-") if err["loc"] else "settings"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise UsageError(f"{name}: {msg}") from None

"""Settings of a run: defaults < forge.toml < FORGE_* environment < command-line flags.

The precedence is Click's own (flag > envvar > default_map > default): the CLI loads ``forge.toml``
into the default map, each option names its ``FORGE_*`` variable, and this module validates the merged
result into one pydantic model the rest of forge reads. API keys are never settings: only the *name*
of the environment variable holding a key is.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from forge_cli.errors import UsageError
from forge_cli.tasks.ticket_rules import DEFAULT_CATEGORIES

CONFIG_NAME = "forge.toml"
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


def load_config_file(path: Path | None) -> dict[str, Any]:
    """Read forge.toml (the given path, else ./forge.toml if present) into Click's default map."""
    if path is None:
        candidate = Path(CONFIG_NAME)
        if not candidate.is_file():
            return {}
        path = candidate
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    default_map: dict[str, Any] = {}
    for command, table in data.items():
        if not isinstance(table, dict):
            raise UsageError(f"{path}: [{command}] must be a table of settings")
        section: dict[str, Any] = {}
        for key, value in table.items():
            name = key.replace("-", "_")
            if name in ("api_key", "key"):
                raise UsageError(
                    f"{path}: keys are read from the environment only; use api_key_env"
                )
            section[name] = ",".join(value) if isinstance(value, list) else value
        default_map[command] = section
    return default_map

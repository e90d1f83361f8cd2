"""Finding and reading forge.toml: the user config dir and the working tree, merged.

Kept apart from ``config.py`` (pydantic models) and light on imports on purpose: the git hook reads
these files on every commit and must not pay for pydantic to learn it has nothing to do.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forge_cli.core.errors import UsageError

CONFIG_NAME = "forge.toml"


#: tables of forge.toml that are not command settings
SPECIAL_TABLES = ("providers", "prices")
#: commands whose options read the top-level keys of forge.toml
COMMANDS = ("classify", "commit-msg", "bench")


@dataclass
class LoadedConfig:
    """forge.toml, merged from the user config dir and the working tree."""

    #: Click's default map: command name -> {setting: value}
    default_map: dict[str, Any] = field(default_factory=dict)
    #: provider name -> (its table, the file it came from)
    providers: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    prices: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA")
    return (Path(base) if base else Path.home() / ".config") / "forge"


def project_config(start: Path) -> Path | None:
    """forge.toml in ``start`` or a parent, looking no higher than the repository's root."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def config_files(explicit: Path | None, start: Path | None = None) -> list[Path]:
    """The files to read, lowest precedence first (``start``: where the working tree search
    begins, the current directory by default)."""
    if explicit is not None:
        return [explicit]
    files: list[Path] = []
    user = user_config_dir() / CONFIG_NAME
    if user.is_file():
        files.append(user)
    project = project_config(start or Path.cwd())
    if project is not None and (not files or project.resolve() != user.resolve()):
        files.append(project)
    return files


def load_config(explicit: Path | None = None, start: Path | None = None) -> LoadedConfig:
    loaded = LoadedConfig()
    for path in config_files(explicit, start):
        _merge(loaded, path, _read_toml(path))
        loaded.files.append(path)
    return loaded


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None


def _merge(loaded: LoadedConfig, path: Path, data: dict[str, Any]) -> None:
    top: dict[str, Any] = {}
    for key, value in data.items():
        if key == "providers":
            if not isinstance(value, dict):
                raise UsageError(f"{path}: [providers] must hold one table per provider")
            for name, table in value.items():
                if not isinstance(table, dict):
                    raise UsageError(f"{path}: [providers.{name}] must be a table of settings")
                old, _ = loaded.providers.get(name.lower(), ({}, ""))
                loaded.providers[name.lower()] = ({**old, **table}, str(path))
        elif key == "prices":
            if not isinstance(value, dict):
                raise UsageError(f"{path}: [prices] must be a table of model = {{input, output}}")
            loaded.prices.update(value)
        elif isinstance(value, dict):
            section = loaded.default_map.setdefault(key, {})
            section.update(_section(path, key, value))
        else:
            top.update(_section(path, "top level", {key: value}))
    if top:
        for command in COMMANDS:
            section = loaded.default_map.setdefault(command, {})
            for name, value in top.items():
                section.setdefault(name, value)


def _section(path: Path, command: str, table: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name in ("api_key", "key"):
            raise UsageError(f"{path}: keys are read from the environment only; use api_key_env")
        section[name] = ",".join(map(str, value)) if isinstance(value, list) else value
    return section

"""Finding and reading forge.toml, and gathering a command's raw settings from every source.

Kept apart from ``settings.py`` (pydantic models) and light on imports on purpose: the git hook reads
these files on every commit and must not pay for pydantic to learn it has nothing to do. ``gather`` is
the first half of the one settings resolver (``settings.resolve`` validates what it gathers): every
command and the hook find their settings the same way, defaults < forge.toml < FORGE_* < flags.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forge_cli.core.errors import UsageError

CONFIG_NAME = "forge.toml"


#: tables of forge.toml that are not command settings
SPECIAL_TABLES = ("providers", "prices")
#: commands whose settings read the top-level keys of forge.toml (bench runs a simulator by default:
#: a top-level chain must not turn it into a paid sweep, so it reads only its own [bench] table)
COMMANDS = ("classify", "commit-msg", "providers", "cache")
#: settings that name what to work on in this one run: never taken from the environment
NOT_FROM_ENV = frozenset(
    {"input", "diff", "range", "json_output", "show_prompt", "show_redactions", "yes", "dry_run"}
    # fields are lists of tables: a flag or forge.toml says them, one variable could not
    | {"field", "fields", "label_descriptions"}
)


@dataclass
class LoadedConfig:
    """forge.toml, merged from the user config dir and the working tree."""

    #: command name -> {setting: value}
    default_map: dict[str, Any] = field(default_factory=dict)
    #: command name -> {setting: the file it came from}
    origins: dict[str, dict[str, str]] = field(default_factory=dict)
    #: (command, setting) pairs whose value came from a top-level key, which a command's own
    #: table overrides in any file
    from_top_level: set[tuple[str, str]] = field(default_factory=set)
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
    return load_files(config_files(explicit, start))


def load_files(paths: Iterable[Path | str]) -> LoadedConfig:
    """The given files merged, lowest precedence first: what ``load_config`` found, read again by
    a command that resolves another command's settings (eval resolves classify's per variant)."""
    loaded = LoadedConfig()
    for path in map(Path, paths):
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
            values = _section(path, key, value)
            section.update(values)
            loaded.origins.setdefault(key, {}).update(dict.fromkeys(values, str(path)))
            loaded.from_top_level.difference_update((key, name) for name in values)
        else:
            top.update(_section(path, "top level", {key: value}))
    for command in COMMANDS:
        section = loaded.default_map.setdefault(command, {})
        origins = loaded.origins.setdefault(command, {})
        for name, value in top.items():
            # a later file's top level beats an earlier file's, never a command's own table
            if name not in section or (command, name) in loaded.from_top_level:
                section[name] = value
                origins[name] = str(path)
                loaded.from_top_level.add((command, name))


def _section(path: Path, command: str, table: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name in ("api_key", "key"):
            raise UsageError(f"{path}: keys are read from the environment only; use api_key_env")
        section[name] = ",".join(map(str, value)) if isinstance(value, list) else value
    return section


def env_name(setting: str) -> str:
    return "FORGE_" + setting.upper()


def gather(
    command: str,
    fields: Iterable[str],
    flags: Mapping[str, Any] | None = None,
    *,
    loaded: LoadedConfig,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A command's raw settings and where each came from: forge.toml < FORGE_* < flags.

    ``fields`` are the settings the command knows (the environment is read for those only);
    ``flags`` are the values given on the command line, nothing else. Values stay raw (strings from
    the environment): ``settings.resolve`` validates them with the command's model.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    origins = loaded.origins.get(command, {})
    for name, value in loaded.default_map.get(command, {}).items():
        values[name] = value
        sources[name] = origins.get(name, CONFIG_NAME)
    for name in fields:
        if name in NOT_FROM_ENV:
            continue
        raw = env.get(env_name(name))
        if raw is not None and raw != "":
            values[name] = raw
            sources[name] = f"env {env_name(name)}"
    for name, value in (flags or {}).items():
        values[name] = value
        sources[name] = "flag --" + name.replace("_", "-")
    return values, sources

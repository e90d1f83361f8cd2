"""Resolving a chain (``groq,gemini:gemini-2.5-pro,offline``) into one settled config per provider,
remembering where every setting came from.

Layers, lowest first: forge's defaults, the provider's preset, ``[providers.NAME]`` in the user's
forge.toml, the same table in the working tree's forge.toml, ``FORGE_<NAME>_<SETTING>`` variables,
then the command line (``--model`` and friends apply to the first provider of the chain, and
``name:model`` in the chain itself names a model). ``forge providers list`` prints the result with
each setting's source, which is how a user finds out why a run used the model it did.

Keys are never settings: only the *name* of the variable holding one is. ``api_key_env`` may name
several variables; each key then becomes its own member of the chain (``groq#1``, ``groq#2``) with
its own limits, which ``balanced`` routing spreads the load across.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from forge_cli.core.errors import UsageError
from forge_cli.providers.catalog.presets import get_preset
from forge_cli.providers.catalog.presets_table import PRESETS, Preset
from forge_cli.providers.config import OFFLINE, ProviderConfig
from forge_cli.providers.registry import provider_names, provider_type

__all__ = ["ProviderTable", "parse_chain", "resolve_chain"]


class ProviderTable(BaseModel):
    """One ``[providers.NAME]`` table of forge.toml (or its FORGE_NAME_* variables)."""

    model_config = ConfigDict(extra="forbid")

    #: the preset (wire, base URL, key variable) a custom name builds on, or a provider type
    #: (``registry``: built in, registered, or another package's entry point)
    type: str | None = None
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | list[str] | None = None
    timeout: float | None = Field(None, gt=0)
    concurrency: int | None = Field(None, ge=1, le=1024)
    #: the most records in one request to this provider, unless --pack says otherwise; 0: the
    #: engine's adaptive packing (for a local server whose model packs well)
    pack: int | None = Field(None, ge=0, le=200)
    rpm: float | None = Field(None, gt=0)
    tpm: float | None = Field(None, gt=0)
    weight: float | None = Field(None, gt=0)
    price_in: float | None = Field(None, ge=0)
    price_out: float | None = Field(None, ge=0)
    json_mode: bool | None = None
    #: false: never send the answer's schema as structured output (a server that mishandles it)
    json_schema: bool | None = None
    #: true/false: ask for token log probabilities (confidence) or never (a server that is slow at it)
    logprobs: bool | None = None
    #: true: bind the schema to each pack's ids (a local server that compiles a grammar per
    #: request; on by default for the local presets)
    pack_schema: bool | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is None or get_preset(value) or provider_type(value):
            return value
        raise PydanticCustomError(
            "unknown_type",
            "{value} is neither a preset ({presets}) nor a provider type ({types})",
            {
                "value": repr(value),
                "presets": ", ".join(PRESETS),
                "types": ", ".join(provider_names()),
            },
        )

    @field_validator("api_key_env")
    @classmethod
    def _variable_names(cls, value: str | list[str] | None) -> str | list[str] | None:
        # the value is never quoted back: a key pasted here by mistake must not reach the terminal
        for name in [value] if isinstance(value, str) else value or []:
            if looks_like_key(name):
                raise PydanticCustomError(
                    "key_not_name",
                    "takes the NAME of an environment variable holding the key, and this looks "
                    "like a key itself (not shown); put the key in a variable, e.g. "
                    "export OPENAI_API_KEY=..., and name the variable",
                )
            if not _ENV_NAME.fullmatch(name):
                raise PydanticCustomError(
                    "bad_env_name",
                    "takes the NAME of an environment variable (letters, digits and _, not "
                    "starting with a digit); the value given is not one and is not shown",
                )
        return value


#: what a portable environment variable name looks like
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def looks_like_key(name: str) -> bool:
    """True for a value that is more likely a pasted key than a variable's name.

    Names are words (``GROQ_API_KEY``); keys are long runs mixing cases and digits, often with a
    vendor prefix and dashes (``sk-proj-...``, ``gsk_...``). Either way the value is not printed.
    """
    if len(name) < 20:
        return False
    lower, upper = any(c.islower() for c in name), any(c.isupper() for c in name)
    digits = sum(c.isdigit() for c in name)
    words = [w for w in re.split(r"[_\-]", name) if w]
    longest = max((len(w) for w in words), default=0)
    return digits >= 3 and ((lower and (upper or "_" not in name)) or longest >= 20)


_SETTINGS = tuple(ProviderTable.model_fields)
_LAYERED = tuple(n for n in _SETTINGS if n != "type")


def parse_chain(value: str | list[str] | None) -> list[tuple[str, str | None]]:
    """``"groq, gemini:gemini-2.5-pro"`` -> [("groq", None), ("gemini", "gemini-2.5-pro")]."""
    if value is None:
        return [(OFFLINE, None)]
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    chain: list[tuple[str, str | None]] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        name, _, model = part.partition(":")
        name = name.strip().lower()
        if not name:
            raise UsageError(f"--provider: {part!r} names no provider")
        if any(name == seen for seen, _ in chain):
            raise UsageError(f"--provider: {name} appears twice in the chain")
        chain.append((name, model.strip() or None))
    if not chain:
        raise UsageError("--provider: the chain is empty")
    return chain


def env_name(provider: str, setting: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in provider.upper())
    return f"FORGE_{slug}_{setting.upper()}"


def _table(name: str, raw: Any, origin: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise UsageError(f"{origin}: [providers.{name}] must be a table of settings")
    if "api_key" in raw or "key" in raw:
        raise UsageError(f"{origin}: keys are read from the environment only; use api_key_env")
    try:
        table = ProviderTable.model_validate(dict(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        raise UsageError(f"{origin}: [providers.{name}] {where}: {msg}") from None
    return table.model_dump(exclude_none=True)


def _flag_table(
    name: str, flags: Mapping[str, Any], flag_sources: Mapping[str, str]
) -> dict[str, Any]:
    """The command's settings for the first provider, each error naming where that one came from:
    ``--model``, ``FORGE_MODEL (--model)`` or the command's table in forge.toml."""
    table: dict[str, Any] = {}
    for setting, value in flags.items():
        if value is None:
            continue
        try:
            table |= _table(name, {setting: value}, "flags")
        except UsageError as exc:
            source = flag_sources.get(setting, "flag")
            flag = "--" + setting.replace("_", "-")
            if source.startswith("env "):
                where = f"{source.removeprefix('env ')} ({flag})"
            elif source.startswith("flag"):
                where = flag
            else:
                where = f"{source}: {setting}"
            reason = str(exc).partition(f"] {setting}: ")[2] or str(exc)
            raise UsageError(f"{where}: {reason}") from None
    return table


def _env_table(name: str, environ: Mapping[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for setting in _LAYERED:
        value = environ.get(env_name(name, setting))
        if value not in (None, ""):
            raw[setting] = value.split(",") if setting == "api_key_env" and "," in value else value
    return _table(name, raw, f"environment ({env_name(name, '*')})") if raw else {}


def resolve_chain(
    chain: str | list[str] | None,
    *,
    tables: Mapping[str, tuple[Mapping[str, Any], str]] | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    flag_sources: Mapping[str, str] | None = None,
) -> list[ProviderConfig]:
    """One ProviderConfig per member of the chain, every setting with its source.

    ``tables`` maps a provider name to its forge.toml table and the file it came from (already
    merged user < project). ``flags`` are the command line's settings for the first provider;
    ``defaults`` the command's own (timeout, concurrency); ``flag_sources`` says where each of
    ``flags`` really came from (a flag, FORGE_MODEL, the command's table in forge.toml).
    """
    flag_sources = flag_sources or {}
    tables = tables or {}
    environ = os.environ if environ is None else environ
    configs: list[ProviderConfig] = []
    for index, (name, chain_model) in enumerate(parse_chain(chain)):
        table, origin = tables.get(name, ({}, ""))
        file_table = _table(name, table, origin or "forge.toml")
        kind = str(file_table.get("type") or name)
        if name == OFFLINE or kind == OFFLINE:
            config = ProviderConfig(name=name, preset=OFFLINE, wire=OFFLINE, model="keywords-v1")
            config.sources = {"wire": "built in", "model": "built in"}
            configs.append(config)
            continue
        config, preset = _base(name, kind)
        # a preset's rpm/tpm are free-tier figures: applied to a paid key they would throttle it
        # for nothing, so limits come from the user or from the provider's own headers
        for setting, value in (defaults or {}).items():
            if value is not None and hasattr(config, setting):
                setattr(config, setting, value)
                config.sources[setting] = "default"
        if (
            preset is not None
            and preset.concurrency
            and not (defaults or {}).get("concurrency_set")
        ):
            # the preset's figure replaces the command's default (a local server's own count of
            # parallel slots, up or down), never what the user typed (``concurrency_set``)
            config.concurrency = preset.concurrency
            config.sources["concurrency"] = f"preset {preset.name}"
        layers: list[tuple[dict[str, Any], str]] = [
            (file_table, origin or "forge.toml"),
            (_env_table(name, environ), f"env {env_name(name, '{setting}')}"),
        ]
        if index == 0 and flags:
            layers.append((_flag_table(name, flags, flag_sources), "flag"))
        if chain_model:
            layers.append(({"model": chain_model}, "--provider"))
        for values, source in layers:
            for setting, value in values.items():
                if setting == "type":
                    continue
                setattr(config, setting, value)
                label = flag_sources.get(setting, "flag") if source == "flag" else source
                config.sources[setting] = label.replace("{SETTING}", setting.upper())
        configs.extend(_expand_keys(config))
    return configs


def _base(name: str, kind: str) -> tuple[ProviderConfig, Preset | None]:
    """The member's settings before any layer: its preset's, or only its provider type's name."""
    preset = get_preset(kind)
    if preset is not None:
        config = ProviderConfig(
            name=name,
            preset=preset.name,
            wire=preset.wire,
            base_url=preset.base_url,
            model=preset.model,
            api_key_env=preset.key_env,
            auth_header=preset.auth_header,
            json_mode=preset.json_mode,
            json_schema=preset.json_schema,
            schema_in_json_mode=preset.schema_in_json_mode,
            logprobs=preset.logprobs,
            pack_schema=preset.local,
            pack=preset.pack,
        )
        src = f"preset {preset.name}"
        preset_rows = (
            "wire",
            "base_url",
            "model",
            "api_key_env",
            "json_mode",
            "json_schema",
            "logprobs",
            "pack_schema",
            "pack",
        )
        config.sources = {n: src for n in preset_rows}
        return config, preset
    # a provider type that is no preset (a plugin's): everything else comes from the layers
    plugin = provider_type(kind)
    if plugin is None:
        known = ", ".join([OFFLINE, *PRESETS])
        raise UsageError(
            f"unknown provider {name!r}: not a preset ({known}) and no [providers.{name}] "
            "table with a type in forge.toml"
        )
    config = ProviderConfig(name=name, preset=plugin.name, wire=plugin.name)
    config.sources = {"wire": f"provider type {plugin.name}"}
    return config, None


def _expand_keys(config: ProviderConfig) -> list[ProviderConfig]:
    """Several key variables: one member per key, named ``name#1``, ``name#2``, ..."""
    keys = config.api_key_env
    if not isinstance(keys, list):
        return [config]
    if len(keys) == 1:
        return [replace(config, api_key_env=keys[0])]
    return [
        replace(config, name=f"{config.name}#{n}", api_key_env=key, sources=dict(config.sources))
        for n, key in enumerate(keys, start=1)
    ]

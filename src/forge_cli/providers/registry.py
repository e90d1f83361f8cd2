"""Provider types by name, and building a chain member with one.

A provider type is a factory from a settled ``ProviderConfig`` (and the key read for it) to a
``Provider``: forge's own (one per wire format, and ``offline``), those registered at run time
(``register_provider``) and other packages' entry points in the ``forge.providers`` group::

    [project.entry-points."forge.providers"]
    mock = "forge_mock:build"                   # a factory (config, key) -> Provider
    local-llm = "forge_llm:PROVIDER_TYPE"       # or a ProviderType, to say remote=False

Adding a wire format to forge is one adapter module and one line in ``BUILTIN``. Built-in adapters
are named by import path and imported when first used, and entry points are read only for a name
that is neither built in nor registered, so a chain of built-in providers never scans the installed
distributions (the git hook stays fast).

``build_provider`` is the one way a config becomes a provider, and the only place a key is read
from the environment.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from forge_cli.core.errors import UsageError
from forge_cli.core.plugins import PROVIDERS, load_plugin, plugin_names
from forge_cli.core.text import mask_url
from forge_cli.providers.base import Provider
from forge_cli.providers.catalog.presets_table import PRESETS
from forge_cli.providers.catalog.prices import PriceTable
from forge_cli.providers.config import OFFLINE, ProviderConfig
from forge_cli.providers.offline import OfflineProvider

__all__ = [
    "BUILTIN",
    "MissingKeyError",
    "ProviderFactory",
    "ProviderType",
    "build_provider",
    "provider_names",
    "provider_type",
    "register_provider",
]

#: builds one member of a chain from its settled config and the key read for it (None: no key)
ProviderFactory = Callable[[ProviderConfig, str | None], Provider]


@dataclass(frozen=True, slots=True)
class ProviderType:
    """A named way to build providers."""

    name: str
    factory: ProviderFactory
    #: it calls a server at ``config.base_url`` with a key from the environment and bills by the
    #: token: ``build_provider`` checks the URL and the key and prices it. False for a provider on
    #: this machine that needs none of that and costs nothing (``offline``).
    remote: bool = True


#: forge's own wire formats: name -> "module:attribute" of the factory
BUILTIN: dict[str, str] = {
    "openai": "forge_cli.providers.openai:OpenAICompatibleProvider.from_config",
    "gemini": "forge_cli.providers.gemini:GeminiProvider.from_config",
    "anthropic": "forge_cli.providers.anthropic:AnthropicProvider.from_config",
    "cohere": "forge_cli.providers.cohere:CohereProvider.from_config",
}


def _offline(config: ProviderConfig, key: str | None) -> Provider:
    return OfflineProvider(model=config.model or "keywords-v1")


_OFFLINE = ProviderType(OFFLINE, _offline, remote=False)
#: a model trained by ``forge train``: on this machine, no key, no cost (loaded only when named)
LOCAL = "local"
_registered: dict[str, ProviderType] = {}


def register_provider(name: str, factory: ProviderFactory, *, remote: bool = True) -> None:
    """Make ``factory`` the provider type ``name``: a ``type`` in forge.toml or a name in the chain.

    A registered type replaces a built-in one of the same name (to wrap an adapter, say). In the
    chain and in ``type`` a preset's name means the preset, so a type named like a preset is used
    only as the wire of presets that name it.
    """
    if not name or not name.replace("-", "_").isidentifier():
        raise ValueError(f"provider type name {name!r}: use letters, digits, - and _")
    _registered[name] = ProviderType(name, factory, remote=remote)


def provider_names() -> list[str]:
    """Every provider type: built in, registered, and installed (this reads the entry points)."""
    return sorted({OFFLINE, LOCAL, *BUILTIN, *_registered, *plugin_names(PROVIDERS)})


def provider_type(name: str) -> ProviderType | None:
    """The type called ``name``: registered at run time, built in, or another package's."""
    if name in _registered:
        return _registered[name]
    if name == OFFLINE:
        return _OFFLINE
    if name == LOCAL:
        from forge_cli.providers.local import LocalModelProvider

        return ProviderType(LOCAL, LocalModelProvider.from_config, remote=False)
    if name in BUILTIN:
        module, _, attribute = BUILTIN[name].partition(":")
        factory: Any = importlib.import_module(module)
        for part in attribute.split("."):  # "Class.from_config"
            factory = getattr(factory, part)
        return ProviderType(name, factory)
    plugin = load_plugin(PROVIDERS, name)
    if plugin is None:
        return None
    if isinstance(plugin, ProviderType):
        return ProviderType(name, plugin.factory, remote=plugin.remote)
    if callable(plugin):
        return ProviderType(name, plugin)
    raise UsageError(f"provider type {name!r} from an entry point is neither a factory nor a type")


def user_set(config: ProviderConfig, setting: str) -> bool:
    """The user chose this setting (forge.toml, environment, flag), not a preset or default."""
    source = config.sources.get(setting, "")
    return (
        bool(source) and not source.startswith("preset") and source not in ("default", "built in")
    )


class MissingKeyError(UsageError):
    """The provider needs a key and its variable is not set."""


def build_provider(config: ProviderConfig, prices: PriceTable | None = None) -> Provider:
    """The provider of ``config.wire``'s type; for a remote type, with its URL checked, its key read
    (and required when the user or the preset names one) and its price applied."""
    kind = provider_type(config.wire)
    if kind is None:
        raise UsageError(f"{config.name}: unknown wire format {config.wire!r}")
    if not kind.remote:
        return kind.factory(config, None)
    parsed = urlparse(config.base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        shown = mask_url(config.base_url)
        raise UsageError(f"{config.name}: base URL {shown!r} is not an http(s) URL")
    key = os.environ.get(config.api_key_env) if config.api_key_env else None
    preset = PRESETS.get(config.preset)
    # a preset's own key is needed unless the user pointed it at another server (a local proxy)
    key_required = user_set(config, "api_key_env") or (
        preset is not None and preset.key_env is not None and not user_set(config, "base_url")
    )
    if key_required and not key:
        raise MissingKeyError(
            f"{config.name}: no API key: set the environment variable {config.api_key_env} "
            "(or name another one with --api-key-env)"
        )
    provider = kind.factory(config, key)
    price = (prices or PriceTable()).price(config.model, config.preset)
    provider.price_in = config.price_in if config.price_in is not None else price.input
    provider.price_out = config.price_out if config.price_out is not None else price.output
    return provider

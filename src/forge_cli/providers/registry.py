"""Turning a settled ``ProviderConfig`` into a ready provider.

The only place that knows every adapter: adding a wire format means one adapter module and one
entry in ``ADAPTERS``. Keys are read from the environment here and nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx

from forge_cli.core.errors import UsageError
from forge_cli.providers.anthropic import AnthropicProvider
from forge_cli.providers.base import Provider
from forge_cli.providers.catalog.presets_table import PRESETS
from forge_cli.providers.catalog.prices import PriceTable
from forge_cli.providers.cohere import CohereProvider
from forge_cli.providers.gemini import GeminiProvider
from forge_cli.providers.http import make_client
from forge_cli.providers.offline import OfflineProvider
from forge_cli.providers.openai import OpenAICompatibleProvider
from forge_cli.providers.settings import OFFLINE, ProviderConfig, resolve_chain


def _openai(config: ProviderConfig, key: str | None, client: httpx.AsyncClient) -> Provider:
    return OpenAICompatibleProvider(
        name=config.name,
        base_url=config.base_url,
        model=config.model,
        api_key=key,
        key_env=config.api_key_env,
        client=client,
        json_mode=config.json_mode,
        auth_header=config.auth_header,
    )


def _native(cls: type) -> Callable[[ProviderConfig, str | None, httpx.AsyncClient], Provider]:
    def build(config: ProviderConfig, key: str | None, client: httpx.AsyncClient) -> Provider:
        provider: Provider = cls(
            name=config.name,
            base_url=config.base_url,
            model=config.model,
            api_key=key,
            key_env=config.api_key_env,
            client=client,
        )
        return provider

    return build


#: wire format -> adapter factory
ADAPTERS: dict[str, Callable[[ProviderConfig, str | None, httpx.AsyncClient], Provider]] = {
    "openai": _openai,
    "gemini": _native(GeminiProvider),
    "anthropic": _native(AnthropicProvider),
    "cohere": _native(CohereProvider),
}


def user_set(config: ProviderConfig, setting: str) -> bool:
    """The user chose this setting (forge.toml, environment, flag), not a preset or default."""
    source = config.sources.get(setting, "")
    return (
        bool(source) and not source.startswith("preset") and source not in ("default", "built in")
    )


class MissingKeyError(UsageError):
    """The provider needs a key and its variable is not set."""


def build_provider(config: ProviderConfig, prices: PriceTable | None = None) -> Provider:
    if config.offline:
        return OfflineProvider(model=config.model or "keywords-v1")
    parsed = urlparse(config.base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"{config.name}: base URL {config.base_url!r} is not an http(s) URL")
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
    factory = ADAPTERS.get(config.wire)
    if factory is None:
        raise UsageError(f"{config.name}: unknown wire format {config.wire!r}")
    provider = factory(config, key, make_client(config.timeout, config.concurrency))
    price = (prices or PriceTable()).price(config.model, config.preset)
    provider.price_in = config.price_in if config.price_in is not None else price.input
    provider.price_out = config.price_out if config.price_out is not None else price.output
    return provider


@dataclass(slots=True)
class ProviderSpec:
    """One provider from flat settings (a single name, no forge.toml): for bench and tests."""

    name: str | None
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    timeout: float = 60.0
    concurrency: int = 8
    price_in: float | None = None
    price_out: float | None = None

    def config(self) -> ProviderConfig:
        flags = {
            "base_url": self.base_url,
            "model": self.model,
            "api_key_env": self.api_key_env,
            "price_in": self.price_in,
            "price_out": self.price_out,
        }
        configs = resolve_chain(
            self.name or OFFLINE,
            environ={},
            flags=flags,
            defaults={"timeout": self.timeout, "concurrency": self.concurrency},
        )
        if len(configs) != 1:
            raise UsageError(f"{self.name}: give one provider here, not a chain")
        return configs[0]


def build_from_spec(spec: ProviderSpec) -> Provider:
    return build_provider(spec.config())

"""Turning a provider name and settings into a ready provider.

The only place that knows every adapter: adding a provider means one adapter module and one entry
here. Keys are read from the environment here and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx

from forge_cli.errors import UsageError
from forge_cli.providers.base import Provider
from forge_cli.providers.offline import OfflineProvider
from forge_cli.providers.openai import OpenAICompatibleProvider
from forge_cli.providers.presets import MODEL_PRICES, PRESETS
from forge_cli.providers.transport import ShardedTransport

OFFLINE = "offline"


@dataclass(slots=True)
class ProviderSpec:
    name: str | None
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    timeout: float = 60.0
    concurrency: int = 8
    price_in: float | None = None
    price_out: float | None = None


def known_providers() -> list[str]:
    return [OFFLINE, *PRESETS]


def build_provider(spec: ProviderSpec) -> Provider:
    name = (spec.name or OFFLINE).strip().lower()
    if name == OFFLINE:
        return OfflineProvider(model=spec.model or "keywords-v1")
    preset = PRESETS.get(name)
    if preset is None:
        raise UsageError(
            f"unknown provider {spec.name!r}; choose one of: {', '.join(known_providers())}"
        )
    base_url = spec.base_url or preset.base_url
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"--base-url {base_url!r} is not an http(s) URL")
    key_env = spec.api_key_env or preset.key_env
    api_key = os.environ.get(key_env) if key_env else None
    key_required = bool(spec.api_key_env) or (key_env is not None and not spec.base_url)
    if key_required and not api_key:
        raise UsageError(
            f"{name}: no API key: set the environment variable {key_env} "
            "(or name another one with --api-key-env)"
        )
    model = spec.model or preset.model
    price_in, price_out = MODEL_PRICES.get(model, (preset.price_in, preset.price_out))
    if model != preset.model and model not in MODEL_PRICES:
        price_in, price_out = 0.0, 0.0
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(spec.timeout, connect=min(10.0, spec.timeout)),
        transport=ShardedTransport(max(1, spec.concurrency)),
        follow_redirects=False,
    )
    return OpenAICompatibleProvider(
        name=name,
        base_url=base_url,
        model=model,
        api_key=api_key,
        key_env=key_env,
        client=client,
        json_mode=preset.json_mode,
        price_in=spec.price_in if spec.price_in is not None else price_in,
        price_out=spec.price_out if spec.price_out is not None else price_out,
    )

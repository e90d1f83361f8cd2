"""One member of a provider chain, settled: what ``build_provider`` and the adapters are given.

Kept apart from ``settings`` (which resolves it, and checks each ``type`` against the registry) so
that the registry and the adapters, which build providers from a config, do not import it back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["OFFLINE", "ProviderConfig"]

#: the built-in provider that needs no key and no network
OFFLINE = "offline"


@dataclass
class ProviderConfig:
    """Everything needed to build one member of a chain."""

    name: str
    #: the preset it builds on (for a provider type that is no preset: the type's name)
    preset: str
    #: the provider type (``registry``) that builds it, i.e. the wire format it speaks
    wire: str = "openai"
    base_url: str = ""
    model: str = ""
    api_key_env: str | None = None
    auth_header: str = "bearer"
    #: the wire's plain JSON mode may be asked for (``response_format`` ``json_object``, ...)
    json_mode: bool = True
    #: the answer's schema may be sent as structured output (``providers/structured.py``)
    json_schema: bool = True
    #: the server reads a schema inside JSON mode (``Preset.schema_in_json_mode``)
    schema_in_json_mode: bool = False
    #: token log probabilities may be asked for (the answers' confidence)
    logprobs: bool = True
    #: the schema sent is bound to each pack's ids (``PackRequest.pack_schema``): on for servers
    #: that compile a grammar per request (the local presets), off for hosted APIs, which cache
    #: each schema they compile and would compile one per request
    pack_schema: bool = False
    timeout: float = 60.0
    concurrency: int = 8
    #: the most records in one request by default (``Preset.pack``); None or 0: adaptive packing
    pack: int | None = None
    rpm: float | None = None
    tpm: float | None = None
    weight: float = 1.0
    price_in: float | None = None
    price_out: float | None = None
    #: setting name -> where its value came from ("default", "preset groq", "forge.toml", ...)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return self.wire == OFFLINE

    def key_present(self) -> bool:
        return bool(self.api_key_env and os.environ.get(self.api_key_env))

"""Known OpenAI-compatible endpoints: base URL, key variable, default model and prices.

Prices are US dollars per 1M input / output tokens for the default model, used for estimates only;
they drift, so ``--price-in`` / ``--price-out`` override them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    base_url: str
    #: the environment variable holding the key; None for local servers that need none
    key_env: str | None
    model: str
    json_mode: bool = True
    price_in: float = 0.0
    price_out: float = 0.0


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "gpt-4o-mini", True, 0.15, 0.60
        ),
        Preset(
            "groq",
            "https://api.groq.com/openai/v1",
            "GROQ_API_KEY",
            "llama-3.1-8b-instant",
            True,
            0.05,
            0.08,
        ),
        Preset(
            "together",
            "https://api.together.xyz/v1",
            "TOGETHER_API_KEY",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            True,
            0.88,
            0.88,
        ),
        Preset(
            "openrouter",
            "https://openrouter.ai/api/v1",
            "OPENROUTER_API_KEY",
            "openai/gpt-4o-mini",
            True,
            0.15,
            0.60,
        ),
        Preset(
            "mistral",
            "https://api.mistral.ai/v1",
            "MISTRAL_API_KEY",
            "mistral-small-latest",
            True,
            0.10,
            0.30,
        ),
        Preset("ollama", "http://localhost:11434/v1", None, "llama3.2", True),
        Preset("vllm", "http://localhost:8000/v1", None, "default", True),
    )
}

#: prices of a few well-known models, used when a preset's default model was replaced
MODEL_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "llama-3.1-8b-instant": (0.05, 0.08),
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "mistral-small-latest": (0.10, 0.30),
}

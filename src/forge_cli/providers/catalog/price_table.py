"""Model list prices, as data: (input, output) US dollars per 1M tokens, for cost estimates only.

As of ``PRICES_AS_OF``, from the providers' published pay-as-you-go list prices (standard tier, no
batch discount, input priced at the cache-miss rate, the lowest context tier where prices are tiered).
Keys are matched case-insensitively and by prefix (see ``prices.PriceTable``); a ``provider/model``
key prices a model on that provider only. Models without a published USD list price (Sarvam bills
INR credits; Hugging Face's router passes through whichever provider serves the call) are absent or
approximate: users override them in forge.toml's ``[prices]``.
"""

from __future__ import annotations

__all__ = ["LIST_PRICES", "PRICES_AS_OF"]

#: the date the prices were last checked against the providers' pricing pages
PRICES_AS_OF = "2026-11-23"

LIST_PRICES: dict[str, tuple[float, float]] = {
    # OpenAI (platform.openai.com/docs/pricing, standard tier)
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-pro": (15.00, 120.00),
    # Groq (groq.com/pricing); its gpt-oss id carries the "openai/" organisation
    "llama-3.1-8b-instant": (0.05, 0.08),
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "openai/gpt-oss-120b": (0.15, 0.60),
    # Together (together.ai/pricing)
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": (0.88, 0.88),
    # Mistral: mistral-small-latest points at Mistral Small 4 (2026); Small 3.x was 0.10 / 0.30
    "mistral-small-latest": (0.15, 0.60),
    "mistral-small": (0.15, 0.60),
    # DeepSeek (api-docs.deepseek.com/quick_start/pricing): V4 since 2026-04-24; deepseek-chat and
    # deepseek-reasoner were aliases of V4-Flash until they were retired on 2026-07-24
    "deepseek-v4-flash": (0.14, 0.28),
    "deepseek-v4-pro": (0.435, 0.87),
    "deepseek-chat": (0.14, 0.28),
    "deepseek-reasoner": (0.14, 0.28),
    # Cerebras (cerebras.ai/pricing); its id for gpt-oss has no organisation prefix
    "cerebras/gpt-oss-120b": (0.35, 0.75),
    # SambaNova (cloud.sambanova.ai/pricing)
    "Meta-Llama-3.3-70B-Instruct": (0.60, 1.20),
    "sambanova/gpt-oss-120b": (0.22, 0.59),
    # Google Gemini (ai.google.dev/gemini-api/docs/pricing, prompts up to 200k tokens)
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-3-flash": (0.50, 3.00),
    "gemini-3-pro-preview": (2.00, 12.00),
    # Anthropic (docs.anthropic.com/en/docs/about-claude/pricing)
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-haiku": (0.25, 1.25),
    # Cohere (cohere.com/pricing); command-r-plus is listed so it is not priced as command-r
    "command-r7b": (0.0375, 0.15),
    "command-r": (0.15, 0.60),
    "command-r-plus": (2.50, 10.00),
    "command-a": (2.50, 10.00),
}

"""Known endpoints, as data: wire, base URL, key variable, default model and limit hints.

Most presets speak the OpenAI ``/chat/completions`` wire; ``gemini``, ``anthropic`` and ``cohere`` are
the providers' native APIs (``wire`` names a provider type of ``forge_cli.providers.registry``).
``rpm`` / ``tpm`` are set only where the provider documents a free-tier limit for the default model
(checked 2026-11-23); they are starting hints that ``--rpm`` and friends override, and providers change
them without notice. Prices live in ``price_table``; lookups by name in ``presets``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALIASES", "PRESETS", "Preset"]


@dataclass(frozen=True, slots=True)
class Preset:
    """One row of the table."""

    name: str
    base_url: str
    #: the environment variable holding the key; None for local servers that need none
    key_env: str | None
    model: str
    #: the endpoint accepts a JSON output mode (``response_format: {"type": "json_object"}`` on the
    #: OpenAI wire; the native equivalent on the others)
    json_mode: bool = True
    #: the endpoint takes the answer's JSON Schema as structured output (``response_format``
    #: ``json_schema`` on the OpenAI wire; ``responseSchema``, a forced tool, Cohere's
    #: ``json_schema`` on the others). On wherever the provider documents it or might support it:
    #: a server that refuses it costs one extra call, then the adapter steps down for the run
    json_schema: bool = True
    #: the server also reads a schema inside JSON mode, ``{"type": "json_object", "schema": ...}``
    #: (llama.cpp's and llama-cpp-python's older form), and compiles it into a grammar: where
    #: ``json_schema`` is refused, the answer stays bound to the schema
    schema_in_json_mode: bool = False
    #: token log probabilities (the answers' confidence) are asked for; off where they are slow:
    #: llama-cpp-python's server computes them in Python, about 0.15 s per answer token on 2 cores
    logprobs: bool = True
    #: the provider type that speaks the endpoint's wire format
    wire: str = "openai"
    #: "bearer" sends ``Authorization: Bearer KEY``; anything else names a header that carries the
    #: raw key
    auth_header: str = "bearer"
    #: documented free-tier requests / tokens per minute for the default model, if any
    rpm: int | None = None
    tpm: int | None = None
    #: a sensible number of requests in flight; None leaves the command's default
    concurrency: int | None = None
    #: the most records in one request unless the user says otherwise (``--pack``); None leaves
    #: the engine's adaptive packing. Local servers get 1: they keep the shared instructions'
    #: prefix cached, so packing saves them no time (300 tickets through llama.cpp: 957 s one a
    #: request, 1,438 s in packs of ~18), and a small model answers worse in packs
    #: (benchmarks/README.md, "Accuracy on public labelled tickets"); vLLM batches single
    #: requests itself
    pack: int | None = None
    #: a server on the user's own hardware: every model on it is free
    local: bool = False


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        # --- hosted, OpenAI wire -------------------------------------------------------------
        Preset("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "gpt-4o-mini"),
        # free plan, llama-3.1-8b-instant: 30 RPM, 6K TPM, 14.4K requests/day. Structured outputs
        # only on some models (console.groq.com/docs/structured-outputs: gpt-oss strict, others
        # best effort); the default model refuses json_schema and the adapter steps down
        Preset(
            "groq",
            "https://api.groq.com/openai/v1",
            "GROQ_API_KEY",
            "llama-3.1-8b-instant",
            rpm=30,
            tpm=6_000,
        ),
        Preset(
            "together",
            "https://api.together.xyz/v1",
            "TOGETHER_API_KEY",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        ),
        Preset(
            "openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", "openai/gpt-4o-mini"
        ),
        Preset("mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", "mistral-small-latest"),
        # llama3.1-8b and the llama-3.3 ids were retired in 2026; gpt-oss-120b is the production
        # model. Free-trial limits per inference-docs.cerebras.ai/support/rate-limits (mid-2026);
        # earlier versions of that page listed 30 RPM / 60K TPM.
        Preset(
            "cerebras",
            "https://api.cerebras.ai/v1",
            "CEREBRAS_API_KEY",
            "gpt-oss-120b",
            rpm=5,
            tpm=30_000,
        ),
        Preset(
            "sambanova",
            "https://api.sambanova.ai/v1",
            "SAMBANOVA_API_KEY",
            "Meta-Llama-3.3-70B-Instruct",
        ),
        # DeepSeek retired the deepseek-chat / deepseek-reasoner aliases on 2026-07-24
        # (api-docs.deepseek.com, V4 release notes); V4-Flash is the non-reasoning default.
        # Its JSON Output is json_object only: no json_schema
        Preset(
            "deepseek",
            "https://api.deepseek.com",
            "DEEPSEEK_API_KEY",
            "deepseek-v4-flash",
            json_schema=False,
        ),
        # a GitHub token with the models:read scope; ids are publisher/model. The free
        # prototyping quota for "low" tier models such as gpt-4o-mini is 15 RPM / 150 a day.
        Preset(
            "github-models",
            "https://models.github.ai/inference",
            "GITHUB_TOKEN",
            "openai/gpt-4o-mini",
            rpm=15,
        ),
        # the Inference Providers router; "model:provider" pins a provider, else HF picks one.
        # JSON mode depends on the provider serving the call (the adapter falls back without it).
        Preset(
            "huggingface", "https://router.huggingface.co/v1", "HF_TOKEN", "openai/gpt-oss-120b"
        ),
        # Sarvam's docs (docs.sarvam.ai authentication page) accept the key as either
        # "api-subscription-key" or "Authorization: Bearer"; its own SDK and examples use the
        # former, so that is what we send. sarvam-m was retired in favour of sarvam-30b / -105b.
        Preset(
            "sarvam",
            "https://api.sarvam.ai/v1",
            "SARVAM_API_KEY",
            "sarvam-30b",
            auth_header="api-subscription-key",
        ),
        # --- hosted, native wires ------------------------------------------------------------
        # generateContent with responseMimeType "application/json"; key in x-goog-api-key
        Preset(
            "gemini",
            "https://generativelanguage.googleapis.com/v1beta",
            "GEMINI_API_KEY",
            "gemini-2.5-flash",
            wire="gemini",
            auth_header="x-goog-api-key",
        ),
        # Messages API; no json_object mode: the answer's schema goes as the input schema of a
        # tool the model is made to call, or JSON comes from the prompt alone
        Preset(
            "anthropic",
            "https://api.anthropic.com/v1",
            "ANTHROPIC_API_KEY",
            "claude-haiku-4-5",
            json_mode=False,
            wire="anthropic",
            auth_header="x-api-key",
        ),
        # v2 chat accepts response_format {"type": "json_object"[, "json_schema": {...}]} (the
        # API definition's field name; v1 called it "schema"); the Python SDK reads CO_API_KEY
        # (many other tools use COHERE_API_KEY: pass --api-key-env). Trial keys: 20 chat
        # requests/min and 1,000 calls a month.
        Preset(
            "cohere",
            "https://api.cohere.com/v2",
            "CO_API_KEY",
            "command-r7b-12-2024",
            wire="cohere",
            rpm=20,
        ),
        # --- local servers: no key, nothing to pay -------------------------------------------
        # ollama (0.5+), vLLM and llama.cpp turn a json_schema response_format into a grammar
        Preset(
            "ollama",
            "http://localhost:11434/v1",
            None,
            "llama3.2",
            concurrency=4,
            pack=1,
            local=True,
        ),
        # the model must be the name vLLM serves (--served-model-name); pass --model. vLLM
        # batches hundreds of requests at once: 32 in flight gave forge its most tickets/s
        # against two simulated replicas at 100 ms (benchmarks/local_servers.py; 64 and 128 were
        # slower, forge's own event loop being the bound on 2 cores)
        Preset(
            "vllm", "http://localhost:8000/v1", None, "default", concurrency=32, pack=1, local=True
        ),
        # llama-server answers with whatever model it loaded, whatever the request names. Older
        # builds and llama-cpp-python's server (0.3.x answers json_schema with a 500) know only
        # json_object, with the schema beside it
        Preset(
            "llamacpp",
            "http://localhost:8080/v1",
            None,
            "default",
            schema_in_json_mode=True,
            logprobs=False,
            concurrency=4,
            pack=1,
            local=True,
        ),
        # LM Studio rejects response_format json_object ("'response_format.type' must be
        # 'json_schema' or 'text'", lmstudio-ai/lmstudio-bug-tracker#189): the schema or nothing
        Preset(
            "lmstudio",
            "http://localhost:1234/v1",
            None,
            "default",
            json_mode=False,
            concurrency=4,
            pack=1,
            local=True,
        ),
    )
}

#: other spellings accepted for preset names (looked up case-insensitively)
ALIASES: dict[str, str] = {
    "llama.cpp": "llamacpp",
    "llama-cpp": "llamacpp",
    "llama-server": "llamacpp",
    "lm-studio": "lmstudio",
    "github": "github-models",
    "hf": "huggingface",
    "hugging-face": "huggingface",
    "claude": "anthropic",
    "google": "gemini",
    "co": "cohere",
    "samba": "sambanova",
}

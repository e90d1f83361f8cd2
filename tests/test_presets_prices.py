"""Provider presets (names, URLs, wires, aliases) and the model price table."""

from __future__ import annotations

import math
from urllib.parse import urlparse

import pytest

from forge_cli.core.errors import UsageError
from forge_cli.providers.catalog.presets import LOCAL_PROVIDERS, canonical_name, get_preset
from forge_cli.providers.catalog.presets_table import ALIASES, PRESETS, Preset
from forge_cli.providers.catalog.prices import (
    DEFAULT_PRICES,
    FREE,
    Price,
    PriceTable,
    parse_price_overrides,
)

OPENAI_WIRE = [
    "openai",
    "groq",
    "together",
    "openrouter",
    "mistral",
    "cerebras",
    "sambanova",
    "deepseek",
    "github-models",
    "huggingface",
    "sarvam",
    "ollama",
    "vllm",
    "llamacpp",
    "lmstudio",
]
NATIVE = {"gemini": "gemini", "anthropic": "anthropic", "cohere": "cohere"}
LOCAL = ["ollama", "vllm", "llamacpp", "lmstudio"]


# --- presets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*OPENAI_WIRE, *NATIVE])
def test_every_required_preset_exists_with_an_http_url(name: str) -> None:
    preset = PRESETS[name]
    assert preset.name == name
    url = urlparse(preset.base_url)
    assert url.scheme in ("http", "https") and url.netloc
    assert not preset.base_url.endswith("/")
    assert preset.model
    assert preset.auth_header


@pytest.mark.parametrize("name", OPENAI_WIRE)
def test_openai_compatible_presets_use_the_openai_wire(name: str) -> None:
    assert PRESETS[name].wire == "openai"


@pytest.mark.parametrize(("name", "wire"), NATIVE.items())
def test_native_presets_have_their_own_wire(name: str, wire: str) -> None:
    preset = PRESETS[name]
    assert preset.wire == wire
    assert preset.base_url.startswith("https://")
    assert preset.key_env


def test_native_preset_details() -> None:
    assert PRESETS["gemini"].base_url == "https://generativelanguage.googleapis.com/v1beta"
    assert PRESETS["gemini"].key_env == "GEMINI_API_KEY"
    assert PRESETS["anthropic"].base_url == "https://api.anthropic.com/v1"
    assert PRESETS["anthropic"].key_env == "ANTHROPIC_API_KEY"
    assert PRESETS["cohere"].base_url == "https://api.cohere.com/v2"
    assert PRESETS["cohere"].key_env == "CO_API_KEY"


@pytest.mark.parametrize("name", LOCAL)
def test_local_presets_need_no_key_and_are_free(name: str) -> None:
    preset = PRESETS[name]
    assert preset.key_env is None
    assert preset.local
    assert name in LOCAL_PROVIDERS
    assert urlparse(preset.base_url).hostname == "localhost"
    # vLLM batches hundreds of requests at once; the others serve a few slots in parallel
    assert preset.concurrency == (32 if name == "vllm" else 4)
    assert PriceTable().price(preset.model, name) == FREE


def test_hosted_presets_need_a_key() -> None:
    for preset in PRESETS.values():
        if not preset.local:
            assert preset.key_env, preset.name
            assert preset.base_url.startswith("https://"), preset.name


def test_local_ports() -> None:
    assert PRESETS["llamacpp"].base_url == "http://localhost:8080/v1"
    assert PRESETS["lmstudio"].base_url == "http://localhost:1234/v1"
    assert PRESETS["ollama"].base_url == "http://localhost:11434/v1"
    assert PRESETS["huggingface"].base_url == "https://router.huggingface.co/v1"
    assert PRESETS["huggingface"].key_env == "HF_TOKEN"


def test_auth_header_styles() -> None:
    assert PRESETS["openai"].auth_header == "bearer"
    assert PRESETS["anthropic"].auth_header == "x-api-key"
    assert PRESETS["gemini"].auth_header == "x-goog-api-key"
    assert PRESETS["sarvam"].auth_header == "api-subscription-key"


def test_limit_hints_are_positive_or_absent() -> None:
    for preset in PRESETS.values():
        for hint in (preset.rpm, preset.tpm, preset.concurrency):
            assert hint is None or (isinstance(hint, int) and hint > 0), preset.name


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("llama.cpp", "llamacpp"),
        ("github", "github-models"),
        ("hf", "huggingface"),
        ("claude", "anthropic"),
        ("google", "gemini"),
        ("LLaMA.CPP", "llamacpp"),
        ("  HF ", "huggingface"),
        ("OpenAI", "openai"),
        ("github_models", "github-models"),
    ],
)
def test_aliases_resolve_case_insensitively(alias: str, name: str) -> None:
    preset = get_preset(alias)
    assert preset is not None
    assert preset.name == name
    assert canonical_name(alias) == name


def test_every_alias_points_at_a_preset() -> None:
    for alias, name in ALIASES.items():
        assert name in PRESETS, alias
        assert alias not in PRESETS, alias


def test_unknown_preset_is_none() -> None:
    assert get_preset("nope") is None
    assert get_preset("") is None
    assert canonical_name("offline") is None


def test_preset_stays_positional_and_frozen() -> None:
    preset = Preset("x", "https://x.test/v1", "X_KEY", "m", False)
    assert (preset.wire, preset.auth_header, preset.json_mode) == ("openai", "bearer", False)
    with pytest.raises(AttributeError):
        preset.model = "other"  # type: ignore[misc]


# --- the presets' default models in the price table ---------------------------------------------


def default_price(name: str) -> Price:
    return PriceTable().price(PRESETS[name].model, name)


def test_preset_prices_come_from_the_table() -> None:
    assert default_price("openai") == Price(0.15, 0.60)
    assert default_price("groq") == Price(0.05, 0.08)
    # OpenRouter's "openai/gpt-4o-mini" is priced as gpt-4o-mini
    assert default_price("openrouter").input == 0.15
    # Cerebras' own price, not another provider's for the same open model
    assert default_price("cerebras") == Price(0.35, 0.75)


def test_every_hosted_default_model_has_a_price_except_sarvam() -> None:
    table = PriceTable()
    for preset in PRESETS.values():
        if preset.local or preset.name == "sarvam":  # Sarvam bills INR credits
            continue
        assert table.lookup(preset.model, preset.name) is not None, preset.name


# --- price lookup ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("gpt-4o-mini", None, Price(0.15, 0.60)),
        ("gpt-4o", None, Price(2.50, 10.00)),
        ("gpt-4.1-nano", "openai", Price(0.10, 0.40)),
        ("GPT-4o-Mini", None, Price(0.15, 0.60)),
        ("gemini-2.5-flash", "gemini", Price(0.30, 2.50)),
        ("claude-haiku-4-5", "anthropic", Price(1.00, 5.00)),
        ("command-r7b-12-2024", "cohere", Price(0.0375, 0.15)),
        ("deepseek-chat", "deepseek", Price(0.14, 0.28)),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "together", Price(0.88, 0.88)),
    ],
)
def test_exact_lookup(model: str, provider: str | None, expected: Price) -> None:
    assert PriceTable().lookup(model, provider) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini-2024-07-18", Price(0.15, 0.60)),
        ("gpt-4o-2024-08-06", Price(2.50, 10.00)),
        ("gpt-4.1-mini-2025-04-14", Price(0.40, 1.60)),
        ("claude-haiku-4-5-20251001", Price(1.00, 5.00)),
        ("claude-3-5-haiku-latest", Price(0.80, 4.00)),
        ("gemini-2.5-flash-preview-09-2025", Price(0.30, 2.50)),
        ("gemini-2.5-flash-lite-preview-06-17", Price(0.10, 0.40)),
        ("command-r-08-2024", Price(0.15, 0.60)),
        ("command-r-plus-08-2024", Price(2.50, 10.00)),
        ("command-a-03-2025", Price(2.50, 10.00)),
    ],
)
def test_longest_prefix_lookup(model: str, expected: Price) -> None:
    assert PriceTable().lookup(model) == expected


def test_path_prefixes_are_stripped() -> None:
    table = PriceTable()
    assert table.lookup("models/gemini-2.5-flash") == Price(0.30, 2.50)
    assert table.lookup("openai/gpt-4o-mini", "openrouter") == Price(0.15, 0.60)
    assert table.lookup("openai/gpt-4o-mini", "github-models") == Price(0.15, 0.60)
    assert table.lookup("anthropic/claude-sonnet-4-5") == Price(3.00, 15.00)


def test_provider_qualified_keys_beat_the_bare_model() -> None:
    table = PriceTable()
    assert table.lookup("gpt-oss-120b", "cerebras") == Price(0.35, 0.75)
    assert table.lookup("gpt-oss-120b", "sambanova") == Price(0.22, 0.59)
    assert table.lookup("openai/gpt-oss-120b", "groq") == Price(0.15, 0.60)
    assert table.lookup("gpt-oss-120b") is None  # no provider: no guess among three prices


def test_prefix_needs_a_boundary() -> None:
    table = PriceTable()
    assert table.lookup("gpt-5.1") is None  # not gpt-5
    assert table.lookup("gpt-4omni") is None
    assert table.lookup("command-r7b") == Price(0.0375, 0.15)


def test_unknown_model_is_none_and_priced_free() -> None:
    table = PriceTable()
    assert table.lookup("totally-new-model") is None
    assert table.lookup("") is None
    assert table.price("totally-new-model", "openai") == FREE


@pytest.mark.parametrize(
    "provider", ["ollama", "vllm", "llamacpp", "lmstudio", "llama.cpp", "LMStudio"]
)
def test_local_providers_are_free_whatever_the_model(provider: str) -> None:
    table = PriceTable()
    assert table.price("gpt-4o", provider) == FREE
    assert table.lookup("llama3.2", provider) == FREE


def test_local_providers_honour_overrides() -> None:
    table = PriceTable({"ollama/llama3.2": Price(0.01, 0.02)})
    assert table.price("llama3.2", "ollama") == Price(0.01, 0.02)
    assert table.price("qwen3", "ollama") == FREE


def test_overrides_win() -> None:
    table = PriceTable({"gpt-4o-mini": Price(1.0, 2.0), "brand-new": Price(3.0, 4.0)})
    assert table.lookup("gpt-4o-mini") == Price(1.0, 2.0)
    assert table.lookup("GPT-4O-MINI") == Price(1.0, 2.0)
    # an override reaches dated snapshots through the prefix rule
    assert table.lookup("gpt-4o-mini-2024-07-18") == Price(1.0, 2.0)
    assert table.lookup("brand-new", "openai") == Price(3.0, 4.0)
    # a bare override also beats a provider-qualified default
    assert PriceTable({"gpt-oss-120b": Price(9, 9)}).lookup("gpt-oss-120b", "cerebras") == Price(
        9, 9
    )
    # the defaults themselves are untouched
    assert PriceTable().lookup("gpt-4o-mini") == Price(0.15, 0.60)


def test_exact_default_beats_an_override_prefix() -> None:
    table = PriceTable({"gpt-4o": Price(9.0, 9.0)})
    assert table.lookup("gpt-4o-mini") == Price(0.15, 0.60)
    assert table.lookup("gpt-4o-2024-08-06") == Price(9.0, 9.0)


def test_provider_qualified_override() -> None:
    table = PriceTable({"groq/llama-3.3-70b-versatile": Price(0.1, 0.2)})
    assert table.lookup("llama-3.3-70b-versatile", "groq") == Price(0.1, 0.2)
    assert table.lookup("llama-3.3-70b-versatile") == Price(0.59, 0.79)


def test_known_merges_overrides() -> None:
    known = PriceTable({"gpt-4o-mini": Price(1.0, 2.0), "mine": Price(0.5, 0.5)}).known()
    assert known["gpt-4o-mini"] == Price(1.0, 2.0)
    assert known["mine"] == Price(0.5, 0.5)
    assert known["gpt-4o"] == Price(2.50, 10.00)
    assert len(known) == len(DEFAULT_PRICES) + 1


# --- cost arithmetic ---------------------------------------------------------------------------


def test_cost_of_a_million_each_way() -> None:
    assert math.isclose(PriceTable().price("gpt-4o-mini").cost(1_000_000, 1_000_000), 0.75)


def test_cost_arithmetic() -> None:
    price = Price(2.50, 10.00)
    assert price.cost(0, 0) == 0.0
    assert math.isclose(price.cost(1_000, 500), (1_000 * 2.5 + 500 * 10) / 1e6)
    assert math.isclose(price.cost(2_000_000, 0), 5.0)
    assert FREE.cost(10**9, 10**9) == 0.0


def test_price_rejects_bad_numbers() -> None:
    with pytest.raises(ValueError):
        Price(-1.0, 0.0)
    with pytest.raises(ValueError):
        Price(0.0, math.inf)
    with pytest.raises(TypeError):
        Price("1", 0.0)  # type: ignore[arg-type]


def test_default_prices_are_sane() -> None:
    for model, price in DEFAULT_PRICES.items():
        assert model == model.strip() and model, model
        assert 0 <= price.input <= 100 and 0 <= price.output <= 200, model


# --- [prices] overrides ------------------------------------------------------------------------


def test_parse_both_shapes() -> None:
    parsed = parse_price_overrides(
        {
            "gpt-4o-mini": {"input": 0.15, "output": 0.6},
            "my-model": [1, 2.5],
            "groq/llama-3.1-8b-instant": (0, 0),
        }
    )
    assert parsed == {
        "gpt-4o-mini": Price(0.15, 0.6),
        "my-model": Price(1.0, 2.5),
        "groq/llama-3.1-8b-instant": FREE,
    }
    assert isinstance(parsed["my-model"].input, float)
    assert parse_price_overrides({}) == {}


def test_parsed_overrides_feed_the_table() -> None:
    table = PriceTable(parse_price_overrides({"gpt-4o-mini": [1, 1]}))
    assert math.isclose(table.price("gpt-4o-mini").cost(1_000_000, 1_000_000), 2.0)


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"input": -0.1, "output": 0.6}, "input must be a finite number >= 0"),
        ({"input": 0.1, "output": -1}, "output must be a finite number >= 0"),
        ([0.1, -2], "output must be a finite number >= 0"),
        ({"input": "cheap", "output": 0.6}, "input must be a number"),
        ([0.1, "0.2"], "output must be a number"),
        ({"input": True, "output": 0.6}, "input must be a number"),
        ({"input": None, "output": 0.6}, "input must be a number"),
        ({"input": math.nan, "output": 0.6}, "input must be a finite number"),
        ({"input": 0.1}, "missing output"),
        ({}, "missing input and output"),
        ({"input": 0.1, "output": 0.2, "cached": 0.01}, "unknown key(s) cached"),
        ([0.1], "exactly two numbers"),
        ([0.1, 0.2, 0.3], "exactly two numbers"),
        (0.15, "expected {input = ..., output = ...} or [input, output]"),
        ("0.15/0.6", "expected {input = ..., output = ...} or [input, output]"),
    ],
)
def test_parse_rejects_bad_entries_naming_the_model(entry: object, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_price_overrides({"gpt-4o-mini": entry})
    message = str(caught.value)
    assert message.startswith("[prices] gpt-4o-mini: ")
    assert fragment in message


def test_parse_rejects_a_bad_table_or_model_name() -> None:
    with pytest.raises(UsageError, match=r"^\[prices\] must be a table"):
        parse_price_overrides([("gpt-4o-mini", [1, 2])])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^\[prices\] '': a model name"):
        parse_price_overrides({"": [1, 2]})


def test_a_typed_concurrency_wins_over_the_preset_and_the_preset_over_the_default() -> None:
    from forge_cli.providers.settings import resolve_chain

    tables = {"work": ({"type": "vllm", "base_url": "http://127.0.0.1:9/v1"}, "forge.toml")}
    typed = {"concurrency": 16, "concurrency_set": True}
    (config,) = resolve_chain("work", tables=tables, environ={}, defaults=typed)
    assert config.concurrency == 16
    (config,) = resolve_chain("work", tables=tables, environ={}, defaults={"concurrency": 8})
    assert config.concurrency == PRESETS["vllm"].concurrency
    assert config.sources["concurrency"] == "preset vllm"

"""Provider types: registered through the API or installed through the ``forge.providers`` entry
point group, validated as the ``type`` setting and built by ``build_provider``."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import orjson
import pytest

from conftest import forge
from forge_cli.core import plugins
from forge_cli.core.calls import Completion, PackItem, PackRequest
from forge_cli.core.errors import UsageError
from forge_cli.providers import registry
from forge_cli.providers.base import Provider
from forge_cli.providers.catalog.presets_table import PRESETS
from forge_cli.providers.config import ProviderConfig
from forge_cli.providers.registry import (
    BUILTIN,
    ProviderType,
    build_provider,
    provider_names,
    provider_type,
    register_provider,
)
from forge_cli.providers.settings import resolve_chain


class EchoProvider:
    """Answers with the pack's texts: the smallest thing that is a Provider."""

    cacheable = False
    price_in = 0.0
    price_out = 0.0

    def __init__(self, name: str, model: str, key: str | None) -> None:
        self.name, self.model, self.key = name, model, key

    async def complete(self, request: PackRequest) -> Completion:
        content = " | ".join(item.text for item in request.items)
        return Completion(content=content, tokens_in=1, tokens_out=1, model=self.model)

    async def aclose(self) -> None:
        return None


def echo(config: ProviderConfig, key: str | None) -> Provider:
    return EchoProvider(config.name, config.model or "echo-1", key)


@pytest.fixture(autouse=True)
def forget_registrations() -> Iterator[None]:
    yield
    for name in ("echo", "openai"):
        registry._registered.pop(name, None)


def answer(provider: Provider, *texts: str) -> str:
    request = PackRequest(messages=[], items=[PackItem(f"T{n}", t) for n, t in enumerate(texts)])
    return asyncio.run(provider.complete(request)).content


def test_a_registered_type_is_a_type_setting_and_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    register_provider("echo", echo)
    monkeypatch.setenv("ECHO_KEY", "k-1")
    table = {
        "type": "echo",
        "base_url": "http://echo.test/v1",
        "api_key_env": "ECHO_KEY",
        "price_in": 1.5,
    }
    [config] = resolve_chain("work", tables={"work": (table, "forge.toml")}, environ={})
    assert (config.wire, config.preset, config.base_url) == ("echo", "echo", "http://echo.test/v1")
    assert config.sources["wire"] == "provider type echo"
    provider = build_provider(config)
    assert isinstance(provider, EchoProvider)
    # build_provider read the key and applied the price, as for any remote type
    assert (provider.name, provider.key, provider.price_in, provider.price_out) == (
        "work",
        "k-1",
        1.5,
        0.0,
    )
    assert answer(provider, "a", "b") == "a | b"


def test_a_remote_type_still_needs_its_key_and_url(monkeypatch: pytest.MonkeyPatch) -> None:
    register_provider("echo", echo)
    table = {"type": "echo", "api_key_env": "ECHO_KEY"}
    [config] = resolve_chain("work", tables={"work": (table, "forge.toml")}, environ={})
    with pytest.raises(UsageError, match="is not an http"):
        build_provider(config)
    config.base_url = "http://echo.test/v1"
    with pytest.raises(registry.MissingKeyError, match="ECHO_KEY"):
        build_provider(config)


def test_a_local_type_needs_no_url_and_no_key() -> None:
    register_provider("echo", echo, remote=False)
    [config] = resolve_chain("echo", environ={})
    provider = build_provider(config)
    assert isinstance(provider, EchoProvider) and provider.key is None
    assert answer(provider, "x") == "x"


def test_a_registered_type_replaces_a_built_in_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    register_provider("openai", echo)
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test")
    [config] = resolve_chain("groq", environ={})
    assert isinstance(build_provider(config), EchoProvider)


def test_type_names_are_checked() -> None:
    for bad in ("", " echo", "a.b", "x/y"):
        with pytest.raises(ValueError, match="letters, digits"):
            register_provider(bad, echo)


def test_an_unknown_type_setting_names_the_valid_ones() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_chain("work", tables={"work": ({"type": "nosuch"}, "forge.toml")}, environ={})
    message = str(caught.value)
    assert "[providers.work] type: 'nosuch' is neither a preset (openai, groq," in message
    assert "nor a provider type (anthropic, cohere, gemini, local, offline, openai)" in message


def test_every_preset_speaks_a_built_in_type() -> None:
    for preset in PRESETS.values():
        assert preset.wire in BUILTIN, preset.name
        kind = provider_type(preset.wire)
        assert kind is not None and kind.remote and callable(kind.factory)


def test_built_in_names_never_read_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(group: str) -> list[EntryPoint]:
        raise AssertionError("entry points were read for a built-in provider")

    monkeypatch.setattr(plugins, "entry_points", forbidden)
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test")
    tables = {"work": ({"type": "vllm", "base_url": "http://127.0.0.1:9/v1"}, "forge.toml")}
    chain = resolve_chain("groq,work,offline", tables=tables, environ={})
    assert [build_provider(c).name for c in chain] == ["groq", "work", "offline"]


#: what a plugin package holds: a factory, and a ProviderType for a local one
PLUGIN = textwrap.dedent(
    """
    from forge_cli.core.calls import Completion
    from forge_cli.providers.registry import ProviderType


    class Upper:
        cacheable = False
        price_in = price_out = 0.0

        def __init__(self, name, model):
            self.name, self.model = name, model

        async def complete(self, request):
            text = " ".join(item.text for item in request.items).upper()
            return Completion(content=text, tokens_in=1, tokens_out=1, model=self.model)

        async def aclose(self):
            return None


    def build(config, key):
        return Upper(config.name, config.model or "upper-1")


    LOCAL = ProviderType("ignored", build, remote=False)
    NOT_A_FACTORY = 42
    """
)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "forge_upper_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))


def entry_points(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    points = [EntryPoint(name, value, plugins.PROVIDERS) for name, value in values.items()]
    monkeypatch.setattr(
        plugins, "entry_points", lambda group: points if group == plugins.PROVIDERS else []
    )


def test_a_type_from_an_entry_point(plugin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    entry_points(
        monkeypatch, upper="forge_upper_plugin:build", upper_local="forge_upper_plugin:LOCAL"
    )
    table = {"type": "upper", "base_url": "http://upper.test/v1", "model": "u-2"}
    [config] = resolve_chain("mine", tables={"mine": (table, "forge.toml")}, environ={})
    assert answer(build_provider(config), "shout") == "SHOUT"
    assert {"upper", "upper_local"} <= set(provider_names())

    kind = provider_type("upper_local")
    assert kind is not None and (kind.name, kind.remote) == ("upper_local", False)
    [config] = resolve_chain("upper_local", environ={})
    assert answer(build_provider(config), "quiet") == "QUIET"


def test_a_broken_entry_point_is_a_usage_error(
    plugin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_points(
        monkeypatch, gone="forge_no_such_plugin:build", odd="forge_upper_plugin:NOT_A_FACTORY"
    )
    with pytest.raises(UsageError, match=r"'gone' \(forge_no_such_plugin:build.*failed to load"):
        provider_type("gone")
    with pytest.raises(UsageError, match="neither a factory nor a type"):
        provider_type("odd")
    assert provider_type("absent") is None


def test_an_installed_plugin_shows_in_providers_list(plugin: None, tmp_path: Path) -> None:
    """A real (if tiny) installed distribution: importlib.metadata finds it on sys.path."""
    dist = tmp_path / "forge_upper-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: forge-upper\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{plugins.PROVIDERS}]\nupper = forge_upper_plugin:build\n"
    )
    run = forge("providers", "list", "--provider", "upper", "--json")
    assert run.exit_code == 0, run.stderr
    [member] = orjson.loads(run.stdout)["providers"]
    assert member["settings"]["wire"] == {"value": "upper", "source": "provider type upper"}


def test_provider_type_is_frozen() -> None:
    kind = ProviderType("x", echo)
    with pytest.raises(AttributeError):
        kind.name = "y"  # type: ignore[misc]

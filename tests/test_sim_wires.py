"""The simulator's wire registry: every dialect by name, for ``FakeUpstream`` and ``--wire``."""

from __future__ import annotations

import pytest

from forge_cli.testing.sim.openai_wire import OpenAIWire
from forge_cli.testing.sim.registry import DEFAULT_WIRE, make_wire, register, wire_names
from forge_cli.testing.sim.server import FakeUpstream
from forge_cli.testing.sim.upstream import _parse_args

# -- the registry ------------------------------------------------------------------------------


def test_every_wire_is_registered_by_its_own_name() -> None:
    assert wire_names() == ("openai", "gemini", "anthropic", "cohere")
    assert wire_names()[0] == DEFAULT_WIRE
    for name in wire_names():
        assert make_wire(name).name == name


def test_an_unknown_wire_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="openai, gemini, anthropic, cohere"):
        make_wire("grpc")
    with pytest.raises(ValueError, match="already registered"):
        register("openai", OpenAIWire.seeded)


def test_the_openai_fingerprint_follows_the_seed() -> None:
    first, again, other = (make_wire("openai", seed) for seed in (1, 1, 2))
    assert isinstance(first, OpenAIWire) and isinstance(again, OpenAIWire)
    assert isinstance(other, OpenAIWire)
    assert first.fingerprint == again.fingerprint != other.fingerprint
    default = FakeUpstream(seed=1).wire
    assert isinstance(default, OpenAIWire) and default.fingerprint == first.fingerprint


@pytest.mark.parametrize("name", ["gemini", "anthropic", "cohere"])
def test_fake_upstream_takes_a_wire_by_name(name: str) -> None:
    with FakeUpstream(wire=name) as upstream:
        assert upstream.wire.name == name
        assert upstream.base_url.endswith(upstream.wire.base_path)


def test_the_command_line_offers_the_registered_wires() -> None:
    assert _parse_args(["--wire", "cohere"]).wire == "cohere"
    assert _parse_args([]).wire == DEFAULT_WIRE
    with pytest.raises(SystemExit):
        _parse_args(["--wire", "grpc"])

"""Every wire the simulator speaks, by name: the one place a new dialect is registered.

Adding a wire is its module plus one ``register`` line below; ``FakeUpstream(wire="name")`` and
the command line's ``--wire`` choices both read this table, so neither needs editing.
"""

from __future__ import annotations

from collections.abc import Callable

from forge_cli.testing.sim.anthropic_wire import AnthropicWire
from forge_cli.testing.sim.cohere_wire import CohereWire
from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.openai_wire import OpenAIWire
from forge_cli.testing.sim.wire import Wire

__all__ = ["DEFAULT_WIRE", "WireFactory", "make_wire", "register", "wire_names"]

#: builds a wire for one simulator; called with its seed, so a wire's fixed values (OpenAI's
#: ``system_fingerprint``) can follow the seed as everything else random does
WireFactory = Callable[[int], Wire]

#: what the simulator speaks unless told otherwise: the dialect most providers share
DEFAULT_WIRE = "openai"

_FACTORIES: dict[str, WireFactory] = {}


def register(name: str, factory: WireFactory) -> None:
    """Make ``name`` a wire the simulator can speak; a name is registered once."""
    if name in _FACTORIES:
        raise ValueError(f"a wire named {name!r} is already registered")
    _FACTORIES[name] = factory


def wire_names() -> tuple[str, ...]:
    """The registered names, in registration order (the default first)."""
    return tuple(_FACTORIES)


def make_wire(name: str, seed: int = 0) -> Wire:
    """A fresh wire of that name; ValueError naming the known ones for any other."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(_FACTORIES)
        raise ValueError(f"unknown wire {name!r}; expected one of: {known}") from None
    return factory(seed)


register("openai", OpenAIWire.seeded)
register("gemini", lambda seed: GeminiWire())
register("anthropic", lambda seed: AnthropicWire())
register("cohere", lambda seed: CohereWire())

"""Which provider of a chain a pack tries first, and in what order it falls back.

A router only orders; the chain does the calling, skipping dropped providers and open breakers.
Strategies are small objects behind one method, so a new one is a class here and a name in
``ROUTERS``:

- ``ordered``: the chain as written; the next provider only when the previous one fails.
- ``cheapest``: by what this pack would cost at each provider's prices.
- ``fastest``: by each provider's recent latency (EWMA); a provider not yet measured goes first
  once, so every provider gets measured.
- ``balanced``: a weighted spread (smooth weighted round-robin, as nginx does it), across
  providers or across several keys of one provider; the rest of the chain stays the fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from forge_cli.engine.calling.member import Member

__all__ = ["ROUTERS", "Balanced", "Cheapest", "Fastest", "Ordered", "Router", "make_router"]


class Router(Protocol):
    name: str

    def order(self, members: Sequence[Member], tokens: tuple[int, int]) -> list[Member]:
        """The members (all of them, in the order to try) for a pack of (input, output) tokens."""
        ...


class Ordered:
    name = "ordered"

    def order(self, members: Sequence[Member], tokens: tuple[int, int]) -> list[Member]:
        return list(members)


def _baselines_last(members: Sequence[Member]) -> list[Member]:
    """The offline baseline costs nothing and answers at once: it would win every price and speed
    contest, so the strategies rank real providers and keep it as the last resort."""
    return [m for m in members if not m.baseline] + [m for m in members if m.baseline]


class Cheapest:
    name = "cheapest"

    def order(self, members: Sequence[Member], tokens: tuple[int, int]) -> list[Member]:
        # stable: equal prices keep the chain's order
        return _baselines_last(sorted(members, key=lambda m: m.cost_of(*tokens)))


class Fastest:
    name = "fastest"

    def order(self, members: Sequence[Member], tokens: tuple[int, int]) -> list[Member]:
        ranked = sorted(
            members, key=lambda m: m.latency.value if m.latency.value is not None else -1
        )
        return _baselines_last(ranked)


class Balanced:
    """Smooth weighted round-robin: weights 3:1 give A A B A, A A B A, ... never A A A B."""

    name = "balanced"

    def __init__(self) -> None:
        self._current: dict[str, float] = {}

    def order(self, members: Sequence[Member], tokens: tuple[int, int]) -> list[Member]:
        usable = [m for m in members if m.usable() and not m.baseline]
        if not usable:
            return _baselines_last(members)
        total = sum(m.weight for m in usable)
        best: Member | None = None
        for member in usable:
            value = self._current.get(member.name, 0.0) + member.weight
            self._current[member.name] = value
            if best is None or value > self._current[best.name]:
                best = member
        assert best is not None
        self._current[best.name] -= total
        return [best, *_baselines_last([m for m in members if m is not best])]


ROUTERS: dict[str, type[Router]] = {r.name: r for r in (Ordered, Cheapest, Fastest, Balanced)}


def make_router(name: str) -> Router:
    try:
        return ROUTERS[name]()
    except KeyError:
        raise ValueError(f"unknown routing {name!r}; choose one of: {', '.join(ROUTERS)}") from None

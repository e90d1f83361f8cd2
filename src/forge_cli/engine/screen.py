"""What answers a record before any call: the first stage of a cascade.

A screen (a trained local model, in practice) sees each chunk of records as it is read and answers
the ones it is sure of; the engine writes those at once, like cache hits, and sends only the rest to
the chain. The engine knows nothing of how the screen decides: it gets result columns, a hint to
append to the text the chain will see (what the screen would have said), or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from forge_cli.core.models import Failure, Item

__all__ = ["Screen", "screen_chunk"]


class Screen(Protocol):
    #: the provider and model columns of what the screen answers
    name: str
    model: str

    def answer(self, texts: Sequence[str]) -> list[dict[str, Any] | str | None]:
        """Per text: its result columns when the screen is sure; else a hint for the chain (a
        str appended to the text) or None (the chain answers the text as it is)."""
        ...


def screen_chunk(
    screen: Screen | None, chunk: Sequence[Item | Failure]
) -> list[dict[str, Any] | str | None]:
    """The screen's answer (or None) for each record of a chunk, in order; no screen: all None."""
    if screen is None:
        return [None] * len(chunk)
    items = [(n, r) for n, r in enumerate(chunk) if isinstance(r, Item)]
    out: list[dict[str, Any] | str | None] = [None] * len(chunk)
    if items:
        for (n, _), row in zip(items, screen.answer([r.text for _, r in items]), strict=True):
            out[n] = row
    return out

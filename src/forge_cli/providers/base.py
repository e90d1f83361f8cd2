"""The one small interface every provider implements.

A provider turns a ``PackRequest`` (chat messages plus the pack's items) into a ``Completion`` (the raw
text of the answer and the tokens it cost), or raises one of the errors in ``forge_cli.core.errors``. It
knows one wire format and nothing about tasks, packs or retries: the engine owns those.
"""

from __future__ import annotations

from typing import Protocol

from forge_cli.core.calls import Completion, PackRequest


class Provider(Protocol):
    """A model behind one wire format."""

    name: str
    model: str
    #: False for providers whose answers cost nothing and are faster to recompute than to look up
    cacheable: bool
    #: US dollars per 1M input / output tokens (0 when unknown or free)
    price_in: float
    price_out: float

    async def complete(self, request: PackRequest) -> Completion: ...

    async def aclose(self) -> None: ...

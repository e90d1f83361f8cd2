"""The built-in offline provider: no key, no network, deterministic.

It answers with the task's own rule (for tickets, a keyword baseline) in the same JSON a model would
give, so the whole pipeline (packing, parsing, sinks) runs exactly as with a real provider. Its answers
cost nothing and are faster to recompute than to look up, so they bypass the cache.
"""

from __future__ import annotations

from forge_cli.core.calls import Completion, PackRequest
from forge_cli.core.text import estimate_tokens


class OfflineProvider:
    name = "offline"
    cacheable = False
    price_in = 0.0
    price_out = 0.0

    def __init__(self, model: str = "keywords-v1") -> None:
        self.model = model

    async def complete(self, request: PackRequest) -> Completion:
        content = request.offline(request.items)
        tokens_in = sum(estimate_tokens(m["content"]) for m in request.messages)
        return Completion(
            content=content,
            tokens_in=tokens_in,
            tokens_out=estimate_tokens(content),
            model=self.model,
        )

    async def aclose(self) -> None:
        return None

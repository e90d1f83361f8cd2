"""The built-in offline provider: no key, no network, deterministic.

It answers with the task's own rule (for tickets, a keyword baseline) in the same JSON a model would
give, so the whole pipeline (packing, parsing, sinks) runs exactly as with a real provider. The rule is
handed over when a run is assembled (``use_rule``), not carried in each request: the provider
interface stays free of tasks. Its answers cost nothing and are faster to recompute than to look up,
so they bypass the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from forge_cli.core.calls import Completion, PackItem, PackRequest
from forge_cli.core.errors import RequestError
from forge_cli.core.text import estimate_tokens

#: a task's deterministic rule: the pack's items in, the JSON answer a model would give out
Rule = Callable[[Sequence[PackItem]], str]


class OfflineProvider:
    name = "offline"
    cacheable = False
    price_in = 0.0
    price_out = 0.0

    def __init__(self, model: str = "keywords-v1", rule: Rule | None = None) -> None:
        self.model = model
        self.rule = rule

    def use_rule(self, rule: Rule) -> None:
        """Answer with this task's rule from now on."""
        self.rule = rule

    async def complete(self, request: PackRequest) -> Completion:
        if self.rule is None:
            raise RequestError("this task has no offline rule: choose a model with --provider")
        content = self.rule(request.items)
        tokens_in = sum(estimate_tokens(m["content"]) for m in request.messages)
        return Completion(
            content=content,
            tokens_in=tokens_in,
            tokens_out=estimate_tokens(content),
            model=self.model,
        )

    async def aclose(self) -> None:
        return None

"""A model trained with ``forge train``, as a provider: ``--provider local:tickets.model.json``.

Like ``offline`` it runs on this machine, costs nothing and answers in the JSON a model would, so
packing, parsing and the output files work unchanged. Its label fields come from the model, with each
field's calibrated probability as its confidence; fields it was not trained for (a free-text summary)
come from the rule the run binds (``use_rule``), as the offline provider's do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from forge_cli.core.calls import Completion, PackItem, PackRequest
from forge_cli.core.errors import UsageError
from forge_cli.core.text import estimate_tokens
from forge_cli.learn.model import LocalModel
from forge_cli.learn.modelfile import load_model
from forge_cli.providers.config import ProviderConfig

__all__ = ["LOCAL", "LocalModelProvider"]

LOCAL = "local"
#: the rest of an item's answer (fields the model has no classifier for), from the run's task
Fill = Callable[[str], dict[str, Any]]


class LocalModelProvider:
    cacheable = False
    price_in = 0.0
    price_out = 0.0
    #: no prompt, no token limit: the largest packs the engine makes are the fastest
    pack_size = 200
    promptless = True

    def __init__(self, model: LocalModel, *, name: str = LOCAL, path: str = "") -> None:
        self.name = name
        self.model = path or "local-model"
        self.local = model
        self._fill: Fill | None = None
        self._fields: list[str] = [f.name for f in model.fields]

    @classmethod
    def from_config(cls, config: ProviderConfig, key: str | None) -> LocalModelProvider:
        if not config.model or config.model == "local-model":
            raise UsageError(
                f"{config.name}: name the model file: --provider {config.name}:PATH "
                "(make one with forge train)"
            )
        return cls(load_model(Path(config.model)), name=config.name, path=config.model)

    def use_rule(self, fill: Fill, fields: Sequence[str] | None = None) -> None:
        """Answer only ``fields`` of the model (the run's label fields), the rest with ``fill``."""
        self._fill = fill
        if fields is not None:
            self._fields = list(fields)

    async def complete(self, request: PackRequest) -> Completion:
        content, confidences = self.answer(request.items)
        tokens_in = sum(estimate_tokens(m["content"]) for m in request.messages)
        return Completion(
            content=content,
            tokens_in=tokens_in,
            tokens_out=estimate_tokens(content),
            model=self.model,
            confidences=confidences,
        )

    def answer(self, items: Sequence[PackItem]) -> tuple[str, dict[str, dict[str, float]]]:
        """The pack's answer as JSON, and each item's confidence per field."""
        prediction = self.local.predict([it.text for it in items])
        results: list[dict[str, Any]] = []
        confidences: dict[str, dict[str, float]] = {}
        for n, item in enumerate(items):
            entry: dict[str, Any] = {"id": item.id}
            if self._fill is not None:
                entry.update(self._fill(item.text))
            for name in self._fields:
                entry[name] = prediction.labels[name][n]
            results.append(entry)
            confidences[item.id] = {
                name: round(float(prediction.confidence[name][n]), 4) for name in self._fields
            }
        return orjson.dumps({"results": results}).decode(), confidences

    async def aclose(self) -> None:
        return None

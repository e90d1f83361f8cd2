"""Model prices in US dollars per 1M input / output tokens, for cost estimates only.

The defaults are the list prices in ``price_table``. Prices drift and providers rename models, so
every figure is overridable: the ``[prices]`` table of ``forge.toml`` (see ``parse_price_overrides``)
and ``--price-in`` / ``--price-out`` win over the defaults.

Lookup (``PriceTable.lookup``) is case-insensitive and tries, in order:

1. exact keys, overrides before defaults; within a table a ``provider/model`` key beats the bare
   model, and a model given with an organisation or path prefix (``openai/gpt-4o-mini`` on
   OpenRouter, ``models/gemini-2.5-flash`` from Gemini's model list) is also tried without it;
2. the longest known key that is a prefix of the model at a ``-``, ``:``, ``@`` or ``_`` boundary,
   so dated snapshots and tags resolve (``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``,
   ``claude-haiku-4-5-20251001`` → ``claude-haiku-4-5``) while ``gpt-5.1`` does not silently take
   the price of ``gpt-5``.

Local servers (``presets.LOCAL_PROVIDERS``) cost nothing whatever the model, unless an override
says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from forge_cli.core.errors import UsageError
from forge_cli.providers.catalog.presets import LOCAL_PROVIDERS, canonical_name
from forge_cli.providers.catalog.price_table import LIST_PRICES

# characters that may follow a known key for it to count as a prefix of a longer model name
_PREFIX_BOUNDARIES = frozenset("-:@_")


@dataclass(frozen=True, slots=True)
class Price:
    """A model's list price: US dollars per 1M input tokens and per 1M output tokens."""

    input: float
    output: float

    def __post_init__(self) -> None:
        for side, value in (("input", self.input), ("output", self.output)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{side} price must be a number, not {type(value).__name__}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{side} price must be a finite number >= 0, not {value!r}")

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """Dollars for ``tokens_in`` prompt tokens and ``tokens_out`` completion tokens."""
        return (tokens_in * self.input + tokens_out * self.output) / 1_000_000


FREE = Price(0.0, 0.0)

#: the list prices of ``price_table`` (each checked by ``Price`` as the module loads)
DEFAULT_PRICES: dict[str, Price] = {
    model: Price(price_in, price_out) for model, (price_in, price_out) in LIST_PRICES.items()
}


def _canonical_provider(provider: str | None) -> str | None:
    if provider is None or not provider.strip():
        return None
    return canonical_name(provider) or provider.strip().lower()


def _lowered(table: Mapping[str, Price]) -> dict[str, Price]:
    return {key.strip().lower(): price for key, price in table.items()}


def _candidates(model: str, provider: str | None) -> list[str]:
    """The keys a model may be known under, most specific first, lower-cased."""
    bare = [model.lower()]
    if bare[0].startswith("models/"):
        bare.append(bare[0].removeprefix("models/"))
    if "/" in bare[-1]:
        bare.append(bare[-1].rsplit("/", 1)[1])
    qualified = [f"{provider}/{name}" for name in bare] if provider else []
    return list(dict.fromkeys([*qualified, *bare]))


def _is_prefix(key: str, model: str) -> bool:
    return len(model) > len(key) and model.startswith(key) and model[len(key)] in _PREFIX_BOUNDARIES


class PriceTable:
    """The default prices with a user's overrides on top."""

    def __init__(self, overrides: Mapping[str, Price] | None = None) -> None:
        self._overrides: dict[str, Price] = dict(overrides or {})
        self._override_index = _lowered(self._overrides)
        self._default_index = _lowered(DEFAULT_PRICES)

    def lookup(self, model: str, provider: str | None = None) -> Price | None:
        """The price of ``model`` (served by ``provider``), or None when it is not known."""
        name = model.strip()
        prov = _canonical_provider(provider)
        local = prov in LOCAL_PROVIDERS
        if not name:
            return FREE if local else None
        candidates = _candidates(name, prov)
        tables = [self._override_index] if local else [self._override_index, self._default_index]
        for table in tables:
            for key in candidates:
                if key in table:
                    return table[key]
        for table in tables:
            found = _longest_prefix(table, candidates)
            if found is not None:
                return found
        return FREE if local else None

    def price(self, model: str, provider: str | None = None) -> Price:
        """``lookup``, or ``FREE`` when the model is unknown (so a cost estimate shows $0)."""
        return self.lookup(model, provider) or FREE

    def known(self) -> dict[str, Price]:
        """Every priced model: the defaults with the overrides applied."""
        merged: dict[str, tuple[str, Price]] = {}
        for key, price in (*DEFAULT_PRICES.items(), *self._overrides.items()):
            merged[key.strip().lower()] = (key, price)
        return dict(merged.values())


def _longest_prefix(table: Mapping[str, Price], candidates: Iterable[str]) -> Price | None:
    best: tuple[int, Price] | None = None
    for model in candidates:
        for key, price in table.items():
            if _is_prefix(key, model) and (best is None or len(key) > best[0]):
                best = (len(key), price)
    return best[1] if best else None


def _number(model: str, side: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(
            f"[prices] {model}: {side} must be a number of US dollars per 1M tokens, not {value!r}"
        )
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise UsageError(f"[prices] {model}: {side} must be a finite number >= 0, not {value!r}")
    return number


def _parse_entry(model: str, entry: object) -> Price:
    if isinstance(entry, Mapping):
        unknown = sorted(str(key) for key in entry if key not in ("input", "output"))
        if unknown:
            raise UsageError(
                f"[prices] {model}: unknown key(s) {', '.join(unknown)}; "
                "expected {input = ..., output = ...}"
            )
        missing = [side for side in ("input", "output") if side not in entry]
        if missing:
            raise UsageError(f"[prices] {model}: missing {' and '.join(missing)}")
        return Price(
            _number(model, "input", entry["input"]), _number(model, "output", entry["output"])
        )
    if isinstance(entry, list | tuple):
        if len(entry) != 2:
            raise UsageError(
                f"[prices] {model}: a list must hold exactly two numbers [input, output], "
                f"not {len(entry)}"
            )
        return Price(_number(model, "input", entry[0]), _number(model, "output", entry[1]))
    raise UsageError(
        f"[prices] {model}: expected {{input = ..., output = ...}} or [input, output] "
        f"in US dollars per 1M tokens, not {entry!r}"
    )


def parse_price_overrides(table: Mapping[str, object]) -> dict[str, Price]:
    """Read ``forge.toml``'s ``[prices]`` table into prices, keyed by model as written.

    Each entry is ``"model" = {input = 0.15, output = 0.6}`` or ``"model" = [0.15, 0.6]`` (US dollars
    per 1M tokens); a key may be ``provider/model`` to price a model on one provider only. A bad
    entry raises ``UsageError`` naming the model.
    """
    if not isinstance(table, Mapping):
        raise UsageError(
            f"[prices] must be a table of model = {{input = ..., output = ...}}, not {table!r}"
        )
    prices: dict[str, Price] = {}
    for model, entry in table.items():
        if not isinstance(model, str) or not model.strip():
            raise UsageError(f"[prices] {model!r}: a model name must be a non-empty string")
        prices[model.strip()] = _parse_entry(model.strip(), entry)
    return prices

"""What the answers cost: calls, tokens, dollars and latency per record.

A results file carries, per row, the provider and model that answered, the tokens its share of the
call used, the call's latency and whether it came from the cache; a run of a variant has the engine's
own figures, which also count calls that failed. Cost is given only when every answer's price is
known: a figure that silently counts an unknown model as free would make it look cheapest.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from forge_cli.app.assemble import chain_configs, price_table
from forge_cli.app.settings import RunSettings
from forge_cli.core.errors import ForgeError
from forge_cli.engine.stats import RunStats
from forge_cli.providers.catalog.prices import FREE, Price
from forge_cli.providers.config import ProviderConfig
from forge_cli.providers.settings import resolve_chain

__all__ = ["Pricer", "Usage", "chain_priced", "row_pricer", "usage_of_rows", "usage_of_run"]

#: (provider, model) of a results row -> its price, None when not known
Pricer = Callable[[str, str], Price | None]


@dataclass(frozen=True, slots=True)
class Usage:
    """The cost side of one set of answers, over ``records`` gold records."""

    records: int
    #: provider calls (None: a results file does not say)
    calls: int | None
    tokens_in: int
    tokens_out: int
    #: dollars; None when a price is not known
    cost: float | None
    #: median latency of the calls that answered (cache hits left out); None when there were none
    latency_p50_ms: float | None
    cache_hits: int

    @property
    def tokens_per_record(self) -> float:
        return (self.tokens_in + self.tokens_out) / self.records if self.records else 0.0

    @property
    def cost_per_record(self) -> float | None:
        if self.cost is None:
            return None
        return self.cost / self.records if self.records else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "calls": self.calls,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_per_record": round(self.tokens_per_record, 2),
            "cost_usd": None if self.cost is None else round(self.cost, 6),
            "cost_per_record_usd": _rounded(self.cost_per_record),
            "latency_p50_ms": _rounded(self.latency_p50_ms, 1),
            "cache_hits": self.cache_hits,
        }


def usage_of_rows(
    rows: Iterable[Mapping[str, Any]], records: int, price: Pricer
) -> tuple[Usage, list[str]]:
    """Figures from results rows; notes name the models whose price is unknown."""
    tokens_in = tokens_out = hits = 0
    cost: float | None = 0.0
    latencies: list[float] = []
    unpriced: set[str] = set()
    for row in rows:
        row_in, row_out = _int(row.get("tokens_in")), _int(row.get("tokens_out"))
        tokens_in += row_in
        tokens_out += row_out
        if _bool(row.get("cache_hit")):
            hits += 1
        else:
            latency = _float(row.get("latency_ms"))
            if latency is not None:
                latencies.append(latency)
        if row_in or row_out:
            provider, model = str(row.get("provider") or ""), str(row.get("model") or "")
            known = price(provider, model)
            if known is None:
                unpriced.add(f"{provider}/{model}" if provider else model or "?")
            elif cost is not None:
                cost += known.cost(row_in, row_out)
    notes = []
    if unpriced:
        cost = None
        notes.append(f"no price known for {', '.join(sorted(unpriced))}: cost not shown")
    usage = Usage(records, None, tokens_in, tokens_out, cost, _median(latencies), hits)
    return usage, notes


def usage_of_run(
    stats: RunStats, rows: Iterable[Mapping[str, Any]], records: int, *, priced: bool
) -> Usage:
    """Figures of a run the engine made: its calls, tokens and cost, latency from its rows."""
    latencies = []
    for row in rows:
        if not _bool(row.get("cache_hit")):
            latency = _float(row.get("latency_ms"))
            if latency is not None:
                latencies.append(latency)
    return Usage(
        records=records,
        calls=stats.calls,
        tokens_in=stats.tokens_in,
        tokens_out=stats.tokens_out,
        cost=stats.cost if priced else None,
        latency_p50_ms=_median(latencies),
        cache_hits=stats.cached,
    )


def chain_priced(settings: RunSettings) -> bool:
    """Whether every provider of the settings' chain has a known price."""
    table = price_table(settings)
    return all(
        _config_price(config, "", table.lookup) is not None for config in chain_configs(settings)
    )


def row_pricer(settings: RunSettings) -> Pricer:
    """Prices for the (provider, model) of results rows, as a run with these settings prices them.

    A row names the chain member that answered (``groq``, ``groq#2``, a ``[providers.NAME]``
    table); the table's type, prices and the ``[prices]`` overrides apply as they did in the run.
    """
    table = price_table(settings)

    @functools.cache
    def price(provider: str, model: str) -> Price | None:
        name = provider.split("#", 1)[0].strip().lower()
        if not name:
            return table.lookup(model) if model else None
        try:
            configs = resolve_chain(name, tables=settings.provider_tables)
        except ForgeError:
            return table.lookup(model, name) if model else None
        return _config_price(configs[0], model, table.lookup) if configs else None

    return price


def _config_price(
    config: ProviderConfig, model: str, lookup: Callable[[str, str | None], Price | None]
) -> Price | None:
    if config.offline:
        return FREE
    if config.price_in is not None and config.price_out is not None:
        return Price(config.price_in, config.price_out)
    return lookup(model or config.model, config.preset)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _rounded(value: float | None, digits: int = 8) -> float | None:
    return None if value is None else round(value, digits)


def _int(value: Any) -> int:
    number = _float(value)
    return int(number) if number is not None else 0


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)

"""``forge providers list`` and ``forge providers check``: the providers forge knows, what a chain
resolves to (every setting with its source), and whether each member of the chain really answers.

Keys are never shown: only the name of their variable and whether it is set.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from forge_cli.app import config_files
from forge_cli.app.assemble import chain_configs, price_table
from forge_cli.app.settings import ProvidersSettings
from forge_cli.core import errors
from forge_cli.core.calls import PackItem
from forge_cli.core.text import mask_url
from forge_cli.providers.base import Provider
from forge_cli.providers.catalog.presets_table import PRESETS
from forge_cli.providers.catalog.prices import PriceTable
from forge_cli.providers.config import OFFLINE, ProviderConfig
from forge_cli.providers.offline import OfflineProvider
from forge_cli.providers.registry import MissingKeyError, build_provider
from forge_cli.providers.settings import resolve_chain
from forge_cli.tasks.classify.task import TicketTask

EXIT_OK, EXIT_FAILED = 0, 1
#: the rows of ``providers list`` for one member of a chain
ROWS: tuple[str, ...] = ("preset", "wire", "model", "base_url", "api_key_env", "json_mode")
ROWS += ("json_schema", "pack_schema", "pack", "timeout", "concurrency", "rpm", "tpm", "weight")
PRICE_ROWS = ("price_in", "price_out")
OFFLINE_ROWS = ("preset", "wire", "model", "api_key_env")
#: the columns of the overview, in order
KNOWN_FIELDS = ("wire", "model", "base_url", "api_key_env")
#: what an answered-but-failed call says about the model
MODEL_VERDICTS = (
    (errors.NotFoundError, "not found"),
    (errors.RequestError, "rejected"),
    (errors.InvalidResponseError, "bad answer"),
)


def _files_line(settings: ProvidersSettings) -> str:
    if settings.config_files:
        return "config files read: " + ", ".join(settings.config_files)
    user = config_files.user_config_dir() / config_files.CONFIG_NAME
    return f"config files read: none (looked for ./{config_files.CONFIG_NAME} and {user})"


def _stdout() -> Console:
    """Rich on stdout; piped output gets wide lines instead of cells folded at 80 columns."""
    wide = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(markup=False, highlight=False, width=None if wide else 200)


def _json(data: Any) -> int:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    return EXIT_OK


def key_status(c: ProviderConfig) -> str:
    if c.offline or not c.api_key_env:
        return "not needed"
    return "set" if c.key_present() else "NOT SET"


def _price(c: ProviderConfig, side: str, prices: PriceTable) -> tuple[float, str]:
    """USD per 1M tokens of one side, and whether it is the price table's or an override."""
    own = getattr(c, f"price_{side}")
    if c.offline:
        return 0.0, "built in"
    if own is not None:
        return own, f"override ({c.sources.get(f'price_{side}', 'flag')})"
    found = prices.lookup(c.model, c.preset)
    if found is None:
        return 0.0, "table (model not listed: $0)"
    same = found == PriceTable().lookup(c.model, c.preset)
    return getattr(found, side + "put"), "table" if same else "table ([prices] in forge.toml)"


def _source(c: ProviderConfig, name: str, settings: ProvidersSettings) -> str:
    if name == "preset":
        table, origin = settings.provider_tables.get(c.name.split("#")[0], ({}, ""))
        return f"type in {origin}" if table.get("type") else "name"
    source = c.sources.get(name, "default").replace("{SETTING}", name.upper())
    if source == "default" and name in ("timeout", "concurrency"):  # the command's own option
        source = settings.setting_sources.get(name, "default")
    return source


def shown(c: ProviderConfig, name: str) -> Any:
    """A setting as it may be printed: a password in the base URL never is."""
    value = getattr(c, name)
    return mask_url(value) if name == "base_url" and isinstance(value, str) else value


def member_rows(
    c: ProviderConfig, settings: ProvidersSettings, prices: PriceTable
) -> list[tuple[str, Any, str]]:
    """(setting, value, source) for one member of the chain."""
    rows = [
        (name, c.preset if name == "preset" else shown(c, name), _source(c, name, settings))
        for name in (OFFLINE_ROWS if c.offline else ROWS)
    ]
    return rows + [(n, *_price(c, n.removeprefix("price_"), prices)) for n in PRICE_ROWS]


def _settings_json(
    c: ProviderConfig, settings: ProvidersSettings, prices: PriceTable
) -> dict[str, Any]:
    rows = member_rows(c, settings, prices)
    return {name: {"value": value, "source": source} for name, value, source in rows}


def _shown(name: str, value: Any, c: ProviderConfig) -> str:
    if name == "api_key_env":
        return f"{value or 'none'} ({key_status(c)})"
    if name in ("rpm", "tpm") and value is None:
        return "learned from headers"
    if value in (None, ""):
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_list(settings: ProvidersSettings, err: Console) -> int:
    if settings.provider is None:
        return _list_known(settings)
    configs, prices = chain_configs(settings), price_table(settings)
    chain_src = settings.setting_sources.get("provider", "default")
    routing_src = settings.setting_sources.get("routing", "default")
    if settings.json_output:
        members = [
            {"name": c.name, "key": key_status(c), "settings": _settings_json(c, settings, prices)}
            for c in configs
        ]
        head = {"chain": settings.provider, "chain_source": chain_src}
        head |= {"routing": settings.routing, "routing_source": routing_src}
        return _json({**head, "config_files": settings.config_files, "providers": members})
    out = _stdout()
    out.print(
        f"chain: {settings.provider} ({chain_src}); routing: {settings.routing} ({routing_src})"
    )
    out.print(_files_line(settings))
    for n, c in enumerate(configs, 1):
        table = Table("setting", "value", "source", title=f"{n}. {c.name}", title_justify="left")
        for name, value, source in member_rows(c, settings, prices):
            red = name == "api_key_env" and key_status(c) == "NOT SET"
            table.add_row(name, Text(_shown(name, value, c), "red" if red else ""), source)
        out.print(table)
    return EXIT_OK


def _list_known(settings: ProvidersSettings) -> int:
    """Every preset, and every [providers.NAME] table, as it resolves here and now."""
    tables, prices = settings.provider_tables, price_table(settings)
    names = [OFFLINE, *PRESETS, *(n for n in tables if n not in PRESETS and n != OFFLINE)]
    rows = []
    for c in (c for name in names for c in resolve_chain(name, tables=tables)):
        table_file = tables.get(c.name.split("#")[0], (None, None))[1]
        row = {"name": c.name, "preset": c.preset, **{f: shown(c, f) for f in KNOWN_FIELDS}}
        row |= {"key": key_status(c), "forge_toml": table_file}
        rows.append(row | {f"price_{s}": _price(c, s, prices)[0] for s in ("in", "out")})
    if settings.json_output:
        return _json({"config_files": settings.config_files, "providers": rows})
    out = _stdout()
    heads = ("name", "wire", "model", "base URL", "key variable", "key", "$/1M in", "$/1M out")
    table = Table(*heads, title="providers forge knows", title_justify="left")
    for r in rows:
        cells = [r["name"] + (" *" if r["forge_toml"] else "")]
        cells += [str(r[f] or "-") for f in KNOWN_FIELDS]
        key = Text(r["key"], "red" if r["key"] == "NOT SET" else "")
        table.add_row(*cells, key, f"{r['price_in']:g}", f"{r['price_out']:g}")
    out.print(table)
    if any(r["forge_toml"] for r in rows):
        out.print("* added or changed by a [providers.NAME] table in forge.toml")
    out.print(_files_line(settings))
    out.print("`forge providers list --provider NAME[,NAME...]` shows each setting's source.")
    return EXIT_OK


@dataclass
class Probe:
    """What one tiny real call to one provider showed."""

    name: str
    model: str
    ok: bool = False
    reachable: str = "no"
    auth: str = "not checked"
    model_ok: str = "not checked"
    latency_ms: float | None = None
    note: str = ""


def _secret_free(text: str, c: ProviderConfig) -> str:
    key = os.environ.get(c.api_key_env) if c.api_key_env else None
    return " ".join((text.replace(key, "***") if key else text).split())[:160]


def _failed(probe: Probe, exc: errors.ProviderError, c: ProviderConfig) -> None:
    """Sort a provider's error into reachable / auth / model."""
    refused = isinstance(exc, errors.UpstreamError) and exc.status is None
    probe.reachable = "no" if refused else "yes"
    if isinstance(exc, errors.AuthError):
        probe.auth = "failed"
    elif isinstance(exc, errors.RateLimitError):
        probe.auth = "ok"  # the provider took the key, then said "later"
    for kind, verdict in MODEL_VERDICTS:  # it took the key, then said something about the model
        if isinstance(exc, kind):
            probe.auth, probe.model_ok = "ok", verdict
    status = f" (HTTP {exc.status})" if exc.status else ""
    probe.note = _secret_free(exc.message + status, c)


async def _probe(provider: Provider, c: ProviderConfig, timeout: float) -> Probe:
    probe = Probe(c.name, c.model)
    task = TicketTask()
    if isinstance(provider, OfflineProvider):
        provider.use_rule(task.offline_answer)
    request = task.build_request([PackItem("1", "ping: is this service up?")])
    start = time.perf_counter()
    try:
        await asyncio.wait_for(provider.complete(request), timeout)
    except (TimeoutError, errors.ProviderTimeoutError):
        probe.reachable, probe.note = "timed out", f"no answer within {timeout:g}s"
    except errors.ProviderError as exc:
        _failed(probe, exc, c)
    except Exception as exc:  # a diagnostic reports what it sees instead of crashing on it
        probe.note = _secret_free(f"{type(exc).__name__}: {exc}", c)
    else:
        probe.ok, probe.reachable, probe.model_ok = True, "yes", "ok"
        probe.auth = "ok" if c.api_key_env and c.key_present() else "not needed"
    probe.latency_ms = round((time.perf_counter() - start) * 1000, 1)
    return probe


async def check_chain(
    configs: list[ProviderConfig], prices: PriceTable, timeout: float
) -> list[Probe]:
    """One call to every provider of the chain at once; every provider is closed afterwards."""
    built: list[tuple[ProviderConfig, Provider]] = []
    probes: dict[str, Probe] = {}
    try:
        for c in configs:
            try:
                built.append((c, build_provider(c, prices)))
            except MissingKeyError:
                note = f"no key: set {c.api_key_env}"
                probes[c.name] = Probe(
                    c.name, c.model, reachable="not tried", auth="no key", note=note
                )
        for probe in await asyncio.gather(*(_probe(p, c, timeout) for c, p in built)):
            probes[probe.name] = probe
    finally:
        await asyncio.gather(*(p.aclose() for _, p in built), return_exceptions=True)
    return [probes[c.name] for c in configs]


def run_check(settings: ProvidersSettings, err: Console) -> int:
    if settings.provider is None:
        # what classify would run with: checking it is a fair answer, and the notice says how to
        # check another chain
        err.print(
            "forge: no provider configured: checking the offline provider; name a chain with "
            "--provider (or FORGE_PROVIDER, or provider = ... in forge.toml)",
            markup=False,
        )
        settings = settings.model_copy(update={"provider": OFFLINE})
    configs = [replace(c, timeout=settings.timeout) for c in chain_configs(settings)]
    probes = asyncio.run(check_chain(configs, price_table(settings), settings.timeout))
    code = EXIT_OK if all(p.ok for p in probes) else EXIT_FAILED
    if settings.json_output:
        payload = {"chain": settings.provider, "ok": code == EXIT_OK}
        _json(payload | {"providers": [asdict(p) for p in probes]})
        return code
    table = Table("provider", "model", "reachable", "auth", "model ok", "latency", "note")
    for p in probes:
        latency = "-" if p.latency_ms is None else f"{p.latency_ms:,.0f} ms"
        reached = Text(p.reachable, "" if p.ok else "red")
        table.add_row(p.name, p.model, reached, p.auth, p.model_ok, latency, p.note)
    out = _stdout()
    out.print(table)
    out.print(f"{sum(p.ok for p in probes)} of {len(probes)} providers answered")
    return code

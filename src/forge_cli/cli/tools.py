"""The smaller command groups: ``forge hook``, ``forge providers`` and ``forge cache``.

Each command parses its flags and hands over to the module that does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from forge_cli.cli.options import (
    ApiKeyEnvOpt,
    BaseUrlOpt,
    CacheDirOpt,
    ConcurrencyOpt,
    ModelOpt,
    PriceInOpt,
    PriceOutOpt,
    ProviderOpt,
    RoutingOpt,
    RpmOpt,
    TimeoutOpt,
    TpmOpt,
)
from forge_cli.cli.support import config_context, current_context, err, fail
from forge_cli.core.errors import ForgeError

cache_app = typer.Typer(help="Inspect or empty the dedup cache.", no_args_is_help=True)
hook_app = typer.Typer(help="Manage forge's prepare-commit-msg git hook.", no_args_is_help=True)
providers_app = typer.Typer(
    help="Show the providers forge knows, what a chain resolves to, and whether it answers.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


@hook_app.command("install")
def hook_install(
    chain: Annotated[
        bool, typer.Option("--chain", help="Keep an existing hook and run it before forge's.")
    ] = False,
    budget: Annotated[
        float | None,
        typer.Option("--budget", help="Seconds the hook may wait for a model (default 10)."),
    ] = None,
) -> None:
    """Install the prepare-commit-msg hook in this repository (honours core.hooksPath)."""
    from forge_cli.app import hook as hooks

    _hook_call(lambda: hooks.install(Path.cwd(), chain=chain, budget=budget), "installed")


@hook_app.command("uninstall")
def hook_uninstall() -> None:
    """Remove forge's hook (only forge's; a chained original is put back)."""
    from forge_cli.app import hook as hooks

    _hook_call(lambda: hooks.uninstall(Path.cwd()), "uninstalled")


@hook_app.command("status")
def hook_status() -> None:
    """Show whether forge's hook is installed, and where."""
    from forge_cli.app import hook as hooks

    _hook_call(lambda: hooks.status(Path.cwd()), "status")


def _hook_call(action: Callable[[], Any], verb: str) -> None:
    from forge_cli.app.hook import HookError

    try:
        state = action()
    except (HookError, ForgeError) as exc:
        raise fail(exc) from None
    where = f" at {state.path}"
    if verb == "status":
        if state.installed:
            line = "forge hook installed" + where
        elif state.foreign:
            line = "a hook forge did not write is installed" + where
        else:
            line = "no forge hook" + where
    else:
        line = f"forge hook {verb}{where}"
    if getattr(state, "chained", None):
        line += f" (runs {state.chained} first)"
    typer.echo(line)


@providers_app.callback()
def providers_root(ctx: typer.Context) -> None:
    from forge_cli.app.providers_command import default_map

    ctx.default_map = default_map(getattr(ctx.find_root().obj, "files", []))


@providers_app.command("list")
def providers_list(
    provider: ProviderOpt = None,
    routing: RoutingOpt = "ordered",
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    price_in: PriceInOpt = None,
    price_out: PriceOutOpt = None,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    concurrency: ConcurrencyOpt = 8,
    timeout: TimeoutOpt = 60.0,
    json_output: JsonOpt = False,
) -> None:
    """Known providers, or a chain with sources.

    With a chain (--provider, FORGE_PROVIDER or forge.toml), shows every member's settings and where
    each came from: flag, environment, forge.toml, preset or default. Keys are never shown.
    """
    from forge_cli.app.providers_command import run_list

    _providers_call(run_list, dict(locals()))


@providers_app.command("check")
def providers_check(
    provider: ProviderOpt = None,
    routing: RoutingOpt = "ordered",
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    timeout: TimeoutOpt = 10.0,
    json_output: JsonOpt = False,
) -> None:
    """One tiny real call per chain member.

    Reports reachable, auth, model and latency of each, all checked at once. Exit codes: 0 every
    provider answered, 1 some did not, 2 usage error.
    """
    from forge_cli.app.providers_command import run_check

    _providers_call(run_check, dict(locals()))


def _providers_call(run: Callable[[dict[str, Any], Console], int], values: dict[str, Any]) -> None:
    try:
        files = getattr(current_context().find_root().obj, "files", [])
        values.update(config_context(), config_files=[str(path) for path in files])
        code = run(values, err)
    except ForgeError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)


@cache_app.command("stats")
def cache_stats(
    cache_dir: CacheDirOpt = None,
) -> None:
    """Show where the cache is, how many answers it holds and its size."""
    from forge_cli.engine.cache import ResultCache, default_cache_dir

    directory = cache_dir or default_cache_dir()
    with ResultCache(directory) as cache:
        stats = cache.stats()
    typer.echo(f"cache dir: {stats.directory}")
    typer.echo(f"entries:   {stats.entries:,}")
    typer.echo(f"size:      {stats.size_bytes / 1e6:,.2f} MB")


@cache_app.command("clear")
def cache_clear(
    cache_dir: CacheDirOpt = None,
) -> None:
    """Remove every cached answer."""
    from forge_cli.engine.cache import ResultCache, default_cache_dir

    directory = cache_dir or default_cache_dir()
    with ResultCache(directory) as cache:
        removed = cache.clear()
    typer.echo(f"removed {removed:,} cached answers from {directory}")

"""The smaller command groups: ``forge hook``, ``forge providers`` and ``forge cache``.

Each command parses its flags and hands over to the module that does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from forge_cli.app.settings import CacheSettings, ProvidersCheckSettings, ProvidersSettings
from forge_cli.cli.options import CHAIN, CONTEXT, CacheDirOpt, JsonOpt, with_options
from forge_cli.cli.support import fail, run_command
from forge_cli.core.errors import ForgeError

cache_app = typer.Typer(
    help="Inspect or empty the dedup cache.", no_args_is_help=True, context_settings=CONTEXT
)
hook_app = typer.Typer(
    help="Manage forge's prepare-commit-msg git hook.",
    no_args_is_help=True,
    context_settings=CONTEXT,
)
providers_app = typer.Typer(
    help="Show the providers forge knows, what a chain resolves to, and whether it answers.",
    no_args_is_help=True,
    context_settings=CONTEXT,
)


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
    from forge_cli.app import hook_install as installer

    _hook_call(lambda: installer.install(Path.cwd(), chain=chain, budget=budget), "installed")


@hook_app.command("uninstall")
def hook_uninstall() -> None:
    """Remove forge's hook (only forge's; a chained original is put back)."""
    from forge_cli.app import hook_install as installer

    _hook_call(lambda: installer.uninstall(Path.cwd()), "uninstalled")


@hook_app.command("status")
def hook_status() -> None:
    """Show whether forge's hook is installed, and where."""
    from forge_cli.app import hook_install as installer

    _hook_call(lambda: installer.status(Path.cwd()), "status")


def _hook_call(action: Callable[[], Any], verb: str) -> None:
    from forge_cli.app.hook_install import HookError

    try:
        state = action()
    except (HookError, ForgeError) as exc:
        raise fail(exc) from None
    where = f" at {state.path}"
    if verb == "status":
        if state.installed and state.outdated:
            line = (
                "forge hook installed" + where + ", but written by an older forge whose hook "
                "module is gone: it does nothing; run 'forge hook install' to update it"
            )
        elif state.installed:
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


@providers_app.command("list")
@with_options(CHAIN, ProvidersSettings)
def providers_list(json_output: JsonOpt = False, **shared: Any) -> None:
    """Known providers, or a chain with sources.

    With a chain (--provider, FORGE_PROVIDER or forge.toml), shows every member's settings and where
    each came from: flag, environment, forge.toml, preset or default. Keys are never shown.
    """
    from forge_cli.app.providers_command import run_list

    values = {"json_output": json_output, **shared}
    run_command(run_list, ProvidersSettings, "providers", values)


@providers_app.command("check")
@with_options(CHAIN, ProvidersCheckSettings)
def providers_check(json_output: JsonOpt = False, **shared: Any) -> None:
    """One tiny real call per chain member.

    Reports reachable, auth, model and latency of each, all checked at once. Exit codes: 0 every
    provider answered, 1 some did not, 2 usage error.
    """
    from forge_cli.app.providers_command import run_check

    values = {"json_output": json_output, **shared}
    run_command(run_check, ProvidersCheckSettings, "providers", values)


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None, json_output: JsonOpt = False) -> None:
    """Show where the cache is, how many answers it holds and its size."""
    from forge_cli.app.cache_command import run_stats

    values = {"cache_dir": cache_dir, "json_output": json_output}
    run_command(run_stats, CacheSettings, "cache", values)


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Remove every cached answer."""
    from forge_cli.app.cache_command import run_clear

    run_command(run_clear, CacheSettings, "cache", {"cache_dir": cache_dir})

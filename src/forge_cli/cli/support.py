"""What every command of the CLI shares: the stderr console, the one-line failure, and turning
flags plus forge.toml into validated settings."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from forge_cli.core.errors import ForgeError

err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(exc: Exception) -> typer.Exit:
    """One line on stderr and exit code 2: a usage or input error is never a traceback."""
    err.print(f"forge: error: {exc}", markup=False, soft_wrap=True)
    return typer.Exit(2)


def current_context() -> Any:
    """The running command's Click context (Typer >= 0.2x vendors Click as ``typer._click``)."""
    for name in ("typer._click.globals", "click.globals"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        ctx = module.get_current_context(silent=True)
        if ctx is not None:
            return ctx
    return None


def config_context() -> dict[str, Any]:
    """What the running command's settings take from forge.toml beyond its own table, and where
    each of its options came from (flag, environment variable, forge.toml or default)."""
    ctx = current_context()
    if ctx is None:
        return {}
    loaded = ctx.find_root().obj
    sources: dict[str, str] = {}
    for param in ctx.command.params:
        if param.name is None:
            continue
        source = getattr(ctx.get_parameter_source(param.name), "name", "")
        if source == "COMMANDLINE":
            sources[param.name] = "flag --" + param.name.replace("_", "-")
        elif source == "ENVIRONMENT":
            sources[param.name] = f"env {getattr(param, 'envvar', '') or 'FORGE_*'}"
        elif source == "DEFAULT_MAP":
            sources[param.name] = "forge.toml"
    # tables inside a command's table (``[classify.label_descriptions]``) are settings too
    nested = {k: v for k, v in (ctx.default_map or {}).items() if isinstance(v, dict)}
    return {
        **nested,
        "provider_tables": getattr(loaded, "providers", {}),
        "prices": getattr(loaded, "prices", {}),
        "setting_sources": sources,
    }


def run_command(run: Callable[..., int], settings_name: str, values: dict[str, Any]) -> None:
    from forge_cli.app import settings as config

    try:
        values.update(config_context())
        settings = config.validate(getattr(config, settings_name), values)
        code = run(settings, err)
    except ForgeError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)

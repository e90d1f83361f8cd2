"""What every command of the CLI shares: the stderr console, the one-line failure, and turning the
flags the user typed into validated settings through the one resolver."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console

from forge_cli.core.errors import ForgeError

err = Console(stderr=True, highlight=False, soft_wrap=True)

#: where ``forge -q``/``forge -v`` (before the command) leave their values in Click's context meta
VERBOSITY = "forge.verbosity"


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time: the live view swaps it to print above."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def show_http_exchanges() -> None:
    """``-v``: the providers' exchange log (masked by ``providers.exchange_log``) on stderr."""
    from forge_cli.providers.exchange_log import LOGGER_NAME

    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("forge: http: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


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


def typed_flags(values: dict[str, Any]) -> dict[str, Any]:
    """The values the user gave on the command line; the rest stay unset for the resolver."""
    ctx = current_context()
    if ctx is None:
        return dict(values)
    given = {}
    for name, value in values.items():
        source = ctx.get_parameter_source(name)
        if getattr(source, "name", "") == "COMMANDLINE":
            given[name] = value
    return given


def run_command(
    run: Callable[[Any, Console], int],
    model: type[BaseModel],
    command: str,
    values: dict[str, Any],
) -> None:
    """Resolve ``command``'s settings from what was typed, forge.toml and FORGE_*; run; exit."""
    from forge_cli.app.settings import resolve

    try:
        ctx = current_context()
        loaded = ctx.find_root().obj if ctx is not None else None
        flags = typed_flags(values)
        before = ctx.meta.get(VERBOSITY, {}) if ctx is not None else {}
        for name in ("quiet", "verbose"):
            if before.get(name) and name in model.model_fields:
                flags[name] = True
        if before.get("verbose"):
            show_http_exchanges()
        if "config_files" in model.model_fields and loaded is not None:
            flags["config_files"] = [str(path) for path in loaded.files]
        settings = resolve(model, command, flags, loaded=loaded)
        if getattr(settings, "verbose", False):
            show_http_exchanges()
        code = run(settings, err)
    except ForgeError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)

"""Finding what other packages add to forge: providers, tasks and output formats by entry point.

Each registry (``providers.registry``, ``tasks.registry``, ``io.sinks``) knows its built-in names
without importing them, and asks here only for a name it does not know, so a run that uses only
built-in parts never scans the installed distributions (the git hook stays fast).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from forge_cli.core.errors import UsageError

PROVIDERS = "forge.providers"
TASKS = "forge.tasks"
FORMATS = "forge.formats"


def plugin_names(group: str) -> list[str]:
    """Names other packages registered under ``group``."""
    return sorted({ep.name for ep in entry_points(group=group)})


def load_plugin(group: str, name: str) -> Any | None:
    """The object another package registered as ``name`` in ``group``, or None if none did.

    A plugin that fails to import is a usage error naming it, not a traceback from deep inside.
    """
    for ep in entry_points(group=group):
        if ep.name == name:
            try:
                return ep.load()
            except Exception as exc:
                raise UsageError(
                    f"plugin {name!r} ({ep.value}, entry point group {group}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
    return None

"""forge: push large batches of text through LLM providers fast, cheaply and without losing anything.

As a library::

    import forge_cli

    result = forge_cli.run(
        "classify",
        ["My card was charged twice", "The app crashes on start"],
        provider="offline",
        task_options={"labels": ["billing", "bug", "other"]},
    )
    for row in result.results:
        print(row["id"], row["category"])

``run`` takes a task by name or a ``TaskBase`` subclass instance, and records as texts or mappings;
``register_task`` adds a task by name. Names are imported on first use, so importing forge_cli stays
cheap (the git hook imports it on every commit).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "run": "forge_cli.app.api",
    "RunResult": "forge_cli.app.api",
    "RunSettings": "forge_cli.app.settings",
    "resolve": "forge_cli.app.settings",
    "Task": "forge_cli.tasks.base",
    "TaskBase": "forge_cli.tasks.base",
    "register_task": "forge_cli.tasks.registry",
    "make_task": "forge_cli.tasks.registry",
    "register_provider": "forge_cli.providers.registry",
    "register_format": "forge_cli.io.sinks",
    "Item": "forge_cli.core.models",
    "ForgeError": "forge_cli.core.errors",
}
__all__ = [
    "ForgeError",
    "Item",
    "RunResult",
    "RunSettings",
    "Task",
    "TaskBase",
    "__version__",
    "make_task",
    "register_format",
    "register_provider",
    "register_task",
    "resolve",
    "run",
]

if TYPE_CHECKING:
    from forge_cli.app.api import RunResult, run
    from forge_cli.app.settings import RunSettings, resolve
    from forge_cli.core.errors import ForgeError
    from forge_cli.core.models import Item
    from forge_cli.providers.registry import register_provider
    from forge_cli.tasks.base import Task, TaskBase
    from forge_cli.tasks.registry import make_task, register_task


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'forge_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

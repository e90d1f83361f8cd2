"""Tasks by name: forge's own, those registered at run time, and other packages' entry points.

A task is found by name (``forge_cli.run("classify", ...)``, a plugin's entry point in the
``forge.tasks`` group). Built-in tasks are named by import path and imported only when asked for, so
looking up one task never imports the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from forge_cli.core.errors import UsageError
from forge_cli.core.plugins import TASKS, load_plugin, plugin_names
from forge_cli.tasks.base import Task

TaskFactory = Callable[..., Task]

#: forge's own tasks: name -> "module:attribute"
BUILTIN: dict[str, str] = {
    "classify": "forge_cli.tasks.classify.task:TicketTask",
    "commits": "forge_cli.tasks.commits.task:CommitTask",
}
_registered: dict[str, TaskFactory] = {}


def register_task(name: str, factory: TaskFactory) -> None:
    """Make ``factory`` (a Task class, or anything that returns a Task) available as ``name``."""
    if not name or not name.replace("-", "_").isidentifier():
        raise ValueError(f"task name {name!r}: use letters, digits, - and _")
    _registered[name] = factory


def task_names() -> list[str]:
    return sorted({*BUILTIN, *_registered, *plugin_names(TASKS)})


def task_factory(name: str) -> TaskFactory:
    """The factory registered as ``name``: run time first, then built in, then entry points."""
    if name in _registered:
        return _registered[name]
    if name in BUILTIN:
        module, _, attribute = BUILTIN[name].partition(":")
        factory: TaskFactory = getattr(importlib.import_module(module), attribute)
        return factory
    plugin = load_plugin(TASKS, name)
    if plugin is None:
        known = ", ".join(task_names())
        raise UsageError(f"no task named {name!r} (known: {known})")
    return plugin


def make_task(name: str, **options: Any) -> Task:
    """A task instance by name, with its options (labels for classify, max_tokens for commits)."""
    try:
        return task_factory(name)(**options)
    except TypeError as exc:
        raise UsageError(f"task {name!r}: {exc}") from None

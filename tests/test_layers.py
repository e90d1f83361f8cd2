"""The shape of the code, checked: layers point down, nothing imports in a cycle, modules stay small.

Every import of every module counts, also the ones inside functions (the git hook imports lazily, but a
lazy import up a layer is still a dependency up a layer). ``ALLOWED`` is the table of which package may
import which; DESIGN.md and CONTRIBUTING.md describe the same layers in words.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "forge_cli"

#: what each part may import, besides itself and the standard library / third-party packages.
#: A dotted entry ("providers.base") allows that one module only.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "io": {"core"},
    "redact": {"core"},
    "git": {"core"},
    "engine": {"core", "providers.base", "tasks.base"},
    "learn": {"core"},
    "providers": {"core", "learn"},
    "tasks": {"core", "git", "providers.base"},
    "ui": {"core", "engine"},
    "app": {
        "core",
        "io",
        "redact",
        "git",
        "learn",
        "engine",
        "providers",
        "tasks",
        "ui",
        "plugins",
    },
    "cli": {
        "",
        "core",
        "io",
        "redact",
        "git",
        "learn",
        "engine",
        "providers",
        "tasks",
        "ui",
        "plugins",
        "app",
    },
    "plugins": {"core"},
    # the simulator stands apart: it must run as another process with nothing of forge
    "testing": set(),
    # the package root (the public Python API, __main__) may reach everything
    "": {
        "core",
        "io",
        "redact",
        "git",
        "engine",
        "providers",
        "tasks",
        "ui",
        "plugins",
        "app",
        "cli",
    },
}
#: modules that are pure data tables, free of the size limit
DATA_TABLES = {
    "tasks/classify/cues.py",
    "providers/catalog/presets_table.py",
    "providers/catalog/price_table.py",
}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(parts)] = path
    return out


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("forge_cli"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                name = ".".join(["forge_cli", *base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if name.startswith("forge_cli"):
                found.add(name)
                # `from forge_cli.x import y` where y is a module
                found.update(f"{name}.{a.name}" for a in node.names)
    return {n.removeprefix("forge_cli").lstrip(".") for n in found}


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest module name that ``name`` starts with."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name if name in modules else ("" if not name else None)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imports(path, module):
            known = _known(name, modules)
            if known is not None and known != module:
                targets.add(known)
        graph[module] = targets
    return graph


def _layer(module: str) -> str:
    return module.split(".")[0] if "." in module or module in ALLOWED else ""


def _allowed(src: str, dst: str) -> bool:
    layer, target = _layer(src), _layer(dst)
    if layer == target:
        return True
    allowed = ALLOWED.get(layer, set())
    if target == "":
        return "" in allowed
    return target in allowed or any(dst == a or dst.startswith(a + ".") for a in allowed)


def test_every_package_has_a_layer():
    graph = _graph()
    unknown = sorted({_layer(m) for m in graph} - set(ALLOWED))
    assert not unknown, f"add these packages to ALLOWED: {unknown}"


def test_imports_point_down_only():
    graph = _graph()
    bad = sorted(
        f"{src} -> {dst}" for src, dsts in graph.items() for dst in dsts if not _allowed(src, dst)
    )
    assert not bad, "imports up a layer:\n" + "\n".join(bad)


def test_no_import_cycles_between_modules():
    graph = _graph()
    # package __init__ files importing their own children are not cycles of concern
    edges = {
        m: {d for d in ds if not (d.startswith(m + ".") or m.startswith(d + "."))}
        for m, ds in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_simulator_imports_nothing_else_of_forge():
    graph = _graph()
    bad = [
        f"{m} -> {d}"
        for m, ds in graph.items()
        if m.startswith("testing")
        for d in ds
        if not d.startswith("testing")
    ]
    assert not bad, bad


def test_modules_stay_small():
    big = []
    for path in _modules().values():
        rel = str(path.relative_to(PACKAGE))
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and rel not in DATA_TABLES:
            big.append(f"{rel}: {lines}")
    assert not big, f"modules over {MAX_LINES} lines (split them): {big}"


@pytest.mark.parametrize(
    ("src", "dst", "ok"),
    [
        ("engine.runner", "core.models", True),
        ("engine.runner", "providers.base", True),
        ("engine.runner", "providers.openai", False),
        ("providers.openai", "engine.resilience.breaker", False),
        ("tasks.classify.task", "tasks.base", True),
        ("core.errors", "providers.base", False),
        ("cli.main", "app.run", True),
    ],
)
def test_the_rule_itself(src, dst, ok):
    assert _allowed(src, dst) is ok

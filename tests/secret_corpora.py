"""The secret corpora the redaction tests read, loaded once by path (tests/data is no package).

``make_corpus.py`` builds forge's own fakes at run time (no hand-typed secret trips a scanner);
``external/`` rebuilds the public scanners' rule tests from fetched snapshots.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from forge_cli.redact import redact

SECRETS = Path(__file__).parent / "data" / "secrets"
CORPUS_SCRIPT = SECRETS / "make_corpus.py"
EXTERNAL = SECRETS / "external"


def load_corpus() -> ModuleType:
    """tests/data/secrets/make_corpus.py as the module ``make_corpus`` (loaded once)."""
    if "make_corpus" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_corpus", CORPUS_SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_corpus"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_corpus"]


def load_external() -> ModuleType:
    """The external corpus package's ``corpus`` module."""
    name = "forge_external_secrets"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, EXTERNAL / "__init__.py", submodule_search_locations=[str(EXTERNAL)]
        )
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return importlib.import_module(f"{name}.corpus")


def gone(text: str, value: str) -> str:
    """Redact ``text``; assert ``value`` is gone and a marker stands in; return the output."""
    out = redact(text).text
    assert value not in out, out
    assert "[REDACTED:" in out, out
    return out

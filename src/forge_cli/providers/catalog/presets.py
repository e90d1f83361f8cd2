"""Finding a preset by any of its names, and which presets run locally.

The rows themselves are in ``presets_table``, plain data; this is the code that reads them.
"""

from __future__ import annotations

from forge_cli.providers.catalog.presets_table import ALIASES, PRESETS, Preset

__all__ = ["LOCAL_PROVIDERS", "canonical_name", "get_preset"]

#: presets that run on the user's own hardware: every model on them is free
LOCAL_PROVIDERS: frozenset[str] = frozenset(name for name, p in PRESETS.items() if p.local)


def canonical_name(name: str) -> str | None:
    """The preset name that ``name`` (any case, an alias, ``_`` or spaces for ``-``) refers to."""
    key = name.strip().lower()
    for candidate in (key, key.replace("_", "-").replace(" ", "-")):
        candidate = ALIASES.get(candidate, candidate)
        if candidate in PRESETS:
            return candidate
    return None


def get_preset(name: str) -> Preset | None:
    """The preset called ``name`` or one of its aliases, case-insensitively; None if unknown."""
    canonical = canonical_name(name)
    return PRESETS[canonical] if canonical else None

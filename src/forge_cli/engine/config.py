"""How the engine runs: concurrency, packing limits, rounds and read-ahead, as one plain value."""

from __future__ import annotations

from dataclasses import dataclass, field

from forge_cli.engine.batcher import PackLimits

__all__ = ["EngineConfig"]


@dataclass(slots=True)
class EngineConfig:
    concurrency: int = 8
    limits: PackLimits = field(default_factory=PackLimits)
    #: how many times an item may go back to the queue (re-asked or split) before it fails
    max_rounds: int = 3
    #: items read ahead of the calls; bounds memory and is the horizon of "complex first"
    window: int = 0

    def read_ahead(self) -> int:
        return self.window or max(2_000, self.concurrency * 64)

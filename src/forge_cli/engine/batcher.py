"""Adaptive priority packing: which items go together into the next request.

Urgent records first, then complex before medium before simple (complex tickets take longest, so
starting them early shortens the tail of a run). Items are packed several to a request: the cap per
class (complex 5, medium 10, simple 20 by default) shrinks after a pack comes back incomplete and grows
back after clean answers; a token budget bounds every pack. Re-asked items come back as pre-split packs
and go before anything new.

The scheduler is plain synchronous code with no clock and no I/O; the runner owns waiting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from forge_cli.core.models import COMPLEXITY_ORDER, Complexity, Item

DEFAULT_CAPS: dict[Complexity, int] = {
    Complexity.COMPLEX: 5,
    Complexity.MEDIUM: 10,
    Complexity.SIMPLE: 20,
}
MAX_URGENCY = 4
MIN_SCALE = 0.1
GROW = 1.25
SHRINK = 0.5


@dataclass(slots=True)
class PackLimits:
    caps: dict[Complexity, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    #: ``--pack N``: every pack has at most N items, whatever the class (1 disables packing)
    forced: int | None = None
    #: estimated input tokens of the items in one pack
    token_budget: int = 6_000


def item_tokens(task: Any, text: str) -> int:
    """What one item adds to a request: the estimate with it, less the instructions alone."""
    return int(task.estimate_request_tokens((text,))[0] - task.estimate_request_tokens(())[0])


class Scheduler:
    """Priority queues of waiting items and the rule that turns them into packs."""

    def __init__(self, limits: PackLimits | None = None) -> None:
        self.limits = limits or PackLimits()
        self._keys = [(u, c) for u in range(MAX_URGENCY, -1, -1) for c in COMPLEXITY_ORDER]
        self._queues: dict[tuple[int, Complexity], deque[Item]] = {k: deque() for k in self._keys}
        self._retry: deque[list[Item]] = deque()
        self._scale: dict[Complexity, float] = dict.fromkeys(Complexity, 1.0)
        self.pending = 0
        self.pending_by_class: dict[Complexity, int] = dict.fromkeys(Complexity, 0)
        #: real tokens per estimated token, as the run has learned it (``engine/calibration.py``):
        #: the token budget is of real tokens
        self.token_ratio = 1.0

    def __len__(self) -> int:
        return self.pending

    def cap_for(self, complexity: Complexity) -> int:
        if self.limits.forced:
            return self.limits.forced
        return max(1, round(self.limits.caps[complexity] * self._scale[complexity]))

    def push(self, item: Item) -> None:
        urgency = min(max(item.urgency, 0), MAX_URGENCY)
        self._queues[(urgency, item.complexity)].append(item)
        self._count(item, +1)

    def requeue(self, items: Iterable[Item], max_size: int) -> None:
        """Send items back as packs of at most ``max_size``, ahead of everything new."""
        batch = list(items)
        size = max(1, max_size)
        for start in range(0, len(batch), size):
            chunk = batch[start : start + size]
            self._retry.append(chunk)
            for item in chunk:
                self._count(item, +1)

    def take(self) -> list[Item] | None:
        """The next pack, or None when nothing waits."""
        if self._retry:
            ready = self._retry.popleft()
            for item in ready:
                self._count(item, -1)
            return ready
        if not self.pending:
            return None
        pack: list[Item] = []
        cap = 1 << 30
        tokens = 0
        budget = self.limits.token_budget / self.token_ratio
        for key in self._keys:
            queue = self._queues[key]
            while queue:
                item = queue[0]
                new_cap = min(cap, self.cap_for(item.complexity))
                if pack and (len(pack) >= new_cap or tokens + item.tokens > budget):
                    return pack
                queue.popleft()
                self._count(item, -1)
                pack.append(item)
                cap = new_cap
                tokens += item.tokens
                if len(pack) >= cap:
                    return pack
        return pack or None

    def drain(self) -> list[Item]:
        """Every waiting item, removed from the queues (the run is ending without them)."""
        items: list[Item] = []
        while (pack := self.take()) is not None:
            items.extend(pack)
        return items

    def report(self, complexity: Complexity, *, clean: bool) -> None:
        """Adapt a class's pack size: halve after an incomplete answer, grow after a clean one."""
        scale = self._scale[complexity]
        self._scale[complexity] = (
            min(1.0, scale * GROW) if clean else max(MIN_SCALE, scale * SHRINK)
        )

    def _count(self, item: Item, delta: int) -> None:
        self.pending += delta
        self.pending_by_class[item.complexity] += delta

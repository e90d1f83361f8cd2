"""What becomes of items that came back without an answer: asked again, asked of another provider
of the chain, or failed.

An item gets ``max_rounds`` re-asks (in smaller packs, as the runner sends them). Past those, an
item that one member of the chain kept answering badly (not JSON, a label it cannot have, missing
from the answer) goes to the members that have not had it yet, with fresh rounds, as a call that
fails for good on one member moves to the next: a provider that answers garbage must not turn a
whole run into failures while another could answer. Only when no member is left is it a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from forge_cli.core.models import Item

__all__ = ["sort_back"]


def sort_back(
    items: Iterable[Item],
    max_rounds: int,
    answered_by: str | None,
    has_other: Callable[[Iterable[str]], bool],
) -> tuple[list[Item], list[Item], list[Item]]:
    """(asked again, sent onward, failed), each item's rounds and ``avoid`` updated.

    ``answered_by`` is the member whose answer was bad (None: the call itself failed on every
    member, so there is nobody to move on to); ``has_other(names)`` says whether a member of the
    chain still in the run is none of ``names``.
    """
    again: list[Item] = []
    onward: list[Item] = []
    failed: list[Item] = []
    for item in items:
        if item.rounds < max_rounds:
            item.rounds += 1
            again.append(item)
        elif answered_by is not None and has_other((*item.avoid, answered_by)):
            item.avoid, item.rounds = (*item.avoid, answered_by), 0
            onward.append(item)
        else:
            failed.append(item)
    return again, onward, failed

"""Token log probabilities in each wire's shape, read into (token, logprob) pairs.

The task turns the pairs into each label field's confidence (``tasks/classify/confidence.py``);
the wires only differ in where the pairs are and what a refusal looks like. A model or router
that refuses the parameter (a 400 naming it) is asked again without, once per run: confidence is
a bonus, never a reason to lose an answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from forge_cli.core.calls import Completion, PackRequest
from forge_cli.core.errors import ProviderError, RequestError

__all__ = [
    "LOGPROBS_REFUSAL",
    "ask",
    "gemini_logprobs",
    "openai_logprobs",
    "refuses_logprobs",
]

#: what a server says when it refuses token log probabilities: OpenAI "Unsupported parameter:
#: 'logprobs' ...", Gemini "Logprobs is not enabled for models/..." or "... not supported for the
#: current model"
LOGPROBS_REFUSAL = re.compile(r"logprobs", re.IGNORECASE)

Pairs = tuple[tuple[str, float], ...]


class Refusable(Protocol):
    #: the server refused log probabilities once (or the settings turn them off)
    logprobs_refused: bool


async def ask(
    adapter: Refusable, request: PackRequest, post: Callable[[bool], Awaitable[Completion]]
) -> Completion:
    """One call through ``post(with_logprobs)``: with them when the request wants confidence and
    the server has not refused them; a refusal turns them off for the run and asks once more."""
    wanted = request.confidence and not adapter.logprobs_refused
    try:
        return await post(wanted)
    except ProviderError as exc:
        if not wanted or not refuses_logprobs(exc):
            raise
        adapter.logprobs_refused = True
        return await post(False)


def refuses_logprobs(error: ProviderError) -> bool:
    """A 400/422 (or llama-cpp-python's 500 for a parameter it does not know) naming ``logprobs``."""
    if not isinstance(error, RequestError) and error.status != 500:
        return False
    return bool(LOGPROBS_REFUSAL.search(f"{error.message} {error.raw or ''}"))


def openai_logprobs(block: Any) -> tuple[tuple[str, float], ...] | None:
    """``choices[0].logprobs.content[]`` (``{token, logprob, bytes, top_logprobs}``) as (token,
    logprob) pairs; None when the server sent none or a shape this does not know."""
    content = block.get("content") if isinstance(block, dict) else None
    if not isinstance(content, list):
        return None
    pairs: list[tuple[str, float]] = []
    for entry in content:
        if not isinstance(entry, dict):
            return None
        token, logprob = entry.get("token"), entry.get("logprob")
        if not isinstance(token, str) or not isinstance(logprob, int | float):
            return None
        pairs.append((token, float(logprob)))
    return tuple(pairs)


def gemini_logprobs(candidate: Any) -> Pairs | None:
    """``candidates[0].logprobsResult.chosenCandidates[]`` (``{token, tokenId, logProbability}``,
    one per decoding step) as (token, logprob) pairs; None when absent (a model or proxy that
    ignores ``responseLogprobs``) or of a shape this does not know."""
    result = candidate.get("logprobsResult") if isinstance(candidate, dict) else None
    chosen = result.get("chosenCandidates") if isinstance(result, dict) else None
    if not isinstance(chosen, list) or not chosen:
        return None
    pairs: list[tuple[str, float]] = []
    for entry in chosen:
        if not isinstance(entry, dict):
            return None
        token, logprob = entry.get("token"), entry.get("logProbability")
        if not isinstance(token, str) or not isinstance(logprob, int | float):
            return None
        pairs.append((token, float(logprob)))
    return tuple(pairs)

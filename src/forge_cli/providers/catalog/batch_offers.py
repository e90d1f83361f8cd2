"""Which providers offer a batch API, its limits, and what it costs next to the synchronous price.

Data, checked against the providers' public documentation (2026-12): OpenAI's Batch API takes up
to 50,000 requests and 200 MB per input file, answers within a 24 h completion window, and bills
50% of the synchronous price; Anthropic's Message Batches take up to 100,000 requests and 256 MB
per batch, within 24 h, at 50%; Gemini's Batch Mode takes its requests inline up to 20 MB a
call (no documented count; forge caps it at 100,000), targets 24 h, and bills 50%. Groq serves
OpenAI's shape under its own base URL (``/openai/v1/files`` with ``purpose=batch``,
``/openai/v1/batches`` with ``input_file_id``, ``endpoint``, ``completion_window`` "24h" to "7d",
``metadata``; console.groq.com/docs/batch), 50% of the synchronous price (its page said 25% in
2025), input files up to 100 MB; its request count per file is not documented (forge keeps
OpenAI's 50,000). Only presets listed here get ``--batch``: an OpenAI-compatible server is not
assumed to serve ``/v1/batches`` (Together and others document one with another shape: add them
here once their shapes are checked).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BATCH_OFFERS", "BatchOffer", "batch_offer", "batch_prices"]


@dataclass(frozen=True, slots=True)
class BatchOffer:
    """One provider's batch endpoint: its wire, its limits and its price against the sync one."""

    wire: str
    max_requests: int
    max_bytes: int
    #: the batch price as a share of the synchronous one
    price_share: float = 0.5
    completion_window: str = "24h"


BATCH_OFFERS: dict[str, BatchOffer] = {
    "openai": BatchOffer("openai", max_requests=50_000, max_bytes=200 * 2**20),
    "anthropic": BatchOffer("anthropic", max_requests=100_000, max_bytes=256 * 2**20),
    "groq": BatchOffer("openai", max_requests=50_000, max_bytes=100 * 2**20),
    # inline requests: under the guide's 20 MB a call, with room for the create call's wrapper
    "gemini": BatchOffer("gemini", max_requests=100_000, max_bytes=19_500_000),
}


def batch_offer(preset: str | None) -> BatchOffer | None:
    """The batch offer of a preset (its canonical name), or None."""
    return BATCH_OFFERS.get((preset or "").strip().lower())


def batch_prices(
    preset: str | None, price_in: float, price_out: float
) -> tuple[float, float] | None:
    """USD per 1M input / output tokens in batch mode, or None where there is no batch mode."""
    offer = batch_offer(preset)
    if offer is None:
        return None
    return price_in * offer.price_share, price_out * offer.price_share

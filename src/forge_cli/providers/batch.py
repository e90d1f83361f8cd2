"""What a provider's batch API is to forge: upload a file of requests, follow the job, read answers.

Provider batch APIs (OpenAI's ``/v1/batches``, Anthropic's Message Batches, Gemini's Batch Mode)
answer the same requests as the synchronous endpoints within a completion window, at about half
the price. They differ on the wire; the batch flow (``app/batch/``) sees only ``BatchApi`` and the
neutral ``BatchJob`` / ``BatchAnswer`` here, so it knows no wire format. ``batch_api`` builds the
API for a chain member, or says clearly that its provider offers none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from forge_cli.core.calls import PackRequest
from forge_cli.core.errors import UsageError
from forge_cli.providers.base import Provider
from forge_cli.providers.batch_types import ACTIVE, TERMINAL, BatchAnswer, BatchJob
from forge_cli.providers.catalog.batch_offers import BATCH_OFFERS, batch_offer

__all__ = ["ACTIVE", "TERMINAL", "BatchAnswer", "BatchApi", "BatchJob", "batch_api"]


class BatchApi(Protocol):
    """A provider's batch endpoint, in the calls the batch flow makes."""

    #: the chain member's name (what results rows say answered)
    name: str
    #: the provider's own limits on one job: requests, and bytes of its input file
    max_requests: int
    max_bytes: int

    def line(self, custom_id: str, request: PackRequest) -> bytes:
        """One request of the job's input, encoded as the provider wants it (a JSONL line)."""
        ...

    def upload(self, data: bytes, filename: str) -> str:
        """Upload a job's input; the provider's id for it (a wire that takes the requests
        inline, in the create call, uploads nothing)."""
        ...

    def create(self, file_id: str, local_key: str, data: bytes) -> BatchJob:
        """Start a job over an uploaded input (or ``data`` itself), tagged with forge's own key
        where the wire keeps one."""
        ...

    def find(self, local_key: str, *, requests: int, since: float) -> BatchJob | None:
        """The job a run killed before it recorded the id may have created: the one tagged with
        ``local_key``, or (a wire without tags) the one of ``requests`` requests created since
        ``since`` (epoch seconds), if exactly one is. None: create it."""
        ...

    def retrieve(self, job_id: str) -> BatchJob: ...

    def cancel(self, job_id: str) -> BatchJob: ...

    def answers(self, job: BatchJob) -> Iterator[BatchAnswer]:
        """Every answer and every per-request error a terminal job has files for."""
        ...

    def close(self) -> None: ...


def batch_api(provider: Provider, preset: str, *, timeout: float = 60.0) -> BatchApi:
    """The batch API of a chain member; UsageError naming the provider when it has none."""
    offer = batch_offer(preset)
    if offer is None:
        raise UsageError(
            f"--batch: the provider {provider.name!r} (preset {preset}) has no batch API forge "
            f"knows of; batch mode works with: {', '.join(BATCH_OFFERS)}. Drop --batch to run "
            "synchronously."
        )
    if offer.wire == "openai":
        from forge_cli.providers.openai import OpenAICompatibleProvider
        from forge_cli.providers.openai_batch import OpenAIBatch

        if isinstance(provider, OpenAICompatibleProvider):
            return OpenAIBatch(provider, offer, timeout=timeout)
    if offer.wire == "anthropic":
        from forge_cli.providers.anthropic import AnthropicProvider
        from forge_cli.providers.anthropic_batch import AnthropicBatch

        if isinstance(provider, AnthropicProvider):
            return AnthropicBatch(provider, offer, timeout=timeout)
    if offer.wire == "gemini":
        from forge_cli.providers.gemini import GeminiProvider
        from forge_cli.providers.gemini_batch import GeminiBatch

        if isinstance(provider, GeminiProvider):
            return GeminiBatch(provider, offer, timeout=timeout)
    raise UsageError(f"--batch: no batch adapter for the {offer.wire} wire yet")

"""The exception hierarchy shared by every part of forge.

Two families: errors that end the command before any work (``UsageError``, ``InputError``: exit code 2)
and provider errors, which the engine sorts by ``retryable`` without knowing any wire format. Each
provider adapter maps its own status codes and error bodies onto these classes, so the engine, the
failures file and the live view speak one vocabulary. Messages never carry API keys: adapters build them
from status codes and the provider's error text, never from request headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from forge_cli.core.calls import RateInfo


class ForgeError(Exception):
    """Base class of every error forge raises on purpose."""

    kind: ClassVar[str] = "ForgeError"


class UsageError(ForgeError):
    """The command line or configuration cannot be used (exit code 2)."""

    kind = "UsageError"


class InputError(ForgeError):
    """An input path cannot be read or its format cannot be told (exit code 2)."""

    kind = "InputError"


class OutputError(ForgeError):
    """An output or cache file or folder cannot be written, or another run is writing it (exit 2)."""

    kind = "OutputError"


class ProviderError(ForgeError):
    """A call to a model provider failed.

    ``retryable`` tells the engine whether another attempt may succeed; ``retry_after`` carries the
    delay the provider asked for (seconds), if it said one.
    """

    kind = "ProviderError"
    retryable: ClassVar[bool] = False
    #: counts toward the circuit breaker (the provider itself looks unhealthy)
    trips_breaker: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        raw: str | None = None,
        rate: RateInfo | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        self.raw = raw
        #: rate-limit headers that came with the error (a 429 usually has them)
        self.rate = rate

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        code = f" (HTTP {self.status})" if self.status else ""
        return f"{where}{self.message}{code}"


class FatalProviderError(ProviderError):
    """Every later call would fail the same way: the run stops at once instead of burning calls."""

    kind = "FatalProviderError"


class AuthError(FatalProviderError):
    """401/403: the key is missing, wrong or lacks access. Never retried; the run stops."""

    kind = "AuthError"


class NotFoundError(FatalProviderError):
    """404: no such endpoint or model; the base URL or the model name is wrong."""

    kind = "NotFoundError"


class StalledError(FatalProviderError):
    """The provider made no progress for the stall time (or nothing listens at its address): it is
    dropped for the run like a refused key, so a dead, hung or crashed server cannot hold a run.

    Not a usage error: the command was right and the provider may come back; a run whose every
    provider stalled ends with its waiting records in the failures file (exit code 1).
    """

    kind = "StalledError"


class RateLimitError(ProviderError):
    """429 (or 503 with Retry-After): retried after the delay the provider asked for."""

    kind = "RateLimitError"
    retryable = True


class ProviderTimeoutError(ProviderError):
    """The provider did not answer within the per-request timeout."""

    kind = "TimeoutError"
    retryable = True
    trips_breaker = True


class UpstreamError(ProviderError):
    """5xx, connection refused or reset: retried with backoff and counted by the breaker."""

    kind = "UpstreamError"
    retryable = True
    trips_breaker = True


class UnreachableError(UpstreamError):
    """Nothing accepted the connection (refused, no route, unknown host): a server that is not
    there, rather than one that answered badly. Before any answer, that drops the provider at once."""


class InvalidResponseError(ProviderError):
    """The answer is not JSON, has the wrong shape, or misses items: only the bad items are re-asked."""

    kind = "InvalidResponseError"


class RequestError(ProviderError):
    """The provider rejected the request itself (400, 404, 422): retrying the same request is futile."""

    kind = "RequestError"

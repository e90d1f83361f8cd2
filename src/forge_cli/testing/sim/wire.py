"""What differs between providers on the wire, as seen from the simulated upstream.

``FakeUpstream`` owns everything providers share (latency, RPM/TPM windows, scripted faults, stats,
keep-alive); a ``Wire`` owns one provider's dialect: the route, where the key travels, how a request
is read, and the exact bodies and headers of answers and errors, down to the server's own refusals
of a request it cannot read. One module per wire (``sim/openai_wire.py``, ``sim/gemini_wire.py``,
...), registered by name in ``sim/registry.py``, so a test can face forge with Gemini's real error
bodies without a second server implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["Headers", "Limited", "WindowState", "Wire", "WireRequest", "content_text"]


def content_text(content: Any) -> str:
    """Text of a message content, which OpenAI allows as a string or a list of typed parts.

    Here rather than in ``openai_wire.py`` because the simulator reads the pack out of every wire's
    ``WireRequest.messages`` with it too, and must not depend on one dialect's module for that.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


class Headers(Protocol):
    """Request headers, looked up case-insensitively (``http.client`` message or a plain dict)."""

    def get(self, name: str, /) -> str | None: ...


@dataclass(slots=True)
class Limited:
    """Why a request was refused by the configured RPM/TPM window."""

    dimension: Literal["requests", "tokens"]
    limit: int
    used: int
    requested: int
    #: seconds until the request would be admitted
    wait: float


@dataclass(slots=True)
class WindowState:
    """The RPM/TPM windows after a request was admitted (None: that limit is not configured)."""

    rpm_limit: int | None = None
    rpm_remaining: int | None = None
    #: seconds until the window is back to its initial state
    rpm_reset: float = 0.0
    tpm_limit: int | None = None
    tpm_remaining: int | None = None
    tpm_reset: float = 0.0


@dataclass(slots=True)
class WireRequest:
    """A chat request read from any wire, in the one shape the simulator reasons about."""

    model: str | None
    #: OpenAI-shaped ``[{"role": ..., "content": str}]``; the last user message carries the pack
    messages: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int = 0
    #: the client asked for JSON (response_format, responseMimeType, ...)
    wants_json: bool = False
    #: how the client bound the answer: "schema" (a JSON Schema as structured output, a forced
    #: tool), "json" (the wire's JSON mode) or "text" (nothing but the prompt)
    output: str = "text"
    #: the answer's JSON Schema as this wire received it, when ``output`` is "schema"
    schema: Any = None
    #: the tool the client forced the model to call (Anthropic's ``tool_choice``), if any
    tool: str | None = None
    #: token log probabilities asked for (OpenAI's ``logprobs``), and how many alternatives each
    logprobs: bool = False
    top_logprobs: int = 0
    #: the request is unusable: (status, body) of the provider's own 400
    error: tuple[int, Any] | None = None


class Wire(Protocol):
    """One provider's dialect. Methods return plain JSON-able bodies; the server writes them."""

    #: short name, e.g. "openai", "gemini", "anthropic", "cohere"
    name: str
    #: the path prefix of the provider's base URL ("/v1", "/v1beta", "/v2"): the simulator's
    #: ``base_url`` is ``http://127.0.0.1:PORT`` + this, as an adapter's base URL would be
    base_path: str

    def chat_route(self, method: str, path: str) -> str | None:
        """For the chat endpoint: the model named in the path ("" when the path names none).
        None for any other path."""
        ...

    def presented_key(self, headers: Headers, query: Mapping[str, str]) -> str | None:
        """The API key the client sent, wherever this provider expects it."""
        ...

    def auth_failure(self, presented: str | None) -> tuple[int, Any]:
        """Status and body for a missing (None) or wrong key."""
        ...

    def parse(self, body: Any, path_model: str | None, headers: Headers) -> WireRequest:
        """Read a request body (already JSON-decoded, may be any type)."""
        ...

    def bad_json(self) -> tuple[int, Any]:
        """Status and body when the request body is not JSON."""
        ...

    def not_found(self, method: str, path: str) -> tuple[int, Any]:
        """Status and body for an unknown path."""
        ...

    def bad_content_length(self) -> tuple[int, Any]:
        """Status and body when the Content-Length header is not a number: the server refuses the
        request on any path, before the key is checked, and closes the connection."""
        ...

    def too_large(self) -> tuple[int, Any]:
        """Status and body when the request body is over the simulator's size limit: refused on
        any path before it is buffered, and the connection closed."""
        ...

    def output_refused(self, output: str, model: str) -> tuple[int, Any]:
        """Status and body when the server does not support the output the request asked for
        ("schema" or "json"): the provider's own 400 for it."""
        ...

    def success(
        self,
        *,
        model: str,
        content: str,
        reasoning: str | None,
        prompt_tokens: int,
        completion_tokens: int,
        reasoning_tokens: int,
        request: WireRequest,
    ) -> Any:
        """The body of a 200 answer to ``request`` (a forced tool answers through it)."""
        ...

    def rate_limited(self, model: str, limited: Limited) -> tuple[int, Any, dict[str, str]]:
        """Status, body and extra headers (retry-after, ...) of a rate-limit refusal."""
        ...

    def server_error(self, status: int, request_id: str) -> Any:
        """The body of a 5xx (or any status used as a failure)."""
        ...

    def overloaded(self, request_id: str) -> tuple[int, Any]:
        """Status and body when the provider says it is overloaded (Anthropic: 529)."""
        ...

    def response_headers(self, request_id: str, elapsed_ms: int) -> dict[str, str]:
        """Headers on every chat response (request ids, versions)."""
        ...

    def ratelimit_headers(self, window: WindowState) -> dict[str, str]:
        """Rate-limit headers for the configured limits ({} when the provider sends none)."""
        ...

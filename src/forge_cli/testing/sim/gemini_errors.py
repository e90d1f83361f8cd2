"""The Gemini API's error bodies, as ``GeminiWire`` sends them (see ``gemini_wire.py`` for sources).

Apart from the wire because they are most of its text and none of its logic: Google's envelope
``{"error": {"code", "message", "status", "details"?}}``, the google.rpc detail objects
(``ErrorInfo``, ``LocalizedMessage``, ``BadRequest``, ``Help``, ``QuotaFailure``, ``RetryInfo``) and
Google's own messages, each status with the RPC status name Gemini pairs it with.
"""

from __future__ import annotations

import math
from typing import Any

from forge_cli.testing.sim.wire import Limited

__all__ = [
    "SERVICE",
    "bad_content_length",
    "bad_json",
    "bad_role",
    "google_error",
    "json_mode_disabled",
    "missing_contents",
    "missing_key",
    "not_a_message",
    "not_found",
    "overloaded",
    "quota_exceeded",
    "server_error",
    "too_large",
    "unknown_field",
    "unknown_model",
    "wrong_key",
]

SERVICE = "generativelanguage.googleapis.com"
_RATE_LIMITS_URL = "https://ai.google.dev/gemini-api/docs/rate-limits"

_STATUS_TEXT: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: (
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


def google_error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Google's JSON error envelope (``details`` left out when there are none, as Google does)."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def _invalid(message: str, details: list[dict[str, Any]] | None = None) -> tuple[int, Any]:
    return 400, google_error(400, "INVALID_ARGUMENT", message, details)


# -- refusals of the request itself ----------------------------------------------------------------


def unknown_field(name: str, where: str | None = None) -> tuple[int, Any]:
    """A field the request message does not have, refused as the real API does."""
    at = f" at '{where}'" if where else ""
    message = f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
    violation = {"field": where or "", "description": message}
    return _invalid(
        message,
        [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}],
    )


def json_mode_disabled(model: str) -> tuple[int, Any]:
    """``responseMimeType`` "application/json" on a model without JSON mode (the simulator's
    wording, after what the 1.0 models answered)."""
    return _invalid(f"Json mode is not enabled for models/{model}")


def logprobs_disabled(model: str) -> tuple[int, Any]:
    """``responseLogprobs`` on a model without them (the Gemini API's words for gemini-2.5-*,
    as users report them: 400 INVALID_ARGUMENT, no details)."""
    return _invalid(f"Logprobs is not enabled for models/{model}")


def not_a_message() -> tuple[int, Any]:
    """The body is JSON but not an object."""
    return _invalid(
        'Invalid JSON payload received. Unknown name "": Root element must be a message.'
    )


def bad_role() -> tuple[int, Any]:
    return _invalid("Please use a valid role: user, model.")


def missing_contents() -> tuple[int, Any]:
    return _invalid("* GenerateContentRequest.contents: contents is not specified\n")


def bad_json() -> tuple[int, Any]:
    return _invalid("Invalid JSON payload received. Unexpected token.")


def bad_content_length() -> tuple[int, Any]:
    """Gemini's 400 shape; the message is the simulator's own."""
    return _invalid("Invalid Content-Length header.")


def too_large() -> tuple[int, Any]:
    """Not Google's answer: no source this wire follows shows what Gemini says to an oversized
    body, so the simulator's long-standing 413 (OpenAI's error shape) is kept rather than a
    Google body made up."""
    body = {
        "message": "Request body too large.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    return 413, {"error": body}


# -- keys ----------------------------------------------------------------------------------------


def missing_key() -> tuple[int, Any]:
    return 403, google_error(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    )


def wrong_key() -> tuple[int, Any]:
    message = "API key not valid. Please pass a valid API key."
    return _invalid(
        message,
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": SERVICE},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
        ],
    )


# -- routes --------------------------------------------------------------------------------------


def unknown_model(model: str) -> tuple[int, Any]:
    return 404, google_error(
        404,
        "NOT_FOUND",
        f"models/{model} is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def not_found() -> tuple[int, Any]:
    return 404, google_error(404, "NOT_FOUND", "Requested entity was not found.")


# -- the provider's own failures -----------------------------------------------------------------


def quota_exceeded(model: str, limited: Limited) -> dict[str, Any]:
    """The 429 RESOURCE_EXHAUSTED body, with the wait in ``RetryInfo`` (Gemini sends no header)."""
    if limited.dimension == "requests":
        metric = f"{SERVICE}/generate_content_free_tier_requests"
        quota_id = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    else:
        metric = f"{SERVICE}/generate_content_free_tier_input_token_count"
        quota_id = "GenerateContentInputTokensPerModelPerMinute-FreeTier"
    wait = max(0.0, limited.wait)
    message = (
        "You exceeded your current quota, please check your plan and billing details. For "
        f"more information on this error, head to: {_RATE_LIMITS_URL}. To monitor your "
        "current usage, head to: https://ai.dev/rate-limit. \n"
        f"* Quota exceeded for metric: {metric}, limit: {limited.limit}, model: {model}\n"
        f"Please retry in {wait:.9f}s."
    )
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {"description": "Learn more about Gemini API quotas", "url": _RATE_LIMITS_URL}
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": metric,
                    "quotaId": quota_id,
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": str(limited.limit),
                }
            ],
        },
        # whole seconds, rounded up, so a client that honours it is never early
        {
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": f"{math.ceil(wait)}s",
        },
    ]
    return google_error(429, "RESOURCE_EXHAUSTED", message, details)


def server_error(status: int) -> dict[str, Any]:
    """Google's body for ``status`` used as a failure, with the RPC status Gemini pairs it with."""
    rpc_status, message = _STATUS_TEXT.get(
        status,
        (
            "UNKNOWN" if status >= 500 else "FAILED_PRECONDITION",
            f"Simulated failure with status {status}.",
        ),
    )
    return google_error(status, rpc_status, message)


def overloaded() -> tuple[int, Any]:
    return 503, google_error(
        503,
        "UNAVAILABLE",
        "This model is currently experiencing high demand. Spikes in demand are usually "
        "temporary. Please try again later.",
    )

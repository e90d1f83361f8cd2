"""Base URLs as users write them: with the API version (forge's own style) or without it (the
providers' SDKs' style).

Anthropic's, Google's and Cohere's SDKs take the bare host (``https://api.anthropic.com``) and add
the version themselves, so that is what people copy from their docs and proxies; forge's native
adapters put their routes under the versioned base (``.../v1``, ``.../v1beta``, ``.../v2``). Both
are accepted: a base URL whose last path segment is a version keeps it, any other gets the
adapter's version appended, as the SDK would (a gateway such as ``https://gw.example/anthropic``
becomes ``https://gw.example/anthropic/v1``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

#: "v1", "v2", "v1beta", "v1alpha", "v1beta1", "v3alpha2": the shapes API versions take in a path
_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d*)?", re.IGNORECASE)


def with_version(base_url: str, version: str | None) -> str:
    """``base_url`` with ``version`` as its last path segment unless it already ends in one.

    An empty URL stays empty (the adapter's own default applies) and ``version=None`` (a wire whose
    users give the whole base, such as OpenAI-compatible servers) leaves the URL as it is, less a
    trailing slash.
    """
    url = base_url.rstrip("/")
    if not url or version is None:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url  # a malformed URL is reported where it is used, with its name
    last = parts.path.rstrip("/").rpartition("/")[2]
    if _VERSION.fullmatch(last):
        return url
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{version}"))

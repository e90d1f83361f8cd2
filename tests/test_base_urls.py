"""Base URLs with and without the API version, for the native wires, against the simulator.

People copy the bare host from the providers' SDK docs (``https://api.anthropic.com``); forge's
presets carry the versioned base (``.../v1``). Both must reach the same route on the simulated
provider, which serves only the real versioned paths (``/v1/messages``, ``/v1beta/models/...``,
``/v2/chat``) and answers anything else with the provider's 404.
"""

from __future__ import annotations

import orjson
import pytest

from conftest import API_KEY, KEY_ENV, forge
from forge_cli.providers.urls import with_version
from forge_cli.testing.sim.server import FakeUpstream

VERSIONS = {"anthropic": "v1", "gemini": "v1beta", "cohere": "v2"}


def _host(server: FakeUpstream) -> str:
    return f"http://127.0.0.1:{server.port}"


URL_FORMS = {
    "bare host": _host,
    "bare host/": lambda s: _host(s) + "/",
    "versioned": lambda s: s.base_url,
    "versioned/": lambda s: s.base_url + "/",
}


@pytest.mark.parametrize("form", list(URL_FORMS))
@pytest.mark.parametrize("wire", list(VERSIONS))
def test_native_wires_take_the_bare_host_and_the_versioned_url(tmp_path, wire, form):
    src = tmp_path / "t.jsonl"
    src.write_bytes(b'{"id": "T1", "text": "I was charged twice for my order"}\n')
    with FakeUpstream(api_key=API_KEY, wire=wire) as server:
        run = forge(
            "classify",
            str(src),
            *("--provider", wire, "--base-url", URL_FORMS[form](server)),
            *("--api-key-env", KEY_ENV, "--no-progress", "--json-summary", "--no-cache"),
        )
        calls = server.stats.requests
    assert run.exit_code == 0, run.stderr
    assert run.summary["done"] == 1 and calls >= 1
    rows = [orjson.loads(line) for line in (tmp_path / "t.results.jsonl").read_bytes().splitlines()]
    assert [r["id"] for r in rows] == ["T1"]


def test_a_wrong_version_is_kept_and_reported_not_rewritten(tmp_path):
    """A URL that ends in a version is the user's choice: forge does not swap it for its own."""
    src = tmp_path / "t.jsonl"
    src.write_bytes(b'{"id": "T1", "text": "VPN is down"}\n')
    with FakeUpstream(api_key=API_KEY, wire="cohere") as server:
        run = forge(
            "classify",
            str(src),
            *("--provider", "cohere", "--base-url", f"{_host(server)}/v1"),
            *("--api-key-env", KEY_ENV, "--no-progress", "--no-cache"),
        )
    assert run.exit_code != 0
    assert "cohere" in run.stderr


@pytest.mark.parametrize(
    ("url", "version", "expected"),
    [
        ("https://api.anthropic.com", "v1", "https://api.anthropic.com/v1"),
        ("https://api.anthropic.com/", "v1", "https://api.anthropic.com/v1"),
        ("https://api.anthropic.com/v1/", "v1", "https://api.anthropic.com/v1"),
        # Gemini's stable v1 stays v1: the user chose it
        (
            "https://generativelanguage.googleapis.com/v1",
            "v1beta",
            "https://generativelanguage.googleapis.com/v1",
        ),
        (
            "https://generativelanguage.googleapis.com",
            "v1beta",
            "https://generativelanguage.googleapis.com/v1beta",
        ),
        # a gateway path gets the version after it, as the SDKs add it
        ("https://gw.example/acct/gw/anthropic", "v1", "https://gw.example/acct/gw/anthropic/v1"),
        ("https://u:p@proxy.example:8443", "v2", "https://u:p@proxy.example:8443/v2"),
        ("http://127.0.0.1:9000/v1", None, "http://127.0.0.1:9000/v1"),  # OpenAI-style: as given
        ("", "v1", ""),
    ],
)
def test_with_version(url, version, expected):
    assert with_version(url, version) == expected

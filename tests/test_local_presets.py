"""Local model servers get one record a request unless the user chooses packs.

A local server keeps the shared instructions' prefix cached, so packing saves it no time, and a small
model answers worse in packs (benchmarks/README.md, "Accuracy on public labelled tickets"). Every
test runs forge against ``FakeUpstream`` on 127.0.0.1 (the OpenAI wire local servers speak) and counts
the records each request held as the server received it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from conftest import API_KEY, KEY_ENV, distinct_texts, forge, read_jsonl, write_tickets
from forge_cli.testing.sim.server import FakeUpstream


def classify(server: FakeUpstream, src: Path, *extra: str, provider: str = "llamacpp") -> None:
    run = forge(
        "classify",
        str(src),
        "--provider",
        provider,
        "--base-url",
        server.base_url,
        "--concurrency",
        "1",
        "--no-progress",
        "--no-cache",
        *extra,
    )
    assert run.exit_code == 0, run.stderr
    assert len(read_jsonl(src.with_name(src.stem + ".results.jsonl"))) == 12


def pack_sizes(server: FakeUpstream) -> list[int]:
    """Records per answered request, in the order the server saw them."""
    return [len(r.ids) for r in server.stats.records if r.status == 200]


@pytest.fixture
def tickets(tmp_path: Path) -> Path:
    return write_tickets(tmp_path / "t.jsonl", distinct_texts(12))


@pytest.fixture
def llamacpp() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


def test_a_local_preset_sends_one_record_a_request(tickets: Path, llamacpp: FakeUpstream) -> None:
    classify(llamacpp, tickets)
    assert pack_sizes(llamacpp) == [1] * 12


def test_the_pack_flag_wins_over_the_preset(tickets: Path, llamacpp: FakeUpstream) -> None:
    classify(llamacpp, tickets, "--pack", "4")
    assert pack_sizes(llamacpp) == [4, 4, 4]


@pytest.mark.parametrize(
    ("where", "size", "expected"),
    [("forge.toml", 6, [6, 6]), ("env", 3, [3, 3, 3, 3]), ("forge.toml", 0, [12])],
)
def test_a_local_servers_pack_is_a_provider_setting(
    tickets: Path,
    llamacpp: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    size: int,
    expected: list[int],
) -> None:
    if where == "env":
        monkeypatch.setenv("FORGE_LLAMACPP_PACK", str(size))
    else:
        Path("forge.toml").write_text(f"[providers.llamacpp]\npack = {size}\n", encoding="utf-8")
    classify(llamacpp, tickets)
    assert pack_sizes(llamacpp) == expected


def test_a_hosted_provider_keeps_adaptive_packing(tickets: Path) -> None:
    with FakeUpstream(api_key=API_KEY) as server:
        classify(server, tickets, "--api-key-env", KEY_ENV, provider="openai")
        assert pack_sizes(server) == [12]  # twelve short tickets: one pack of the simple class


def test_a_chain_packs_as_its_least_local_member_allows(
    tickets: Path, llamacpp: FakeUpstream
) -> None:
    """A member after a local one that prefers packs keeps the engine's packing: one size holds a
    whole run, and packing is what makes a hosted fallback cheap."""
    classify(llamacpp, tickets, provider="llamacpp,offline")
    assert pack_sizes(llamacpp) == [12]


def test_a_dry_run_counts_the_local_servers_requests(tickets: Path) -> None:
    run = forge("classify", str(tickets), "--provider", "llamacpp", "--dry-run", "--json-summary")
    assert run.exit_code == 0, run.stderr
    plan = orjson.loads(run.stdout.splitlines()[-1])
    assert plan["packs"] == 12


def test_providers_list_says_where_the_pack_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_VLLM_PACK", "8")
    data = orjson.loads(
        forge("providers", "list", "--provider", "openai,llamacpp,vllm", "--json").stdout
    )
    rows = {member["name"]: member["settings"]["pack"] for member in data["providers"]}
    assert rows["llamacpp"] == {"value": 1, "source": "preset llamacpp"}
    assert rows["vllm"] == {"value": 8, "source": "env FORGE_VLLM_PACK"}
    assert rows["openai"]["value"] is None

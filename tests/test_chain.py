"""The provider chain end to end: real loopback upstreams in each provider's wire format, configured
through a real forge.toml, driven through the CLI.

Fallback order, dropped providers, per-provider breakers, pacing at an RPM limit, routing, cost
totals, settings precedence, and keys that never reach any output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import API_KEY, KEY_ENV, distinct_texts, forge, read_jsonl, write_tickets
from forge_cli.testing.sim.anthropic_wire import AnthropicWire
from forge_cli.testing.sim.cohere_wire import CohereWire
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.server import FakeUpstream

COMMON = ("--no-progress", "--json-summary", "--backoff", "0.01")


def write_config(
    path: Path, providers: dict[str, dict[str, Any]], top: dict[str, Any] | None = None
) -> Path:
    """A forge.toml with top-level settings and one [providers.NAME] table per provider."""
    lines = [f"{k} = {_toml(v)}" for k, v in (top or {}).items()]
    for name, table in providers.items():
        lines.append(f'\n[providers."{name}"]')
        lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def table(server: FakeUpstream, kind: str = "openai", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "base_url": server.base_url, "api_key_env": KEY_ENV, **extra}


def classify(src: Path, *args: str) -> Any:
    return forge("classify", str(src), *COMMON, *args)


def results_of(src: Path) -> list[dict[str, Any]]:
    return read_jsonl(src.with_name(src.stem + ".results.jsonl"))


def failures_of(src: Path) -> list[dict[str, Any]]:
    return read_jsonl(src.with_name(src.stem + ".failures.jsonl"))


@pytest.fixture
def servers() -> Iterator[list[FakeUpstream]]:
    started: list[FakeUpstream] = []
    yield started
    for server in started:
        server.stop()


def serve(servers: list[FakeUpstream], **kw: Any) -> FakeUpstream:
    server = FakeUpstream(api_key=kw.pop("api_key", API_KEY), **kw).start()
    servers.append(server)
    return server


# ------------------------------------------------------------------------------------ fallback


def test_healthy_first_provider_answers_everything(tmp_path: Path, servers: list) -> None:
    first, second = serve(servers), serve(servers, wire=GeminiWire())
    write_config(
        tmp_path / "forge.toml", {"first": table(first), "second": table(second, "gemini")}
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(30))
    run = classify(src, "--provider", "first,second")
    assert run.exit_code == 0, run.stderr
    assert {r["provider"] for r in results_of(src)} == {"first"}
    assert second.stats.requests == 0


def test_failing_provider_hands_packs_to_the_next(tmp_path: Path, servers: list) -> None:
    broken = serve(servers, failure_rate=1.0, failure_status=503)
    backup = serve(servers, wire=GeminiWire())
    write_config(
        tmp_path / "forge.toml", {"broken": table(broken), "backup": table(backup, "gemini")}
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(40))
    run = classify(src, "--provider", "broken,backup", "--retries", "1", "--pack", "5")
    assert run.exit_code == 0, run.stderr
    rows = results_of(src)
    assert len(rows) == 40 and failures_of(src) == []
    assert {r["provider"] for r in rows} == {"backup"}
    assert {r["model"] for r in rows} == {"gemini-2.5-flash"}
    by = run.summary["providers"]
    assert by["broken"]["fallbacks"] >= 1
    assert by["broken"]["upstream_errors"] == broken.stats.requests
    assert by["backup"]["items"] == 40


def test_rate_limit_past_retries_falls_back(tmp_path: Path, servers: list) -> None:
    limited = serve(servers)
    limited.fault_when(lambda items: Fault("429", retry_after=0))
    backup = serve(servers, wire=AnthropicWire())
    write_config(
        tmp_path / "forge.toml",
        {"limited": table(limited), "backup": table(backup, "anthropic")},
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(10))
    run = classify(src, "--provider", "limited,backup", "--retries", "1")
    assert run.exit_code == 0, run.stderr
    assert {r["provider"] for r in results_of(src)} == {"backup"}
    assert run.summary["providers"]["limited"]["rate_limited"] >= 1


def test_auth_error_drops_the_provider_with_one_line(
    tmp_path: Path, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sk-wrong-0123456789abcdefWRONGKEY"
    monkeypatch.setenv("WRONG_KEY", wrong)
    guarded = serve(servers)
    backup = serve(servers, wire=CohereWire())
    write_config(
        tmp_path / "forge.toml",
        {
            "guarded": table(guarded, api_key_env="WRONG_KEY"),
            "backup": table(backup, "cohere"),
        },
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(30))
    run = classify(src, "--provider", "guarded,backup", "--pack", "1", "--concurrency", "2")
    assert run.exit_code == 0, run.stderr
    dropped = [line for line in run.stderr.splitlines() if "dropped for this run" in line]
    assert len(dropped) == 1, run.stderr
    assert "guarded" in dropped[0] and "WRONG_KEY" in dropped[0]
    assert {r["provider"] for r in results_of(src)} == {"backup"}
    # packs already in flight when the 401 came may hit it too; no later pack does
    assert guarded.stats.requests <= 4  # 2 slots per provider x 2 providers
    assert run.summary["providers"]["guarded"]["dropped"]
    for text in (run.stdout, run.stderr, *(str(r) for r in results_of(src))):
        assert wrong not in text and API_KEY not in text


def test_every_provider_dropped_stops_the_run(
    tmp_path: Path, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRONG_KEY", "sk-wrong-0123456789abcdefWRONGKEY")
    a, b = serve(servers), serve(servers, wire=GeminiWire())
    write_config(
        tmp_path / "forge.toml",
        {
            "a": table(a, api_key_env="WRONG_KEY"),
            "b": table(b, "gemini", api_key_env="WRONG_KEY"),
        },
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(10))
    run = classify(src, "--provider", "a,b")
    assert run.exit_code == 2
    assert "no provider left" in run.stderr


def test_a_provider_without_its_key_is_left_out(
    tmp_path: Path, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    backup = serve(servers)
    write_config(tmp_path / "forge.toml", {"backup": table(backup)})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(5))
    run = classify(src, "--provider", "groq,backup")
    assert run.exit_code == 0, run.stderr
    assert "GROQ_API_KEY" in run.stderr and "left out" in run.stderr
    alone = classify(src, "--provider", "groq")
    assert alone.exit_code == 2 and "GROQ_API_KEY" in alone.stderr


# ------------------------------------------------------------------------------------ breakers


def test_breakers_are_per_provider(tmp_path: Path, servers: list) -> None:
    broken = serve(servers, failure_rate=1.0, failure_status=500)
    healthy = serve(servers)
    write_config(tmp_path / "forge.toml", {"broken": table(broken), "healthy": table(healthy)})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(60))
    run = classify(
        src,
        *("--provider", "broken,healthy", "--pack", "1", "--concurrency", "2"),
        *("--retries", "0", "--breaker-threshold", "2", "--breaker-cooldown", "30"),
    )
    assert run.exit_code == 0, run.stderr
    by = run.summary["providers"]
    assert by["broken"]["breaker_opened"] >= 1
    assert by["healthy"]["breaker_opened"] == 0
    # once open, the broken provider's breaker sends packs straight on: it saw only a handful
    assert broken.stats.requests < 10
    assert by["healthy"]["items"] == 60


def test_anthropic_overloaded_is_retried_on_the_same_provider(
    tmp_path: Path, servers: list
) -> None:
    claude = serve(servers, wire=AnthropicWire())
    claude.script(Fault("overloaded"), Fault("overloaded"))
    write_config(tmp_path / "forge.toml", {"claude": table(claude, "anthropic")})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(10))
    run = classify(src, "--provider", "claude", "--pack", "10", "--retries", "3")
    assert run.exit_code == 0, run.stderr
    assert claude.stats.by_status.get(529) == 2
    assert run.summary["providers"]["claude"]["upstream_errors"] == 2
    assert len(results_of(src)) == 10


# ------------------------------------------------------------------------------------ pacing


def test_run_at_an_rpm_limit_collects_almost_no_429s(tmp_path: Path, servers: list) -> None:
    # 3000 RPM enforced over a 2 s sliding window (100 calls per 2 s); the server announces the
    # limit in x-ratelimit-* headers as OpenAI does, and forge paces itself to it
    server = serve(servers, rpm_limit=3000, rate_window=2.0, latency=0.005)
    write_config(tmp_path / "forge.toml", {"sim": table(server)})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(200))
    run = classify(src, "--provider", "sim", "--pack", "1", "--concurrency", "16")
    assert run.exit_code == 0, run.stderr
    assert len(results_of(src)) == 200
    calls = server.stats.requests
    rejected = server.stats.by_status.get(429, 0)
    assert rejected / calls < 0.02, (rejected, calls)
    assert run.summary["providers"]["sim"]["rpm"] == 3000


def test_requests_the_window_still_holds_go_at_once(tmp_path: Path, servers: list) -> None:
    # 600 RPM over a true one-minute window, 120 calls: the window holds them all, and the
    # headers say so; forge used to pace them at 90% of 10 per second, one call in flight at a
    # time (issue 14). Paced, no two calls would ever overlap at 50 ms each
    server = serve(servers, rpm_limit=600, latency=0.05)
    write_config(tmp_path / "forge.toml", {"sim": table(server)})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(120))
    run = classify(src, "--provider", "sim", "--pack", "1", "--concurrency", "8")
    assert run.exit_code == 0, run.stderr
    assert len(results_of(src)) == 120
    assert server.stats.by_status.get(429, 0) == 0
    assert server.stats.max_concurrent >= 4


def test_a_retry_waiting_out_its_back_off_holds_no_slot(tmp_path: Path, servers: list) -> None:
    # concurrency 2 and both first calls answered 503: both packs wait out a 2 s back-off. Had
    # they kept their slots, nothing could be asked meanwhile; lent out, the slots answer every
    # other ticket before either retry arrives, and never more than 2 calls are out at once
    server = serve(servers, latency=0.01)
    server.script(Fault("503"), Fault("503"))
    write_config(tmp_path / "forge.toml", {"sim": table(server)})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(10))
    run = classify(src, "--provider", "sim", "--pack", "1", "--concurrency", "2", "--backoff", "2")
    assert run.exit_code == 0, run.stderr
    assert len(results_of(src)) == 10
    records = sorted(server.stats.records, key=lambda r: r.timestamp)
    failed = {r.texts for r in records if r.status == 503}
    answered = [r.texts for r in records if r.status == 200]
    assert len(failed) == 2 and len(answered) == 10
    assert not failed & set(answered[:8])  # the 8 others first, then the 2 retries
    assert server.stats.max_concurrent <= 2


def test_a_typed_concurrency_wins_over_a_local_preset(tmp_path: Path, servers: list) -> None:
    # the vllm preset's own figure used to cap --concurrency silently (issue 14: 4 calls in
    # flight for --concurrency 16 against a server that batches hundreds)
    server = serve(servers, api_key=None, latency=0.1)
    write_config(tmp_path / "forge.toml", {"local": {"type": "vllm", "base_url": server.base_url}})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(48))
    run = classify(src, "--provider", "local", "--pack", "1", "--concurrency", "16")
    assert run.exit_code == 0, run.stderr
    assert len(results_of(src)) == 48
    assert 4 < server.stats.max_concurrent <= 16


def test_configured_rpm_paces_without_headers(tmp_path: Path, servers: list) -> None:
    # Gemini sends no rate-limit headers: the configured limit is all forge has
    server = serve(servers, wire=GeminiWire(), rpm_limit=3000, rate_window=2.0)
    write_config(tmp_path / "forge.toml", {"g": table(server, "gemini", rpm=3000)})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(150))
    run = classify(src, "--provider", "g", "--pack", "1", "--concurrency", "16")
    assert run.exit_code == 0, run.stderr
    rejected = server.stats.by_status.get(429, 0)
    assert rejected / server.stats.requests < 0.02


# ------------------------------------------------------------------------------------ routing


def test_cheapest_routing_prefers_the_cheaper_provider(tmp_path: Path, servers: list) -> None:
    pricey, cheap = serve(servers), serve(servers)
    write_config(
        tmp_path / "forge.toml",
        {
            "pricey": table(pricey, model="gpt-4o"),
            "cheap": table(cheap, model="gpt-4o-mini"),
        },
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(20))
    run = classify(src, "--provider", "pricey,cheap", "--routing", "cheapest")
    assert run.exit_code == 0, run.stderr
    assert {r["provider"] for r in results_of(src)} == {"cheap"}
    assert pricey.stats.requests == 0


def test_fastest_routing_learns_which_provider_is_faster(tmp_path: Path, servers: list) -> None:
    slow, fast = serve(servers, latency=0.2), serve(servers)
    write_config(tmp_path / "forge.toml", {"slow": table(slow), "fast": table(fast)})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(40))
    run = classify(
        src, "--provider", "slow,fast", "--routing", "fastest", "--pack", "1", "--concurrency", "1"
    )
    assert run.exit_code == 0, run.stderr
    counts = Counter(r["provider"] for r in results_of(src))
    assert counts["fast"] >= 38, counts
    assert counts["slow"] >= 1  # measured once, then passed over


def test_balanced_routing_spreads_across_keys_of_one_provider(
    tmp_path: Path, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_A", "sk-a-000000000000000000000")
    monkeypatch.setenv("KEY_B", "sk-b-111111111111111111111")
    server = serve(servers, api_key=None)
    write_config(tmp_path / "forge.toml", {"sim": table(server, api_key_env=["KEY_A", "KEY_B"])})
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(40))
    run = classify(
        src, "--provider", "sim", "--routing", "balanced", "--pack", "1", "--concurrency", "1"
    )
    assert run.exit_code == 0, run.stderr
    counts = Counter(r["provider"] for r in results_of(src))
    assert counts == {"sim#1": 20, "sim#2": 20}
    assert set(run.summary["providers"]) == {"sim#1", "sim#2"}


def test_balanced_routing_follows_weights(tmp_path: Path, servers: list) -> None:
    a, b = serve(servers), serve(servers, wire=GeminiWire())
    write_config(
        tmp_path / "forge.toml", {"a": table(a, weight=3), "b": table(b, "gemini", weight=1)}
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(40))
    run = classify(
        src, "--provider", "a,b", "--routing", "balanced", "--pack", "1", "--concurrency", "1"
    )
    assert run.exit_code == 0, run.stderr
    assert Counter(r["provider"] for r in results_of(src)) == {"a": 30, "b": 10}


# ------------------------------------------------------------------------------------ cost


def test_cost_per_provider_adds_up_and_matches_what_servers_counted(
    tmp_path: Path, servers: list
) -> None:
    a, b = serve(servers), serve(servers, wire=AnthropicWire())
    write_config(
        tmp_path / "forge.toml",
        {"a": table(a, model="gpt-4o-mini"), "b": table(b, "anthropic", model="my-claude")},
        top={"routing": "balanced"},
    )
    (tmp_path / "forge.toml").write_text(
        (tmp_path / "forge.toml").read_text() + '\n[prices]\n"my-claude" = [2.0, 8.0]\n'
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(40))
    run = classify(src, "--provider", "a,b", "--pack", "2", "--concurrency", "1")
    assert run.exit_code == 0, run.stderr
    s = run.summary
    by = s["providers"]
    prices = {"a": (0.15, 0.60), "b": (2.0, 8.0)}
    for name, server in (("a", a), ("b", b)):
        assert by[name]["tokens_in"] == server.stats.tokens_in
        assert by[name]["tokens_out"] == server.stats.tokens_out
        p_in, p_out = prices[name]
        expected = (by[name]["tokens_in"] * p_in + by[name]["tokens_out"] * p_out) / 1e6
        assert by[name]["cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert s["cost_usd"] == pytest.approx(sum(p["cost_usd"] for p in by.values()), abs=1e-5)
    assert s["tokens_in"] == sum(p["tokens_in"] for p in by.values())


# ------------------------------------------------------------------------------------ settings


def test_settings_precedence_file_then_env_then_flag(
    tmp_path: Path, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(servers)
    write_config(
        tmp_path / "forge.toml", {"sim": table(server, model="from-file")}, top={"provider": "sim"}
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(3))
    run = classify(src, "--no-cache")
    assert run.exit_code == 0, run.stderr
    assert {r["model"] for r in results_of(src)} == {"from-file"}
    monkeypatch.setenv("FORGE_SIM_MODEL", "from-env")
    run = classify(src, "--no-cache")
    assert {r["model"] for r in results_of(src)} == {"from-env"}
    run = classify(src, "--no-cache", "--model", "from-flag")
    assert {r["model"] for r in results_of(src)} == {"from-flag"}
    run = classify(src, "--no-cache", "--provider", "sim:from-chain")
    assert {r["model"] for r in results_of(src)} == {"from-chain"}


def test_user_config_dir_is_read_and_the_working_tree_wins(
    tmp_path: Path, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(servers)
    home = tmp_path / "xdg"
    (home / "forge").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    write_config(
        home / "forge" / "forge.toml",
        {"sim": table(server, model="user-model")},
        top={"provider": "sim"},
    )
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    src = write_tickets(work / "t.jsonl", distinct_texts(3))
    run = classify(src, "--no-cache")
    assert run.exit_code == 0, run.stderr
    assert {r["model"] for r in results_of(src)} == {"user-model"}
    (work / "forge.toml").write_text('[providers.sim]\nmodel = "project-model"\n')
    run = classify(src, "--no-cache")
    assert {r["model"] for r in results_of(src)} == {"project-model"}


def test_bad_provider_settings_are_usage_errors(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(2))
    (tmp_path / "forge.toml").write_text("[providers.groq]\nrpm = -3\n")
    run = classify(src, "--provider", "groq")
    assert run.exit_code == 2 and "[providers.groq] rpm" in run.stderr
    (tmp_path / "forge.toml").write_text('[providers.groq]\napi_key = "sk-123"\n')
    run = classify(src, "--provider", "groq")
    assert run.exit_code == 2 and "environment only" in run.stderr
    (tmp_path / "forge.toml").unlink()
    run = classify(src, "--provider", "nosuch")
    assert run.exit_code == 2 and "unknown provider 'nosuch'" in run.stderr
    run = classify(src, "--routing", "random")
    assert run.exit_code == 2 and "routing" in run.stderr


# ------------------------------------------------------------------------------------ keys


def test_no_key_reaches_any_output_or_the_cache(
    tmp_path: Path, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {
        "OAI_KEY": "sk-oai-SECRET-aaaaaaaaaaaaaaaaaaaa",
        "GEM_KEY": "AIzaSECRETbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "ANT_KEY": "sk-ant-SECRET-cccccccccccccccccccc",
        "CO_KEY": "co-SECRET-dddddddddddddddddddddddd",
        "BAD_KEY": "sk-bad-SECRET-eeeeeeeeeeeeeeeeeeee",
    }
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    oai = serve(servers, api_key=keys["OAI_KEY"], failure_rate=0.3, seed=3)
    gem = serve(servers, api_key=keys["GEM_KEY"], wire=GeminiWire())
    ant = serve(servers, api_key=keys["ANT_KEY"], wire=AnthropicWire())
    co = serve(servers, api_key=keys["CO_KEY"], wire=CohereWire())
    ant.script(Fault("429", retry_after=0), Fault("overloaded"), Fault("malformed"))
    write_config(
        tmp_path / "forge.toml",
        {
            "bad": table(oai, api_key_env="BAD_KEY"),
            "oai": table(oai, api_key_env="OAI_KEY"),
            "gem": table(gem, "gemini", api_key_env="GEM_KEY"),
            "ant": table(ant, "anthropic", api_key_env="ANT_KEY"),
            "co": table(co, "cohere", api_key_env="CO_KEY"),
        },
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(60))
    run = classify(
        src, "--provider", "bad,oai,gem,ant,co", "--routing", "balanced", "--retries", "1"
    )
    assert run.exit_code in (0, 1), run.stderr
    blobs = [run.stdout, run.stderr]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes().decode("utf-8", "replace"))
    for value in keys.values():
        assert all(value not in blob for blob in blobs), value
    assert {r["provider"] for r in results_of(src)} <= {"oai", "gem", "ant", "co"}


def test_prompt_settings_from_forge_toml_reach_gemini_as_xml_sections(
    tmp_path: Path, servers: list
) -> None:
    wire = GeminiWire()
    server = serve(
        servers,
        wire=wire,
        responder=lambda items: [
            {"id": it["id"], "category": "refund", "priority": "low", "summary": "s"}
            for it in items
        ],
    )
    write_config(tmp_path / "forge.toml", {"g": table(server, "gemini", model="gemini-3-pro")})
    with (tmp_path / "forge.toml").open("a") as f:
        f.write(
            '\n[classify]\nlabels = ["refund", "other"]\n'
            'instructions = "Tickets come from a bank: fraud is always urgent."\n'
            '\n[classify.label_descriptions]\nrefund = "the customer wants money back"\n'
        )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(4))
    run = classify(src, "--provider", "g")
    assert run.exit_code == 0, run.stderr
    system = str(wire.last_system_instruction)
    assert "<role>" in system and "<output_format>" in system
    assert "fraud is always urgent" in system
    assert '- "refund": the customer wants money back' in system
    assert "<context>" in str(wire.last_user_text) and "<task>" in str(wire.last_user_text)
    assert wire.last_generation_config["temperature"] == 1.0  # Gemini 3 keeps its default
    assert {r["category"] for r in results_of(src)} == {"refund"}

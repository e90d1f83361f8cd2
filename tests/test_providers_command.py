"""``forge providers list`` / ``check``: what a chain resolves to, each setting's source, and one
real call per provider against loopback servers. Keys never reach the output."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from conftest import API_KEY, KEY_ENV, forge
from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.server import FakeUpstream

GROQ_KEY = "gsk-forgetest-SECRET-0123456789abcdef"
WRONG_KEY = "sk-forgetest-WRONG-fedcba9876543210"


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", "250")
    for name in ("FORGE_ROUTING", "FORGE_GROQ_RPM", "FORGE_TIMEOUT", "FORGE_API_KEY_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def servers() -> Iterator[tuple[FakeUpstream, FakeUpstream]]:
    with (
        FakeUpstream(api_key=API_KEY) as openai_wire,
        FakeUpstream(api_key=API_KEY, wire=GeminiWire()) as gemini_wire,
    ):
        yield openai_wire, gemini_wire


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_toml(tables: dict[str, dict[str, str]], top: str = "") -> Path:
    lines = [top]
    for name, table in tables.items():
        lines.append(f"[providers.{name}]")
        lines += [f'{key} = "{value}"' for key, value in table.items()]
    path = Path("forge.toml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path.resolve()


def assert_no_secret(run, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in run.stdout and secret not in run.stderr


def test_list_without_chain_shows_presets_and_key_status(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    run = forge("providers", "list")
    assert run.exit_code == 0, run.stderr
    for name in ("gemini", "anthropic", "cohere", "groq", "llamacpp", "offline"):
        assert name in run.stdout
    lines = {line.split()[1]: line for line in run.stdout.splitlines() if line.startswith("│")}
    assert "GROQ_API_KEY" in lines["groq"] and " set " in lines["groq"]
    assert "ANTHROPIC_API_KEY" in lines["anthropic"] and "NOT SET" in lines["anthropic"]
    assert "not needed" in lines["llamacpp"]
    assert "config files read: none" in run.stdout
    assert_no_secret(run, GROQ_KEY, API_KEY)

    data = orjson.loads(forge("providers", "list", "--json").stdout)
    by_name = {p["name"]: p for p in data["providers"]}
    assert by_name["groq"]["key"] == "set" and by_name["anthropic"]["key"] == "NOT SET"
    assert by_name["groq"]["price_in"] > 0 and by_name["cohere"]["wire"] == "cohere"


def test_list_shows_custom_tables_and_the_files_read():
    toml = write_toml({"local": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}})
    run = forge("providers", "list")
    assert run.exit_code == 0, run.stderr
    assert "local *" in run.stdout and "http://127.0.0.1:9/v1" in run.stdout
    assert f"config files read: {toml}" in run.stdout


def test_list_chain_shows_where_each_setting_came_from(monkeypatch):
    toml = write_toml({"groq": {"model": "x"}})
    monkeypatch.setenv("FORGE_GROQ_RPM", "12")
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    args = ("providers", "list", "--provider", "gemini,groq", "--model", "gemini-2.5-pro")
    run = forge(*args)
    assert run.exit_code == 0, run.stderr
    assert "chain: gemini,groq (flag --provider)" in run.stdout
    assert "routing: ordered (default)" in run.stdout
    rows = [line.split("│")[1:4] for line in run.stdout.splitlines() if line.startswith("│")]
    rows = [tuple(cell.strip() for cell in row) for row in rows]
    assert ("model", "gemini-2.5-pro", "flag --model") in rows
    assert ("model", "x", str(toml)) in rows
    assert ("rpm", "12", "env FORGE_GROQ_RPM") in rows
    assert ("api_key_env", "GROQ_API_KEY (set)", "preset groq") in rows
    assert ("api_key_env", "GEMINI_API_KEY (NOT SET)", "preset gemini") in rows
    assert ("tpm", "learned from headers", "default") in rows
    assert ("price_in", "1.25", "table") in rows
    assert_no_secret(run, GROQ_KEY)

    data = orjson.loads(forge(*args, "--json", "--price-out", "3").stdout)
    assert data["chain"] == "gemini,groq" and data["chain_source"] == "flag --provider"
    gemini, groq = data["providers"]
    assert gemini["settings"]["model"] == {"value": "gemini-2.5-pro", "source": "flag --model"}
    assert gemini["settings"]["price_out"] == {
        "value": 3.0,
        "source": "override (flag --price-out)",
    }
    assert groq["settings"]["model"] == {"value": "x", "source": str(toml)}
    assert groq["settings"]["rpm"] == {"value": 12.0, "source": "env FORGE_GROQ_RPM"}
    assert groq["key"] == "set" and gemini["key"] == "NOT SET"


def test_chain_from_forge_toml_or_environment(monkeypatch):
    toml = write_toml({}, top='provider = ["groq", "offline"]\nrouting = "cheapest"')
    data = orjson.loads(forge("providers", "list", "--json").stdout)
    assert data["chain"] == "groq,offline" and data["chain_source"] == str(toml)
    assert data["routing"] == "cheapest" and data["config_files"] == [str(toml)]
    monkeypatch.setenv("FORGE_PROVIDER", "cohere")
    data = orjson.loads(forge("providers", "list", "--json").stdout)
    assert data["chain"] == "cohere" and data["chain_source"] == "env FORGE_PROVIDER"


def test_list_usage_errors_exit_2():
    run = forge("providers", "list", "--provider", "nosuch")
    assert run.exit_code == 2 and "unknown provider 'nosuch'" in run.stderr
    assert forge("providers", "list", "--routing", "random").exit_code == 2


def test_check_every_provider_answers(servers):
    openai_wire, gemini_wire = servers
    write_toml(
        {
            "fake": {"type": "openai", "base_url": openai_wire.base_url, "api_key_env": KEY_ENV},
            "gem": {"type": "gemini", "base_url": gemini_wire.base_url, "api_key_env": KEY_ENV},
        },
        top='provider = "fake,gem,offline"',
    )
    run = forge("providers", "check")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "3 of 3 providers answered" in run.stdout and " ms " in run.stdout
    assert_no_secret(run, API_KEY)
    data = orjson.loads(forge("providers", "check", "--json").stdout)
    assert data["ok"] is True
    assert [p["name"] for p in data["providers"]] == ["fake", "gem", "offline"]
    for probe in data["providers"]:
        assert probe["reachable"] == "yes" and probe["model_ok"] == "ok"
        assert probe["latency_ms"] is not None and probe["latency_ms"] >= 0
    assert [p["auth"] for p in data["providers"]] == ["ok", "ok", "not needed"]


def test_check_reports_wrong_key_closed_port_and_missing_key(servers, monkeypatch):
    openai_wire, _ = servers
    monkeypatch.setenv("FORGE_TEST_WRONG_KEY", WRONG_KEY)
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    write_toml(
        {
            "good": {"type": "openai", "base_url": openai_wire.base_url, "api_key_env": KEY_ENV},
            "bad": {
                "type": "openai",
                "base_url": openai_wire.base_url,
                "api_key_env": "FORGE_TEST_WRONG_KEY",
            },
            "dead": {"type": "openai", "base_url": dead, "api_key_env": KEY_ENV},
        }
    )
    args = ("providers", "check", "--provider", "good,bad,dead,groq", "--timeout", "3")
    run = forge(*args)
    assert run.exit_code == 1, run.stdout + run.stderr
    assert "1 of 4 providers answered" in run.stdout
    assert "no key: set GROQ_API_KEY" in run.stdout
    assert_no_secret(run, API_KEY, WRONG_KEY)
    data = orjson.loads(forge(*args, "--json").stdout)
    good, bad, dead_probe, groq = data["providers"]
    assert data["ok"] is False and good["ok"] is True
    assert (bad["reachable"], bad["auth"], bad["ok"]) == ("yes", "failed", False)
    assert "401" in bad["note"] and WRONG_KEY not in bad["note"]
    assert (dead_probe["reachable"], dead_probe["ok"]) == ("no", False)
    assert "cannot connect to http://127.0.0.1" in dead_probe["note"]
    assert (groq["auth"], groq["note"]) == ("no key", "no key: set GROQ_API_KEY")


def test_check_without_a_chain_checks_the_offline_provider():
    """What classify runs with when nothing is configured, so that is what gets checked."""
    run = forge("providers", "check")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "1 of 1 providers answered" in run.stdout and "offline" in run.stdout
    assert "--provider" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    data = orjson.loads(forge("providers", "check", "--json").stdout)
    assert data["ok"] is True and [p["name"] for p in data["providers"]] == ["offline"]

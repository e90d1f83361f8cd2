"""The one settings resolver: defaults < forge.toml < FORGE_* < flags, the same for every command
and for the git hook, with messages that say where a bad value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import forge, write_tickets
from forge_cli.app.commit_msg import hook_settings
from forge_cli.app.config_files import load_config
from forge_cli.app.settings import (
    BenchSettings,
    ClassifySettings,
    CommitSettings,
    ProvidersSettings,
    resolve,
)
from forge_cli.core.errors import UsageError


def _toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_default_toml_env_flag(tmp_path, monkeypatch):
    _toml(tmp_path / "forge.toml", "concurrency = 3\ntimeout = 9\nretries = 4\n")
    monkeypatch.setenv("FORGE_TIMEOUT", "7")
    monkeypatch.setenv("FORGE_RETRIES", "5")
    settings = resolve(ClassifySettings, "classify", {"input": "x", "retries": 6}, cwd=tmp_path)
    assert settings.backoff == 0.5  # default
    assert settings.concurrency == 3  # forge.toml
    assert settings.timeout == 7  # env beats forge.toml
    assert settings.retries == 6  # flag beats env
    sources = settings.setting_sources
    assert sources["concurrency"] == str(tmp_path / "forge.toml")
    assert sources["timeout"] == "env FORGE_TIMEOUT"
    assert sources["retries"] == "flag --retries"


def test_a_command_table_beats_the_top_level_and_a_later_file_beats_an_earlier_one(
    tmp_path, monkeypatch
):
    user = tmp_path / "user-config" / "forge"
    user.mkdir(parents=True)
    _toml(user / "forge.toml", 'provider = "groq"\nconcurrency = 2\n[classify]\nretries = 1\n')
    _toml(tmp_path / "forge.toml", 'provider = "gemini"\n[classify]\nconcurrency = 5\n')
    settings = resolve(ClassifySettings, "classify", {"input": "x"}, cwd=tmp_path)
    assert settings.provider == "gemini"  # the working tree's top level beats the user's
    assert settings.concurrency == 5 and settings.retries == 1
    commit = resolve(CommitSettings, "commit-msg", cwd=tmp_path)
    assert commit.provider == "gemini" and commit.concurrency == 2


def test_bench_ignores_a_top_level_chain(tmp_path):
    _toml(tmp_path / "forge.toml", 'provider = "groq"\n[bench]\nrepeat = 2\n')
    settings = resolve(BenchSettings, "bench", cwd=tmp_path)
    assert settings.provider is None and settings.repeat == 2


def test_bad_values_name_their_source(tmp_path, monkeypatch):
    monkeypatch.setenv("FORGE_CONCURRENCY", "lots")
    with pytest.raises(UsageError, match=r"FORGE_CONCURRENCY \(--concurrency\)"):
        resolve(ClassifySettings, "classify", {"input": "x"}, cwd=tmp_path)
    monkeypatch.delenv("FORGE_CONCURRENCY")
    _toml(tmp_path / "forge.toml", "[classify]\nretries = -1\n")
    with pytest.raises(UsageError, match=r"forge.toml: retries: "):
        resolve(ClassifySettings, "classify", {"input": "x"}, cwd=tmp_path)


def test_what_names_the_work_is_never_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FORGE_RANGE", "HEAD~3..HEAD")
    monkeypatch.setenv("FORGE_DRY_RUN", "1")
    assert resolve(CommitSettings, "commit-msg", cwd=tmp_path).range is None
    assert not resolve(ClassifySettings, "classify", {"input": "x"}, cwd=tmp_path).dry_run


def test_forge_config_names_the_only_file(tmp_path, monkeypatch):
    _toml(tmp_path / "forge.toml", "concurrency = 3\n")
    other = _toml(tmp_path / "other.toml", "concurrency = 11\n")
    monkeypatch.setenv("FORGE_CONFIG", str(other))
    assert resolve(ProvidersSettings, "providers", cwd=tmp_path).concurrency == 11


def test_the_hook_reads_every_setting_as_the_command_does(tmp_path, monkeypatch):
    """FORGE_CONCURRENCY reached `forge commit-msg` but not the hook before: one resolver now."""
    _toml(tmp_path / "forge.toml", '[commit-msg]\nprovider = "groq"\n')
    monkeypatch.setenv("FORGE_CONCURRENCY", "3")
    monkeypatch.setenv("FORGE_BACKOFF", "0.1")
    provider, _ = hook_settings(tmp_path)
    assert provider == "groq"
    settings = resolve(CommitSettings, "commit-msg", cwd=tmp_path)
    assert (settings.provider, settings.concurrency, settings.backoff) == ("groq", 3, 0.1)


def test_the_cli_flag_default_does_not_hide_forge_toml(tmp_path):
    """A flag left out must not override forge.toml with the flag's own default."""
    _toml(tmp_path / "forge.toml", '[classify]\nformat = "csv"\n')
    src = write_tickets(tmp_path / "t.jsonl", ["printer on fire", "refund please"])
    run = forge("classify", str(src), "--no-progress")
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "t.results.csv").exists()
    run = forge("classify", str(src), "--no-progress", "--format", "jsonl")
    assert (tmp_path / "t.results.jsonl").exists()


def test_cli_reports_a_bad_environment_value_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("FORGE_RETRIES", "many")
    src = write_tickets(tmp_path / "t.jsonl", ["printer on fire"])
    run = forge("classify", str(src))
    assert run.exit_code == 2
    assert "FORGE_RETRIES" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "t.results.jsonl").exists()


def test_loaded_config_remembers_which_file_each_setting_came_from(tmp_path):
    path = _toml(tmp_path / "forge.toml", 'routing = "cheapest"\n[classify]\npack = 4\n')
    loaded = load_config(start=tmp_path)
    assert loaded.origins["classify"] == {"pack": str(path), "routing": str(path)}
    assert loaded.origins["providers"] == {"routing": str(path)}

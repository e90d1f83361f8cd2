"""forge never prints a key or a URL password it was given, wherever the text ends up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from forge_cli.core.text import mask_url
from forge_cli.testing.sim.server import FakeUpstream

#: a key pasted where a variable's name belongs (built from pieces: no scanner should flag this file)
PASTED_KEY = "sk-" + "proj-" + "Zq81" * 6
URL_PASSWORD = "hunter" + "2-proxy-pass"


def run_forge(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forge_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def tickets(tmp_path: Path) -> Path:
    src = tmp_path / "t.jsonl"
    src.write_text('{"id": "a", "text": "printer on fire"}\n{"id": "b", "text": "refund me"}\n')
    return src


def everything_written(tmp_path: Path, proc: subprocess.CompletedProcess[str]) -> str:
    files = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    return "\n".join([proc.stdout, proc.stderr, *files])


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://bob:pw@127.0.0.1:9/v1", "http://bob:***@127.0.0.1:9/v1"),
        ("https://bob@example.test/x", "https://bob@example.test/x"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("http://a:b@[::1]:8/", "http://a:***@[::1]:8/"),
        ("http://a:b:c@host/x", "http://a:***@host/x"),
        # an unparseable port: what stands before the '@' is dropped whole
        ("http://a:secret@h:99999/x", "***@h:99999/x"),
    ],
)
def test_mask_url_hides_the_password_only(url, shown):
    assert mask_url(url) == shown


@pytest.mark.parametrize(
    "flag",
    [
        ["--api-key-env", PASTED_KEY],
        ["--api-key-env", "not a name"],
    ],
)
def test_a_key_given_as_the_variable_name_is_refused_without_echo(tmp_path, flag):
    proc = run_forge(tmp_path, "classify", str(tickets(tmp_path)), "--provider", "openai", *flag)
    assert proc.returncode == 2
    assert proc.stderr.startswith("forge: error: --api-key-env: takes the NAME")
    assert "Traceback" not in proc.stderr
    assert flag[1] not in everything_written(tmp_path, proc)


def test_a_key_in_forge_toml_or_the_environment_is_named_by_its_source(tmp_path):
    (tmp_path / "forge.toml").write_text(f'[classify]\napi_key_env = "{PASTED_KEY}"\n')
    proc = run_forge(tmp_path, "classify", str(tickets(tmp_path)), "--provider", "openai")
    assert proc.returncode == 2
    assert "forge.toml: api_key_env: takes the NAME" in proc.stderr
    assert PASTED_KEY not in proc.stderr + proc.stdout


def test_a_url_password_is_never_printed_nor_written(tmp_path):
    with FakeUpstream() as server:
        # a wrong path: the 404's message quotes the base URL, in stderr and every failure
        url = server.base_url.replace("http://", f"http://bob:{URL_PASSWORD}@") + "/nowhere"
        run = run_forge(
            tmp_path,
            "classify",
            str(tickets(tmp_path)),
            "--provider",
            "openai",
            "--base-url",
            url,
            "--retries",
            "0",
            "--no-progress",
        )
        listed = run_forge(tmp_path, "providers", "list", "--provider", "openai", "--base-url", url)
        overview = run_forge(tmp_path, "providers", "list", "--json")
    assert run.returncode in (1, 2), run.stderr
    assert "bob:***@127.0.0.1" in run.stderr + (tmp_path / "t.failures.jsonl").read_text()
    assert "bob:***@127.0.0.1" in listed.stdout
    for proc in (run, listed, overview):
        assert "Traceback" not in proc.stderr
        assert URL_PASSWORD not in everything_written(tmp_path, proc)


def test_an_unusable_url_is_quoted_without_its_password(tmp_path):
    proc = run_forge(
        tmp_path,
        "classify",
        str(tickets(tmp_path)),
        "--provider",
        "openai",
        "--base-url",
        f"ftp://bob:{URL_PASSWORD}@127.0.0.1/v1",
    )
    assert proc.returncode == 2
    assert "ftp://bob:***@127.0.0.1/v1" in proc.stderr
    assert URL_PASSWORD not in everything_written(tmp_path, proc)

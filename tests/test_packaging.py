"""What an installed forge carries: its metadata in one place, its license, and the data that
``forge bench`` reads when given no input (samples/ is not there outside a checkout)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.resources import files
from pathlib import Path

import orjson

import forge_cli

ROOT = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_metadata_names_a_free_distribution_and_one_version():
    project = pyproject()["project"]
    # "forge-cli" on the package index is someone else's project
    assert project["name"] == "forge-batch"
    assert project["scripts"] == {"forge": "forge_cli.cli.main:main"}
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = pyproject()["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "forge_cli.__version__"}
    assert forge_cli.__version__.count(".") == 2
    extras = project["optional-dependencies"]["dev"]
    assert f"{project['name']}[test]" in extras


def test_license_is_an_spdx_string_with_its_file():
    project = pyproject()
    assert project["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    # setuptools reads SPDX license strings from 77 on
    assert "setuptools>=77" in project["build-system"]["requires"]
    assert project["project"]["authors"] and project["project"]["classifiers"]


def test_sdist_manifest_carries_samples_and_test_data():
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").split()
    for folder in ("samples", "tests", "benchmarks"):
        assert folder in manifest


def test_packaged_tickets_are_the_samples():
    packaged = files("forge_cli") / "data" / "tickets.jsonl"
    assert packaged.read_bytes() == (ROOT / "samples" / "tickets.jsonl").read_bytes(), (
        "run python samples/make_samples.py: it writes both"
    )


#: one quick cell: the point is that the input is found, not the figures
SMALL = ("--concurrency", "4", "--repeat", "1", "--latency", "0", "--jitter", "0")


def test_bench_without_input_runs_from_another_folder(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "forge_cli", "bench", "--limit", "20", "--packs", "5", *SMALL],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    report = orjson.loads((elsewhere / "bench.json").read_bytes())
    assert report["tickets"] == 20
    assert report["cells"][0]["failure_pct"] == 0

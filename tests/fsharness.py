"""Helpers for the file-system reliability tests: forge in its own process, the one-line error
check, and a private mount namespace where a test can mount a tiny or read-only file system.

A full disk and a read-only folder are real here, not simulated: ``unshare --user --map-root-user
--mount`` gives the test a namespace of its own in which it may mount a 256 KiB tmpfs (or mount
one read-only), which no other process sees and which disappears with the namespace. Where the
platform allows no such namespace (macOS, a kernel without unprivileged user namespaces) those
tests skip; the in-process ENOSPC tests cover the same code there.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest


def forge_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "forge_cli", *(str(a) for a in args)]


def run_forge(*args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    """``python -m forge_cli ARGS`` to its end (a hang fails the test after ``timeout`` s)."""
    return subprocess.run(forge_args(*args), capture_output=True, text=True, timeout=timeout, **kw)


def one_error(stderr: str, returncode: int, expected: int = 2) -> str:
    """Assert a clean failure: the exit code, no traceback, exactly one ``forge: error:`` line."""
    assert returncode == expected, stderr
    assert "Traceback" not in stderr, stderr
    assert "Task exception" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("forge: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("forge: warning:")]


def jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file that must hold whole lines only."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), data[-80:]
    return [orjson.loads(line) for line in data.splitlines()]


def write_records(path: Path, n: int, prefix: str = "ticket") -> Path:
    with path.open("wb") as f:
        for i in range(n):
            text = f"My invoice shows a double charge, {prefix} {i}: the printer jams as well"
            f.write(orjson.dumps({"id": f"{prefix}-{i}", "text": text}) + b"\n")
    return path


@functools.cache
def _namespaces_work() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs t /mnt"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def in_namespace(script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a shell ``script`` as root of a new user and mount namespace (skip where impossible).

    Mounts made by the script are seen by it and its children only, and vanish with it: a test
    copies out whatever it wants to look at before the script ends.
    """
    if not _namespaces_work():
        pytest.skip("no private mount namespace here (unshare --user --mount)")
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
        check=False,
    )


def sh(*args: str | Path) -> str:
    """One shell command line from its words, each quoted."""
    return " ".join(shlex.quote(str(a)) for a in args)

"""A throwaway git repository for tests: its own identity, nothing global touched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Repo:
    """A git repository under tmp_path with its own identity; nothing global is touched."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        for key, value in (
            ("user.name", "Forge Test"),
            ("user.email", "forge@example.com"),
            ("commit.gpgsign", "false"),
            ("core.autocrlf", "false"),
            ("core.quotepath", "true"),
        ):
            self.git("config", key, value)

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root)}
        proc = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, env=env, check=False
        )
        if proc.returncode not in (0, 1):  # 1: a merge that stopped on a conflict
            raise AssertionError(proc.stderr.decode())
        return proc.stdout.decode("utf-8", "replace")

    def write(self, path: str, content: str | bytes, executable: bool = False) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        if executable:
            target.chmod(0o755)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def staged(self) -> str:
        self.git("add", "-A")
        return self.git("diff", "--cached", "-M", "--no-color")

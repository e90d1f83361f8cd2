"""The job journal: what a batch run submitted, written next to its outputs, atomically.

A batch run lasts hours and forge may be killed at any point of it, so every step that changes
the provider's side is recorded before and after it happens: a job is written down with its own
key (``forge_job``, also sent as the job's metadata) before its input is uploaded, its file id
after the upload, ``creating`` before the create call and the provider's job id after it. A run
that finds a job ``creating`` without an id looks it up by its key (``BatchApi.find``) before it
creates anything, so no job is ever submitted twice. Each write is a temporary file then
``os.replace``: a kill leaves the old journal or the new one, never half of one.

Layout, next to the outputs of ``tickets.jsonl``: ``tickets.jobs.json`` (this journal: the
command's settings, the cache fingerprint, one entry per job) and ``tickets.jobs/`` (each job's
input file and manifest: which cache key and record each request's pack ids stand for).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from forge_cli.core.errors import OutputError, UsageError

__all__ = ["JobEntry", "Journal", "journal_path", "write_atomic"]

VERSION = 1
#: job states, in order: recorded, input uploaded, create sent, created, answers in the cache
STATES = ("intent", "uploaded", "creating", "submitted", "collected")


def journal_path(results_path: Path) -> Path:
    """``tickets.jobs.json`` beside ``tickets.results.jsonl``."""
    stem = results_path.name.split(".results.", 1)[0]
    return results_path.with_name(f"{stem}.jobs.json")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (temporary file in the same folder, fsync, replace)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(slots=True)
class JobEntry:
    """One provider job of the run, as the journal keeps it."""

    key: str
    round: int
    requests: int
    items: int
    state: str = "intent"
    file_id: str | None = None
    batch_id: str | None = None
    #: when the create call was sent (less a margin for the provider's clock), epoch seconds
    creating_at: float | None = None
    #: what the provider said last: status, counts, expiry
    status: str = "not submitted"
    total: int = 0
    completed: int = 0
    failed: int = 0
    expires_at: int | None = None
    #: after collection: answers put in the cache, requests without a usable answer
    answered: int = 0
    unanswered: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    @staticmethod
    def new_key() -> str:
        return "fj-" + secrets.token_hex(8)


@dataclass(slots=True)
class Journal:
    path: Path
    command: str
    settings: dict[str, Any]
    fingerprint: str
    provider: str
    model: str
    #: where the command ran (``forge jobs collect`` runs it there again: a git range, a relative path)
    cwd: str = ""
    created: float = field(default_factory=time.time)
    round: int = 1
    jobs: list[JobEntry] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.with_suffix("")

    def job_file(self, entry: JobEntry, suffix: str) -> Path:
        return self.folder / f"{entry.key}{suffix}"

    @classmethod
    def load(cls, path: Path) -> Journal | None:
        """The journal at ``path``; None when there is none. UsageError when it is unreadable."""
        try:
            data = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError) as exc:
            raise UsageError(f"cannot read the batch journal {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise UsageError(f"{path} is not a batch journal of this forge (version {VERSION})")
        jobs = [JobEntry(**job) for job in data.get("jobs", [])]
        return cls(
            path=path,
            command=data["command"],
            settings=data["settings"],
            fingerprint=data["fingerprint"],
            provider=data["provider"],
            model=data["model"],
            cwd=data.get("cwd", ""),
            created=data.get("created", 0.0),
            round=data.get("round", 1),
            jobs=jobs,
        )

    def save(self) -> None:
        data = {
            "version": VERSION,
            "command": self.command,
            "settings": self.settings,
            "fingerprint": self.fingerprint,
            "provider": self.provider,
            "model": self.model,
            "cwd": self.cwd,
            "created": self.created,
            "round": self.round,
            "jobs": [asdict(job) for job in self.jobs],
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, orjson.dumps(data, option=orjson.OPT_INDENT_2))
        except OSError as exc:
            raise OutputError(f"cannot write the batch journal {self.path}: {exc}") from None

    def write_job_files(self, entry: JobEntry, lines: bytes, manifest: dict[str, Any]) -> None:
        """The job's input and manifest, before anything reaches the provider."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.job_file(entry, ".jsonl"), lines)
        write_atomic(self.job_file(entry, ".manifest.json"), orjson.dumps(manifest))

    def manifest(self, entry: JobEntry) -> dict[str, list[list[str]]]:
        """custom_id -> [[pack id, cache key, record id], ...] of the job's requests."""
        data: dict[str, list[list[str]]] = orjson.loads(
            self.job_file(entry, ".manifest.json").read_bytes()
        )
        return data

    @property
    def pending(self) -> list[JobEntry]:
        return [job for job in self.jobs if job.state != "collected"]

    def remove(self) -> None:
        """The run is finished: its outputs hold every record; the journal has done its job."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

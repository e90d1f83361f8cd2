"""Reliability and safety of the dedup cache (issue 10, items 5, 8 and 11): JSON and never pickle, a
folder only its user can read, and one clear line for a damaged, read-only or misplaced cache."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

import diskcache
import orjson
import pytest

from conftest import API_KEY, KEY_ENV, remote_args
from forge_cli.core.errors import OutputError
from forge_cli.engine.cache import ResultCache
from forge_cli.engine.cache_disk import FORMAT
from forge_cli.testing.sim.server import FakeUpstream
from fsharness import forge_args, in_namespace, one_error, run_forge, sh, warnings, write_records

PICKLE_HEADERS = (b"\x80\x03", b"\x80\x04\x95", b"\x80\x05\x95")


class Boom:
    """Unpickling this creates ``self.marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def classify(server: FakeUpstream, src: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """``forge classify`` in its own process, against ``server``, with its cache in ``cache``."""
    args = remote_args(server, "--cache-dir", str(cache))
    return run_forge("classify", src, *args, env={**os.environ, KEY_ENV: API_KEY})


def rows(db: Path) -> list[tuple[int, bytes]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT mode, value FROM Cache").fetchall()


def user_version(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute("PRAGMA user_version").fetchone()[0])


def test_the_cache_holds_json_in_a_folder_only_its_user_reads(tmp_path: Path) -> None:
    src = write_records(tmp_path / "t.jsonl", 12)
    cache = tmp_path / "cache"
    with FakeUpstream(api_key=API_KEY) as server:
        first = classify(server, src, cache)
        again = classify(server, src, cache)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert orjson.loads(again.stdout.splitlines()[-1])["cached"] == 12
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    db = cache / "cache.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    stored = rows(db)
    assert len(stored) == 12
    assert all(mode == 1 for mode, _ in stored)  # raw bytes, not diskcache's pickle mode (4)
    assert all(isinstance(orjson.loads(value), dict) for _, value in stored)
    data = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert not any(header in data for header in PICKLE_HEADERS)
    assert user_version(db) == FORMAT


def test_a_pickle_is_never_loaded(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with ResultCache(tmp_path / "c") as cache:
        cache.set_many([("good", {"answer": {"category": "billing"}})])
    with diskcache.Cache(str(tmp_path / "c")) as raw:  # someone writes a pickle into the cache
        raw.set("evil", Boom(marker))
        raw.set(("tuple", "key"), {"answer": {}})  # a key stored as a pickle too
    with ResultCache(tmp_path / "c") as cache:
        assert cache.get("evil") is None
        assert cache.get("good") == {"answer": {"category": "billing"}}
        assert cache.get_many(["evil", "good"]) == {"good": {"answer": {"category": "billing"}}}
        assert cache.stats().entries == 3  # counting and expiring load nothing either
    assert not marker.exists()


def test_an_old_pickle_cache_is_cleared_unread_with_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cache = tmp_path / "cache"
    with diskcache.Cache(str(cache)) as old:  # what forge before this wrote: pickles, 0755
        for n in range(5):
            old.set(f"key{n}", {"answer": {"category": "billing"}, "boom": Boom(marker)})
    cache.chmod(0o755)
    src = write_records(tmp_path / "t.jsonl", 4)
    with FakeUpstream(api_key=API_KEY) as server:
        run = classify(server, src, cache)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    said = warnings(run.stderr)
    assert len(said) == 2, run.stderr
    assert "held answers as Python pickles" in said[1] and "cleared it" in said[1]
    assert "made it 0700" in said[0]
    assert not marker.exists()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert len(rows(cache / "cache.db")) == 4 and user_version(cache / "cache.db") == FORMAT


def test_a_damaged_cache_is_set_aside_and_started_anew(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / "cache.db").write_bytes(b"this is no database " * 500)
    src = write_records(tmp_path / "t.jsonl", 6)
    with FakeUpstream(api_key=API_KEY) as server:
        run = classify(server, src, cache)
        again = classify(server, src, cache)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = warnings(run.stderr)
    assert "was damaged (file is not a database)" in line and "cache.db.damaged" in line, line
    assert (cache / "cache.db.damaged").exists()
    assert orjson.loads(again.stdout.splitlines()[-1])["cached"] == 6
    assert warnings(again.stderr) == []


def test_a_cache_that_fails_mid_run_is_one_line_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[str] = []
    with ResultCache(tmp_path / "c", warn=heard.append) as cache:

        def full(*args: Any, **kw: Any) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(diskcache.Cache, "transact", full)  # every write goes through it
        cache.set_many([("a", {"answer": {}})])
        cache.flush()  # the commit fails: said once, and the cache is left alone from now on
        cache.set_many([("b", {"answer": {}})])
        cache.flush()
        assert cache.get("a") is None
    assert heard == [
        f"the cache {tmp_path / 'c'} stopped working (database or disk is full); going on "
        "without it: answers from now on are not cached"
    ]


def test_a_read_only_cache_is_one_line(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with ResultCache(cache) as made:
        made.set_many([("k", {"answer": {}})])
    src = write_records(tmp_path / "t.jsonl", 3)
    with FakeUpstream(api_key=API_KEY) as server:
        args = ["classify", src, *remote_args(server, "--cache-dir", str(cache))]
        script = f"mount --bind {sh(cache)} {sh(cache)} && mount -o remount,bind,ro {sh(cache)}"
        script += f" && {KEY_ENV}={sh(API_KEY)} exec {sh(*forge_args(*args))}"
        run = in_namespace(script)
    line = one_error(run.stderr, run.returncode)
    assert f"cache dir {cache}" in line and "--no-cache" in line, line
    assert not (tmp_path / "t.results.jsonl").exists()


@pytest.mark.parametrize("command", ["stats", "clear"])
def test_cache_commands_on_a_file_or_a_missing_folder(tmp_path: Path, command: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a cache\n")
    run = run_forge("cache", command, "--cache-dir", a_file)
    assert f"cache dir {a_file} is not a folder" in one_error(run.stderr, run.returncode)
    assert a_file.read_text() == "not a cache\n"
    missing = tmp_path / "no" / "such" / "cache"
    run = run_forge("cache", command, "--cache-dir", missing)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert str(missing) in run.stdout
    assert not (tmp_path / "no").exists()


def test_cache_stats_counts_and_clear_empties(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with ResultCache(cache) as made:
        made.set_many([(f"k{n}", {"answer": {"n": n}}) for n in range(7)])
    stats = run_forge("cache", "stats", "--cache-dir", cache)
    assert stats.returncode == 0 and "entries:   7" in stats.stdout, stats.stderr
    cleared = run_forge("cache", "clear", "--cache-dir", cache)
    assert cleared.returncode == 0 and "removed 7 cached answers" in cleared.stdout
    with pytest.raises(OutputError, match="is not a folder"):
        ResultCache(cache / "cache.db")


def test_a_warm_run_writes_what_the_cold_run_wrote(tmp_path: Path) -> None:
    """Every answer of a re-run comes from the cache (a chunk at a time), and each row says the
    same as the first run's: the same answer, provider and complexity (kept with the answer)."""
    texts = [
        "Hi",
        "URGENT: production is down, every customer sees error 500 on checkout since the deploy",
        "The invoice is wrong. " * 40,
    ]
    src = tmp_path / "t.jsonl"
    src.write_bytes(
        b"".join(
            orjson.dumps({"id": f"r{i}", "text": f"{texts[i % 3]} ({i // 3 % 700})"}) + b"\n"
            for i in range(1_500)  # three read chunks; 700 distinct texts per kind, some repeated
        )
    )
    cache = tmp_path / "cache"
    with FakeUpstream(api_key=API_KEY) as server:
        first = classify(server, src, cache)
        cold = [
            orjson.loads(line) for line in (tmp_path / "t.results.jsonl").read_bytes().splitlines()
        ]
        calls = len(server.stats.records)
        again = classify(server, src, cache)
        warm = [
            orjson.loads(line) for line in (tmp_path / "t.results.jsonl").read_bytes().splitlines()
        ]
        assert len(server.stats.records) == calls  # nothing asked again
    assert first.returncode == again.returncode == 0, again.stderr
    assert orjson.loads(again.stdout.splitlines()[-1])["cached"] == 1_500
    assert len({r["complexity"] for r in cold}) > 1
    same = ("id", "category", "priority", "summary", "provider", "model", "complexity")
    assert sorted(tuple(r[k] for k in same) for r in warm) == sorted(
        tuple(r[k] for k in same) for r in cold
    )
    assert all(r["cache_hit"] for r in warm)

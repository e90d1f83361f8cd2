"""Reliability of the output files (issue 10, items 1, 5 and 11): two runs at once, crashes, full and
read-only disks, odd ``--out-dir`` values and symbolic links. Each case runs forge as a user would
(its own process) and checks the exit code, that stderr holds one clear line and no traceback, and
that every record read is in exactly one file, once, or counted as not written."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import API_KEY, KEY_ENV, forge, remote_args
from forge_cli.core.errors import OutputError
from forge_cli.io.sinks.lock import OutputLock, lock_path
from forge_cli.testing.sim.server import FakeUpstream
from fsharness import (
    forge_args,
    in_namespace,
    jsonl,
    one_error,
    run_forge,
    sh,
    write_records,
)

OFFLINE = ("--no-progress", "--json-summary")


def ids(path: Path) -> list[str]:
    return [row["id"] for row in jsonl(path)]


def assert_each_once(src: Path, results: Path, failures: Path) -> None:
    """Every input record in exactly one of the two files, once."""
    done, failed = ids(results), ids(failures)
    assert len(done) == len(set(done)) and len(failed) == len(set(failed))
    assert not set(done) & set(failed)
    assert sorted(done + failed) == sorted(ids(src))


def wait_for(condition: Any, what: str, proc: subprocess.Popen[str], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert proc.poll() is None, f"forge ended before {what}: {proc.communicate()[1]}"
        assert time.monotonic() < deadline, f"no {what} in {limit} s"
        time.sleep(0.02)


def start_slow_run(server: FakeUpstream, src: Path, out: Path) -> subprocess.Popen[str]:
    args = forge_args(
        "classify", src, "--out-dir", out, *remote_args(server, "--pack", "2", "--concurrency", "1")
    )
    env = {**os.environ, KEY_ENV: API_KEY}
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


# --- two runs, one set of outputs ----------------------------------------------------------------


def test_a_second_run_on_the_same_outputs_stops_at_once(tmp_path: Path) -> None:
    src = write_records(tmp_path / "t.jsonl", 40)
    out = tmp_path / "out"
    with FakeUpstream(api_key=API_KEY, latency=0.1) as server:
        first = start_slow_run(server, src, out)
        try:
            wait_for(lambda: server.stats.items_answered >= 4, "answers", first)
            second = run_forge("classify", src, "--out-dir", out, *remote_args(server), timeout=60)
            # the first is still at work: the second did not wait for it
            assert first.poll() is None
            line = one_error(second.stderr, second.returncode)
            assert f"pid {first.pid} on " in line and "forge classify" in line, line
            assert "another forge run" in line and "--out-dir" in line
        finally:
            stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert orjson.loads(stdout.splitlines()[-1])["done"] == 40
    assert_each_once(src, out / "t.results.jsonl", out / "t.failures.jsonl")
    assert sorted(p.name for p in out.iterdir()) == ["t.failures.jsonl", "t.results.jsonl"]


def test_a_killed_run_keeps_the_earlier_outputs_and_blocks_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write_records(tmp_path / "t.jsonl", 6, prefix="first")
    with FakeUpstream(api_key=API_KEY, latency=0.1) as server:
        done = run_forge("classify", first, "--out-dir", out, *remote_args(server))
        assert done.returncode == 0, done.stderr
        earlier = (out / "t.results.jsonl").read_bytes()
        write_records(first, 40, prefix="second")  # the same file name, new records
        killed = start_slow_run(server, first, out)
        wait_for(lambda: server.stats.items_answered >= 6 + 8, "answers", killed)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        # a crash leaves the outputs of the earlier run whole, and its own lines aside
        assert (out / "t.results.jsonl").read_bytes() == earlier
        jsonl(out / "t.results.jsonl.partial")  # whole lines (those that left the buffer)
        assert lock_path(out / "t.results.jsonl").exists()  # left behind, but not held
        again = run_forge("classify", first, "--out-dir", out, *remote_args(server))
    assert again.returncode == 0, again.stderr
    assert orjson.loads(again.stdout.splitlines()[-1])["cached"] >= 8 - 2  # paid once
    assert_each_once(first, out / "t.results.jsonl", out / "t.failures.jsonl")
    assert sorted(p.name for p in out.iterdir()) == ["t.failures.jsonl", "t.results.jsonl"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_lets_the_lock_go_and_keeps_the_outputs(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.results.jsonl").write_text('{"id": "earlier"}\n')
    src = write_records(tmp_path / "t.jsonl", 40)
    with FakeUpstream(api_key=API_KEY, latency=0.1) as server:
        stopped = start_slow_run(server, src, out)
        wait_for(lambda: server.stats.items_answered >= 6, "answers", stopped)
        stopped.send_signal(signum)
        _, stderr = stopped.communicate(timeout=60)
        assert stopped.returncode == 128 + signum, stderr
        assert "Traceback" not in stderr and "interrupted" in stderr
        assert not lock_path(out / "t.results.jsonl").exists()
        assert (out / "t.results.jsonl").read_text() == '{"id": "earlier"}\n'
        written = ids(out / "t.results.jsonl.partial") + ids(out / "t.failures.jsonl.partial")
        assert 0 < len(written) == len(set(written)) < 40
        again = run_forge("classify", src, "--out-dir", out, *remote_args(server))
    assert again.returncode == 0, again.stderr
    assert orjson.loads(again.stdout.splitlines()[-1])["cached"] >= len(written)
    assert_each_once(src, out / "t.results.jsonl", out / "t.failures.jsonl")


def test_the_lock_names_its_holder_and_goes_with_it(tmp_path: Path) -> None:
    results = tmp_path / "t.results.jsonl"
    with OutputLock(results, "forge classify t.jsonl"):
        with pytest.raises(OutputError) as held:
            OutputLock(results, "forge classify other.jsonl").acquire()
        assert f"pid {os.getpid()} on " in str(held.value)
        assert "forge classify t.jsonl" in str(held.value)
    assert not lock_path(results).exists()
    # a lock file that nobody holds (its run was killed) is simply taken over
    lock_path(results).write_text("pid 1 on elsewhere, started long ago, forge classify x\n")
    with OutputLock(results, "forge classify t.jsonl") as lock:
        assert lock.held
        assert str(os.getpid()) in lock_path(results).read_text()


# --- existing outputs and links -------------------------------------------------------------------


def test_existing_outputs_are_replaced_at_the_end_keeping_their_mode(tmp_path: Path) -> None:
    src = write_records(tmp_path / "t.jsonl", 30)
    results = tmp_path / "t.results.jsonl"
    results.write_text('{"id": "old"}\n')
    results.chmod(0o600)
    run = forge("classify", str(src), *OFFLINE)
    assert run.exit_code == 0, run.stderr
    assert "t.results.jsonl from an earlier run will be replaced when this run ends" in run.stderr
    assert_each_once(src, results, tmp_path / "t.failures.jsonl")
    assert stat.S_IMODE(results.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.lock"))


def test_a_symlinked_output_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    src = write_records(tmp_path / "t.jsonl", 10)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "t.failures.jsonl").symlink_to(victim)
    run = run_forge("classify", src, *OFFLINE, cwd=tmp_path)
    line = one_error(run.stderr, run.returncode)
    assert "t.failures.jsonl is a symbolic link" in line, line
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "t.results.jsonl").exists()


def test_links_left_where_partial_files_go_are_removed_not_followed(tmp_path: Path) -> None:
    src = write_records(tmp_path / "t.jsonl", 10)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "t.results.jsonl.partial").symlink_to(victim)
    run = forge("classify", str(src), *OFFLINE)
    assert run.exit_code == 0, run.stderr
    assert victim.read_text() == "precious\n"
    assert_each_once(src, tmp_path / "t.results.jsonl", tmp_path / "t.failures.jsonl")


# --- --out-dir that cannot be used ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("out_dir", "says"),
    [
        ("a-file", "--out-dir a-file is a file, not a folder"),
        ("a-file/below", "--out-dir a-file/below: a-file is a file, not a folder"),
        ("/proc/forge-out", "cannot create --out-dir /proc/forge-out"),
        ("/proc/self", "cannot write in /proc/self"),
    ],
)
def test_an_unusable_out_dir_is_one_line(tmp_path: Path, out_dir: str, says: str) -> None:
    src = write_records(tmp_path / "t.jsonl", 5)
    (tmp_path / "a-file").write_text("not a folder\n")
    run = run_forge("classify", src, "--out-dir", out_dir, *OFFLINE, cwd=tmp_path)
    assert says in one_error(run.stderr, run.returncode)


def test_a_read_only_out_dir_is_one_line(tmp_path: Path) -> None:
    src = write_records(tmp_path / "t.jsonl", 5)
    out = tmp_path / "ro"
    out.mkdir()
    script = f"mount -t tmpfs -o ro tmpfs {sh(out)} && exec {sh(*forge_args('classify', src))} "
    script += sh("--out-dir", out, *OFFLINE)
    run = in_namespace(script)
    line = one_error(run.stderr, run.returncode)
    assert f"cannot write in {out}: Read-only file system" in line, line


# --- a full disk ----------------------------------------------------------------------------------


def test_a_full_disk_stops_the_run_with_every_record_accounted_for(tmp_path: Path) -> None:
    """A real 256 KiB file system fills up under the run."""
    src = write_records(tmp_path / "t.jsonl", 3000)
    full, kept = tmp_path / "full", tmp_path / "kept"
    full.mkdir()
    kept.mkdir()
    script = " && ".join(
        [
            f"mount -t tmpfs -o size=256k tmpfs {sh(full)}",
            f"printf 'earlier\\n' > {sh(full / 't.results.jsonl')}",
        ]
    )
    script += f"; {sh(*forge_args('classify', src, '--out-dir', full, *OFFLINE))}; rc=$?"
    script += f"; cp -a {sh(full)}/. {sh(kept)}/; exit $rc"
    run = in_namespace(script)
    line = one_error(run.stderr, run.returncode)
    assert "the disk is full" in line and "t.results.jsonl.partial" in line, line
    assert len(run.stderr) < 20_000  # measured before: 16 MB of tracebacks
    summary = orjson.loads(run.stdout.splitlines()[-1])
    done, failed = ids(kept / "t.results.jsonl.partial"), ids(kept / "t.failures.jsonl.partial")
    # nothing counted that is not written, nothing written twice
    assert summary["done"] == len(done) > 0 and summary["failed"] == len(failed)
    assert len(set(done) | set(failed)) == len(done) + len(failed)
    assert f"{summary['records'] - len(done) - len(failed):,} records read but not written" in line
    assert (kept / "t.results.jsonl").read_text() == "earlier\n"


@pytest.mark.parametrize("budget", [3_000, 150_000])
def test_enospc_at_any_write_counts_only_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """The same through the real engine and writers in this process: a disk with ``budget``
    bytes free, where a write that does not fit is cut short and the next one fails."""
    src = write_records(tmp_path / "t.jsonl", 2000)
    (tmp_path / "t.jsonl").open("ab").write(b"not json\n" * 5)  # rows for the failures file
    real_write = os.write
    left = [budget]

    def disk_with_room(fd: int, data: Any) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), left[0])
        left[0] -= n
        return real_write(fd, bytes(data[:n]))

    monkeypatch.setattr(os, "write", disk_with_room)
    run = forge("classify", str(src), "--out-dir", "out", *OFFLINE)
    monkeypatch.setattr(os, "write", real_write)
    line = one_error(run.stderr, run.exit_code)
    assert "the disk is full (No space left on device)" in line, line
    summary = run.summary
    done = ids(tmp_path / "out" / "t.results.jsonl.partial")
    failed = ids(tmp_path / "out" / "t.failures.jsonl.partial")
    assert summary["done"] == len(done) and summary["failed"] == len(failed)
    assert len(set(done) | set(failed)) == len(done) + len(failed)
    assert len(done) + len(failed) < summary["records"]  # the disk did fill up
    by_class = summary["by_class"].values()
    assert sum(c["done"] for c in by_class) == len(done)
    assert sum(c["failed"] for c in by_class) + summary["input_failed"] == len(failed)
    assert not (tmp_path / "out" / "t.results.jsonl").exists()

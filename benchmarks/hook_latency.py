"""Latency of forge's prepare-commit-msg hook on the offline provider (whole process).

The hook runs on every ``git commit``, so what the user feels is the whole process: interpreter
start-up, imports, ``git diff --cached``, the offline rule and the write. Target: median under
400 ms for a typical 200-line diff; the ratio printed is median / 400 ms (below 1 is inside it).

    python benchmarks/hook_latency.py              # 30 runs of the hook, 10 full commits
    python benchmarks/hook_latency.py --runs 100 --importtime
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 400.0
#: above this median, print where import time goes: the usual way the hook gets slow
EXPLAIN_ABOVE_MS = 300.0
GIT_TEMPLATE = (
    "\n"
    "# Please enter the commit message for your changes. Lines starting\n"
    "# with '#' will be ignored, and an empty message aborts the commit.\n"
)


def _module(name: str, functions: int, body: int = 6) -> str:
    lines = [f'"""The {name} module."""', "", "from __future__ import annotations", ""]
    for n in range(functions):
        lines += ["", f"def {name}_step_{n}(value: int) -> int:", f'    """Step {n}."""']
        lines += [f"    value = value * {n + 2} + {k}" for k in range(body)]
        lines += ["    return value", ""]
    return "\n".join(lines) + "\n"


def _modified(text: str, every: int) -> str:
    """Change every n-th arithmetic line, as an edit across a file does."""
    out = []
    for i, line in enumerate(text.splitlines()):
        if "value = value *" in line and i % every == 0:
            line = line.replace("value * ", "value // ")
        out.append(line)
    return "\n".join(out) + "\n"


def _env(home: Path, *, bytecode: bool) -> dict[str, str]:
    """Git isolated from the machine's config; forge on its defaults (offline, no forge.toml).

    With ``bytecode``, compiled modules are cached in a temporary prefix (even where
    PYTHONDONTWRITEBYTECODE is set, as in some containers), so the runs measure what an installed
    forge costs rather than recompiling its sources every time; the source tree is not written.
    """
    gitconfig = home / "gitconfig"
    gitconfig.write_text("")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FORGE_") and not k.startswith("GIT_")
    }
    env.update(
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_EDITOR="true",
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
        FORGE_CACHE_DIR=str(home / "cache"),
    )
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    return env


def _git(repo: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout


def build_repo(repo: Path, env: dict[str, str]) -> int:
    """A repository with a typical staged change: several files, edits and additions (~200 lines)."""
    repo.mkdir()
    _git(repo, env, "init", "-q", "-b", "main")
    pkg = repo / "src" / "shop"
    pkg.mkdir(parents=True)
    (repo / "README.md").write_text("# shop\n\nA small shop.\n\n## Usage\n\nRun it.\n")
    for name in ("orders", "billing", "stock"):
        (pkg / f"{name}.py").write_text(_module(name, 8))
    _git(repo, env, "add", ".")
    _git(repo, env, "commit", "-q", "-m", "initial")

    for name, every in (("orders", 4), ("billing", 8)):
        path = pkg / f"{name}.py"
        path.write_text(_modified(path.read_text(), every))
    (pkg / "shipping.py").write_text(_module("shipping", 3, body=4))
    tests = repo / "tests"
    tests.mkdir()
    (tests / "test_shipping.py").write_text(
        "from shop.shipping import shipping_step_0\n\n\n"
        "def test_step() -> None:\n    assert shipping_step_0(1) == 2\n"
    )
    with (repo / "README.md").open("a") as f:
        f.write("\n## Shipping\n\nShipping costs are computed per order.\n")
    _git(repo, env, "add", ".")
    return len(_git(repo, env, "diff", "--cached", "-M", "--no-color").splitlines())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time(cmd: list[str], cwd: Path, env: dict[str, str], before: object = None) -> float:
    if callable(before):
        before()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    elapsed = (time.perf_counter() - started) * 1000
    if proc.returncode != 0 or proc.stderr:
        raise SystemExit(f"{' '.join(cmd)} -> {proc.returncode}: {proc.stderr.decode()}")
    return elapsed


def _summary(label: str, values: list[float]) -> str:
    return (
        f"{label:<34} min {min(values):6.1f}  median {statistics.median(values):6.1f}  "
        f"p90 {_percentile(values, 0.9):6.1f} ms  (n={len(values)})"
    )


def import_breakdown(hook_cmd: list[str], repo: Path, env: dict[str, str], top: int = 15) -> None:
    """Print the modules with the largest cumulative import time in one hook run."""
    cmd = [hook_cmd[0], "-X", "importtime", *hook_cmd[1:]]
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        rows.append((int(cumulative_us), int(self_us), name.rstrip()))
    print(f"\nimport time, top {top} by cumulative (µs):")
    for cumulative, own, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cumulative:>8,} {own:>8,}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="hook runs to time (default 30)")
    parser.add_argument("--commits", type=int, default=10, help="full commits to time")
    parser.add_argument("--importtime", action="store_true", help="always show import times")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile forge's sources on every run (what PYTHONDONTWRITEBYTECODE=1 costs)",
    )
    args = parser.parse_args()

    from forge_cli.app import hook_install

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = _env(home, bytecode=not args.no_bytecode_cache)
        repo = home / "repo"
        diff_lines = build_repo(repo, env)
        hook_install.install(repo)
        msgfile = repo / ".git" / "COMMIT_EDITMSG"
        hook_cmd = [sys.executable, "-P", "-m", "forge_cli.app.hook", "run", str(msgfile), ""]

        def reset_message() -> None:
            msgfile.write_text(GIT_TEMPLATE)

        for _ in range(3):  # warm the page cache and __pycache__
            _time(hook_cmd, repo, env, reset_message)
        hook_ms = [_time(hook_cmd, repo, env, reset_message) for _ in range(args.runs)]
        title = msgfile.read_text().splitlines()[0]
        startup_ms = [_time([sys.executable, "-P", "-c", "pass"], repo, env) for _ in range(10)]

        def uncommit() -> None:
            if _git(repo, env, "rev-list", "--count", "HEAD").strip() != "1":
                _git(repo, env, "reset", "-q", "--soft", "HEAD~1")

        commit = ["git", "commit", "-q"]
        with_hook = [_time(commit, repo, env, uncommit) for _ in range(args.commits)]
        message = _git(repo, env, "log", "-1", "--format=%s").strip()
        hook_install.uninstall(repo)
        bare = [_time([*commit, "-m", "x"], repo, env, uncommit) for _ in range(args.commits)]

        median = statistics.median(hook_ms)
        cache = "off (sources compiled every run)" if args.no_bytecode_cache else "on"
        print(f"staged diff: {diff_lines} lines; offline message: {title!r}")
        print(f"bytecode cache: {cache}")
        print(_summary("hook process (offline provider)", hook_ms))
        print(_summary("python -P -c pass (floor)", startup_ms))
        print(_summary("git commit with the hook", with_hook))
        print(_summary("git commit -m, no hook", bare))
        print(
            f"median / {TARGET_MS:.0f} ms target: {median / TARGET_MS:.3f}"
            f"   (hook's own cost over a bare commit: "
            f"{statistics.median(with_hook) - statistics.median(bare):.1f} ms)"
        )
        if message != title:
            print(f"warning: the commit's subject {message!r} is not the hook's {title!r}")
        if args.importtime or median > EXPLAIN_ABOVE_MS:
            reset_message()
            import_breakdown(hook_cmd, repo, env)


if __name__ == "__main__":
    main()

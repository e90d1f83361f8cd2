"""``python -m forge_cli.testing.sim.upstream``: a simulated provider as a process of its own.

``forge bench``, the benchmarks and the README's demo run the simulator in another process, so
that forge's measured CPU is forge's alone. It prints its base URL on the first line of stdout
(``--port 0`` picks a free port), serves until SIGINT or SIGTERM, then prints its stats as one
JSON line on stderr. The key is read from an environment variable so it never shows in ``ps``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from forge_cli.testing.sim.answers import DEFAULT_LABELS
from forge_cli.testing.sim.fault_flags import RandomFaults, parse_fault
from forge_cli.testing.sim.rate_window import RATE_WINDOW
from forge_cli.testing.sim.registry import DEFAULT_WIRE, wire_names
from forge_cli.testing.sim.server import LOOPBACK, FakeUpstream

__all__ = ["main"]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m forge_cli.testing.sim.upstream",
        description="Serve a simulated provider API (OpenAI-compatible by default) on 127.0.0.1.",
    )
    parser.add_argument("--host", default=LOOPBACK, help="only 127.0.0.1 is accepted")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--per-token-latency", type=float, default=0.0, help="seconds per token")
    parser.add_argument("--jitter", type=float, default=0.0, help="± fraction of the latency")
    parser.add_argument("--rpm", type=int, default=None, help="requests per minute limit")
    parser.add_argument("--tpm", type=int, default=None, help="tokens per minute limit")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--failure-status", type=int, default=503)
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[=RATE]",
        help="answer this fraction of requests (1 when left out) with a fault: garbage, partial "
        "(one item left out), invalid_label, malformed, empty, think, quote, bad_usage, 503, 429, "
        "...; repeatable",
    )
    parser.add_argument(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help="require the key held in this environment variable (keeps it out of ps output)",
    )
    parser.add_argument("--labels", default=",".join(DEFAULT_LABELS), help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--wire",
        choices=wire_names(),
        default=DEFAULT_WIRE,
        help="which provider's API to speak (paths, bodies, errors, headers)",
    )
    parser.add_argument(
        "--no-json-schema",
        dest="json_schema",
        action="store_false",
        help="refuse structured output (a JSON schema) with the wire's own 400",
    )
    parser.add_argument(
        "--no-json-mode",
        dest="json_mode",
        action="store_false",
        help="refuse the wire's JSON mode with its own 400",
    )
    parser.add_argument(
        "--rate-window",
        type=float,
        default=RATE_WINDOW,
        help="seconds of the sliding RPM/TPM window (limits stay per minute, scaled to it)",
    )
    return parser.parse_args(argv)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C; exits 2 on a bad command line, like forge itself."""
    args = _parse_args(argv)
    api_key: str | None = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            print(f"error: environment variable {args.api_key_env} is empty", file=sys.stderr)
            return 2
    labels = [label.strip() for label in args.labels.split(",") if label.strip()]
    try:
        faults = RandomFaults([parse_fault(spec) for spec in args.fault], seed=args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        upstream = FakeUpstream(
            latency=args.latency,
            per_token_latency=args.per_token_latency,
            jitter=args.jitter,
            rpm_limit=args.rpm,
            tpm_limit=args.tpm,
            failure_rate=args.failure_rate,
            failure_status=args.failure_status,
            api_key=api_key,
            labels=labels,
            seed=args.seed,
            port=args.port,
            host=args.host,
            wire=args.wire,
            rate_window=args.rate_window,
            json_schema=args.json_schema,
            json_mode=args.json_mode,
        )
        if faults.rates:
            upstream.fault_when(faults)
        upstream.start()
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # a shell starts background jobs with SIGINT ignored, and supervisors stop with SIGTERM;
    # both should end the run cleanly and print the stats
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    print(upstream.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        upstream.stop()
        print(json.dumps(upstream.stats.snapshot()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

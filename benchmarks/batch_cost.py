"""Calls, tokens and cost of classifying N tickets synchronously vs through the Batch API.

Both runs go through forge as a separate process against the simulator on 127.0.0.1 (OpenAI's
chat wire and its files/batches endpoints), at the same packing (``--pack``), each with a fresh
cache, so the tokens are the same requests' and only the price differs. The dry run's estimate
(``--dry-run``: both prices from the price table) is printed beside what the runs measured. Costs
are at the list price of gpt-4o-mini from forge's price table; the batch price is the table's
50% (``providers/catalog/batch_offers.py``).

    python benchmarks/batch_cost.py              # 100,000 tickets, --pack 10
    python benchmarks/batch_cost.py --n 10000 --pack 20
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from _common import generate, run_forge

from forge_cli.providers.catalog.batch_offers import batch_prices
from forge_cli.providers.catalog.prices import PriceTable
from forge_cli.testing.sim.server import FakeUpstream

KEY_ENV = "FORGE_BENCH_KEY"
KEY = "sk-bench-0123456789abcdef0123"
MODEL = "gpt-4o-mini"


def _args(server: FakeUpstream, src: Path, pack: int, *extra: str) -> list[str]:
    return [
        "classify",
        str(src),
        "--provider",
        "openai",
        "--base-url",
        server.base_url,
        "--api-key-env",
        KEY_ENV,
        "--model",
        MODEL,
        "--pack",
        str(pack),
        *extra,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pack", type=int, default=10)
    args = parser.parse_args()
    price = PriceTable().lookup(MODEL, "openai")
    assert price is not None
    half = batch_prices("openai", price.input, price.output)
    assert half is not None
    env = {KEY_ENV: KEY}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", args.n)

        with FakeUpstream(api_key=KEY) as server:
            dry = run_forge(
                _args(server, src, args.pack, "--dry-run"),
                cwd=work,
                env={**env, "FORGE_CACHE_DIR": str(work / "c0")},
            ).summary
            sync_env = {**env, "FORGE_CACHE_DIR": str(work / "c1")}
            sync = run_forge(
                _args(server, src, args.pack, "--concurrency", "32", "--out-dir", "sync"),
                cwd=work,
                env=sync_env,
            )
            sync_calls = server.stats.requests
            sync_in, sync_out = server.stats.tokens_in, server.stats.tokens_out

        with FakeUpstream(api_key=KEY) as server:
            # the simulator answers a job's requests when a poll asks for its status: spread
            # over the polls (2 ms a request) so no one poll waits for all of them
            server.batches.clock.per_request = 0.002
            batch_env = {**env, "FORGE_CACHE_DIR": str(work / "c2")}
            batch = run_forge(
                _args(server, src, args.pack, "--batch", "--batch-poll", "1", "--out-dir", "b"),
                cwd=work,
                env=batch_env,
            )
            service = server.batches
            requests = sum(len(job.lines) for job in service.jobs.values())
            batch_in = batch_out = 0
            for job in service.jobs.values():
                for _, status, body in job.answered:
                    if status == 200:
                        usage = json.loads(body)["usage"]
                        batch_in += usage["prompt_tokens"]
                        batch_out += usage["completion_tokens"]
            jobs, sync_after = service.creates, server.stats.requests

    def cost(tokens_in: int, tokens_out: int, prices: tuple[float, float]) -> float:
        return (tokens_in * prices[0] + tokens_out * prices[1]) / 1e6

    full = (price.input, price.output)
    print(
        f"{args.n:,} tickets, --pack {args.pack}, {MODEL} at ${price.input}/${price.output} per 1M"
    )
    print(
        f"dry run estimate:  {dry['packs']:,} calls, {dry['tokens_in']:,} in + "
        f"{dry['tokens_out']:,} out tokens: ${dry['cost_usd']:.2f} synchronous, "
        f"${dry['cost_usd_batch']:.2f} batch"
    )
    print(
        f"synchronous run:   {sync_calls:,} calls, {sync_in:,} in + {sync_out:,} out tokens "
        f"(simulator's count): ${cost(sync_in, sync_out, full):.2f}; "
        f"{sync.summary['done']:,} done in {sync.wall_s:.1f} s"
    )
    print(
        f"batch run:         {jobs} jobs, {requests:,} requests, {batch_in:,} in + {batch_out:,} "
        f"out tokens: ${cost(batch_in, batch_out, half):.2f}; {sync_after} synchronous calls after; "
        f"{batch.summary['done']:,} done in {batch.wall_s:.1f} s"
    )
    ratio = cost(batch_in, batch_out, half) / max(1e-12, cost(sync_in, sync_out, full))
    print(f"batch / synchronous cost: {ratio:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

"""Resident memory of the worker with N open quote workflows in its cache, and of the API.

Starts `marketred dev` on free ports in a scratch folder (worker cache:
MARKETRED_WORKER_MAX_CACHED_WORKFLOWS, 1,000 by default), reads both processes' resident
memory when idle, creates `--quotes` quotes through the API (each an open QuoteWorkflow
waiting for its vendor, so each stays in the worker's sticky cache), waits until the
worker has run their first steps, and prints the memory again (now and peak).

    .venv/bin/python bench/worker_memory.py                   # 1,000 quotes
    .venv/bin/python bench/worker_memory.py --quotes 200

Every quote comes from 127.0.0.1: the per-address ceiling is turned off for this run
(MARKETRED_QUOTES_PER_IP_HOUR=0); per-account limits hold (enough buyers are made).
Not part of the test run. bench/replica_memory.py measures the production shape
(prod-local) under full lifecycles instead.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quote_create import Run, first_variant, make_buyers, one_quote, process_of
from tests.support.stack import RunningStack, start_stack


def memory_mib(stack: RunningStack, last_arg: str) -> tuple[float, float]:
    """(resident now, peak resident) of `marketred <last_arg>`, MiB."""
    pid = process_of(stack, last_arg).pid
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def projected(stack: RunningStack) -> int:
    """Quotes whose workflow has projected its first step (a timeline event)."""
    import asyncpg

    conn = await asyncpg.connect(
        host=str(stack.home / "pgdata"), user="postgres", database="marketred"
    )
    try:
        return int(await conn.fetchval("SELECT count(DISTINCT quote_id) FROM quote_events"))
    finally:
        await conn.close()


async def bench(args: argparse.Namespace, stack: RunningStack) -> None:
    for name in ("worker", "api"):
        now, _ = memory_mib(stack, name)
        print(f"{name:7} idle: {now:6.0f} MiB resident")
    buyers: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for h in await make_buyers(stack, args.quotes // 15 + 2):
        buyers.put_nowait(h)
    run = Run()
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as api:
        variant = await first_variant(api)
        gate = asyncio.Semaphore(args.concurrency)

        async def one() -> None:
            async with gate:
                await one_quote(api, buyers, variant, run)

        await asyncio.gather(*(one() for _ in range(args.quotes)))
    print(
        f"created {run.created} quotes in {time.monotonic() - started:.0f}s, "
        f"errors {dict(run.errors) or 'none'}"
    )
    deadline = time.monotonic() + 600
    while (done := await projected(stack)) < run.created and time.monotonic() < deadline:
        await asyncio.sleep(2)
    print(f"{done} workflows have run their first steps (open, waiting for the vendor)")
    for name in ("worker", "api"):
        now, peak = memory_mib(stack, name)
        print(
            f"{name:7} with {run.created} open quotes: "
            f"{now:6.0f} MiB resident, peak {peak:6.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quotes", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="marketred-memory-"))
    stack = start_stack(home, None, timeout=300, overrides={"MARKETRED_QUOTES_PER_IP_HOUR": "0"})
    try:
        asyncio.run(bench(args, stack))
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Fault harness: the production process shape under kill -9, then the money checked.

Starts PostgreSQL (embedded), the `temporal` CLI's server on its own SQLite file,
`marketred migrate`, 2 × `marketred worker`, 2 × `marketred api` and the Khipu, mail
and directory sandboxes (bench/faults_shape.py), drives N quote lifecycles at once
through both APIs with a failing-over client (bench/faults_load.py) while a chaos loop
kill -9s a random worker, API, the Temporal server or PostgreSQL every few seconds (the
supervisor starts it again), then checks the invariants (bench/faults_checks.py) and
prints them as figures. Exit status 1 if any invariant fails.

    .venv/bin/python bench/faults.py --n 20               # what CI runs (make faults)
    .venv/bin/python bench/faults.py --n 300 --storm      # the benchmark (docs/reliability.md)

--storm: every Khipu notification is held, then delivered 3 times in shuffled late
bursts, plus 10 % forged and 10 % stale copies sent by the harness.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.faults_checks import (
    Figures,
    api_logs,
    histories,
    khipu_payments,
    ledger_and_payouts,
    mails,
    wait_closed,
)
from bench.faults_load import (
    STAFF,
    VENDOR_SLUG,
    Failover,
    GaveUp,
    Lifecycle,
    Storm,
    buyers,
    one_lifecycle,
    token,
)
from bench.faults_shape import NAMESPACE, Shape, start_shape

KINDS = ("worker", "api", "temporal", "postgres")
T0 = time.monotonic()


def say(line: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s] {line}", flush=True)


async def chaos(
    shape: Shape,
    stop: asyncio.Event,
    every: tuple[float, float],
    kills: Counter[str],
    per_kind: int,
) -> float | None:
    """kill -9 a random process of a kind chosen least-killed-first, until every kind was
    killed `per_kind` times (0: until the load ends); returns the time of the last kill."""
    last = None
    while not per_kind or min(kills[k] for k in KINDS) < per_kind:
        try:
            await asyncio.wait_for(stop.wait(), timeout=random.uniform(*every))
            return last
        except TimeoutError:
            pass
        by_kind = shape.kinds()
        fewest = min(kills[k] for k in KINDS)
        kind = random.choice([k for k in KINDS if kills[k] == fewest])
        alive = [c for c in by_kind[kind] if c.alive() and c.pid is not None]
        if not alive:
            continue
        victim = random.choice(alive)
        assert victim.pid is not None
        try:
            os.kill(victim.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        kills[kind] += 1
        last = time.monotonic()
        say(f"chaos: kill -9 {victim.name} (pid {victim.pid})")
    say("chaos: done; the rest of the run measures the recovery")
    return last


async def progress(lifecycles: list[Lifecycle], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=15)
        except TimeoutError:
            acked = sum(lc.acknowledged for lc in lifecycles)
            done = sum(lc.completed_at is not None for lc in lifecycles)
            say(f"progress: {done} completed, {acked} acknowledged of {len(lifecycles)}")


async def drive(shape: Shape, args: argparse.Namespace) -> tuple[Figures, int]:
    f = Figures()
    api = Failover(shape.api_urls, deadline_s=args.step_timeout)
    khipu = httpx.AsyncClient(base_url=shape.khipu_url, timeout=30)
    staff = await token(api, *STAFF)
    buyer_headers = await buyers(api, args.buyers)
    products = (await api.request("GET", f"/api/v1/vendors/{VENDOR_SLUG}/products")).json()
    items = products["items"] if isinstance(products, dict) else products
    variant_id = items[0]["variants"][0]["id"]
    locks = [asyncio.Lock() for _ in buyer_headers]
    gate = asyncio.Semaphore(args.concurrency)
    lifecycles = [Lifecycle(i) for i in range(args.n)]
    # Waiting quotes read their state this often: N in flight must not become the load.
    poll = max(0.5, args.concurrency / 100)

    async def run(lc: Lifecycle) -> None:
        b = lc.index % len(buyer_headers)
        async with gate:
            try:
                await one_lifecycle(
                    lc,
                    api,
                    khipu,
                    buyer_headers[b],
                    staff,
                    variant_id,
                    locks[b],
                    args.timeout,
                    poll,
                )
            except (GaveUp, RuntimeError, httpx.HTTPError) as exc:
                lc.error = f"{type(exc).__name__}: {exc}"
                say(f"lifecycle {lc.index}: {lc.error}")

    stop = asyncio.Event()
    kills: Counter[str] = Counter()
    storm = Storm(khipu, api, shape.webhook_secret) if args.storm else None
    if storm is not None:
        await storm.start()
    started = time.monotonic()
    chaos_task = asyncio.create_task(
        chaos(shape, stop, (args.every_min, args.every_max), kills, args.kills)
    )
    progress_task = asyncio.create_task(progress(lifecycles, stop))
    storm_task = asyncio.create_task(storm.run(stop)) if storm is not None else None
    await asyncio.gather(*(run(lc) for lc in lifecycles))
    stop.set()
    last_kill = await chaos_task
    await progress_task
    if storm_task is not None:
        await storm_task
    elapsed = time.monotonic() - started
    say(f"load done in {elapsed:.0f}s; checking")

    acked = [lc for lc in lifecycles if lc.acknowledged]
    done = [lc for lc in acked if lc.completed_at is not None]
    f.add("lifecycles started", len(lifecycles))
    f.add("acknowledged quotes", len(acked))
    f.add("COMPLETED", len(done), len(done) == len(acked))
    stuck = [lc for lc in acked if lc.completed_at is None]
    f.add("stuck", len(stuck), not stuck)
    for lc in stuck[:20]:
        f.notes.append(f"stuck quote {lc.quote_id}: {lc.error}")
    unacked = [lc for lc in lifecycles if not lc.acknowledged]
    for lc in unacked[:5]:
        f.notes.append(f"never acknowledged (lifecycle {lc.index}): {lc.error}")
    for kind in KINDS:
        f.add(f"kill -9 {kind}", kills[kind])
    f.add("client retries (failover)", api.retries)
    workflow_ids = {lc.workflow_id for lc in acked if lc.workflow_id}
    quote_ids = [lc.quote_id for lc in acked if lc.quote_id]
    completed = {lc.workflow_id for lc in done if lc.workflow_id}
    await khipu_payments(khipu, workflow_ids, completed, shape.khipu_api_key, f)
    if storm is not None:
        f.add("forged notifications sent", storm.forged_sent)
        f.add("stale notifications sent", storm.stale_sent)
        f.add("fakes accepted", len(storm.accepted_fakes), not storm.accepted_fakes)
    await ledger_and_payouts(shape.database_url, shape.env, quote_ids, f)
    await wait_closed(shape.temporal_address, NAMESPACE, workflow_ids, f)
    mails(shape.home, workflow_ids, completed, f)
    api_logs(shape.home / "logs", f)
    await histories(shape.temporal_address, NAMESPACE, workflow_ids, f)
    if last_kill is not None and done:
        last_done = max(lc.completed_at for lc in done if lc.completed_at is not None)
        f.add("last kill → last completion (s)", f"{last_done - last_kill:.1f}")
        after = [lc.completed_at for lc in done if lc.completed_at and lc.completed_at > last_kill]
        if after:  # how soon quotes complete again, apart from how many were still queued
            f.add("last kill → next completion (s)", f"{min(after) - last_kill:.1f}")
    f.add("quotes/s under chaos", f"{len(done) / elapsed:.2f}")
    await khipu.aclose()
    await api.http.aclose()
    return f, len(acked)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="quote lifecycles")
    parser.add_argument("--concurrency", type=int, default=0, help="at once (default: all)")
    parser.add_argument("--buyers", type=int, default=0, help="buyers (default: n/10, 1–10)")
    parser.add_argument("--every-min", type=float, default=3.0, help="seconds between kills")
    parser.add_argument("--every-max", type=float, default=6.0)
    parser.add_argument(
        "--kills", type=int, default=3, help="kills per kind, then recover (0: all along)"
    )
    parser.add_argument("--storm", action="store_true", help="Khipu webhook storm")
    parser.add_argument("--timeout", type=float, default=600, help="per state wait, s")
    parser.add_argument("--step-timeout", type=float, default=300, help="per request, s")
    parser.add_argument("--home", type=Path, default=None, help="keep state and logs here")
    args = parser.parse_args()
    args.concurrency = args.concurrency or args.n
    # Registration allows 10 accounts per IP and hour (services/accounts/rate_limits.py).
    args.buyers = args.buyers or max(1, min(10, args.n // 10))
    home = args.home or Path(tempfile.mkdtemp(prefix="marketred-faults-"))
    say(f"home {home} (logs in {home / 'logs'})")
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    shape = start_shape(home, say)
    try:
        shape.start_tending()
        figures, acked = asyncio.run(drive(shape, args))
    finally:
        restarts = shape.restarts()
        shape.stop()
    figures.add("restarts by the supervisor", sum(restarts.values()))
    mode = "storm" if args.storm else "plain"
    print(f"\nfaults: n={args.n} {mode}, load average at start {load:.1f}, {os.cpu_count()} CPUs")
    figures.print()
    print("  restarts: " + ", ".join(f"{k} {v}" for k, v in restarts.items() if v))
    if figures.failed or acked == 0:
        print(f"FAILED: {', '.join(figures.failed) or 'no quote acknowledged'}")
        return 1
    print("all invariants hold")
    if args.home is None:  # a failed run keeps its logs and data for a look
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

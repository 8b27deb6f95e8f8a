"""POST /api/v1/quotes latency from ONE client address at half the maximum sustainable
rate, against `marketred dev` started on free ports in a scratch folder.

1. Makes `--buyers` buyers in the stack's database, each with a bearer token (signing in
   through the API would meet the per-address sign-in limit first).
2. Maximum rate: `--clients` closed-loop clients for `--max-seconds`; each takes a free
   buyer, puts one item in its cart, asks for a quote (only the POST is timed) and
   waits for the quote's workflow to have started before its next one (the start is
   part of what must be sustained, whether inside the POST or after it).
3. Half that rate, open loop (arrivals on a fixed clock, whatever the answers' speed),
   for `--seconds`: p50/p95/p99 of POST /api/v1/quotes and the errors.
4. Orphans: every QuoteWorkflow Temporal started has its quote row, and the reverse (the
   workflow starts after the commit: a few seconds after the run, none is still waiting).
With `--profile`, py-spy samples the API process during step 3 and the functions with
the most samples (inclusive) are printed. With `--sql`, PostgreSQL logs every statement
(`log_statement = all`) while one buyer fills its cart and asks for one quote; the
statements of the POST are printed and counted (the database round trips one POST costs).

    .venv/bin/python bench/quote_create.py
    .venv/bin/python bench/quote_create.py --profile --seconds 30
    .venv/bin/python bench/quote_create.py --sql --max-seconds 0   # only the statement log
    .venv/bin/python bench/quote_create.py --rate 1.6 --seconds 40  # a fixed open-loop rate
    .venv/bin/python bench/quote_create.py --python /work/main/.venv/bin/python  # another checkout

Every address is 127.0.0.1, so per-address limits see one client, as behind a proxy that
does not forward addresses. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketred.settings import Settings
from tests.support.stack import RunningStack, start_stack

VENDOR_SLUG = "cafe-altiplano"
BENCH_BIN = Path(sys.executable).parent  # py-spy lives beside this interpreter


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    created: int = 0


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def database_url(stack: RunningStack) -> str:
    return f"postgresql://postgres@/marketred?host={stack.home / 'pgdata'}"


async def make_buyers(stack: RunningStack, n: int) -> list[dict[str, str]]:
    from marketred.services.accounts import tokens
    from marketred.services.accounts import users as accounts
    from marketred.store.session import create_engine, create_session_factory, transaction

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = create_engine(database_url(stack), pool_size=1)
    headers = []
    try:
        async with transaction(create_session_factory(engine)) as session:
            for i in range(n):
                user = await accounts.create_user(
                    session,
                    email=f"bench-{i}-{os.getpid()}@example.cl",
                    password=None,
                    role="buyer",
                    name=f"Comprador {i}",
                )
                token = tokens.issue_access_token(settings.secret_key, user.id, 120)
                headers.append({"Authorization": f"Bearer {token}"})
    finally:
        await engine.dispose()
    return headers


async def first_variant(api: httpx.AsyncClient) -> str:
    products = (await api.get(f"/api/v1/vendors/{VENDOR_SLUG}/products")).json()
    items = products["items"] if isinstance(products, dict) else products
    return str(items[0]["variants"][0]["id"])


class StartWatch:
    """Waits until a quote's workflow has started (its start-outbox row is gone). A
    checkout whose requests start the workflow inside the POST has no outbox: no wait."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.pool: Any = None
        self.has_outbox = True

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(
            host=str(self.stack.home / "pgdata"),
            user="postgres",
            database="marketred",
            min_size=1,
            max_size=8,
        )
        self.has_outbox = bool(
            await self.pool.fetchval("SELECT to_regclass('quote_start_outbox') IS NOT NULL")
        )

    async def close(self) -> None:
        await self.pool.close()

    async def started(self, quote_id: str) -> None:
        while self.has_outbox and await self.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM quote_start_outbox WHERE quote_id = $1)",
            uuid.UUID(quote_id),
        ):
            await asyncio.sleep(0.05)


async def one_quote(
    api: httpx.AsyncClient,
    buyers: asyncio.Queue[dict[str, str]],
    variant: str,
    run: Run,
    watch: StartWatch | None = None,
) -> None:
    buyer = await buyers.get()
    try:
        r = await api.put(
            f"/api/v1/carts/{VENDOR_SLUG}/items/{variant}", json={"quantity": 1}, headers=buyer
        )
        if r.status_code != 200:
            run.errors[f"cart {r.status_code}"] += 1
            return
        started = time.perf_counter()
        try:
            r = await api.post(
                "/api/v1/quotes",
                json={"vendor": VENDOR_SLUG, "note": "bench", "contact": {}},
                headers=buyer,
            )
        except httpx.HTTPError as exc:
            run.errors[type(exc).__name__] += 1
            return
        run.latencies_ms.append((time.perf_counter() - started) * 1000)
        if r.status_code == 201:
            run.created += 1
            if watch is not None:  # the client's turn ends when the workflow has started
                await watch.started(r.json()["id"])
        else:
            run.errors[f"quote {r.status_code}"] += 1
    finally:
        buyers.put_nowait(buyer)


async def closed_loop(
    api: httpx.AsyncClient,
    buyers: asyncio.Queue[dict[str, str]],
    variant: str,
    clients: int,
    seconds: float,
    watch: StartWatch | None = None,
) -> Run:
    run = Run()
    deadline = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            await one_quote(api, buyers, variant, run, watch)

    await asyncio.gather(*(client() for _ in range(clients)))
    return run


async def open_loop(
    api: httpx.AsyncClient,
    buyers: asyncio.Queue[dict[str, str]],
    variant: str,
    rate: float,
    seconds: float,
) -> Run:
    run = Run()
    tasks = []
    start = time.monotonic()
    for k in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one_quote(api, buyers, variant, run)))
    await asyncio.gather(*tasks)
    return run


async def orphans(stack: RunningStack) -> tuple[int, int, int]:
    """(QuoteWorkflow executions, quote rows, quotes still waiting for their start):
    executions = rows when no creation left an orphan or an unstarted quote."""
    import asyncpg
    from temporalio.client import Client

    client = await Client.connect(stack.temporal_address)
    workflows = (await client.count_workflows("WorkflowType = 'QuoteWorkflow'")).count
    conn = await asyncpg.connect(
        host=str(stack.home / "pgdata"), user="postgres", database="marketred"
    )
    try:
        rows = int(await conn.fetchval("SELECT count(*) FROM quotes"))
        try:
            waiting = int(await conn.fetchval("SELECT count(*) FROM quote_start_outbox"))
        except asyncpg.UndefinedTableError:  # a checkout that starts inside the request
            waiting = 0
    finally:
        await conn.close()
    return workflows, rows, waiting


def process_of(stack: RunningStack, last_arg: str) -> psutil.Process:
    for proc in stack.descendants():
        try:
            cmd = proc.cmdline()
        except psutil.Error:
            continue
        if cmd and cmd[-1] == last_arg and any("marketred" in part for part in cmd):
            return proc
    raise RuntimeError(f"no `marketred {last_arg}` process in the stack")


def start_profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy") or str(BENCH_BIN / "py-spy")
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "50",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def top_functions(
    raw: Path, n: int = 12
) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """From py-spy's collapsed stacks: (samples, the functions with the most samples of
    their own, the project's functions with the most samples inclusive), as % of samples."""
    own: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack:
            continue
        total += int(count)
        frames = [_frame(f) for f in stack.split(";") if f]
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if (
                frame.startswith("marketred/")
                and "middleware" not in frame
                and "cli.py" not in frame
            ):
                ours[frame] += int(count)

    def share(c: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(name, 100 * k / max(total, 1)) for name, k in c.most_common(n)]

    return total, share(own), share(ours)


def _frame(frame: str) -> str:
    """'function (path/to/file.py:12)' → 'path/to/file.py function'."""
    function, _, where = frame.rpartition(" (")
    return f"{where.split(':')[0]} {function}" if function else frame


async def floor(stack: RunningStack, n: int = 20) -> tuple[float, float]:
    """p50 ms of a workflow start on the same Temporal server and of one database round
    trip, in the same loaded conditions: what a quote creation cannot go below."""
    import asyncpg
    from temporalio.client import Client

    client = await Client.connect(stack.temporal_address)
    starts = []
    for _ in range(n):
        t0 = time.perf_counter()
        handle = await client.start_workflow(
            "BenchNothing", id=f"bench-floor-{uuid.uuid4()}", task_queue="bench-nobody-polls"
        )
        starts.append((time.perf_counter() - t0) * 1000)
        await handle.terminate("bench floor measurement")
    conn = await asyncpg.connect(
        host=str(stack.home / "pgdata"), user="postgres", database="marketred"
    )
    trips = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            await conn.fetchval("SELECT 1")
            trips.append((time.perf_counter() - t0) * 1000)
    finally:
        await conn.close()
    return statistics.median(starts), statistics.median(trips)


def report(title: str, run: Run, seconds: float) -> None:
    lat = run.latencies_ms
    print(f"\n{title}")
    if lat:
        print(
            f"  created {run.created} quotes in {seconds:.0f}s = {run.created / seconds:.2f}/s; "
            f"POST /api/v1/quotes p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms, "
            f"p99 {pct(lat, 99):.0f} ms, max {max(lat):.0f} ms, mean {statistics.mean(lat):.0f} ms"
        )
    print(f"  errors: {dict(run.errors) or 'none'}")


MARK = "bench-sql-mark"


async def statements_of_one_post(
    api: httpx.AsyncClient, stack: RunningStack, buyer: dict[str, str], variant: str
) -> None:
    """Log every statement while one cart fill and one POST run; print the POST's."""
    import asyncpg

    conn = await asyncpg.connect(
        host=str(stack.home / "pgdata"), user="postgres", database="marketred"
    )
    # The supervisor of `marketred dev` writes each child's output to <name>.log.
    pg_log = next(stack.home.rglob("postgres.log"))
    await asyncio.sleep(5)  # the warm-up's workflows settle (they write to the database)
    log_start = pg_log.stat().st_size
    try:
        await conn.execute("ALTER SYSTEM SET log_statement = 'all'")
        await conn.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.5)
        r = await api.put(
            f"/api/v1/carts/{VENDOR_SLUG}/items/{variant}", json={"quantity": 1}, headers=buyer
        )
        assert r.status_code == 200, r.text
        await conn.execute(f"SELECT '{MARK}-post'")
        r = await api.post(
            "/api/v1/quotes", json={"vendor": VENDOR_SLUG, "note": "bench", "contact": {}},
            headers=buyer,
        )  # fmt: skip
        await conn.execute(f"SELECT '{MARK}-end'")
        assert r.status_code == 201, r.text
    finally:
        await conn.execute("ALTER SYSTEM RESET log_statement")
        await conn.execute("SELECT pg_reload_conf()")
        await conn.close()
    await asyncio.sleep(0.5)
    with pg_log.open("rb") as f:
        f.seek(log_start)
        text = f.read().decode(errors="replace")
    section = text.split(f"{MARK}-post", 1)[-1].split(f"{MARK}-end", 1)[0]
    # Lines look like "<time> [<pid>] LOG:  statement: BEGIN;": grouped by backend, the
    # POST's are the backends that wrote the quote or its rate-limit counters (the
    # workers' backends, busy with the warm-up's workflows, are left out).
    by_backend: dict[str, list[str]] = collections.defaultdict(list)
    for line in section.splitlines():
        head, sep, rest = line.partition("LOG:")
        if sep and ("statement:" in rest or "execute" in rest) and MARK not in rest:
            pid = head.rsplit("[", 1)[-1].split("]", 1)[0] if "[" in head else "?"
            by_backend[pid].append(rest.strip())
    # A backend's statements end with its first COMMIT: what follows on the request's
    # connection is the workflow start after the response (a background task).
    ours = {
        pid: stmts[: next((i + 1 for i, st in enumerate(stmts) if "COMMIT" in st), len(stmts))]
        for pid, stmts in by_backend.items()
        if any("INSERT INTO quotes" in st or "rate_limit_counters" in st for st in stmts)
    }
    total = sum(len(stmts) for stmts in ours.values())
    print(
        f"\nstatements of one POST /api/v1/quotes: {total} on {len(ours)} connection(s) "
        "(a pool's pre-ping is BEGIN, an empty ';' that is not logged, ROLLBACK)"
    )
    for pid, stmts in ours.items():
        print(f"  backend {pid}: {len(stmts)}")
        for st in stmts:
            print(f"    {st[:150]}")


async def bench(args: argparse.Namespace, stack: RunningStack) -> None:
    buyers: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for h in await make_buyers(stack, args.buyers):
        buyers.put_nowait(h)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60, limits=limits) as api:
        variant = await first_variant(api)
        await closed_loop(api, buyers, variant, 2, 3)  # warm-up: connections, caches
        if args.sql:
            buyer = await buyers.get()
            await statements_of_one_post(api, stack, buyer, variant)
            buyers.put_nowait(buyer)
            if not args.max_seconds:
                return
        # Sustainable means the workflows start as fast as the quotes come: a client's
        # next quote waits for its last one's start (inside the POST, or after it).
        watch = StartWatch(stack)
        await watch.open()
        try:
            maximum = await closed_loop(api, buyers, variant, args.clients, args.max_seconds, watch)
        finally:
            await watch.close()
        report(
            f"maximum ({args.clients} closed-loop clients, each waiting for its workflow's "
            "start before the next quote)",
            maximum,
            args.max_seconds,
        )
        rate = args.rate or max(0.5, maximum.created / args.max_seconds / 2)
        profiler = None
        if args.profile:
            api_proc = process_of(stack, "api")
            profiler = start_profile(api_proc.pid, args.seconds, args.profile_out)
        half = await open_loop(api, buyers, variant, rate, args.seconds)
        title = "a fixed rate" if args.rate else "half the maximum"
        report(f"{title}: {rate:.2f} quotes/s, open loop, one address", half, args.seconds)
    start_ms, trip_ms = await floor(stack)
    print(
        f"\nsame server, same load: workflow start p50 {start_ms:.1f} ms, "
        f"database round trip p50 {trip_ms:.2f} ms"
    )
    if profiler is not None:
        profiler.wait(timeout=120)
        total, own, ours = top_functions(args.profile_out)
        print(
            f"\nAPI profile during the half-rate run: {total} samples at 50/s ({args.profile_out})"
        )
        print("  most samples of their own:")
        for name, share in own:
            print(f"    {share:5.1f}%  {name}")
        print("  project functions, inclusive:")
        for name, share in ours:
            print(f"    {share:5.1f}%  {name}")
    await asyncio.sleep(3)  # let the last starts land
    workflows, rows, waiting = await orphans(stack)
    print(
        f"\nQuoteWorkflow executions {workflows}, quote rows {rows}, waiting for their start "
        f"{waiting}: {'no orphans' if workflows == rows else 'MISMATCH'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=15)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--profile", action="store_true", help="py-spy the API meanwhile")
    parser.add_argument(
        "--rate",
        type=float,
        help="open-loop rate (default: half the maximum measured); "
        "the same rate for two checkouts compares them on a busy machine",
    )
    parser.add_argument("--sql", action="store_true", help="log and count one POST's SQL")
    parser.add_argument("--profile-out", type=Path, default=Path("quote_create.pyspy.txt"))
    parser.add_argument("--python", help="interpreter of the checkout whose stack to run")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="marketred-quote-bench-"))
    if args.python:
        # start_stack runs `python -m marketred.workers.cli dev` from the current folder,
        # which comes first on the path: run it from that interpreter's checkout.
        sys.executable = args.python
        os.chdir(Path(args.python).absolute().parents[2])
    stack = start_stack(home, None, timeout=300)
    try:
        asyncio.run(bench(args, stack))
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

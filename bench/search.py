"""Search latency bench (not part of the test run).

Loads 100,000 generated Spanish products (about 2.5 variants each) across 200 vendors
into a scratch database, then times a fixed query mix through the real search service
beside a primary-key product fetch over the same session, and prints p50/p99 of both
and their ratio.

    .venv/bin/python bench/search.py                       # embedded PostgreSQL in a temp dir
    .venv/bin/python bench/search.py --admin-url postgresql://postgres@localhost/postgres
    .venv/bin/python bench/search.py --products 20000 --vendors 50 --rounds 10
    .venv/bin/python bench/search.py --url postgresql://…/mr_dev   # an already loaded database
    .venv/bin/python bench/search.py --url postgresql://…/mr_base --checkout /work/main

The scratch database is dropped at the end (the embedded server is stopped too); a
database given with --url is migrated to head (of the checkout timed) but neither loaded
nor dropped, so two checkouts can be timed on copies of the same data
(`CREATE DATABASE mr_base TEMPLATE mr_dev` before the newer checkout migrates it)
minutes apart; --checkout DIR imports the search code from DIR instead of this checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

# --checkout DIR times another checkout's search code (e.g. main's, as the baseline) on
# the same data: it has to be on the path before marketred is imported.
sys.path.insert(
    0,
    str(
        Path(
            sys.argv[sys.argv.index("--checkout") + 1]
            if "--checkout" in sys.argv[:-1]
            else Path(__file__).parents[1]
        ).resolve()
    ),
)

from bench import spanish_catalog
from marketred.services.catalog import search
from marketred.store.migrate import upgrade
from marketred.store.session import create_engine, create_session_factory
from marketred.workers import embedded_db


async def load(url: str, products: int, vendors: int) -> list[uuid.UUID]:
    started = time.perf_counter()
    catalog = spanish_catalog.generate(products, vendors)
    await spanish_catalog.load(url, catalog)
    print(
        f"loaded {vendors} vendors, {products} products, {len(catalog.variants)} variants "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return [row[0] for row in catalog.products]


async def _product_ids(url: str) -> list[uuid.UUID]:
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as conn:
        ids = [row[0] for row in await conn.execute(text("SELECT id FROM products"))]
    await engine.dispose()
    return ids


async def _search(
    session: Any, q: str, vendor: str | None, category: str | None, lo: int | None, hi: int | None
) -> Any:
    return await search.search_products(
        session, q=q, vendor=vendor, category=category, min_price=lo, max_price=hi, limit=20
    )


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _baseline(checkout: str) -> Any:
    """Another checkout's `store/repositories/search.py` (it imports only SQLAlchemy)."""
    path = Path(checkout) / "marketred/store/repositories/search.py"
    spec = importlib.util.spec_from_file_location("baseline_search_repo", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def measure(
    url: str, product_ids: list[uuid.UUID], rounds: int, vendors: int, against: str | None = None
) -> None:
    engine = create_engine(url, pool_size=2)
    sessions = create_session_factory(engine)
    rng = random.Random(7)
    search_ms: list[float] = []
    pk_ms: list[float] = []
    hits: dict[str, int] = {}
    per_query: dict[str, list[float]] = {}
    base = _baseline(against) if against else None
    base_ms: list[float] = []
    base_per_query: dict[str, list[float]] = {}

    load_before = os.getloadavg()
    async with sessions() as session:
        for round_no in range(rounds + 2):  # two warm-up rounds are discarded
            keep = round_no >= 2
            for q, by_vendor, category, lo, hi in spanish_catalog.QUERIES:
                vendor = f"vendor-{rng.randrange(vendors)}" if by_vendor else None
                t0 = time.perf_counter()
                page = await _search(session, q, vendor, category, lo, hi)
                elapsed = (time.perf_counter() - t0) * 1000
                hits[q] = page.total
                if base is not None:
                    filters = base.SearchFilters(q, vendor, category, lo, hi, 20, 0)
                    t0 = time.perf_counter()
                    await base.search_products(session, filters)
                    if keep:
                        base_ms.append((time.perf_counter() - t0) * 1000)
                        base_per_query.setdefault(q, []).append(base_ms[-1])
                pid = rng.choice(product_ids)
                t0 = time.perf_counter()
                await session.execute(text("SELECT * FROM products WHERE id = :id"), {"id": pid})
                pk_elapsed = (time.perf_counter() - t0) * 1000
                if keep:
                    search_ms.append(elapsed)
                    pk_ms.append(pk_elapsed)
                    per_query.setdefault(q, []).append(elapsed)
    await engine.dispose()
    load_after = os.getloadavg()
    if not search_ms:
        return
    print(f"\n{'query':24}{'matches':>10}{'p50 ms':>10}{'max ms':>10}", end="")
    print(f"{'base p50':>10}{'base max':>10}" if base else "")
    for q, n in hits.items():
        print(
            f"{q:24}{n:10d}{statistics.median(per_query[q]):10.2f}{max(per_query[q]):10.2f}", end=""
        )
        b = base_per_query.get(q)
        print(f"{statistics.median(b):10.2f}{max(b):10.2f}" if b else "")
    s50, s99 = _pct(search_ms, 50), _pct(search_ms, 99)
    k50, k99 = _pct(pk_ms, 50), _pct(pk_ms, 99)
    print(f"\nsamples: {len(search_ms)} searches, {len(pk_ms)} primary-key fetches")
    print(f"{'':24}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    print(f"{'search (query mix)':24}{s50:10.2f}{s99:10.2f}{statistics.mean(search_ms):10.2f}")
    print(f"{'product by primary key':24}{k50:10.2f}{k99:10.2f}{statistics.mean(pk_ms):10.2f}")
    print(f"{'ratio search / pk':24}{s50 / k50:10.1f}{s99 / k99:10.1f}")
    if base_ms:
        b50, b99 = _pct(base_ms, 50), _pct(base_ms, 99)
        print(f"{'baseline (--against)':24}{b50:10.2f}{b99:10.2f}{statistics.mean(base_ms):10.2f}")
        print(f"{'ratio baseline / pk':24}{b50 / k50:10.1f}{b99 / k99:10.1f}")
    print(
        "load average (1/5/15 min) before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )


def _backend_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a local PostgreSQL backend, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu(url: str, product_ids: list[uuid.UUID], rounds: int, vendors: int) -> None:
    """CPU per call — the server backend's (/proc, tick-sampled) plus this process's —
    for the search mix and for primary-key fetches, each in its own phase on one
    connection. CPU time depends far less than wall-clock time on how many others share
    the cores, so on a busy machine this says more about the work a search does than the
    percentiles do (it does not include the round-trip waits)."""
    engine = create_engine(url, pool_size=1)
    sessions = create_session_factory(engine)
    rng = random.Random(11)
    async with sessions() as session:
        pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        try:
            _backend_cpu_s(pid)
        except OSError:
            print("\nCPU: the server's backend is not readable here (not local)")
            return
        mix = spanish_catalog.QUERIES
        for q, by_vendor, category, lo, hi in mix * 2:  # warm-up, as in measure()
            await _search(session, q, "vendor-1" if by_vendor else None, category, lo, hi)
        phases: dict[str, tuple[float, float, int]] = {}
        server0, client0, n = _backend_cpu_s(pid), time.process_time(), 0
        for _ in range(rounds):
            for q, by_vendor, category, lo, hi in mix:
                vendor = f"vendor-{rng.randrange(vendors)}" if by_vendor else None
                await _search(session, q, vendor, category, lo, hi)
                n += 1
        phases["search (query mix)"] = (
            _backend_cpu_s(pid) - server0,
            time.process_time() - client0,
            n,
        )
        pk = text("SELECT * FROM products WHERE id = :id")
        server0, client0, n = _backend_cpu_s(pid), time.process_time(), 0
        for _ in range(rounds * len(mix) * 5):
            await session.execute(pk, {"id": rng.choice(product_ids)})
            n += 1
        phases["product by primary key"] = (
            _backend_cpu_s(pid) - server0,
            time.process_time() - client0,
            n,
        )
    await engine.dispose()
    print(f"\n{'CPU per call, ms':24}{'server':>10}{'client':>10}{'total':>10}{'calls':>8}")
    per_call = {}
    for name, (server_s, client_s, count) in phases.items():
        per_call[name] = (server_s + client_s) * 1000 / count
        print(
            f"{name:24}{server_s * 1000 / count:10.3f}{client_s * 1000 / count:10.3f}"
            f"{per_call[name]:10.3f}{count:8d}"
        )
    ratio = per_call["search (query mix)"] / per_call["product by primary key"]
    print(f"{'ratio search / pk (CPU)':24}{'':20}{ratio:10.1f}")


async def explain(url: str, queries: list[str]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement the search service runs for each
    query (with its filters from the mix, the vendor filter on vendor-1)."""
    filters = {q: (v, c, lo, hi) for q, v, c, lo, hi in spanish_catalog.QUERIES}
    engine = create_engine(url, pool_size=1)
    sessions = create_session_factory(engine)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "products" in statement:
            captured.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    async with sessions() as session:
        for q in queries:
            captured.clear()
            by_vendor, category, lo, hi = filters.get(q, (False, None, None, None))
            await _search(session, q, "vendor-1" if by_vendor else None, category, lo, hi)
            for statement, params in list(captured):
                plan = await session.connection()
                result = await plan.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params
                )
                print(f"\n-- q={q!r}\n" + "\n".join(row[0] for row in result))
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", help="PostgreSQL admin URL (default: embedded server)")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--vendors", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--url", help="an already loaded database (kept; not reloaded)")
    parser.add_argument("--checkout", help="time the search code of this checkout instead")
    parser.add_argument(
        "--against",
        metavar="DIR",
        help="also time DIR's store/repositories/search.py right after each search of this "
        "checkout, in the same session (the warm cache favours the baseline)",
    )
    parser.add_argument(
        "--explain", action="append", default=[], metavar="Q", help="print the plans for Q"
    )
    args = parser.parse_args()
    print(f"search code: {search.__file__}")

    if args.url:
        upgrade(args.url)
        product_ids = asyncio.run(_product_ids(args.url))
        asyncio.run(measure(args.url, product_ids, args.rounds, args.vendors, args.against))
        asyncio.run(cpu(args.url, product_ids, args.rounds, args.vendors))
        if args.explain:
            asyncio.run(explain(args.url, args.explain))
        return
    folder, server = None, None
    admin = args.admin_url
    if admin is None:
        folder = Path(tempfile.mkdtemp(prefix="marketred-bench-"))
        server, admin = embedded_db.start_embedded(folder / "pgdata")
    name = f"mr_bench_{uuid.uuid4().hex[:8]}"
    try:
        url = embedded_db.ensure_database_sync(admin, name, fresh=True)
        upgrade(url)
        product_ids = asyncio.run(load(url, args.products, args.vendors))
        asyncio.run(measure(url, product_ids, args.rounds, args.vendors, args.against))
        asyncio.run(cpu(url, product_ids, args.rounds, args.vendors))
        if args.explain:
            asyncio.run(explain(url, args.explain))
    finally:
        asyncio.run(embedded_db.drop_database(admin, name))
        if server is not None:
            embedded_db.stop_embedded(server)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""A real load test: the MarketRed traffic mix (bench/load/locustfile.py) with Locust,
ramping users against `marketred dev` started on free ports in a scratch folder.

1. Starts the stack, adds `--catalog` products of the generated Spanish catalog
   (bench/spanish_catalog.py) beside the demo data, and `--buyers` buyers with tokens.
2. Runs Locust headless: `--users` users, `--spawn-rate` new users a second, for
   `--minutes`.
3. Prints requests/s, p50/p95/p99 per endpoint and the errors (Locust's CSV), then the
   peak memory of the API and worker processes.

    .venv/bin/python bench/load/run.py                 # what `make load` runs (2 minutes)
    .venv/bin/python bench/load/run.py --users 60 --spawn-rate 1 --minutes 5

Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import spanish_catalog
from bench.quote_create import database_url, make_buyers, process_of
from marketred.settings import Settings
from tests.support.stack import RunningStack, start_stack

HERE = Path(__file__).resolve().parent
QUOTE_VENDORS = ("cafe-altiplano", "textiles-chiloe", "zapateria-valparaiso")


async def fixture(stack: RunningStack, buyers: int, catalog: int) -> dict[str, object]:
    import asyncpg

    from marketred.services.accounts import tokens

    if catalog:
        await spanish_catalog.load(database_url(stack), spanish_catalog.generate(catalog, 50))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    conn = await asyncpg.connect(
        host=str(stack.home / "pgdata"), user="postgres", database="marketred"
    )
    try:
        quote_vendors, staff = [], {}
        for slug in QUOTE_VENDORS:
            variants = await conn.fetch(
                "SELECT va.id FROM variants va JOIN vendors v ON v.id = va.vendor_id "
                "WHERE v.slug = $1 AND va.active AND (va.stock IS NULL OR va.stock > 1000)",
                slug,
            )
            if not variants:  # tracked stock would run out: give the demo items plenty
                await conn.execute(
                    "UPDATE variants SET stock = NULL "
                    "WHERE vendor_id = (SELECT id FROM vendors WHERE slug = $1)",
                    slug,
                )
                variants = await conn.fetch(
                    "SELECT va.id FROM variants va JOIN vendors v ON v.id = va.vendor_id "
                    "WHERE v.slug = $1 AND va.active",
                    slug,
                )
            quote_vendors.append({"slug": slug, "variants": [str(r["id"]) for r in variants]})
            staff_id = await conn.fetchval(
                "SELECT id FROM users WHERE email = $1", f"staff@{slug}.cl"
            )
            token = tokens.issue_access_token(settings.secret_key, staff_id, 120)
            staff[slug] = {"Authorization": f"Bearer {token}"}
        product_ids = [
            str(r["id"])
            for r in await conn.fetch(
                "SELECT id FROM products WHERE active ORDER BY random() LIMIT 500"
            )
        ]
        browse_vendors = [
            r["slug"]
            for r in await conn.fetch("SELECT slug FROM vendors ORDER BY random() LIMIT 20")
        ]
    finally:
        await conn.close()
    return {
        "buyers": await make_buyers(stack, buyers),
        "staff": staff,
        "quote_vendors": quote_vendors,
        "product_ids": product_ids,
        "browse_vendors": browse_vendors,
        "queries": [q for q, *_ in spanish_catalog.QUERIES] + ["café", "chocolate", "poncho"],
        "khipu_url": stack.khipu_url,
    }


def peak_mb(stack: RunningStack, last_arg: str) -> str:
    try:
        pid = process_of(stack, last_arg).pid
    except RuntimeError:
        return "not found"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            kind, kb = line.split()[:2]
            if kind == "VmHWM:":
                return f"{int(kb) / 1024:.0f} MiB peak"
    return "unknown"


def print_stats(prefix: Path) -> None:
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open()))
    print(f"\n{'endpoint':48}{'reqs':>7}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}")
    for row in rows:
        name = row["Name"] if row["Type"] else "Aggregated"
        print(
            f"{(row['Type'] + ' ' + name).strip()[:47]:48}{row['Request Count']:>7}"
            f"{row['Failure Count']:>6}{float(row['Requests/s']):8.2f}"
            f"{row['50%']:>7}{row['95%']:>7}{row['99%']:>7}"
        )
    failures = prefix.parent / f"{prefix.name}_failures.csv"
    failed = list(csv.DictReader(failures.open())) if failures.exists() else []
    print("\nerrors:" + ("" if failed else " none"))
    for row in failed:
        print(f"  {row['Occurrences']:>5} × {row['Method']} {row['Name']}: {row['Error'][:100]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--spawn-rate", type=float, default=0.5)
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--catalog", type=int, default=5000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="marketred-load-"))
    stack = start_stack(home, None, timeout=300)
    try:
        data = asyncio.run(fixture(stack, args.buyers, args.catalog))
        (home / "fixture.json").write_text(json.dumps(data))
        prefix = home / "locust"
        print(
            f"Locust: {args.users} users (+{args.spawn_rate}/s) for {args.minutes} min "
            f"against {stack.base_url}"
        )
        subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--only-summary",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                f"{int(args.minutes * 60)}s",
                "--host",
                stack.base_url,
                "--csv",
                str(prefix),
            ],
            env={**os.environ, "MARKETRED_LOAD_FIXTURE": str(home / "fixture.json")},
            check=False,
            stdout=subprocess.DEVNULL,
        )
        print_stats(prefix)
        print(f"\nAPI process: {peak_mb(stack, 'api')}; worker process: {peak_mb(stack, 'worker')}")
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

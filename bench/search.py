"""Search latency bench (not part of the test run).

Loads 100,000 generated Spanish products (about 2.5 variants each) across 200 vendors
into a scratch database, then times a fixed query mix through the real search service
beside a primary-key product fetch over the same session, and prints p50/p99 of both
and their ratio.

    .venv/bin/python bench/search.py                       # embedded PostgreSQL in a temp dir
    .venv/bin/python bench/search.py --admin-url postgresql://postgres@localhost/postgres
    .venv/bin/python bench/search.py --products 20000 --vendors 50 --rounds 10

The scratch database is dropped at the end (the embedded server is stopped too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketred.services import search
from marketred.store.migrate import upgrade
from marketred.store.session import create_engine, create_session_factory
from marketred.workers import embedded_db

NOUNS = [
    ("zapato", "Calzado"),
    ("zapatilla", "Calzado"),
    ("bota", "Calzado"),
    ("sandalia", "Calzado"),
    ("polera", "Vestuario"),
    ("chaqueta", "Vestuario"),
    ("bufanda", "Vestuario"),
    ("gorro", "Vestuario"),
    ("poncho", "Vestuario"),
    ("calcetín", "Vestuario"),
    ("café", "Almacén"),
    ("chocolate", "Almacén"),
    ("té", "Almacén"),
    ("miel", "Almacén"),
    ("mermelada", "Almacén"),
    ("queso", "Almacén"),
    ("aceite de oliva", "Almacén"),
    ("merkén", "Almacén"),
    ("galleta", "Almacén"),
    ("vino", "Bebidas"),
    ("cerveza", "Bebidas"),
    ("jabón", "Hogar"),
    ("vela", "Hogar"),
    ("taza", "Hogar"),
    ("mantel", "Hogar"),
    ("cojín", "Hogar"),
    ("sábana", "Hogar"),
    ("maceta", "Jardín"),
    ("mochila", "Accesorios"),
    ("cartera", "Accesorios"),
    ("cinturón", "Accesorios"),
    ("cuaderno", "Librería"),
]
ADJECTIVES = [
    "artesanal",
    "orgánico",
    "de cuero",
    "de lana",
    "negro",
    "rojo",
    "azul",
    "grande",
    "pequeño",
    "premium",
    "clásico",
    "chileno",
    "natural",
    "aromático",
    "de greda",
    "de cobre",
    "tostado",
    "amargo",
    "de campo",
    "reciclado",
]
PLACES = ["Chiloé", "Valdivia", "Pomaire", "Valparaíso", "Ñuñoa", "Temuco", "Arica", "Maule"]

# (q, vendor filter?, min_price, max_price): typos, accents, plurals, filters.
QUERY_MIX: list[tuple[str, bool, int | None, int | None]] = [
    ("zapatos", False, None, None),
    ("cafe tostado", False, None, None),
    ("chocolat", False, None, None),
    ("polera negra", False, None, None),
    ("miel organica", False, None, None),
    ("mochla", False, None, None),
    ("queso de campo", False, 5000, 20000),
    ("vela aromatica", False, None, None),
    ("sabanas", False, None, None),
    ("merken", True, None, None),
    ("bufanda lana", True, None, None),
    ("taza greda pomaire", False, None, 15000),
]


def _product(rng: random.Random, n: int) -> tuple[str, str, str, str]:
    noun, category = rng.choice(NOUNS)
    adj = rng.sample(ADJECTIVES, 2)
    name = f"{noun.capitalize()} {adj[0]} {n % 97}"
    place = rng.choice(PLACES)
    description = f"{noun.capitalize()} {adj[1]} hecho en {place}. Producto {adj[0]} de MiPyme."
    keywords = ", ".join([noun, adj[0], place.lower()])
    return name, description, keywords, category


async def load(url: str, products: int, vendors: int) -> list[uuid.UUID]:
    import asyncpg

    rng = random.Random(20261128)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    vendor_rows, product_rows, variant_rows = [], [], []
    vendor_ids = [uuid.uuid4() for _ in range(vendors)]
    for i, vid in enumerate(vendor_ids):
        vendor_rows.append((vid, f"vendor-{i}", f"Empresa {i} {rng.choice(PLACES)}", "11111111-1"))
    product_ids: list[uuid.UUID] = []
    for n in range(products):
        pid, vid = uuid.uuid4(), vendor_ids[n % vendors]
        name, description, keywords, category = _product(rng, n)
        product_rows.append((pid, vid, name, description, keywords, category))
        product_ids.append(pid)
        for k in range(rng.randint(1, 4)):
            price = rng.randint(5, 900) * 100 - 10
            options = json.dumps({"talla": ["S", "M", "L", "XL"][k]})
            variant_rows.append((uuid.uuid4(), pid, vid, f"SKU-{n}-{k}", options, price, k))
    started = time.perf_counter()
    await conn.copy_records_to_table(
        "vendors", records=vendor_rows, columns=["id", "slug", "name", "rut"]
    )
    await conn.copy_records_to_table(
        "products",
        records=product_rows,
        columns=["id", "vendor_id", "name", "description", "keywords", "category"],
    )
    await conn.copy_records_to_table(
        "variants",
        records=variant_rows,
        columns=["id", "product_id", "vendor_id", "sku", "options", "price", "position"],
    )
    await conn.execute("ANALYZE")
    await conn.close()
    print(
        f"loaded {vendors} vendors, {products} products, {len(variant_rows)} variants "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return product_ids


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, product_ids: list[uuid.UUID], rounds: int) -> None:
    engine = create_engine(url, pool_size=2)
    sessions = create_session_factory(engine)
    rng = random.Random(7)
    search_ms: list[float] = []
    pk_ms: list[float] = []
    hits: dict[str, int] = {}
    per_query: dict[str, list[float]] = {}

    async with sessions() as session:
        for round_no in range(rounds + 2):  # two warm-up rounds are discarded
            keep = round_no >= 2
            for q, by_vendor, lo, hi in QUERY_MIX:
                vendor = f"vendor-{rng.randrange(200)}" if by_vendor else None
                t0 = time.perf_counter()
                page = await search.search_products(
                    session, q=q, vendor=vendor, min_price=lo, max_price=hi, limit=20
                )
                elapsed = (time.perf_counter() - t0) * 1000
                hits[q] = page.total
                pid = rng.choice(product_ids)
                t0 = time.perf_counter()
                await session.execute(text("SELECT * FROM products WHERE id = :id"), {"id": pid})
                pk_elapsed = (time.perf_counter() - t0) * 1000
                if keep:
                    search_ms.append(elapsed)
                    pk_ms.append(pk_elapsed)
                    per_query.setdefault(q, []).append(elapsed)
    await engine.dispose()
    print(f"\n{'query':24}{'matches':>10}{'p50 ms':>10}")
    for q, n in hits.items():
        print(f"{q:24}{n:10d}{statistics.median(per_query[q]):10.2f}")
    s50, s99 = _pct(search_ms, 50), _pct(search_ms, 99)
    k50, k99 = _pct(pk_ms, 50), _pct(pk_ms, 99)
    print(f"\nsamples: {len(search_ms)} searches, {len(pk_ms)} primary-key fetches")
    print(f"{'':24}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    print(f"{'search (query mix)':24}{s50:10.2f}{s99:10.2f}{statistics.mean(search_ms):10.2f}")
    print(f"{'product by primary key':24}{k50:10.2f}{k99:10.2f}{statistics.mean(pk_ms):10.2f}")
    print(f"{'ratio search / pk':24}{s50 / k50:10.1f}{s99 / k99:10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", help="PostgreSQL admin URL (default: embedded server)")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--vendors", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

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
        asyncio.run(measure(url, product_ids, args.rounds))
    finally:
        asyncio.run(embedded_db.drop_database(admin, name))
        if server is not None:
            embedded_db.stop_embedded(server)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

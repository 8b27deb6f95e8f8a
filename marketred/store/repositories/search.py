"""Product search SQL (indexes in migration 0003_catalog).

Two passes, both index-backed:
1. Spanish full text: the query, unaccented and stemmed with the 'spanish' config, against
   the products' generated tsvector (name A, keywords B, category C, description D).
2. Only when that finds nothing (a misspelt query): trigram word similarity of the
   unaccented query against the unaccented name ("chocloate" → "Chocolate").
Only active products of active vendors with at least one active variant (in the price
range, when one is given) show. Prices of the page are aggregated for that page only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# "mochla" → "mochila" scores 0.57; the default 0.6 would miss such one-letter slips.
WORD_SIMILARITY_THRESHOLD = 0.5


@dataclass(frozen=True)
class SearchFilters:
    q: str | None
    vendor_slug: str | None
    category: str | None
    min_price: int | None
    max_price: int | None
    limit: int
    offset: int


@dataclass(frozen=True)
class SearchRow:
    id: uuid.UUID
    name: str
    category: str | None
    image_urls: list[Any]
    vendor_id: uuid.UUID
    vendor_slug: str
    vendor_name: str
    min_price: int
    max_price: int
    rank: float | None


_QUERY = (
    "query AS (SELECT websearch_to_tsquery('spanish', marketred_unaccent(:q)) AS tsq,"
    " marketred_unaccent(lower(:q)) AS qn)"
)
_FULL_TEXT = ("p.search_vector @@ query.tsq", "ts_rank_cd(p.search_vector, query.tsq, 32)")
_TRIGRAM = (
    "query.qn <% marketred_unaccent(lower(p.name))",
    "word_similarity(query.qn, marketred_unaccent(lower(p.name)))",
)


def _sql(f: SearchFilters, mode: tuple[str, str] | None) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"limit": f.limit, "offset": f.offset}
    where = ["p.active", "v.active"]
    variant_cond = ["pv.product_id = p.id", "pv.active"]
    if mode is not None:
        where.append(mode[0])
        params["q"] = f.q
    if f.vendor_slug:
        where.append("v.slug = :vendor")
        params["vendor"] = f.vendor_slug
    if f.category:
        where.append("lower(p.category) = lower(:category)")
        params["category"] = f.category
    if f.min_price is not None:
        variant_cond.append("pv.price >= :min_price")
        params["min_price"] = f.min_price
    if f.max_price is not None:
        variant_cond.append("pv.price <= :max_price")
        params["max_price"] = f.max_price
    variants = " AND ".join(variant_cond)
    where.append(f"EXISTS (SELECT 1 FROM variants pv WHERE {variants})")
    rank = mode[1] if mode else "NULL::float"
    order = "rank DESC, name, id" if mode else "name, id"
    outer_order = "page.rank DESC, page.name, page.id" if mode else "page.name, page.id"
    sql = f"""
        WITH {_QUERY + "," if mode else ""}
        hits AS (
            SELECT p.id, p.name, {rank} AS rank
            FROM products p JOIN vendors v ON v.id = p.vendor_id {", query" if mode else ""}
            WHERE {" AND ".join(where)}
        ),
        page AS (SELECT * FROM hits ORDER BY {order} LIMIT :limit OFFSET :offset)
        SELECT p.id, p.name, p.category, p.image_urls, v.id, v.slug, v.name,
               prices.min_price, prices.max_price, page.rank,
               (SELECT count(*) FROM hits) AS total
        FROM page
        JOIN products p ON p.id = page.id
        JOIN vendors v ON v.id = p.vendor_id
        CROSS JOIN LATERAL (
            SELECT min(pv.price) AS min_price, max(pv.price) AS max_price
            FROM variants pv WHERE {variants}
        ) prices
        ORDER BY {outer_order}
    """
    return sql, params


async def _run(
    session: AsyncSession, f: SearchFilters, mode: tuple[str, str] | None
) -> tuple[list[SearchRow], int]:
    sql, params = _sql(f, mode)
    rows = (await session.execute(text(sql), params)).all()
    if rows:
        total = int(rows[0][-1])
    elif f.offset:  # past the last page: no row carries the count
        total = await _count(session, sql, params)
    else:
        total = 0
    return [SearchRow(*tuple(r)[:-1]) for r in rows], total


async def _count(session: AsyncSession, sql: str, params: dict[str, Any]) -> int:
    rows = (await session.execute(text(sql), {**params, "limit": 1, "offset": 0})).all()
    return int(rows[0][-1]) if rows else 0


async def search_products(session: AsyncSession, f: SearchFilters) -> tuple[list[SearchRow], int]:
    if not f.q:
        return await _run(session, f, None)
    found, total = await _run(session, f, _FULL_TEXT)
    if total:
        return found, total
    await session.execute(
        text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
        {"t": str(WORD_SIMILARITY_THRESHOLD)},
    )
    return await _run(session, f, _TRIGRAM)

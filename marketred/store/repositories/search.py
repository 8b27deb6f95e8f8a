"""Product search SQL (indexes in migration 0003_catalog).

A product matches when its Spanish tsvector matches the query (stemmed, unaccented) or
when the query is trigram-close to a word run of its unaccented name (typos). Rank mixes
both. Only active products of active vendors with at least one active variant show.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


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


_MATCH = """(
    p.search_vector @@ query.tsq
    OR query.qn <% marketred_unaccent(lower(p.name))
)"""

_RANK = """(
    ts_rank_cd(p.search_vector, query.tsq, 32)
    + word_similarity(query.qn, marketred_unaccent(lower(p.name)))
)"""


async def search_products(session: AsyncSession, f: SearchFilters) -> tuple[list[SearchRow], int]:
    where = ["p.active", "v.active"]
    params: dict[str, Any] = {"limit": f.limit, "offset": f.offset}
    price_cond = ["pv.product_id = p.id", "pv.active"]
    if f.q:
        where.append(_MATCH)
        params["q"] = f.q
    if f.vendor_slug:
        where.append("v.slug = :vendor")
        params["vendor"] = f.vendor_slug
    if f.category:
        where.append("lower(p.category) = lower(:category)")
        params["category"] = f.category
    if f.min_price is not None:
        price_cond.append("pv.price >= :min_price")
        params["min_price"] = f.min_price
    if f.max_price is not None:
        price_cond.append("pv.price <= :max_price")
        params["max_price"] = f.max_price
    query_cte = (
        "WITH query AS (SELECT websearch_to_tsquery('spanish', marketred_unaccent(:q)) AS tsq,"
        " marketred_unaccent(lower(:q)) AS qn) "
        if f.q
        else ""
    )
    rank = _RANK if f.q else "NULL::float"
    order = "rank DESC, p.name, p.id" if f.q else "p.name, p.id"
    sql = f"""
        {query_cte}
        SELECT p.id, p.name, p.category, p.image_urls, v.id, v.slug, v.name,
               prices.min_price, prices.max_price, {rank} AS rank,
               count(*) OVER () AS total
        FROM products p
        JOIN vendors v ON v.id = p.vendor_id
        {", query" if f.q else ""}
        CROSS JOIN LATERAL (
            SELECT min(pv.price) AS min_price, max(pv.price) AS max_price
            FROM variants pv WHERE {" AND ".join(price_cond)}
        ) prices
        WHERE {" AND ".join(where)} AND prices.min_price IS NOT NULL
        ORDER BY {order}
        LIMIT :limit OFFSET :offset
    """
    rows = (await session.execute(text(sql), params)).all()
    total = int(rows[0][-1]) if rows else await _count_beyond_page(session, sql, params, f)
    return [SearchRow(*tuple(r)[:-1]) for r in rows], total


async def _count_beyond_page(
    session: AsyncSession, sql: str, params: dict[str, Any], f: SearchFilters
) -> int:
    # A page past the end has no row to carry the window count: read it from the first row.
    if f.offset == 0:
        return 0
    rows = (await session.execute(text(sql), {**params, "limit": 1, "offset": 0})).all()
    return int(rows[0][-1]) if rows else 0

"""Product search SQL (indexes in migrations 0003_catalog and 0010_search_at_scale).

Two passes, both index-backed:
1. Spanish full text: the query, unaccented and stemmed with the 'spanish' config, against
   the products' stored tsvectors (`search_vector`: name A, keywords B, category C,
   description D; `name_vector`: the name alone).
2. Only when that finds nothing (a misspelt query): trigram word similarity of the
   unaccented query against the unaccented name ("chocloate" → "Chocolate").
Only active products of active vendors with at least one active variant (in the price
range, when one is given) show. Prices of the page are aggregated for that page only.

Bounded work, whatever the catalog size (docs/catalog.md has the plans): a search takes
at most `MAX_CANDIDATES` matching products — those whose name matches first, then those
matching elsewhere — ranks only them, and pages through them; `total` counts them, so it
is exact up to `MAX_CANDIDATES` and says "at least that many" above. Ranking or counting
every match of a common word ("polera": a seventh of the catalog) is what made p99 grow
with the catalog. Listings without a query walk the active products' name index and stop
at `MAX_CANDIDATES` too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# "mochla" → "mochila" scores 0.57; the default 0.6 would miss such one-letter slips.
WORD_SIMILARITY_THRESHOLD = 0.5
# Matches a search ranks and counts at most (50 pages of 20).
MAX_CANDIDATES = 1000


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


_FULL_TEXT_QUERY = (
    "query AS (SELECT websearch_to_tsquery('spanish', marketred_unaccent(:q)) AS tsq)"
)
_TRIGRAM_QUERY = "query AS (SELECT marketred_unaccent(lower(:q)) AS qn)"


def _filters(f: SearchFilters, params: dict[str, Any]) -> tuple[list[str], str]:
    """Visibility and filter conditions on `p` (products) and `v` (vendors), and the
    condition on a product's variants `pv`."""
    where = ["p.active", "v.active"]
    variant_cond = ["pv.product_id = p.id", "pv.active"]
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
    return where, variants


def _tier(select: str, match: str, where: list[str]) -> str:
    return (
        f"SELECT {select} FROM products p JOIN vendors v ON v.id = p.vendor_id, query "
        f"WHERE {match} AND {' AND '.join(where)}"
    )


def _hits(mode: str | None, where: list[str]) -> tuple[str, str]:
    """The CTEs that yield `hits (id, name, rank)`: at most MAX_CANDIDATES rows."""
    if mode is None:
        return "", (
            "hits AS (SELECT p.id, p.name, NULL::float AS rank "
            "FROM products p JOIN vendors v ON v.id = p.vendor_id "
            f"WHERE {' AND '.join(where)} ORDER BY p.name, p.id LIMIT :cap)"
        )
    if mode == "trigram":
        similarity = "word_similarity(query.qn, marketred_unaccent(lower(p.name)))"
        match = "query.qn <% marketred_unaccent(lower(p.name))"
        return _TRIGRAM_QUERY + ",", (
            f"hits AS ({_tier(f'p.id, p.name, {similarity} AS rank', match, where)} LIMIT :cap)"
        )
    rank = "p.id, p.name, ts_rank_cd(p.search_vector, query.tsq, 32) AS rank"
    named = _tier(rank, "p.name_vector @@ query.tsq", where)
    elsewhere = _tier(
        rank, "p.search_vector @@ query.tsq AND NOT p.name_vector @@ query.tsq", where
    )
    return _FULL_TEXT_QUERY + ",", (
        f"named AS MATERIALIZED ({named} LIMIT :cap), "
        f"hits AS MATERIALIZED (SELECT * FROM named UNION ALL "
        f"(SELECT * FROM ({elsewhere}) e LIMIT :cap - (SELECT count(*) FROM named)))"
    )


def _sql(f: SearchFilters, mode: str | None) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"limit": f.limit, "offset": f.offset, "cap": MAX_CANDIDATES}
    if mode is not None:
        params["q"] = f.q
    where, variants = _filters(f, params)
    query, hits = _hits(mode, where)
    order = "rank DESC NULLS LAST, name, id"
    # One row even for an empty page, so the total always comes back in one round trip.
    sql = f"""
        WITH {query} {hits},
        page AS (SELECT * FROM hits ORDER BY {order} LIMIT :limit OFFSET :offset)
        SELECT p.id, p.name, p.category, p.image_urls, v.id, v.slug, v.name,
               prices.min_price, prices.max_price, page.rank, totals.n
        FROM (SELECT count(*) AS n FROM hits) totals
        LEFT JOIN page ON true
        LEFT JOIN products p ON p.id = page.id
        LEFT JOIN vendors v ON v.id = p.vendor_id
        LEFT JOIN LATERAL (
            SELECT min(pv.price) AS min_price, max(pv.price) AS max_price
            FROM variants pv WHERE {variants}
        ) prices ON true
        ORDER BY page.rank DESC NULLS LAST, page.name, page.id
    """
    return sql, params


async def _run(
    session: AsyncSession, f: SearchFilters, mode: str | None
) -> tuple[list[SearchRow], int]:
    sql, params = _sql(f, mode)
    rows = (await session.execute(text(sql), params)).all()
    total = int(rows[0][-1])
    return [SearchRow(*tuple(r)[:-1]) for r in rows if r[0] is not None], total


async def search_products(session: AsyncSession, f: SearchFilters) -> tuple[list[SearchRow], int]:
    if not f.q:
        return await _run(session, f, None)
    found, total = await _run(session, f, "full_text")
    if total:
        return found, total
    await session.execute(
        text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
        {"t": str(WORD_SIMILARITY_THRESHOLD)},
    )
    return await _run(session, f, "trigram")

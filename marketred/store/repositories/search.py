"""Product search SQL (indexes in migrations 0003_catalog and 0010_search_at_scale).

Two passes, both index-backed:
1. Spanish full text: the query, unaccented and stemmed with the 'spanish' config, against
   the products' stored tsvectors (`search_vector`: name A, keywords B, category C,
   description D; `name_vector`: the name alone).
2. Only when that finds nothing (a misspelt query): each word of the query is replaced
   by the most similar word (trigrams) of the product names' vocabulary, `search_words`,
   and the corrected query goes through pass 1 again ("chocloate" → "chocolate"). The
   correction comes back with pass 1's empty answer (same statement): two round trips.
Only active products of active vendors with at least one active variant (in the price
range, when one is given) show. Prices of the page are aggregated for that page only.

Bounded work, whatever the catalog size (plans in docs/performance.md): a search takes
at most `MAX_CANDIDATES` matching products — those whose name matches first, then those
matching elsewhere — ranks only them, and pages through them; `total` counts them, so it
is exact up to `MAX_CANDIDATES`; above, the service says "more than that". Ranking or counting
every match of a common word ("polera": a seventh of the catalog) is what made p99 grow
with the catalog. Listings without a query walk the active products' name index and stop
at `MAX_CANDIDATES` too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# pg_trgm similarity a vocabulary word needs to stand in for a query word: "mochla" →
# "mochila" scores 0.5, "chocloate" → "chocolate" 0.43.
WORD_SIMILARITY_THRESHOLD = 0.3
# Matches a search ranks and counts at most (10 pages of 20); it looks at one more to
# know whether there are more.
MAX_CANDIDATES = 200


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


# Written out where used, not computed once in a CTE: the planner must see the query's
# words to estimate how many products match (a CTE value is opaque to it, and it then
# read a big vendor's whole catalog instead of the text index).
_TSQ = "websearch_to_tsquery('spanish', marketred_unaccent(:q))"
# The same tsquery computed once per statement (an InitPlan), for what is evaluated per
# row — the rank and the name test of the second tier. After five runs of a statement
# PostgreSQL may keep a generic plan, where `:q` is a parameter: the inline expression
# was then folded nowhere and stemmed the query again for every candidate it ranked.
_TSQ_ONCE = f"(SELECT {_TSQ})"
# The query's words folded like `search_words`, each replaced by its closest word there
# (dropped when none is close enough); '' when nothing is left.
_CORRECTED = f"""
    SELECT coalesce(string_agg(fixed.word, ' ' ORDER BY w.n), '')
    FROM regexp_split_to_table(marketred_unaccent(lower(:q)), '[^[:alnum:]]+')
         WITH ORDINALITY AS w(word, n)
    CROSS JOIN LATERAL (
        SELECT sw.word FROM search_words sw
        WHERE length(w.word) >= 3 AND sw.word % w.word
          AND similarity(sw.word, w.word) >= {WORD_SIMILARITY_THRESHOLD}
        ORDER BY similarity(sw.word, w.word) DESC, sw.word LIMIT 1
    ) fixed
"""


def _filters(f: SearchFilters, params: dict[str, Any]) -> tuple[list[str], str]:
    """Visibility and filter conditions on `p` (products) and `v` (vendors), and the
    condition on a product's variants `pv`."""
    where = ["p.active", "v.active"]
    variant_cond = ["pv.product_id = p.id", "pv.active"]
    if f.vendor_slug:
        # A value for the planner, so it can AND the vendor's rows into the text index scan.
        where.append("p.vendor_id = (SELECT id FROM vendors WHERE slug = :vendor)")
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
        f"SELECT {select} FROM products p JOIN vendors v ON v.id = p.vendor_id "
        f"WHERE {match} AND {' AND '.join(where)}"
    )


def _hits(mode: str | None, where: list[str]) -> str:
    """The CTEs that yield `hits (id, name, rank)`: at most MAX_CANDIDATES + 1 rows."""
    if mode is None:
        return (
            "hits AS (SELECT p.id, p.name, NULL::float AS rank "
            "FROM products p JOIN vendors v ON v.id = p.vendor_id "
            f"WHERE {' AND '.join(where)} ORDER BY p.name, p.id LIMIT :cap)"
        )
    rank = f"p.id, p.name, ts_rank_cd(p.search_vector, {_TSQ_ONCE}, 32) AS rank"
    named = _tier(rank, f"p.name_vector @@ {_TSQ}", where)
    elsewhere = _tier(
        rank, f"p.search_vector @@ {_TSQ} AND NOT p.name_vector @@ {_TSQ_ONCE}", where
    )
    return (
        f"named AS MATERIALIZED ({named} LIMIT :cap), "
        f"hits AS MATERIALIZED (SELECT * FROM named UNION ALL "
        f"(SELECT * FROM ({elsewhere}) e LIMIT :cap - (SELECT count(*) FROM named)))"
    )


def _sql(
    f: SearchFilters, mode: str | None, *, correct: bool = False
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"limit": f.limit, "offset": f.offset, "cap": MAX_CANDIDATES + 1}
    if mode is not None:
        params["q"] = f.q
    where, variants = _filters(f, params)
    hits = _hits(mode, where)
    order = "rank DESC NULLS LAST, name, id"
    # A misspelt query's correction comes back with the (empty) first answer, in the same
    # round trip: the subquery is an InitPlan, which runs when first needed, and the CASE
    # needs it only when nothing matched.
    corrected = f", CASE WHEN totals.n = 0 THEN ({_CORRECTED}) END" if correct else ""
    # One row even for an empty page, so the total always comes back in one round trip.
    sql = f"""
        WITH {hits},
        page AS (SELECT * FROM hits ORDER BY {order} LIMIT :limit OFFSET :offset)
        SELECT p.id, p.name, p.category, p.image_urls, v.id, v.slug, v.name,
               prices.min_price, prices.max_price, page.rank, totals.n{corrected}
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
    session: AsyncSession, f: SearchFilters, mode: str | None, *, correct: bool = False
) -> tuple[list[SearchRow], int, str | None]:
    """The page, the capped total and (with `correct`, when nothing matched) the query
    corrected against `search_words` ('' when no word of it is close to one)."""
    sql, params = _sql(f, mode, correct=correct)
    rows = (await session.execute(text(sql), params)).all()
    width = len(SearchRow.__dataclass_fields__)
    total = int(rows[0][width])
    corrected = rows[0][width + 1] if correct else None
    return [SearchRow(*tuple(r)[:width]) for r in rows if r[0] is not None], total, corrected


async def search_products(session: AsyncSession, f: SearchFilters) -> tuple[list[SearchRow], int]:
    if not f.q:
        found, total, _ = await _run(session, f, None)
        return found, total
    found, total, corrected = await _run(session, f, "full_text", correct=True)
    if total or not corrected or corrected == f.q:
        return found, total
    found, total, _ = await _run(session, replace(f, q=corrected), "full_text")
    return found, total

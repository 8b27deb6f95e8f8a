"""Public product search (docs/catalog.md): Spanish full text + trigram typo tolerance."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.catalog import ProductPage, ProductSummary, VendorRef
from marketred.services.errors import InvalidInput
from marketred.store.repositories import search as search_repo
from marketred.store.repositories.search import SearchFilters

MAX_QUERY_LENGTH = 200


async def search_products(
    session: AsyncSession,
    *,
    q: str | None,
    vendor: str | None = None,
    category: str | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> ProductPage:
    q = (q or "").strip() or None
    if q is not None and len(q) > MAX_QUERY_LENGTH:
        raise InvalidInput("query too long", errors=[("q", f"at most {MAX_QUERY_LENGTH}")])
    if min_price is not None and max_price is not None and min_price > max_price:
        raise InvalidInput(
            "min_price is above max_price", errors=[("min_price", "must be <= max_price")]
        )
    rows, total = await search_repo.search_products(
        session,
        SearchFilters(
            q=q,
            vendor_slug=(vendor or "").strip() or None,
            category=(category or "").strip() or None,
            min_price=min_price,
            max_price=max_price,
            limit=limit,
            offset=offset,
        ),
    )
    items = [
        ProductSummary(
            id=r.id,
            name=r.name,
            vendor=VendorRef(id=r.vendor_id, slug=r.vendor_slug, name=r.vendor_name),
            category=r.category,
            image_url=str(r.image_urls[0]) if r.image_urls else None,
            min_price=r.min_price,
            max_price=r.max_price,
            rank=round(r.rank, 4) if r.rank is not None else None,
        )
        for r in rows
    ]
    exact = total <= search_repo.MAX_CANDIDATES
    return ProductPage(items=items, total=min(total, search_repo.MAX_CANDIDATES), total_exact=exact)

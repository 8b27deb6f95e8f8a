"""Public products: search (Spanish full text, typo tolerant) and one product with variants."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from marketred.http.deps import SessionDep
from marketred.schemas.catalog import ProductOut, ProductPage
from marketred.schemas.money import MAX_PRICE
from marketred.services.catalog import featured, search
from marketred.services.catalog import public as catalog_public

router = APIRouter(prefix="/api/v1/products", tags=["catalog"])

PriceFilter = Annotated[int | None, Query(ge=0, le=MAX_PRICE)]


# Declared before /{product_id} so "search" is never read as an id.
@router.get("/search")
async def search_products(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    vendor: Annotated[str | None, Query(max_length=80)] = None,
    category: Annotated[str | None, Query(max_length=120)] = None,
    min_price: PriceFilter = None,
    max_price: PriceFilter = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    featured_first: bool = False,
) -> ProductPage:
    """`total` counts up to a bound; past it `total_exact` is false (more than `total`).
    `featured_first=true` puts the page's featured products first (the embed search);
    featured hits carry `featured: true` either way."""
    page = await search.search_products(
        session,
        q=q,
        vendor=vendor,
        category=category,
        min_price=min_price,
        max_price=max_price,
        limit=limit,
        offset=offset,
    )
    now_featured = set(await featured.featured_product_ids(session))
    items = [p.model_copy(update={"featured": p.id in now_featured}) for p in page.items]
    if featured_first:
        items = featured.boost(items, now_featured)
    return page.model_copy(update={"items": items})


@router.get("/{product_id}")
async def get_product(product_id: uuid.UUID, session: SessionDep) -> ProductOut:
    return await catalog_public.get_product(session, product_id)

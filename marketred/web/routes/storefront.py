"""Storefront: home with search, search results with filters and pagination, a vendor's
page (catalog, RUT, contact) and a product page with its variants."""

from __future__ import annotations

import math
import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.schemas.catalog import ProductPage
from marketred.services.catalog import featured
from marketred.services.catalog import images as product_images
from marketred.services.catalog import public as catalog_public
from marketred.services.catalog.search import search_products
from marketred.web.routes.common import OptionalWebPrincipal, WebRoute
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 12


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 1000))
    except ValueError:
        return 1


def _price(raw: str | None) -> int | None:
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())[:10]
    return int(digits) if digits else None


@router.get("/")
async def home(request: Request, session: SessionDep, principal: OptionalWebPrincipal) -> Response:
    del principal  # the layout reads it from request.state
    vendors = await catalog_public.vendor_choices(session)
    latest = await search_products(session, q="", vendor=None, limit=8, offset=0)
    # The "Destacados" row: what operators feature now (services/catalog/featured.py).
    highlighted = [
        await catalog_public.get_product(session, pid)
        for pid in (await featured.featured_product_ids(session))[:8]
    ]
    shown = [p.id for p in latest.items] + [p.id for p in highlighted]
    return render(
        request,
        "storefront/home.html",
        {
            "vendors": vendors,
            "featured": latest.items,
            "highlighted": highlighted,
            "images": await product_images.main_images(session, shown),
            **notice_context(request),
        },
    )


async def _grid(
    session: AsyncSession, found: ProductPage, page: int, per_page: int
) -> dict[str, Any]:
    """What a page of found products shows besides them: main photos, counts, pages."""
    return {
        "images": await product_images.main_images(session, [p.id for p in found.items]),
        "total": found.total,
        "total_exact": found.total_exact,
        "page": page,
        "pages": max(1, math.ceil(found.total / per_page)),
    }


@router.get("/buscar")
async def search(request: Request, session: SessionDep) -> Response:
    params = request.query_params
    q = params.get("q", "").strip()[:200]
    vendor = params.get("tienda") or None
    min_price, max_price = _price(params.get("desde")), _price(params.get("hasta"))
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price, max_price = max_price, min_price
    page = _page_number(params.get("pagina"))
    found = await search_products(
        session,
        q=q,
        vendor=vendor,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        min_price=min_price,
        max_price=max_price,
    )
    return render(
        request,
        "storefront/search.html",
        {
            "search_query": q,
            "results": found.items,
            **await _grid(session, found, page, PAGE_SIZE),
            "vendors": await catalog_public.vendor_choices(session),
            "filters": {
                "q": q,
                "tienda": vendor or "",
                "desde": min_price or "",
                "hasta": max_price or "",
            },
        },
    )


@router.get("/tiendas/{slug}")
async def vendor_page(request: Request, slug: str, session: SessionDep) -> Response:
    vendor = await catalog_public.get_vendor(session, slug)
    page = _page_number(request.query_params.get("pagina"))
    products = await search_products(
        session, q="", vendor=slug, limit=PAGE_SIZE * 2, offset=(page - 1) * PAGE_SIZE * 2
    )
    return render(
        request,
        "storefront/vendor.html",
        {
            "vendor": vendor,
            "products": products.items,
            **await _grid(session, products, page, PAGE_SIZE * 2),
        },
    )


@router.get("/productos/{product_id}")
async def product_page(request: Request, product_id: uuid.UUID, session: SessionDep) -> Response:
    product = await catalog_public.get_product(session, product_id)
    vendor = await catalog_public.get_vendor(session, product.vendor.slug)
    return render(
        request,
        "storefront/product.html",
        {
            "product": product,
            "vendor": vendor,
            "photos": await product_images.list_images(session, product_id),
            **notice_context(request),
        },
    )

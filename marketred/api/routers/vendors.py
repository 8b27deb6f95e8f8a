"""Public vendor directory: active vendors and their active products."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from marketred.http.deps import SessionDep
from marketred.schemas.catalog import ProductOut, VendorOut
from marketred.schemas.common import Page
from marketred.services.catalog import public as catalog_public

router = APIRouter(prefix="/api/v1/vendors", tags=["catalog"])

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("")
async def list_vendors(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[VendorOut]:
    return await catalog_public.list_vendors(session, q=q, limit=limit, offset=offset)


@router.get("/{slug}")
async def get_vendor(slug: str, session: SessionDep) -> VendorOut:
    return await catalog_public.get_vendor(session, slug)


@router.get("/{slug}/products")
async def list_vendor_products(
    slug: str,
    session: SessionDep,
    category: Annotated[str | None, Query(max_length=120)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[ProductOut]:
    return await catalog_public.vendor_products(
        session, slug, category=category, limit=limit, offset=offset
    )

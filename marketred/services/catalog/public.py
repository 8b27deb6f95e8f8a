"""What anyone may read: active vendors, their active products and active variants."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.catalog import ProductOut, VendorOut
from marketred.schemas.common import Page
from marketred.services.catalog.views import product_out, vendor_out
from marketred.services.errors import NotFound
from marketred.store.models import Vendor
from marketred.store.repositories import catalog as repo
from marketred.store.repositories import vendors as vendors_repo


async def active_vendor(session: AsyncSession, slug: str) -> Vendor:
    vendor = await vendors_repo.get_by_slug(session, slug)
    if vendor is None or not vendor.active:
        raise NotFound(f"vendor {slug!r} not found")
    return vendor


async def list_vendors(
    session: AsyncSession, *, q: str | None, limit: int, offset: int
) -> Page[VendorOut]:
    vendors, total = await repo.active_vendors(session, q=q, limit=limit, offset=offset)
    return Page[VendorOut](items=[vendor_out(v) for v in vendors], total=total)


async def vendor_choices(session: AsyncSession) -> list[VendorOut]:
    """Active vendors for a page's vendor filter (the first 100 by name)."""
    return (await list_vendors(session, q=None, limit=100, offset=0)).items


async def get_vendor(session: AsyncSession, slug: str) -> VendorOut:
    return vendor_out(await active_vendor(session, slug))


async def vendor_products(
    session: AsyncSession, slug: str, *, category: str | None, limit: int, offset: int
) -> Page[ProductOut]:
    vendor = await active_vendor(session, slug)
    products, total = await repo.vendor_products(
        session, vendor.id, public=True, limit=limit, offset=offset, category=category
    )
    variants = await repo.variants_of(session, [p.id for p in products], active_only=True)
    items = [
        product_out(p, vendor, [v for v in variants if v.product_id == p.id]) for p in products
    ]
    return Page[ProductOut](items=items, total=total)


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> ProductOut:
    product = await repo.get_product(session, product_id)
    vendor = await repo.get_vendor(session, product.vendor_id) if product else None
    if product is None or vendor is None or not product.active or not vendor.active:
        raise NotFound(f"product {product_id} not found")
    variants = await repo.variants_of(session, [product.id], active_only=True)
    if not variants:
        raise NotFound(f"product {product_id} not found")
    return product_out(product, vendor, variants)

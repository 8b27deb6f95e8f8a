"""SQL of featured products and vendors (the operator's picks shown first)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import FeaturedItem, Product, Vendor


async def with_names(
    session: AsyncSession, limit: int
) -> list[tuple[FeaturedItem, str | None, str | None]]:
    """Every featured item with its product's or vendor's name, latest ending first."""
    rows = await session.execute(
        select(FeaturedItem, Product.name, Vendor.name)
        .outerjoin(Product, Product.id == FeaturedItem.product_id)
        .outerjoin(Vendor, Vendor.id == FeaturedItem.vendor_id)
        .order_by(FeaturedItem.ends_at.desc())
        .limit(limit)
    )
    return [(item, product_name, vendor_name) for item, product_name, vendor_name in rows.all()]


async def running_product_ids(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    """Visible products featured at `now` (directly or through their vendor), newest
    feature first; a product featured twice appears twice."""
    running = (FeaturedItem.starts_at <= now) & (FeaturedItem.ends_at > now)
    found = await session.execute(
        select(Product.id, FeaturedItem.created_at)
        .join(Vendor, Vendor.id == Product.vendor_id)
        .join(
            FeaturedItem,
            or_(FeaturedItem.product_id == Product.id, FeaturedItem.vendor_id == Vendor.id),
        )
        .where(running, Product.active.is_(True), Vendor.active.is_(True))
        .order_by(FeaturedItem.created_at.desc(), Product.name)
        .limit(limit)
    )
    return [pid for pid, _at in found.all()]

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import Vendor


async def get_by_slug(session: AsyncSession, slug: str) -> Vendor | None:
    return await session.scalar(select(Vendor).where(Vendor.slug == slug))


async def add(session: AsyncSession, vendor: Vendor) -> Vendor:
    session.add(vendor)
    await session.flush()
    return vendor

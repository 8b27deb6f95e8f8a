"""SQL of product photos (`product_images`; the renditions live in the media store)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import Product, ProductImage


async def images_of(session: AsyncSession, product_id: uuid.UUID) -> list[ProductImage]:
    """The product's photos in their order (the first is the main one)."""
    found = await session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.created_at)
    )
    return list(found)


async def main_images(session: AsyncSession, product_ids: set[uuid.UUID]) -> list[ProductImage]:
    found = await session.scalars(
        select(ProductImage).where(
            ProductImage.product_id.in_(product_ids), ProductImage.position == 0
        )
    )
    return list(found)


async def lock_product(session: AsyncSession, product_id: uuid.UUID) -> None:
    """Lock the product row (photo changes of one product take turns)."""
    await session.execute(select(Product.id).where(Product.id == product_id).with_for_update())


async def count_images(session: AsyncSession, product_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.product_id == product_id)
    )
    return int(count or 0)

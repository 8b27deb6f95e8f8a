"""SQL of the directory link: the indexer outbox, what an indexer document is read from,
and the vendors the directory's companies map to."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store import like
from marketred.store.models import IndexerOutbox, Product, Variant, Vendor

# Rows per INSERT when a large CSV import records its products.
RECORD_CHUNK = 5000

# --- what an indexer document is made of ---------------------------------------------------


async def product_and_vendor(
    session: AsyncSession, product_id: uuid.UUID
) -> tuple[Product, Vendor] | None:
    row = (
        await session.execute(
            select(Product, Vendor)
            .join(Vendor, Vendor.id == Product.vendor_id)
            .where(Product.id == product_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def active_price_range(
    session: AsyncSession, product_id: uuid.UUID
) -> tuple[int, int] | None:
    """Lowest and highest price of the product's active variants (None: none active)."""
    low, high = (
        await session.execute(
            select(func.min(Variant.price), func.max(Variant.price)).where(
                Variant.product_id == product_id, Variant.active.is_(True)
            )
        )
    ).one()
    return None if low is None else (int(low), int(high))


async def all_product_ids(session: AsyncSession) -> list[uuid.UUID]:
    return list(await session.scalars(select(Product.id).order_by(Product.created_at)))


async def visible_product_ids(
    session: AsyncSession,
    *,
    vendor_slug: str | None = None,
    text: str | None = None,
    limit: int,
) -> list[uuid.UUID]:
    """Active products of active vendors, by name: of one vendor, and/or whose name or
    keywords contain `text`."""
    conditions: list[ColumnElement[bool]] = [Product.active.is_(True), Vendor.active.is_(True)]
    if vendor_slug is not None:
        conditions.append(Vendor.slug == vendor_slug)
    if text is not None:
        pattern = like.contains(text)
        conditions.append(Product.name.ilike(pattern) | Product.keywords.ilike(pattern))
    ids = await session.scalars(
        select(Product.id)
        .join(Vendor, Vendor.id == Product.vendor_id)
        .where(*conditions)
        .order_by(Product.name)
        .limit(limit)
    )
    return list(ids)


# --- the indexer outbox ------------------------------------------------------------------


async def touch_outbox(session: AsyncSession, product_ids: list[uuid.UUID]) -> None:
    """A row per product (its `changed_at` moved to now when it is already there)."""
    for start in range(0, len(product_ids), RECORD_CHUNK):
        rows = [{"product_id": pid} for pid in product_ids[start : start + RECORD_CHUNK]]
        stmt = pg_insert(IndexerOutbox).values(rows)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[IndexerOutbox.product_id],
                set_={"changed_at": func.clock_timestamp()},
            )
        )


async def outbox_rows(
    session: AsyncSession, product_ids: list[uuid.UUID] | None, limit: int
) -> dict[uuid.UUID, datetime]:
    """Waiting products (all, oldest first, or only `product_ids`) with their `changed_at`."""
    query = (
        select(IndexerOutbox.product_id, IndexerOutbox.changed_at)
        .order_by(IndexerOutbox.changed_at)
        .limit(limit)
    )
    if product_ids is not None:
        query = query.where(IndexerOutbox.product_id.in_(product_ids))
    return {row.product_id: row.changed_at for row in await session.execute(query)}


async def clear_outbox(session: AsyncSession, seen: Iterable[tuple[uuid.UUID, datetime]]) -> None:
    """Delete the rows still at the `changed_at` seen (a newer change keeps its row)."""
    await session.execute(
        delete(IndexerOutbox).where(
            tuple_(IndexerOutbox.product_id, IndexerOutbox.changed_at).in_(list(seen))
        )
    )


# --- the directory's companies -----------------------------------------------------------


async def lock_vendor_of_company(
    session: AsyncSession, directory_id: str, rut: str
) -> Vendor | None:
    """The vendor linked to the directory's company, else an unlinked vendor with its RUT
    (one we created ourselves), locked for the update."""
    vendor = await session.scalar(
        select(Vendor).where(Vendor.directory_id == directory_id).with_for_update()
    )
    if vendor is not None:
        return vendor
    return await session.scalar(
        select(Vendor)
        .where(Vendor.rut == rut, Vendor.directory_id.is_(None))
        .limit(1)
        .with_for_update()
    )


async def product_ids_of_vendor(session: AsyncSession, vendor_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await session.scalars(select(Product.id).where(Product.vendor_id == vendor_id)))

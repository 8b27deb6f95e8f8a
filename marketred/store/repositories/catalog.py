"""Catalog SQL: products, variants, public listings of vendors and products."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    String,
    Uuid,
    any_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store import like
from marketred.store.models import Product, QuoteLine, Variant, Vendor


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> Product | None:
    return await session.get(Product, product_id)


async def get_vendor(session: AsyncSession, vendor_id: uuid.UUID) -> Vendor | None:
    return await session.get(Vendor, vendor_id)


async def variants_of(
    session: AsyncSession, product_ids: Sequence[uuid.UUID], *, active_only: bool = False
) -> list[Variant]:
    if not product_ids:
        return []
    stmt = select(Variant).where(Variant.product_id.in_(product_ids))
    if active_only:
        stmt = stmt.where(Variant.active)
    stmt = stmt.order_by(Variant.product_id, Variant.position, Variant.created_at, Variant.id)
    return list((await session.scalars(stmt)).all())


async def existing_skus(
    session: AsyncSession, vendor_id: uuid.UUID, skus: Sequence[str]
) -> dict[str, Variant]:
    if not skus:
        return {}
    rows = await session.scalars(
        select(Variant).where(Variant.vendor_id == vendor_id, Variant.sku.in_(list(skus)))
    )
    return {v.sku: v for v in rows}


async def next_variant_position(session: AsyncSession, product_id: uuid.UUID) -> int:
    top = await session.scalar(
        select(func.max(Variant.position)).where(Variant.product_id == product_id)
    )
    return 0 if top is None else int(top) + 1


async def count_variants(session: AsyncSession, product_id: uuid.UUID) -> int:
    n = await session.scalar(select(func.count()).where(Variant.product_id == product_id))
    return int(n or 0)


async def product_was_quoted(session: AsyncSession, product_id: uuid.UUID) -> bool:
    variant_ids = select(Variant.id).where(Variant.product_id == product_id)
    quoted = await session.scalar(
        select(
            exists().where(
                or_(QuoteLine.product_id == product_id, QuoteLine.variant_id.in_(variant_ids))
            )
        )
    )
    return bool(quoted)


async def variant_was_quoted(session: AsyncSession, variant_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(QuoteLine.variant_id == variant_id))))


async def delete_product(session: AsyncSession, product_id: uuid.UUID) -> None:
    # Variants and their cart lines go with it (ON DELETE CASCADE).
    await session.execute(delete(Product).where(Product.id == product_id))


async def delete_variant(session: AsyncSession, variant_id: uuid.UUID) -> None:
    await session.execute(delete(Variant).where(Variant.id == variant_id))


async def vendor_products(
    session: AsyncSession,
    vendor_id: uuid.UUID,
    *,
    public: bool,
    limit: int,
    offset: int,
    category: str | None = None,
) -> tuple[list[Product], int]:
    """A vendor's products by name. Public listings hold only active products that have an
    active variant; the vendor's own listing holds everything."""
    cond: list[Any] = [Product.vendor_id == vendor_id]
    if public:
        cond += [
            Product.active,
            exists().where(Variant.product_id == Product.id, Variant.active),
        ]
    if category:
        cond.append(func.lower(Product.category) == category.strip().lower())
    total = await session.scalar(select(func.count()).select_from(Product).where(*cond))
    rows = await session.scalars(
        select(Product).where(*cond).order_by(Product.name, Product.id).limit(limit).offset(offset)
    )
    return list(rows.all()), int(total or 0)


async def active_vendors(
    session: AsyncSession, *, q: str | None, limit: int, offset: int
) -> tuple[list[Vendor], int]:
    cond: list[Any] = [Vendor.active]
    if q:
        pattern = like.contains(q.strip().lower())
        cond.append(
            func.marketred_unaccent(func.lower(Vendor.name)).like(func.marketred_unaccent(pattern))
        )
    total = await session.scalar(select(func.count()).select_from(Vendor).where(*cond))
    rows = await session.scalars(
        select(Vendor).where(*cond).order_by(Vendor.name, Vendor.id).limit(limit).offset(offset)
    )
    return list(rows.all()), int(total or 0)


# --- bulk helpers for the CSV import (one statement per kind, not one per row) ---


async def sku_index(
    session: AsyncSession, vendor_id: uuid.UUID, skus: Sequence[str]
) -> dict[str, tuple[uuid.UUID, uuid.UUID]]:
    """SKU → (variant id, product id) for the vendor's variants among `skus`."""
    if not skus:
        return {}
    rows = await session.execute(
        select(Variant.sku, Variant.id, Variant.product_id).where(
            Variant.vendor_id == vendor_id,
            Variant.sku == any_(bindparam("skus", list(skus), type_=ARRAY(String))),
        )
    )
    return {sku: (vid, pid) for sku, vid, pid in rows}


async def max_positions(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not product_ids:
        return {}
    rows = await session.execute(
        select(Variant.product_id, func.max(Variant.position))
        .where(Variant.product_id == any_(bindparam("pids", list(product_ids), type_=ARRAY(Uuid))))
        .group_by(Variant.product_id)
    )
    return {pid: int(pos) for pid, pos in rows}


async def insert_products(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Product), rows)


async def insert_variants(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Variant), rows)


async def update_products(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key; rows are grouped by their key set (one executemany each)."""
    await _bulk_update(session, Product, rows)


async def update_variants(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await _bulk_update(session, Variant, rows)


async def _bulk_update(
    session: AsyncSession, model: type[Product] | type[Variant], rows: list[dict[str, Any]]
) -> None:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for batch in groups.values():
        await session.execute(update(model), batch)

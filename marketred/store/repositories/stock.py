"""The SQL of stock reservations (services/catalog/stock.py holds the rules)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import QuoteLine, StockReservation, Variant


async def reserved_for_update(
    session: AsyncSession, quote_id: uuid.UUID
) -> Sequence[StockReservation]:
    """The quote's rows still `reserved`, locked, in variant order (every transaction
    locks in one order: no deadlock between two)."""
    found = await session.execute(
        select(StockReservation)
        .where(StockReservation.quote_id == quote_id, StockReservation.state == "reserved")
        .order_by(StockReservation.variant_id)
        .with_for_update()
    )
    return found.scalars().all()


async def take(session: AsyncSession, variant_id: uuid.UUID, quantity: int) -> int | None:
    """Take `quantity` off a tracked variant's stock if that much is there; what is left,
    or None when it is not (or the variant tracks no stock)."""
    left = await session.execute(
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock.is_not(None), Variant.stock >= quantity)
        .values(stock=Variant.stock - quantity)
        .returning(Variant.stock)
    )
    return left.scalar_one_or_none()


async def available(session: AsyncSession, variant_id: uuid.UUID) -> int | None:
    """The variant's stock (None: not tracked, or no such variant)."""
    found = await session.execute(select(Variant.stock).where(Variant.id == variant_id))
    return found.scalar_one_or_none()


async def give_back(session: AsyncSession, variant_id: uuid.UUID, quantity: int) -> None:
    # A variant whose tracking was switched off meanwhile (stock NULL) stays untracked.
    await session.execute(
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock.is_not(None))
        .values(stock=Variant.stock + quantity)
    )


async def quote_tracks_stock(session: AsyncSession, quote_id: uuid.UUID) -> bool:
    """Whether a line of the quote sells a variant that tracks its stock. Columns only:
    no ORM rows left behind in the caller's session."""
    found = await session.execute(
        select(Variant.id)
        .join(QuoteLine, QuoteLine.variant_id == Variant.id)
        .where(QuoteLine.quote_id == quote_id, Variant.stock.is_not(None))
        .limit(1)
    )
    return found.first() is not None

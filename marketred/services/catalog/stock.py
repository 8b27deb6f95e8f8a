"""Stock reservations: what an accepted quote holds of its variants' stock.

`variants.stock` is the quantity still available (NULL: not tracked, never reserved).
An acceptance takes its quantities off it at once, in one short transaction with
conditional UPDATEs (`... WHERE stock >= n`), so two acceptances racing for the last
unit cannot both succeed and stock never goes negative (the column's CHECK guards it
too). The reservation is keyed by quote: `reserve` sets the quote's reservation to
exactly the given items, so a retried activity never reserves twice. The quote's
status then settles it (`settle`, called by the projection in the transaction that
writes the status): paid → `converted` (the units are gone for good); ended unpaid
(payment window closed, cancelled, expired, rejected) → `released` (given back).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.quotes import ReserveStockResult, StockItem, StockShortage
from marketred.store.models import StockReservation
from marketred.store.repositories import stock as repo

# Statuses of a quote that ended without a payment: its reserved stock goes back.
RELEASED_BY = frozenset({"CANCELLED", "PAYMENT_EXPIRED", "EXPIRED", "REJECTED"})
# Statuses reached by a payment: its reservation becomes a sale.
CONVERTED_BY = frozenset({"PAID", "SHIPPED", "DELIVERED", "COMPLETED"})


async def reserve(
    session: AsyncSession, quote_id: uuid.UUID, items: list[StockItem]
) -> ReserveStockResult:
    """Set the quote's reservation to exactly `items` (empty: release it); commits, or
    changes nothing and names the lines short of stock. Untracked variants are skipped."""
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    labels: dict[uuid.UUID, StockItem] = {}
    for item in items:
        wanted[item.variant_id] += item.quantity
        labels.setdefault(item.variant_id, item)
    held = await repo.reserved_for_update(session, quote_id)
    if {r.variant_id: r.quantity for r in held} == dict(wanted):
        await session.rollback()
        return ReserveStockResult()  # a retry of what is already reserved
    had = {r.variant_id: r.quantity for r in held}
    short: list[StockShortage] = []
    reserved: dict[uuid.UUID, int] = {}
    # Variant rows in one order (by id) in every transaction: no deadlock between two.
    for variant_id in sorted(set(wanted) | set(had)):
        n, before = wanted.get(variant_id, 0), had.get(variant_id, 0)
        if n <= before:
            if before > n:
                await repo.give_back(session, variant_id, before - n)
            if n:
                reserved[variant_id] = n
            continue
        more = n - before
        if await repo.take(session, variant_id, more) is not None:
            reserved[variant_id] = n
            continue
        available = await repo.available(session, variant_id)
        if available is None:
            continue  # not tracked (or gone): nothing to hold
        item = labels[variant_id]
        short.append(
            StockShortage(
                position=item.position,
                label=item.label,
                requested=n,
                available=available + before,
            )
        )
    if short:
        await session.rollback()
        return ReserveStockResult(short=short)
    for row in held:
        if row.variant_id not in reserved:
            row.state = "released"
    for variant_id, n in reserved.items():
        existing = await session.get(StockReservation, (quote_id, variant_id))
        if existing is None:
            session.add(
                StockReservation(
                    quote_id=quote_id, variant_id=variant_id, quantity=n, state="reserved"
                )
            )
        else:
            existing.quantity, existing.state = n, "reserved"
    await session.commit()
    return ReserveStockResult()


async def settle(session: AsyncSession, quote_id: uuid.UUID, status: str) -> None:
    """Follow the quote's status (in the caller's transaction; idempotent): a payment
    converts what is reserved, an unpaid end releases it."""
    if status not in RELEASED_BY and status not in CONVERTED_BY:
        return
    held = await repo.reserved_for_update(session, quote_id)
    for row in held:
        if status in RELEASED_BY:
            await repo.give_back(session, row.variant_id, row.quantity)
            row.state = "released"
        else:
            row.state = "converted"

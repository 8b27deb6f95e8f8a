"""SQL of payouts, their items and the sandbox provider's transfers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import (
    Payout,
    PayoutItem,
    PayoutLedgerTxn,
    Quote,
    SandboxPayoutTransfer,
    Vendor,
)


async def lock_vendor_payouts(session: AsyncSession, vendor_id: uuid.UUID) -> None:
    """Serialise payout creation per vendor until the transaction ends (the partial unique
    index would reject a duplicate anyway; the lock makes the loser wait, not fail)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"payout:{vendor_id}"}
    )


async def get(
    session: AsyncSession, payout_id: uuid.UUID, *, for_update: bool = False
) -> Payout | None:
    stmt = select(Payout).where(Payout.id == payout_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def get_by_workflow_id(session: AsyncSession, workflow_id: str) -> Payout | None:
    return await session.scalar(select(Payout).where(Payout.workflow_id == workflow_id))


async def add(
    session: AsyncSession,
    payout: Payout,
    items: Sequence[tuple[PayoutItem, Sequence[uuid.UUID]]],
) -> Payout:
    """Insert the payout, its items and the ledger transactions each item carries (the
    live-link unique index refuses a transaction another live payout carries)."""
    session.add(payout)
    await session.flush()
    for item, _ in items:
        item.payout_id = payout.id
        session.add(item)
    await session.flush()
    session.add_all(
        PayoutLedgerTxn(payout_item_id=item.id, txn_id=txn_id, payout_id=payout.id)
        for item, txn_ids in items
        for txn_id in txn_ids
    )
    await session.flush()
    return payout


async def items_of(session: AsyncSession, payout_id: uuid.UUID) -> list[tuple[PayoutItem, int]]:
    """The payout's items with their quote number, in report order."""
    rows = await session.execute(
        select(PayoutItem, Quote.number)
        .join(Quote, Quote.id == PayoutItem.quote_id)
        .where(PayoutItem.payout_id == payout_id)
        .order_by(PayoutItem.occurred_at, Quote.number, PayoutItem.kind)
    )
    return [(item, number) for item, number in rows]


async def release_items(session: AsyncSession, payout_id: uuid.UUID, at: datetime) -> None:
    """Give the payout's quotes (and their ledger transactions) back to the next run."""
    for model in (PayoutItem, PayoutLedgerTxn):
        await session.execute(
            update(model)
            .where(model.payout_id == payout_id, model.released_at.is_(None))
            .values(released_at=at)
        )


async def held_for(session: AsyncSession, vendor_id: uuid.UUID, hold_code: str) -> list[Payout]:
    rows = await session.scalars(
        select(Payout).where(
            Payout.vendor_id == vendor_id, Payout.status == "HELD", Payout.hold_code == hold_code
        )
    )
    return list(rows)


async def quote_numbers(
    session: AsyncSession, quote_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not quote_ids:
        return {}
    rows = await session.execute(select(Quote.id, Quote.number).where(Quote.id.in_(quote_ids)))
    return {row.id: row.number for row in rows}


async def list_with_vendor(
    session: AsyncSession,
    *,
    vendor_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Payout, Vendor]], int]:
    filters = []
    if vendor_id is not None:
        filters.append(Payout.vendor_id == vendor_id)
    if status is not None:
        filters.append(Payout.status == status)
    total = await session.scalar(select(func.count()).select_from(Payout).where(*filters))
    rows = await session.execute(
        select(Payout, Vendor)
        .join(Vendor, Vendor.id == Payout.vendor_id)
        .where(*filters)
        .order_by(Payout.created_at.desc(), Payout.id)
        .limit(limit)
        .offset(offset)
    )
    return [(p, v) for p, v in rows], int(total or 0)


async def paid_between(session: AsyncSession, start: datetime, end: datetime) -> list[Payout]:
    rows = await session.scalars(
        select(Payout).where(Payout.paid_at >= start, Payout.paid_at < end).order_by(Payout.paid_at)
    )
    return list(rows)


async def record_sandbox_transfer(
    session: AsyncSession,
    *,
    idempotency_key: str,
    payout_id: uuid.UUID,
    vendor_id: uuid.UUID,
    amount: int,
) -> SandboxPayoutTransfer:
    """Insert the transfer once; a repeat with the same key only counts the attempt."""
    stmt = (
        insert(SandboxPayoutTransfer)
        .values(
            id=uuid.uuid4(),
            idempotency_key=idempotency_key,
            payout_id=payout_id,
            vendor_id=vendor_id,
            amount=amount,
        )
        .on_conflict_do_update(
            index_elements=["idempotency_key"],
            set_={"attempts": SandboxPayoutTransfer.attempts + 1},
        )
        .returning(SandboxPayoutTransfer)
        .execution_options(populate_existing=True)
    )
    transfer = await session.scalar(stmt)
    assert transfer is not None
    return transfer


async def sandbox_transfers(
    session: AsyncSession, payout_ids: Sequence[uuid.UUID]
) -> list[SandboxPayoutTransfer]:
    rows = await session.scalars(
        select(SandboxPayoutTransfer).where(SandboxPayoutTransfer.payout_id.in_(payout_ids))
    )
    return list(rows)

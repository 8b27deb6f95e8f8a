"""SQL of the append-only ledger: rows are inserted (idempotently by key), never changed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import LedgerEntry, Payment, PayoutLedgerTxn, Quote


async def insert_entries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows whose key is new; return how many went in. A concurrent or retried
    posting of the same event conflicts on `key` and inserts nothing."""
    if not rows:
        return 0
    stmt = (
        insert(LedgerEntry)
        .values([{"id": uuid.uuid4(), **row} for row in rows])
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(LedgerEntry.id)
    )
    result = await session.execute(stmt)
    return len(result.all())


async def entries_with_prefix(session: AsyncSession, prefix: str) -> list[LedgerEntry]:
    rows = await session.scalars(
        select(LedgerEntry).where(LedgerEntry.key.startswith(prefix, autoescape=True))
    )
    return list(rows)


async def entries_for_quote(session: AsyncSession, quote_id: uuid.UUID) -> list[LedgerEntry]:
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.quote_id == quote_id)
        .order_by(LedgerEntry.created_at, LedgerEntry.key)
    )
    return list(rows)


def _open_payable() -> Any:
    """`vendor_payable` rows of quote transactions (a sale or a refund after it) that no
    live payout carries: what the next payout run has to settle."""
    carried = exists().where(
        PayoutLedgerTxn.txn_id == LedgerEntry.txn_id, PayoutLedgerTxn.released_at.is_(None)
    )
    return and_(
        LedgerEntry.account == "vendor_payable",
        LedgerEntry.quote_id.is_not(None),
        LedgerEntry.payout_id.is_(None),
        ~carried,
    )


async def vendors_with_unassigned_payables(session: AsyncSession) -> list[uuid.UUID]:
    rows = await session.scalars(select(LedgerEntry.vendor_id).where(_open_payable()).distinct())
    return [v for v in rows if v is not None]


async def unassigned_entries(session: AsyncSession, vendor_id: uuid.UUID) -> list[LedgerEntry]:
    """Every row of the vendor's quote transactions no live payout carries yet."""
    open_txns = select(LedgerEntry.txn_id).where(
        LedgerEntry.vendor_id == vendor_id, _open_payable()
    )
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.txn_id.in_(open_txns))
        .order_by(LedgerEntry.created_at, LedgerEntry.key)
    )
    return list(rows)


async def sum_by_account(
    session: AsyncSession,
    *,
    quote_ids: Sequence[uuid.UUID] | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> dict[tuple[uuid.UUID | None, str], int]:
    """Sum of amounts per (quote_id, account), filtered by quotes and/or creation time."""
    stmt = select(LedgerEntry.quote_id, LedgerEntry.account, func.sum(LedgerEntry.amount))
    if quote_ids is not None:
        stmt = stmt.where(LedgerEntry.quote_id.in_(quote_ids))
    if created_from is not None:
        stmt = stmt.where(LedgerEntry.created_at >= created_from)
    if created_to is not None:
        stmt = stmt.where(LedgerEntry.created_at < created_to)
    stmt = stmt.group_by(LedgerEntry.quote_id, LedgerEntry.account)
    rows = await session.execute(stmt)
    return {(q, a): int(s) for q, a, s in rows}


async def quotes_paid_in_ledger_between(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[Quote, Payment | None]]:
    """Quotes whose `buyer_payments` row was posted in [start, end), with their payment."""
    rows = await session.execute(
        select(Quote, Payment)
        .join(LedgerEntry, LedgerEntry.quote_id == Quote.id)
        .outerjoin(Payment, Payment.quote_id == Quote.id)
        .where(
            LedgerEntry.account == "buyer_payments",
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
    )
    return [(quote, payment) for quote, payment in rows]


async def payout_postings(
    session: AsyncSession, start: datetime, end: datetime, payout_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID | None, int]]:
    """(payout id, amount) of the `vendor_payouts` rows posted in [start, end) or
    belonging to one of `payout_ids`."""
    rows = await session.execute(
        select(LedgerEntry.payout_id, LedgerEntry.amount).where(
            LedgerEntry.account == "vendor_payouts",
            (LedgerEntry.created_at >= start) & (LedgerEntry.created_at < end)
            | LedgerEntry.payout_id.in_(payout_ids),
        )
    )
    return [(payout_id, amount) for payout_id, amount in rows]

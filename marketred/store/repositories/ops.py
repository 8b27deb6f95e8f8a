"""SQL of the operations gauges: what waits for someone, one aggregate query each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.quotes import FINAL_STATUSES, STUCK_GRACE
from marketred.store.models import Quote
from marketred.store.models.catalog import IndexerOutbox
from marketred.store.models.payouts import Payout
from marketred.store.models.quotes import QuoteEvent, QuoteStartOutbox

CountAndOldest = tuple[int, datetime | None]


async def _count_and_oldest(session: AsyncSession, stmt: Select[Any, Any]) -> CountAndOldest:
    count, oldest = (await session.execute(stmt)).one()
    return int(count or 0), oldest


async def past_deadline_by_status(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Quotes in flight, not held, whose deadline passed longer than the grace ago."""
    rows = await session.execute(
        select(Quote.status, func.count())
        .where(
            Quote.next_deadline < now - STUCK_GRACE,
            Quote.status.not_in(FINAL_STATUSES),
            Quote.hold_reason.is_(None),
        )
        .group_by(Quote.status)
    )
    return {status: int(n) for status, n in rows.all()}


def _latest_event(kind: str) -> Any:
    return (
        select(QuoteEvent.quote_id, func.max(QuoteEvent.at).label("since"))
        .where(QuoteEvent.kind == kind)
        .group_by(QuoteEvent.quote_id)
        .subquery()
    )


async def payment_holds(session: AsyncSession) -> CountAndOldest:
    """Accepted quotes held over their payment; a hold starts at the latest payment_held."""
    held_since = _latest_event("payment_held")
    return await _count_and_oldest(
        session,
        select(func.count(), func.min(held_since.c.since))
        .select_from(Quote)
        .join(held_since, held_since.c.quote_id == Quote.id, isouter=True)
        .where(Quote.hold_reason.is_not(None), Quote.status == "ACCEPTED"),
    )


async def open_refunds(session: AsyncSession) -> CountAndOldest:
    """A refund is open while the quote is CANCELLED after a "cancelling" entry: the
    workflow writes REFUNDED once the money went back."""
    cancelling = _latest_event("cancelling")
    return await _count_and_oldest(
        session,
        select(func.count(), func.min(cancelling.c.since))
        .select_from(Quote)
        .join(cancelling, and_(cancelling.c.quote_id == Quote.id))
        .where(Quote.status == "CANCELLED"),
    )


async def payout_holds(session: AsyncSession) -> CountAndOldest:
    return await _count_and_oldest(
        session, select(func.count(), func.min(Payout.held_at)).where(Payout.status == "HELD")
    )


async def indexer_backlog(session: AsyncSession) -> CountAndOldest:
    return await _count_and_oldest(
        session, select(func.count(), func.min(IndexerOutbox.changed_at))
    )


async def quote_start_backlog(session: AsyncSession) -> CountAndOldest:
    """Committed quotes whose workflow has not started yet (services/quotes/starts.py)."""
    return await _count_and_oldest(
        session, select(func.count(), func.min(QuoteStartOutbox.created_at))
    )

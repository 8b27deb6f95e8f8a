"""The SQL of the quote start outbox (services/quotes/starts.py holds the rules; the
row is written with its quote by repositories/quotes.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import QuoteStartOutbox


async def waiting(
    session: AsyncSession,
    *,
    quote_ids: Sequence[uuid.UUID] | None,
    older_than: timedelta | None,
    limit: int,
) -> list[QuoteStartOutbox]:
    """Rows still waiting for their start, oldest first: only `quote_ids` if given, only
    those waiting longer than `older_than` (by the database's clock) if given."""
    query = select(QuoteStartOutbox).order_by(QuoteStartOutbox.created_at).limit(limit)
    if quote_ids is not None:
        query = query.where(QuoteStartOutbox.quote_id.in_(quote_ids))
    if older_than is not None:
        query = query.where(QuoteStartOutbox.created_at < func.clock_timestamp() - older_than)
    return list(await session.scalars(query))


async def forget(session: AsyncSession, quote_ids: Sequence[uuid.UUID]) -> None:
    """The starts are done: their rows go (in the caller's transaction)."""
    await session.execute(delete(QuoteStartOutbox).where(QuoteStartOutbox.quote_id.in_(quote_ids)))

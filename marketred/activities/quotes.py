"""Quote activities: the versioned projection of a QuoteWorkflow into PostgreSQL, and
the stock an acceptance reserves (services/stock.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from marketred import metrics
from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.quotes import ProjectQuoteInput, ReserveStockInput, ReserveStockResult
from marketred.services import quotes_projection, stock


class QuoteActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=contracts.PROJECT_QUOTE.name)
    async def project_quote(self, inp: ProjectQuoteInput) -> bool:
        new_kinds: list[str] = []
        async with self._sessions() as session:
            try:
                applied = await quotes_projection.project(session, inp.state, new_kinds)
            except quotes_projection.QuoteNotRecorded as exc:
                # Retried while the creating request may still commit; then given up.
                raise ApplicationError(
                    str(exc), type="QuoteNotRecorded", non_retryable=exc.orphan
                ) from exc
            await session.commit()
        metrics.count_transitions(new_kinds)
        return applied

    @activity.defn(name=contracts.RESERVE_STOCK.name)
    async def reserve_stock(self, inp: ReserveStockInput) -> ReserveStockResult:
        """Keyed by the quote: a retry sets the same reservation, never a second one."""
        async with self._sessions() as session:
            return await stock.reserve(session, inp.quote_id, inp.items)

"""Quote activities: the versioned projection of a QuoteWorkflow into PostgreSQL, and
the stock an acceptance reserves (services/catalog/stock.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from marketred import metrics
from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.quotes import (
    ProjectQuoteInput,
    QuoteState,
    ReserveStockInput,
    ReserveStockResult,
)
from marketred.services.catalog import stock
from marketred.services.quotes import projection as quotes_projection
from marketred.services.quotes import step_errors as quotes_step_errors

# Steps that clear their own recorded failure (`quotes.last_error`) in the projection's
# transaction, so the worker's step-error interceptor need not open another transaction
# for each success (workers/step_errors.py).
CLEAR_THEIR_OWN_ERROR = frozenset({contracts.PUBLISH_QUOTE.name, contracts.PROJECT_QUOTE.name})


async def project_and_commit(session: AsyncSession, state: QuoteState, step: str) -> bool:
    """Apply the snapshot and commit; True if it was newer than what the table held.
    An applied snapshot writes the workflow's own `last_error`; otherwise the failure
    `step` recorded while it was failing is cleared in the same transaction."""
    new_kinds: list[str] = []
    try:
        applied = await quotes_projection.project(session, state, new_kinds)
    except quotes_projection.QuoteNotRecorded as exc:
        # Retried while the creating request may still commit; then given up.
        raise ApplicationError(str(exc), type="QuoteNotRecorded", non_retryable=exc.orphan) from exc
    if not applied:
        await quotes_step_errors.clear(session, state.quote_id, step)
    await session.commit()
    metrics.count_transitions(new_kinds)
    return applied


class QuoteActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=contracts.PROJECT_QUOTE.name)
    async def project_quote(self, inp: ProjectQuoteInput) -> bool:
        async with self._sessions() as session:
            return await project_and_commit(session, inp.state, contracts.PROJECT_QUOTE.name)

    @activity.defn(name=contracts.RESERVE_STOCK.name)
    async def reserve_stock(self, inp: ReserveStockInput) -> ReserveStockResult:
        """Keyed by the quote: a retry sets the same reservation, never a second one."""
        async with self._sessions() as session:
            return await stock.reserve(session, inp.quote_id, inp.items)

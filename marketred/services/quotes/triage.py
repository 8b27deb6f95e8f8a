"""Operators' triage of quotes that need a person ("Atascadas"): why each one waits,
read live from its workflow, and one action applied to many quotes.

The list comes from the projection (schemas/quotes.StuckReason says which quotes);
each row is then refreshed from the workflow's `state` query, so the operator sees the
error of a step retrying right now. A bulk action is one workflow update per quote (the
same commands as the single-quote pages, carrying the operator's id into each quote's
history), a few at a time, each with its own result: one refusal does not stop the rest.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from marketred import metrics
from marketred.schemas.accounts import Principal
from marketred.schemas.quotes import (
    STUCK_GRACE,
    CancelQuote,
    ExtendDeadlineBody,
    QuoteOut,
    QuoteState,
    StuckReason,
)
from marketred.services.errors import DomainError
from marketred.services.quotes import commands as quotes_commands
from marketred.services.quotes import progress as quotes_progress

TriageAction = Literal["retry", "extend", "cancel", "recheck"]
TRIAGE_ACTIONS: tuple[TriageAction, ...] = ("retry", "extend", "cancel", "recheck")
# Bulk "all matching this filter" stops here; narrow the filter for more.
BULK_LIMIT = 500
CONCURRENCY = 8
STATE_TIMEOUT = 3.0


@dataclass
class StuckQuote:
    quote: QuoteOut
    reasons: list[StuckReason]
    # False when the workflow did not answer (worker down): the row shows the projection.
    live: bool


@dataclass
class TriageResult:
    quote_id: uuid.UUID
    number: str
    ok: bool
    message: str


def reasons_of(quote: QuoteOut, now: datetime) -> list[StuckReason]:
    found: list[StuckReason] = []
    pending = quote.deadlines.next_for(quote.status)
    if quote.hold_reason is None and pending is not None and pending < now - STUCK_GRACE:
        found.append("deadline_passed")
    if quote.last_error:
        found.append("retrying")
    if quote.status == "ACCEPTED" and quote.hold_reason:
        found.append("payment_held")
    if quote.status == "CANCELLED":
        found.append("refund_open")
    return found


async def _live_state(temporal: Client, workflow_id: str) -> QuoteState | None:
    try:
        async with asyncio.timeout(STATE_TIMEOUT):
            # The state query completed with the pending activity's attempt and error.
            return await quotes_progress.quote_progress(temporal, workflow_id)
    except Exception:  # a closed workflow, no worker, Temporal away: show the projection
        return None


async def with_live_state(
    temporal: Client, quotes: list[QuoteOut], now: datetime
) -> list[StuckQuote]:
    states = await asyncio.gather(*(_live_state(temporal, q.workflow_id) for q in quotes))
    rows = []
    for quote, state in zip(quotes, states, strict=True):
        if state is not None:
            quote = quote.model_copy(
                update={
                    "waiting_for": state.waiting_for,
                    # The workflow's own (a step between retry rounds) or the one the
                    # worker recorded for an attempt failing now (workers/step_errors.py).
                    "last_error": state.last_error or quote.last_error,
                    "hold_reason": state.hold_reason,
                }
            )
        rows.append(StuckQuote(quote, reasons_of(quote, now), live=state is not None))
    return rows


async def _one(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    operator: Principal,
    action: TriageAction,
    quote: QuoteOut,
    *,
    hours: int,
    reason: str,
) -> TriageResult:
    async def run(session: AsyncSession) -> QuoteOut:
        if action == "retry":
            return await quotes_commands.retry_now(session, temporal, operator, quote.id)
        if action == "recheck":
            return await quotes_commands.recheck_payment(session, temporal, operator, quote.id)
        if action == "cancel":
            body = CancelQuote(reason=reason or "Cancelada por operación")
            return await quotes_commands.cancel_quote(session, temporal, operator, quote.id, body)
        deadline = quote.deadlines.pending_name(quote.status)
        if deadline is None:
            raise _Refused("no hay un plazo en curso")
        extend = ExtendDeadlineBody(deadline=deadline, hours=hours, reason=reason)
        return await quotes_commands.extend_deadline(session, temporal, operator, quote.id, extend)

    try:
        async with sessions() as session:
            after = await run(session)
    except (DomainError, _Refused) as exc:
        metrics.OPERATOR_ACTIONS.labels(action, "refused").inc()
        return TriageResult(quote.id, quote.number, False, str(exc))
    except Exception as exc:  # one quote's failure must not hide the others' results
        metrics.OPERATOR_ACTIONS.labels(action, "error").inc()
        return TriageResult(quote.id, quote.number, False, f"error: {type(exc).__name__}")
    metrics.OPERATOR_ACTIONS.labels(action, "ok").inc()
    return TriageResult(quote.id, quote.number, True, after.status)


class _Refused(Exception):
    pass


async def apply_bulk(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    operator: Principal,
    action: TriageAction,
    quotes: list[QuoteOut],
    *,
    hours: int = 24,
    reason: str = "",
    on_result: Callable[[TriageResult], Awaitable[None]] | None = None,
) -> list[TriageResult]:
    """Send `action` to each quote (CONCURRENCY at a time); results in `quotes` order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def guarded(quote: QuoteOut) -> TriageResult:
        async with gate:
            result = await _one(
                sessions, temporal, operator, action, quote, hours=hours, reason=reason
            )
        if on_result is not None:
            await on_result(result)
        return result

    return list(await asyncio.gather(*(guarded(q) for q in quotes[:BULK_LIMIT])))

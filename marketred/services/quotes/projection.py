"""Mirror a QuoteWorkflow snapshot into `quotes`, `quote_lines` and `quote_events`.

The workflow is the source of truth; this is a projection guarded by `version`, so a
retried or replayed activity with an older snapshot changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.quotes import FINAL_STATUSES, QuoteState
from marketred.services.catalog import stock
from marketred.store.repositories import quotes as quotes_repo

# How long a workflow may wait for the request that started it to commit its quote row.
CREATION_GRACE = timedelta(minutes=5)

_STAMPS = {
    "accepted": "accepted_at",
    "paid": "paid_at",
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "completed": "completed_at",
}


class QuoteNotRecorded(Exception):
    """The quote row is missing. `orphan` when the creating request clearly failed."""

    def __init__(self, message: str, *, orphan: bool) -> None:
        super().__init__(message)
        self.orphan = orphan


def projection_values(state: QuoteState) -> dict[str, Any]:
    """Columns from the snapshot. Since 0.2.0 `state.timeline` may hold only the newest
    rows; the workflow then always includes every row in the current status, so the end
    of a closed quote is dated right, and each stamped event is sent once at least."""
    values: dict[str, Any] = {
        "status": state.status,
        "subtotal": state.subtotal,
        "shipping_cost": state.shipping_cost,
        "total": state.total,
        "vendor_note": state.vendor_note,
        "reason": state.reason,
        "hold_reason": state.hold_reason,
        "waiting_for": state.waiting_for,
        "last_error": state.last_error,
        "ship_overdue": state.ship_overdue,
        "response_extended": state.response_extended,
        "carrier": state.carrier,
        "tracking": state.tracking,
        "respond_by": state.deadlines.respond_by,
        "pay_by": state.deadlines.pay_by,
        "ship_by": state.deadlines.ship_by,
        "auto_confirm_at": state.deadlines.auto_confirm_at,
        "next_deadline": state.deadlines.next_for(state.status),
    }
    for entry in state.timeline:
        column = _STAMPS.get(entry.kind)
        if column and column not in values:
            values[column] = entry.at
    if state.status in FINAL_STATUSES and state.timeline:
        values["ended_at"] = next(
            (e.at for e in state.timeline if e.status == state.status), state.timeline[-1].at
        )
    return values


async def project(
    session: AsyncSession, state: QuoteState, new_kinds: list[str] | None = None
) -> bool:
    """Apply the snapshot; True if it was newer than what the table held. Timeline rows
    are inserted idempotently by (quote, seq), so a full or a partial timeline works; the
    kinds of rows written for the first time are appended to `new_kinds` (metrics)."""
    quote = await quotes_repo.get(session, state.quote_id)
    if quote is None:
        first = state.timeline[0] if state.timeline else None
        requested_at = first.at if first is not None and first.seq == 1 else datetime.now(UTC)
        orphan = datetime.now(UTC) - requested_at > CREATION_GRACE
        raise QuoteNotRecorded(f"quote {state.number} is not in the database", orphan=orphan)
    inserted = await quotes_repo.add_events(
        session,
        [
            {
                "quote_id": state.quote_id,
                "seq": e.seq,
                "kind": e.kind,
                "status": e.status,
                "actor": e.actor,
                "message": e.message,
                "at": e.at,
                "data": e.data,
            }
            for e in state.timeline
        ],
    )
    if new_kinds is not None:
        new_kinds.extend(inserted)
    applied = await quotes_repo.apply_projection(
        session, state.quote_id, state.version, projection_values(state)
    )
    if applied:
        for line in state.lines:
            await quotes_repo.set_line(session, state.quote_id, line)
    # Reserved stock follows the status, in this transaction (idempotent: only rows
    # still reserved change), so a paid quote's units are sold and an unpaid end gives
    # them back.
    await stock.settle(session, state.quote_id, state.status)
    return applied


async def is_recorded(session: AsyncSession, quote_id: uuid.UUID) -> bool:
    """Whether the quote's row exists (committed by the request that created it)."""
    return await quotes_repo.get(session, quote_id) is not None

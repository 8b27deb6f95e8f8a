"""What waits for someone, read from PostgreSQL and the payout schedule into gauges.

The worker calls `refresh` every `ops_gauges_seconds` (workers/worker.py); alert rules in
deploy/observability/ read the gauges. Each is one aggregate query, cheap on the indexes
the console already uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from marketred import metrics
from marketred.schemas.quotes import FINAL_STATUSES, STUCK_GRACE
from marketred.store.models import Quote
from marketred.store.models.catalog import IndexerOutbox
from marketred.store.models.payouts import Payout
from marketred.store.models.quotes import QuoteEvent, QuoteStartOutbox


@dataclass
class OpsSnapshot:
    past_deadline: dict[str, int] = field(default_factory=dict)
    holds: dict[str, tuple[int, float]] = field(default_factory=dict)  # count, oldest age s
    indexer_pending: int = 0
    indexer_oldest_age: float = 0.0
    quote_starts_pending: int = 0
    quote_starts_oldest_age: float = 0.0


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


async def _hold(session: AsyncSession, now: datetime, stmt: object) -> tuple[int, float]:
    count, oldest = (await session.execute(stmt)).one()  # type: ignore[call-overload]
    return int(count or 0), _age(now, oldest)


async def read(session: AsyncSession, now: datetime) -> OpsSnapshot:
    snap = OpsSnapshot()
    rows = await session.execute(
        select(Quote.status, func.count())
        .where(
            Quote.next_deadline < now - STUCK_GRACE,
            Quote.status.not_in(FINAL_STATUSES),
            Quote.hold_reason.is_(None),
        )
        .group_by(Quote.status)
    )
    snap.past_deadline = {status: int(n) for status, n in rows.all()}

    # A payment hold starts at the quote's latest payment_held entry.
    held_since = (
        select(QuoteEvent.quote_id, func.max(QuoteEvent.at).label("since"))
        .where(QuoteEvent.kind == "payment_held")
        .group_by(QuoteEvent.quote_id)
        .subquery()
    )
    snap.holds["payment"] = await _hold(
        session,
        now,
        select(func.count(), func.min(held_since.c.since))
        .select_from(Quote)
        .join(held_since, held_since.c.quote_id == Quote.id, isouter=True)
        .where(Quote.hold_reason.is_not(None), Quote.status == "ACCEPTED"),
    )
    # A refund is open while the quote is CANCELLED after a "cancelling" entry: the
    # workflow writes REFUNDED once the money went back.
    cancelling = (
        select(QuoteEvent.quote_id, func.max(QuoteEvent.at).label("since"))
        .where(QuoteEvent.kind == "cancelling")
        .group_by(QuoteEvent.quote_id)
        .subquery()
    )
    snap.holds["refund"] = await _hold(
        session,
        now,
        select(func.count(), func.min(cancelling.c.since))
        .select_from(Quote)
        .join(cancelling, and_(cancelling.c.quote_id == Quote.id))
        .where(Quote.status == "CANCELLED"),
    )
    snap.holds["payout"] = await _hold(
        session,
        now,
        select(func.count(), func.min(Payout.held_at)).where(Payout.status == "HELD"),
    )
    count, oldest = (
        await session.execute(select(func.count(), func.min(IndexerOutbox.changed_at)))
    ).one()
    snap.indexer_pending, snap.indexer_oldest_age = int(count or 0), _age(now, oldest)
    count, oldest = (
        await session.execute(select(func.count(), func.min(QuoteStartOutbox.created_at)))
    ).one()
    snap.quote_starts_pending, snap.quote_starts_oldest_age = int(count or 0), _age(now, oldest)
    return snap


def publish(snap: OpsSnapshot) -> None:
    metrics.QUOTES_PAST_DEADLINE.clear()
    for status, n in snap.past_deadline.items():
        metrics.QUOTES_PAST_DEADLINE.labels(status).set(n)
    for kind in metrics.HOLD_KINDS:
        count, age = snap.holds.get(kind, (0, 0.0))
        metrics.HOLDS_OPEN.labels(kind).set(count)
        metrics.HOLD_OLDEST_AGE.labels(kind).set(age)
    metrics.INDEXER_BACKLOG.set(snap.indexer_pending)
    metrics.INDEXER_OLDEST_AGE.set(snap.indexer_oldest_age)
    metrics.QUOTE_STARTS_PENDING.set(snap.quote_starts_pending)
    metrics.QUOTE_STARTS_OLDEST_AGE.set(snap.quote_starts_oldest_age)


async def publish_schedule(client: Client, schedule_id: str) -> None:
    desc = await client.get_schedule_handle(schedule_id).describe()
    actions = desc.info.recent_actions
    last = max((a.started_at for a in actions), default=None)
    metrics.PAYOUT_SCHEDULE_LAST.set(last.timestamp() if last else 0)
    paused = desc.schedule.state.paused
    metrics.PAYOUT_SCHEDULE_PAUSED.set(1 if paused else 0)
    upcoming = desc.info.next_action_times
    metrics.PAYOUT_SCHEDULE_NEXT.set(upcoming[0].timestamp() if upcoming and not paused else 0)


async def refresh(session: AsyncSession, client: Client | None, schedule_id: str) -> None:
    publish(await read(session, datetime.now(UTC)))
    if client is not None:
        await publish_schedule(client, schedule_id)

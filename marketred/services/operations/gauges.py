"""What waits for someone, read from PostgreSQL and the payout schedule into gauges.

The worker calls `refresh` every `ops_gauges_seconds` (workers/worker.py); alert rules in
deploy/observability/ read the gauges. Each is one aggregate query, cheap on the indexes
the console already uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from marketred import metrics
from marketred.store.repositories import ops as repo


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


async def read(session: AsyncSession, now: datetime) -> OpsSnapshot:
    snap = OpsSnapshot()
    snap.past_deadline = await repo.past_deadline_by_status(session, now)
    for kind, count_and_oldest in (
        ("payment", repo.payment_holds),
        ("refund", repo.open_refunds),
        ("payout", repo.payout_holds),
    ):
        count, oldest = await count_and_oldest(session)
        snap.holds[kind] = (count, _age(now, oldest))
    count, oldest = await repo.indexer_backlog(session)
    snap.indexer_pending, snap.indexer_oldest_age = count, _age(now, oldest)
    count, oldest = await repo.quote_start_backlog(session)
    snap.quote_starts_pending, snap.quote_starts_oldest_age = count, _age(now, oldest)
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

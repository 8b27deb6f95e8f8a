"""SQL of the rate-limit counters (services/accounts/rate_limits.py decides what they mean):
one row per (key, fixed window), counted by upsert.

`hit_chain` counts several keys in ONE statement, each only while the ones before it
stayed within their limits (a chain of data-modifying CTEs), and `counting_apart` runs
it in a transaction of its own, so that the counter rows are locked only for that one
statement: on the counters' own autocommit pool when the session factory has one
(`store/session.py`, `COUNTERS`), else in a short transaction beside the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import TextClause, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import ScalarSelect

from marketred.store.models import RateLimitCounter
from marketred.store.session import COUNTERS

TABLE = RateLimitCounter.__tablename__


def _previous_count(key: str, previous_start: datetime) -> ScalarSelect[int]:
    previous = aliased(RateLimitCounter)
    return (
        select(previous.count)
        .where(previous.key == key, previous.window_start == previous_start)
        .scalar_subquery()
    )


async def add_one(
    session: AsyncSession, key: str, begin: datetime, previous_start: datetime, expires_at: datetime
) -> tuple[int, int]:
    """Count one for `key` in the window starting at `begin` (in the caller's transaction:
    the row stays locked until it ends). Returns (this window's count, the previous
    window's), in one round trip."""
    stmt = (
        insert(RateLimitCounter)
        .values(key=key, window_start=begin, count=1, expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": RateLimitCounter.count + 1},
        )
        .returning(RateLimitCounter.count, _previous_count(key, previous_start))
    )
    current, previous = (await session.execute(stmt)).one()
    return int(current), int(previous or 0)


async def counts(
    session: AsyncSession, key: str, begin: datetime, previous_start: datetime
) -> tuple[int, int]:
    """(this window's count, the previous window's) for `key`, in one round trip."""
    current = (
        select(RateLimitCounter.count)
        .where(RateLimitCounter.key == key, RateLimitCounter.window_start == begin)
        .scalar_subquery()
    )
    row = (await session.execute(select(current, _previous_count(key, previous_start)))).one()
    return int(row[0] or 0), int(row[1] or 0)


async def delete_key(session: AsyncSession, key: str) -> None:
    await session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


async def sweep(session: AsyncSession | AsyncConnection, expired_before: datetime) -> None:
    """Delete the windows no sliding estimate weighs any more."""
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.expires_at < expired_before)
    )


@dataclass(frozen=True)
class Hit:
    """One count for `key`, and what lets the next hit of a chain go on: this one's
    sliding estimate `current + previous × weight` at most `max_hits`."""

    key: str
    begin: datetime
    previous_start: datetime
    expires_at: datetime
    weight: float
    max_hits: int


@cache
def _chain(n: int) -> TextClause:
    """The statement for a chain of `n` hits (see `hit_chain`)."""
    parts = []
    for i in range(n):
        returning = (
            f"RETURNING c.count AS current, (SELECT p.count FROM {TABLE} p "
            f"WHERE p.key = CAST(:key{i} AS varchar) "
            f"AND p.window_start = CAST(:previous{i} AS timestamptz)) AS previous"
        )
        row = (
            f"CAST(:key{i} AS varchar), CAST(:begin{i} AS timestamptz), 1, "
            f"CAST(:expires{i} AS timestamptz)"
        )
        # The first hit always counts; each next one only if the one before stayed
        # within its limit (a refusal is counted and stops the chain).
        source = (
            f"VALUES ({row})"
            if i == 0
            else f"SELECT {row} FROM h{i - 1} WHERE h{i - 1}.current + "
            f"coalesce(h{i - 1}.previous, 0) * CAST(:weight{i - 1} AS float8) "
            f"<= CAST(:max{i - 1} AS integer)"
        )
        parts.append(
            f"h{i} AS (INSERT INTO {TABLE} AS c (key, window_start, count, expires_at) "
            f"{source} ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1 "
            f"{returning})"
        )
    selects = " UNION ALL ".join(f"SELECT {i} AS i, current, previous FROM h{i}" for i in range(n))
    return text(f"WITH {', '.join(parts)} SELECT * FROM ({selects}) AS hits ORDER BY i")


def _params(hits: Sequence[Hit]) -> dict[str, object]:
    params: dict[str, object] = {}
    for i, h in enumerate(hits):
        params |= {
            f"key{i}": h.key,
            f"begin{i}": h.begin,
            f"previous{i}": h.previous_start,
            f"expires{i}": h.expires_at,
            f"weight{i}": h.weight,
            f"max{i}": h.max_hits,
        }
    return params


async def hit_chain(
    db: AsyncSession | AsyncConnection, hits: Sequence[Hit]
) -> list[tuple[int, int]]:
    """Count `hits` in order in one statement, stopping after the first whose estimate
    passes its limit. Returns (current, previous) of each hit counted."""
    rows = (await db.execute(_chain(len(hits)), _params(hits))).all()
    return [(int(current), int(previous or 0)) for _, current, previous in rows]


async def counting_apart(
    session: AsyncSession, hits: Sequence[Hit], *, expired_before: datetime | None = None
) -> list[tuple[int, int]]:
    """`hit_chain` committed at once, apart from `session`'s transaction (then, with
    `expired_before`, a sweep of old windows). On the counters' own autocommit pool when
    `session`'s factory has one: one statement, one round trip, and no second
    connection taken from the pool the request already holds one of."""
    counters: AsyncEngine | None = session.info.get(COUNTERS)
    if counters is not None:
        for attempt in (1, 2):
            try:
                async with counters.connect() as conn:  # autocommit: each statement commits
                    done = await hit_chain(conn, hits)
                    if expired_before is not None:
                        await sweep(conn, expired_before)
                    return done
            except DBAPIError as exc:
                # The pool does not ping before lending (a round trip per request): a
                # connection PostgreSQL dropped meanwhile is thrown away, and tried once more.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
    async with AsyncSession(bind=session.bind, join_transaction_mode="create_savepoint") as apart:
        done = await hit_chain(apart, hits)
        if expired_before is not None:
            await sweep(apart, expired_before)
        await apart.commit()
    return done

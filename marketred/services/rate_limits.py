"""Fixed-window rate limits kept in PostgreSQL, so every API replica counts together.

`hit()` adds one to the counter of (key, current window) with a single upsert and
raises RateLimited (429 with Retry-After) once the limit is passed. Callers that must
count a request which then fails (a wrong password) commit right after the hit.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.errors import RateLimited
from marketred.store.models import RateLimitCounter


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


# Per IP: every attempt counts. Per account: failures only (see accounts.password_sign_in).
LOGIN_PER_IP = Limit("login-ip", 30, 60)
LOGIN_FAILURES_PER_ACCOUNT = Limit("login-fail", 5, 15 * 60)
REGISTER_PER_IP = Limit("register-ip", 10, 60 * 60)
RESET_PER_IP = Limit("reset-ip", 10, 60 * 60)
RESET_PER_ACCOUNT = Limit("reset-account", 3, 60 * 60)
VERIFY_MAIL_PER_ACCOUNT = Limit("verify-mail", 3, 60 * 60)
QUOTES_PER_ACCOUNT = Limit("quote-account", 20, 60 * 60)
QUOTES_PER_IP = Limit("quote-ip", 60, 60 * 60)


def window_of(limit: Limit, now: datetime) -> tuple[datetime, datetime]:
    epoch = int(now.timestamp())
    start = epoch - epoch % limit.window_seconds
    begin = datetime.fromtimestamp(start, UTC)
    return begin, begin + timedelta(seconds=limit.window_seconds)


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject.strip().lower()}"[:200]


def _refuse(ends: datetime, now: datetime) -> RateLimited:
    retry_after = max(1, math.ceil((ends - now).total_seconds()))
    return RateLimited(
        f"demasiados intentos; espera {retry_after} segundos",
        headers={"Retry-After": str(retry_after)},
    )


async def hit(
    session: AsyncSession, limit: Limit, subject: str, *, now: datetime | None = None
) -> int:
    """Count one event for `subject`; raise RateLimited past the limit. Returns the count."""
    now = now or datetime.now(UTC)
    begin, ends = window_of(limit, now)
    stmt = (
        insert(RateLimitCounter)
        .values(key=_key(limit, subject), window_start=begin, count=1, expires_at=ends)
        .on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": RateLimitCounter.count + 1},
        )
        .returning(RateLimitCounter.count)
    )
    count = int((await session.execute(stmt)).scalar_one())
    if random.random() < 0.01:  # old windows are swept now and then, by whoever passes
        await session.execute(
            delete(RateLimitCounter).where(RateLimitCounter.expires_at < now - timedelta(hours=1))
        )
    if count > limit.max_hits:
        raise _refuse(ends, now)
    return count


async def current(
    session: AsyncSession, limit: Limit, subject: str, *, now: datetime | None = None
) -> int:
    now = now or datetime.now(UTC)
    begin, _ = window_of(limit, now)
    value = await session.scalar(
        select(RateLimitCounter.count).where(
            RateLimitCounter.key == _key(limit, subject), RateLimitCounter.window_start == begin
        )
    )
    return int(value or 0)


async def ensure_below(
    session: AsyncSession, limit: Limit, subject: str, *, now: datetime | None = None
) -> None:
    """Refuse (without counting) when `subject` has already used up the window."""
    now = now or datetime.now(UTC)
    if await current(session, limit, subject, now=now) >= limit.max_hits:
        raise _refuse(window_of(limit, now)[1], now)


async def reset(session: AsyncSession, limit: Limit, subject: str) -> None:
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.key == _key(limit, subject))
    )


async def limit_quote_creation(
    session: AsyncSession, *, user_id: str, ip: str | None, now: datetime | None = None
) -> None:
    """For the quotes engineer: call before creating a quote (per buyer and per IP)."""
    await hit(session, QUOTES_PER_ACCOUNT, user_id, now=now)
    if ip:
        await hit(session, QUOTES_PER_IP, ip, now=now)

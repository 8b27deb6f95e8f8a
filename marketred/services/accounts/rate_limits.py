"""Sliding-window rate limits kept in PostgreSQL, so every API replica counts together.

Counters are per (key, fixed window); a limit is checked against the sliding estimate
`this window's count + last window's count × the part of last window still inside the
sliding one` (the "sliding window counter"). Unlike a bare fixed window, a burst at the
end of one window and another at the start of the next cannot pass twice the limit.

`hit()` adds one to the current counter with a single upsert and raises RateLimited (429
with Retry-After: when the estimate falls back under the limit) once the limit is passed;
refused attempts count too, so hammering keeps the door shut. Callers that must count a
request which then fails (a wrong password) commit right after the hit.

The upsert locks the counter row until its transaction ends. `hit_apart()` counts apart
from the caller's transaction, committed at once, for requests that go on to more work
(quote creation): inside the request's transaction every request of the same subject
would wait for the previous one's commit. All its counters go in one statement, on the
counters' own autocommit pool when the session factory has one (the API's): one round
trip, the rows locked only for that statement, and no second connection from the pool
the request holds one of. The SQL is in store/repositories/rate_limits.py.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.errors import RateLimited
from marketred.store.repositories import rate_limits as counters_repo


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


# Per account: failures only (see sign_in.password_sign_in). Sign-ins and registrations
# per IP: the numbers are settings (login_per_ip_minute, register_per_ip_hour).
LOGIN_FAILURES_PER_ACCOUNT = Limit("login-fail", 5, 15 * 60)
LOGIN_PER_IP = "login-ip"
REGISTER_PER_IP = "register-ip"
RESET_PER_IP = Limit("reset-ip", 10, 60 * 60)
RESET_PER_ACCOUNT = Limit("reset-account", 3, 60 * 60)
VERIFY_MAIL_PER_ACCOUNT = Limit("verify-mail", 3, 60 * 60)
# Quote creation: the numbers are settings (quotes_per_account_hour, quotes_per_ip_hour).
QUOTES_PER_ACCOUNT = "quote-account"
QUOTES_PER_IP = "quote-ip"


def clock() -> datetime:
    """The time the limits count by (a test fixes it so a slow loop sees no window slide)."""
    return datetime.now(UTC)


def window_of(limit: Limit, now: datetime) -> tuple[datetime, datetime]:
    epoch = int(now.timestamp())
    start = epoch - epoch % limit.window_seconds
    begin = datetime.fromtimestamp(start, UTC)
    return begin, begin + timedelta(seconds=limit.window_seconds)


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject.strip().lower()}"[:200]


@dataclass(frozen=True)
class _Counts:
    limit: Limit
    now: datetime
    begin: datetime  # start of the current fixed window
    current: int
    previous: int

    @property
    def elapsed(self) -> float:
        """Part of the current fixed window already gone (0..1)."""
        return (self.now - self.begin).total_seconds() / self.limit.window_seconds

    @property
    def estimate(self) -> float:
        return self.current + self.previous * (1 - self.elapsed)

    @property
    def full(self) -> bool:
        """No room for one more event (the next hit would pass the limit)."""
        return self.estimate > self.limit.max_hits - 1

    def retry_after(self) -> int:
        """Seconds until the estimate is under the limit again, if nothing more comes."""
        # "Under" means room for one more event: an estimate of at most max_hits − 1.
        window, room = self.limit.window_seconds, self.limit.max_hits - 1
        if self.current <= room and self.previous:
            # Still in this window: current + previous × (1 − g) ≤ room.
            until = 1 - (room - self.current) / self.previous
        else:
            # In the next one, where this window's count fades the same way.
            until = 1 + (1 - room / self.current if self.current else 0)
        return max(1, math.ceil((until - self.elapsed) * window) + 1)

    def refusal(self) -> RateLimited:
        retry_after = self.retry_after()
        return RateLimited(
            f"demasiados intentos; espera {retry_after} segundos",
            headers={"Retry-After": str(retry_after)},
        )


def _previous_start(limit: Limit, begin: datetime) -> datetime:
    return begin - timedelta(seconds=limit.window_seconds)


def _expires(limit: Limit, ends: datetime) -> datetime:
    # Kept one window past its end: the next window weighs it.
    return ends + timedelta(seconds=limit.window_seconds)


def _sweep_now() -> bool:
    """Old windows are swept now and then, by whoever passes (1 in 100)."""
    return random.random() < 0.01


async def hit(
    session: AsyncSession, limit: Limit, subject: str, *, now: datetime | None = None
) -> int:
    """Count one event for `subject`; raise RateLimited past the limit. Returns the
    sliding count (rounded down) including this event."""
    now = now or clock()
    begin, ends = window_of(limit, now)
    key = _key(limit, subject)
    # The previous window's count comes back in the same round trip.
    current, previous = await counters_repo.add_one(
        session, key, begin, _previous_start(limit, begin), _expires(limit, ends)
    )
    counts = _Counts(limit, now, begin, current, previous)
    if _sweep_now():
        await counters_repo.sweep(session, now - timedelta(hours=1))
    if counts.estimate > limit.max_hits:
        raise counts.refusal()
    return math.floor(counts.estimate)


async def _counts(session: AsyncSession, limit: Limit, subject: str, now: datetime) -> _Counts:
    begin, _ = window_of(limit, now)
    current, previous = await counters_repo.counts(
        session, _key(limit, subject), begin, _previous_start(limit, begin)
    )
    return _Counts(limit, now, begin, current, previous)


async def current(
    session: AsyncSession, limit: Limit, subject: str, *, now: datetime | None = None
) -> int:
    """The sliding count for `subject` (rounded down)."""
    counts = await _counts(session, limit, subject, now or clock())
    return math.floor(counts.estimate)


async def ensure_below(
    session: AsyncSession, limit: Limit, subject: str, *, now: datetime | None = None
) -> None:
    """Refuse (without counting) when `subject` has no room left for one more event."""
    counts = await _counts(session, limit, subject, now or clock())
    if counts.full:
        raise counts.refusal()


async def seconds_until_room(
    session: AsyncSession, limit: Limit, subject: str, *, now: datetime | None = None
) -> int:
    """How long `subject` must wait before one more event passes (0 when it may now)."""
    counts = await _counts(session, limit, subject, now or clock())
    return counts.retry_after() if counts.full else 0


async def reset(session: AsyncSession, limit: Limit, subject: str) -> None:
    await counters_repo.delete_key(session, _key(limit, subject))


async def hit_apart(
    session: AsyncSession, *hits: tuple[Limit, str], now: datetime | None = None
) -> None:
    """hit() each (limit, subject) in order, apart from `session`'s transaction and
    committed before this returns (a refusal is counted too, and stops the hits after
    it), so the counter rows are locked only meanwhile. One statement for all of them,
    on the counters' own pool when there is one (store/repositories/rate_limits.py)."""
    now = now or clock()
    planned = []
    for limit, subject in hits:
        begin, ends = window_of(limit, now)
        elapsed = (now - begin).total_seconds() / limit.window_seconds
        planned.append(
            counters_repo.Hit(
                key=_key(limit, subject),
                begin=begin,
                previous_start=_previous_start(limit, begin),
                expires_at=_expires(limit, ends),
                weight=1 - elapsed,
                max_hits=limit.max_hits,
            )
        )
    counted = await counters_repo.counting_apart(
        session, planned, expired_before=now - timedelta(hours=1) if _sweep_now() else None
    )
    for (limit, _), hit_, (current_, previous) in zip(hits, planned, counted, strict=False):
        counts = _Counts(limit, now, hit_.begin, current_, previous)
        if counts.estimate > limit.max_hits:
            raise counts.refusal()


def login_per_ip(per_minute: int) -> Limit | None:
    """Sign-in attempts per client address per minute (None when turned off: 0)."""
    return Limit(LOGIN_PER_IP, per_minute, 60) if per_minute else None


def register_per_ip(per_hour: int) -> Limit | None:
    """Registrations per client address per hour (None when turned off: 0)."""
    return Limit(REGISTER_PER_IP, per_hour, 60 * 60) if per_hour else None


def quote_limits(per_account_hour: int, per_ip_hour: int) -> tuple[Limit, Limit | None]:
    """The quote-creation limits from settings (per IP: None when turned off)."""
    per_ip = Limit(QUOTES_PER_IP, per_ip_hour, 60 * 60) if per_ip_hour else None
    return Limit(QUOTES_PER_ACCOUNT, per_account_hour, 60 * 60), per_ip


async def limit_quote_creation(
    session: AsyncSession,
    limits: tuple[Limit, Limit | None],
    *,
    user_id: str,
    ip: str | None,
    now: datetime | None = None,
) -> None:
    """Count one quote request of this buyer (the guard) and, as a coarse ceiling, of its
    address (only while the buyer is within its own limit), apart from the request's
    transaction (hit_apart). Raises RateLimited past either."""
    per_account, per_ip = limits
    hits = [(per_account, user_id)]
    if ip and per_ip is not None:
        hits.append((per_ip, ip))
    await hit_apart(session, *hits, now=now)

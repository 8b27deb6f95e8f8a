"""Quote-creation limits: counted in a transaction of their own (no lock held while the
request starts its workflow), exact under concurrent requests, per-address ceiling from
settings that does not cap many buyers behind one address."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketred.services.accounts import rate_limits
from marketred.services.errors import RateLimited
from marketred.store.models import RateLimitCounter
from marketred.store.session import create_counters_engine, create_session_factory

pytestmark = pytest.mark.db


# One instant for every hit of a test, so no window boundary falls inside it.
NOW = datetime.now(UTC)


@pytest.fixture(params=["own pool", "beside the request"])
async def sessions(
    request: pytest.FixtureRequest, engine: AsyncEngine, database_url: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The API's sessions (counters on a pool of their own, in autocommit), and sessions
    without one (workers, scripts: a short transaction beside the caller's)."""
    if request.param == "own pool":
        counters = create_counters_engine(database_url)
        yield create_session_factory(engine, counters=counters)
        await counters.dispose()
    else:
        yield create_session_factory(engine)


def _address() -> str:
    return f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"


async def _forget(engine: AsyncEngine, *subjects: str) -> None:
    async with AsyncSession(engine) as session:
        for subject in subjects:
            await session.execute(
                delete(RateLimitCounter).where(RateLimitCounter.key.like(f"%:{subject}"))
            )
        await session.commit()


async def test_the_counter_is_committed_and_unlocked_while_the_request_goes_on(engine, sessions):
    user_id, ip = str(uuid.uuid4()), _address()
    limits = rate_limits.quote_limits(20, 1000)
    try:
        async with sessions() as request_session:
            await request_session.execute(text("SELECT 1"))  # the request's transaction
            await rate_limits.limit_quote_creation(request_session, limits, user_id=user_id, ip=ip)
            # The request has not committed; another request of the same address and
            # buyer must not wait for it (NOWAIT fails at once on a held row lock).
            async with AsyncSession(engine) as other:
                rows = (
                    await other.execute(
                        text(
                            "SELECT key, count FROM rate_limit_counters "
                            "WHERE key IN (:a, :b) FOR UPDATE NOWAIT"
                        ),
                        {"a": f"quote-account:{user_id}", "b": f"quote-ip:{ip}"},
                    )
                ).all()
                assert sorted(count for _, count in rows) == [1, 1]
                await other.rollback()
            await request_session.rollback()  # the request fails: the attempt still counts
        async with AsyncSession(engine) as check:
            assert await rate_limits.current(check, limits[0], user_id) == 1
    finally:
        await _forget(engine, user_id, ip)


async def test_concurrent_requests_pass_exactly_the_limit(engine, sessions):
    ip = _address()
    per_ip = rate_limits.Limit(rate_limits.QUOTES_PER_IP, 10, 3600)
    outcomes: list[bool] = []

    async def attempt() -> None:
        async with sessions() as session:
            try:
                await rate_limits.hit_apart(session, (per_ip, ip), now=NOW)
                outcomes.append(True)
            except RateLimited:
                outcomes.append(False)

    try:
        await asyncio.gather(*(attempt() for _ in range(25)))
        assert outcomes.count(True) == 10
        assert outcomes.count(False) == 15
    finally:
        await _forget(engine, ip)


async def test_many_buyers_behind_one_address_are_limited_per_account_first(engine, sessions):
    ip = _address()
    buyers = [str(uuid.uuid4()) for _ in range(4)]
    limits = rate_limits.quote_limits(2, 7)
    passed: dict[str, int] = dict.fromkeys(buyers, 0)
    try:
        async with sessions() as session:
            for buyer in buyers:
                for _ in range(3):
                    try:
                        await rate_limits.limit_quote_creation(
                            session, limits, user_id=buyer, ip=ip, now=NOW
                        )
                        passed[buyer] += 1
                    except RateLimited:
                        pass
        # Each buyer's third try stops at its own limit (before counting for the
        # address); the address ceiling of 7 stops the fourth buyer's second quote.
        assert list(passed.values()) == [2, 2, 2, 1]
    finally:
        await _forget(engine, ip, *buyers)


async def test_a_zero_per_address_ceiling_turns_it_off(engine, sessions):
    ip, buyer = _address(), str(uuid.uuid4())
    per_account, per_ip = rate_limits.quote_limits(3, 0)
    assert per_ip is None
    try:
        async with sessions() as session:
            for _ in range(3):
                await rate_limits.limit_quote_creation(
                    session, (per_account, per_ip), user_id=buyer, ip=ip, now=NOW
                )
            counted = await session.scalar(
                text("SELECT count(*) FROM rate_limit_counters WHERE key = :k"),
                {"k": f"quote-ip:{ip}"},
            )
        assert counted == 0
    finally:
        await _forget(engine, ip, buyer)


async def test_counting_takes_no_second_connection_from_the_requests_pool(database_url):
    """Every connection of the request pool held by requests (here: one of one): their
    counters still go through, on the counters' own pool, instead of each waiting for a
    second request connection that nobody releases."""
    from marketred.store.session import create_engine

    requests = create_engine(database_url, pool_size=1, max_overflow=0)
    counters = create_counters_engine(database_url)
    user_id, ip = str(uuid.uuid4()), _address()
    try:
        sessions = create_session_factory(requests, counters=counters)
        async with sessions() as request_session:
            await request_session.execute(text("SELECT 1"))  # holds the only connection
            limits = rate_limits.quote_limits(20, 1000)
            await asyncio.wait_for(
                rate_limits.limit_quote_creation(request_session, limits, user_id=user_id, ip=ip),
                timeout=3,  # the request pool's checkout would give up only after 5 s
            )
    finally:
        await counters.dispose()
        await requests.dispose()
        async with AsyncSession(create_engine(database_url, pool_size=1)) as session:
            await session.execute(
                delete(RateLimitCounter).where(
                    RateLimitCounter.key.in_([f"quote-account:{user_id}", f"quote-ip:{ip}"])
                )
            )
            await session.commit()

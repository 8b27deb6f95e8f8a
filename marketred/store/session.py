"""Async engine and session factory. The caller (request dependency, activity) owns the
transaction: it opens a session, commits or rolls back.

What must happen only once the work is durable — a mail, a signal to a workflow, telling
the indexer — is registered with `after_commit(session, fn, *args)` by whoever knows it
is needed (handler or service); the owner runs the hooks with `commit(session)` (after
its commit, in order) and drops them with `rollback(session)`. No one else commits.

A request that is refused (a DomainError) rolls back, unless what it wrote must stand
although the caller is refused — a failed sign-in counted toward the lock: the code that
knows says so with `keep_when_refused(session)`, and the owner then commits (and runs
the hooks, e.g. the lockout mail) before the refusal goes out. A crash still rolls back.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def to_async_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and return the asyncpg one."""
    for prefix in (
        "postgres://",
        "postgresql://",
        "postgresql+psycopg://",
        "postgresql+psycopg2://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


# While PostgreSQL is away a caller must hear so in seconds, not queue behind a pool of
# connections that never come (the API answers 503, an activity fails and is retried).
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 5


# A connection idle longer than this is pinged before it is lent (see _ping_when_idle).
PING_AFTER_IDLE_S = 2.0


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=POOL_TIMEOUT_S,
        # The connection back most recently is lent first: a steady trickle of requests
        # keeps reusing warm connections (no ping, below) instead of cycling through all.
        pool_use_lifo=True,
        connect_args={"timeout": CONNECT_TIMEOUT_S},
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """pool_pre_ping, but only for a connection that sat idle in the pool for more than
    PING_AFTER_IDLE_S: a ping is three round trips with asyncpg (BEGIN, ';', ROLLBACK),
    a quarter of a quote request's, and a connection back from a request a moment ago
    is as alive as a ping would show. A connection that fails its ping is replaced, as
    with pool_pre_ping; one broken in the last seconds fails its statement instead (the
    request answers 503 and the pool is renewed)."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _idle_from(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        raw = getattr(dbapi_connection, "_connection", None)  # asyncpg's own connection
        if raw is not None and raw.is_closed():
            # PostgreSQL closed it (a restart; the kernel closed the socket and the driver
            # saw it): replace it and every older one, at no cost.
            raise InvalidatePoolError("the server closed the pooled connection")
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # new, or back from a request a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("the pooled connection failed its ping")


# Session.info key of the counters' engine (store/repositories/rate_limits.py).
COUNTERS = "marketred.counters"


def create_counters_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> AsyncEngine:
    """A small pool of its own, in autocommit, for rate-limit counters counted apart from
    the request's transaction: one statement each, committed by itself (no BEGIN/COMMIT
    round trips, no ping: a dropped connection is retried once), and never a second
    connection out of the pool whose connection the request already holds (with more
    concurrent requests than that pool has, each would wait for one nobody releases)."""
    return create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=POOL_TIMEOUT_S,
        pool_use_lifo=True,
        isolation_level="AUTOCOMMIT",
        connect_args={"timeout": CONNECT_TIMEOUT_S},
    )


def create_session_factory(
    engine: AsyncEngine, *, counters: AsyncEngine | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; with `counters` (create_counters_engine), rate-limit counters
    counted apart use that pool."""
    info = {COUNTERS: counters} if counters is not None else None
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


P = ParamSpec("P")
_HOOKS = "marketred.after_commit"
_KEEP = "marketred.keep_when_refused"


def after_commit(
    session: AsyncSession, fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Run `fn(*args, **kwargs)` once the owner of `session`'s transaction has committed
    it; never if the transaction is rolled back."""
    session.info.setdefault(_HOOKS, []).append(lambda: fn(*args, **kwargs))


def keep_when_refused(session: AsyncSession) -> None:
    """Commit this transaction even if the caller is then refused (see the module doc)."""
    session.info[_KEEP] = True


async def commit(session: AsyncSession) -> None:
    """The owner's commit: commit, then run the after-commit hooks in the order given.
    A hook may write down what it did (when a mail went out): that is committed in
    turn, and so on. A hook that fails fails the caller (the work is committed by then)."""
    await session.commit()
    while hooks := session.info.pop(_HOOKS, None):
        for hook in hooks:
            done = hook()
            if inspect.isawaitable(done):
                await done
        await session.commit()


async def rollback(session: AsyncSession) -> None:
    """The owner's rollback: the after-commit hooks are dropped with the work."""
    session.info.pop(_HOOKS, None)
    session.info.pop(_KEEP, None)
    await session.rollback()


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession],
    *,
    refusals: tuple[type[BaseException], ...] = (),
) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed on success (then its after-commit hooks run) and
    rolled back on error — but committed on one of `refusals` after keep_when_refused()."""
    async with factory() as session:
        try:
            yield session
        except refusals:
            if session.info.pop(_KEEP, False):
                await commit(session)
            else:
                await rollback(session)
            raise
        except BaseException:
            await rollback(session)
            raise
        else:
            await commit(session)


_T = TypeVar("_T")


async def waiting_out_outages(
    work: Callable[[], Awaitable[_T]],
    *,
    within: float,
    keep: tuple[type[BaseException], ...] = (),
) -> _T:
    """Run `work` (its own transaction), trying again for up to `within` seconds while it
    fails — a PostgreSQL restart, connect or pool errors — with a pause from 0.25 s
    doubling to 2 s. Exceptions of the `keep` types are answers, raised at once; after
    `within` the last error is raised. For a step that must not fail on a short outage:
    a payload codec's key read, recording that the mail server took a mail."""
    deadline = time.monotonic() + within
    pause = 0.25
    while True:
        try:
            return await work()
        except keep:
            raise
        except Exception:
            if time.monotonic() + pause > deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

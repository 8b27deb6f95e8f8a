"""Async engine and session factory. The caller (request dependency, activity) owns the
transaction: it opens a session, commits or rolls back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


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


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"timeout": CONNECT_TIMEOUT_S},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed on success and rolled back on error."""
    async with factory() as session, session.begin():
        yield session


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

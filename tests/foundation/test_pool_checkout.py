"""The pool hands out a working connection after PostgreSQL closed the one it held
(a restart, an administrator's pg_terminate_backend) — without the per-checkout ping
round trips SQLAlchemy's pre-ping costs (store/session.py)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from marketred.store import session as store_session
from marketred.store.session import create_engine


async def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int((await conn.execute(text("select pg_backend_pid()"))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    other = create_engine(url, pool_size=1)
    try:
        async with other.connect() as conn:
            await conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


@pytest.mark.parametrize("idle_ping_after", [3600.0, 0.0])
async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    database_url: str, monkeypatch: pytest.MonkeyPatch, idle_ping_after: float
) -> None:
    monkeypatch.setattr(store_session, "PING_AFTER_IDLE_S", idle_ping_after)
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        assert await _backend_pid(engine) == first  # the pooled connection is reused
        await _terminate(database_url, first)
        await asyncio.sleep(0.2)  # the server's goodbye reaches the driver
        second = await _backend_pid(engine)  # no error: a new connection
        assert second != first
    finally:
        await engine.dispose()

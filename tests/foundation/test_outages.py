"""Degrade, don't flood: with PostgreSQL or Temporal away the API answers 503
problem+json naming the dependency and logs once per interval with a count."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from marketred.app import create_app
from marketred.http.errors import install_error_handlers
from marketred.http.outages import OutageLog, dependency_away, install_outage_handlers
from marketred.settings import Settings
from marketred.store.migrate import upgrade
from marketred.workers import embedded_db
from tests.support.ports import free_port


def _operational() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))


def test_which_errors_mean_a_dependency_is_away() -> None:
    assert dependency_away(_operational()) == "database"
    assert dependency_away(sa_exc.TimeoutError("QueuePool limit reached")) == "database"
    assert dependency_away(RPCError("down", RPCStatusCode.UNAVAILABLE, b"")) == "temporal"
    wrapped = RuntimeError("while accepting")
    wrapped.__cause__ = RPCError("down", RPCStatusCode.UNAVAILABLE, b"")
    assert dependency_away(wrapped) == "temporal"
    # Real bugs and business answers stay what they are.
    assert dependency_away(RPCError("gone", RPCStatusCode.NOT_FOUND, b"")) is None
    assert dependency_away(ValueError("bug")) is None
    assert dependency_away(ConnectionRefusedError("not from the driver")) is None


def test_a_database_still_starting_up_is_away_not_a_bug() -> None:
    # Found by bench/faults.py: right after PostgreSQL restarts it refuses connections
    # with 57P03 while it replays its WAL; SQLAlchemy wraps that in a bare DBAPIError,
    # which the API answered with a 500 and a traceback.
    starting = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    wrapped = sa_exc.DBAPIError("SELECT 1", {}, Exception("translated"))
    wrapped.__cause__ = starting
    assert dependency_away(wrapped) == "database"
    shutting = asyncpg.exceptions.AdminShutdownError("terminating connection")
    assert dependency_away(shutting) == "database"
    # PostgreSQL killed while the pool opened a connection: asyncpg's own error, not
    # wrapped by SQLAlchemy (found by bench/faults.py: the API answered 500, not 503).
    closed = asyncpg.exceptions.InterfaceError("connection is closed")
    assert dependency_away(closed) == "database"
    # Other database errors are not outages.
    bad = sa_exc.DBAPIError("SELECT x", {}, Exception("translated"))
    bad.__cause__ = asyncpg.exceptions.UndefinedColumnError("column x does not exist")
    assert dependency_away(bad) is None


async def test_an_update_temporal_did_not_answer_in_time_is_a_503_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Found by bench/faults.py (N=300, storm, load average 25): Temporal, restarting and
    # overloaded, let "ship"/"accept" updates run past their RPC deadline; the SDK raises
    # WorkflowUpdateRPCTimeoutOrCancelledError (not an RPCError), which was a 500 with its
    # traceback logged twice. Retrying is safe: the update id comes from the request key.
    app = FastAPI()
    install_error_handlers(app)
    install_outage_handlers(app)

    @app.post("/ship")
    async def ship() -> None:
        try:
            raise RPCError("context deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")
        except RPCError as err:
            raise WorkflowUpdateRPCTimeoutOrCancelledError() from err

    @app.post("/cancelled")
    async def cancelled() -> None:
        raise WorkflowUpdateRPCTimeoutOrCancelledError()

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        answers = [await client.post(path) for path in ("/ship", "/cancelled")]
    for r in answers:
        assert r.status_code == 503
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "urn:marketred:unavailable:temporal"
        assert r.headers["retry-after"] == "5"
    assert "Traceback" not in caplog.text


def test_one_line_per_interval_with_the_count() -> None:
    now = [0.0]
    lines: list[dict[str, Any]] = []
    outages = OutageLog(
        interval=10, clock=lambda: now[0], emit=lambda _event, **kw: lines.append(kw)
    )
    for _ in range(250):
        outages.refused("database", _operational())
        now[0] += 0.02  # 250 refusals in 5 s
    assert len(lines) == 1
    assert lines[0]["refused"] == 1
    assert lines[0]["dependency"] == "database"
    now[0] = 10.5
    outages.refused("database", _operational())
    assert len(lines) == 2
    assert lines[1]["refused"] == 250  # 249 silent ones and this one
    outages.refused("temporal", RPCError("down", RPCStatusCode.UNAVAILABLE, b""))
    assert len(lines) == 3  # another dependency has its own count


@pytest.mark.e2e
def test_api_answers_503_while_postgres_is_killed_and_recovers_when_it_is_back() -> None:
    folder = Path(tempfile.mkdtemp(prefix="marketred-outage-"))
    pg = embedded_db.foreground_postgres(folder / "pgdata")
    server = subprocess.Popen(
        pg.args, user=pg.user, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        asyncio.run(embedded_db.wait_ready(pg.admin_url, 60))
        url = embedded_db.ensure_database_sync(pg.admin_url, "outage")
        upgrade(url)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            env="test",
            database_url=url,
            home=folder / "home",
            temporal_address=f"127.0.0.1:{free_port()}",
            log_json=False,
            log_level="WARNING",
        )
        app = create_app(settings)
        lines: list[dict[str, Any]] = []
        app.state.outages.emit = lambda event, **kw: lines.append({"event": event, **kw})

        async def scenario() -> None:
            nonlocal server
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://api") as api,
            ):
                path = "/api/v1/vendors/nadie/products"
                assert (await api.get(path)).status_code == 404  # the database answers

                server.send_signal(signal.SIGKILL)
                server.wait()
                answers = await asyncio.gather(*(api.get(path) for _ in range(40)))
                assert {r.status_code for r in answers} == {503}
                body = answers[0].json()
                assert answers[0].headers["content-type"] == "application/problem+json"
                assert body["type"] == "urn:marketred:unavailable:database"
                assert "database" in body["detail"]
                assert answers[0].headers["retry-after"] == "5"
                # A page answers in Spanish, not with problem+json, and counts the same.
                page = await api.get("/")
                assert page.status_code == 503
                assert page.headers["content-type"].startswith("text/html")
                assert "Servicio no disponible por un momento" in page.text
                assert page.headers["retry-after"] == "5"
                ready = await api.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["database"].startswith("unavailable")
                # 41 refused requests, one log line (the rest are counted for the next).
                assert [line["dependency"] for line in lines] == ["database"]

                server = subprocess.Popen(
                    pg.args, user=pg.user, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
                )
                await embedded_db.wait_ready(pg.admin_url, 60)
                assert (await api.get(path)).status_code == 404  # back without a restart

        asyncio.run(scenario())
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)  # fast shutdown
            server.wait(60)
        shutil.rmtree(folder, ignore_errors=True)

"""Degrade, don't flood: while PostgreSQL or Temporal is away, every request that needs it
gets a quick 503 problem+json (with Retry-After), and the log says so once per interval
with a count — not one traceback per request (two API replicas wrote ≈ 45 MB of them in
three minutes of a stopped database).

Which errors mean "a dependency is away" is decided here, in one place: connection
errors and pool timeouts of the database driver, and Temporal RPC failures that mean the
server was not reached. Any other error stays a 500 with its traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from marketred.http.errors import problem_response
from marketred.logs import get_logger

log = get_logger("marketred.outages")
RETRY_AFTER_S = 5
_NAMES = {"database": "the database", "temporal": "the workflow engine (Temporal)"}
_TEMPORAL_AWAY = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
}


def dependency_away(exc: BaseException) -> str | None:
    """'database' or 'temporal' when `exc` (or what it was raised from) says that
    dependency could not be reached; None for every other error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError):  # no pooled connection in time
            return "database"
        if isinstance(current, sa_exc.DBAPIError) and (
            current.connection_invalidated
            or isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError)
        ):
            return "database"
        # PostgreSQL's own words for "not now": connection exceptions (class 08) and
        # operator intervention (57P01-03: shutting down, crashed, still starting up —
        # what a restarted server answers while it replays its WAL).
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(("08", "57P")):
            return "database"
        if isinstance(current, RPCError) and current.status in _TEMPORAL_AWAY:
            return "temporal"
        # An update (or query) Temporal did not answer in time — a server restarting or
        # overloaded; the retried request carries the same update id, so it is safe.
        if isinstance(current, RPCTimeoutOrCancelledError):
            return "temporal"
        if isinstance(current, ConnectionError) and _from_driver(current):
            return "database"
        # asyncpg's own InterfaceError, unwrapped by SQLAlchemy, when PostgreSQL is killed
        # while the pool opens a connection ("connection is closed"); found by the fault
        # harness (a 500 the client does not retry, instead of a 503 it does).
        if isinstance(current, asyncpg.exceptions.InterfaceError) and "closed" in str(current):
            return "database"
        current = current.__cause__ or current.__context__
    return None


def _from_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("asyncpg", "sqlalchemy")):
            return True
        tb = tb.tb_next
    return False


@dataclass
class _Count:
    refused: int = 0
    logged_at: float | None = None


@dataclass
class OutageLog:
    """One warning per dependency per `interval` seconds, carrying how many requests were
    refused since the previous one."""

    interval: float = 10.0
    clock: Callable[[], float] = time.monotonic
    emit: Callable[..., Any] = field(default=lambda event, **kw: log.warning(event, **kw))
    _counts: dict[str, _Count] = field(default_factory=dict)

    def refused(self, dependency: str, error: BaseException) -> None:
        count = self._counts.setdefault(dependency, _Count())
        count.refused += 1
        now = self.clock()
        if count.logged_at is not None and now - count.logged_at < self.interval:
            return
        self.emit(
            f"{dependency} unavailable; answering 503",
            dependency=dependency,
            error=f"{type(error).__name__}: {str(error)[:200]}",
            refused=count.refused,
            per_seconds=self.interval,
        )
        count.refused = 0
        count.logged_at = now


def outage_log(app: FastAPI) -> OutageLog:
    """The app's one outage log (API errors and web pages count into the same)."""
    if not hasattr(app.state, "outages"):
        app.state.outages = OutageLog()
    found: OutageLog = app.state.outages
    return found


def install_outage_handlers(app: FastAPI) -> None:
    outages = outage_log(app)

    async def _answer(request: Request, exc: Exception) -> JSONResponse:
        dependency = dependency_away(exc)
        if dependency is None:
            log.error(
                "unhandled error", path=request.url.path, error=type(exc).__name__, exc_info=exc
            )
            return problem_response(
                500, "Internal server error", "something went wrong on our side"
            )
        outages.refused(dependency, exc)
        return problem_response(
            503,
            "Service unavailable",
            f"{_NAMES[dependency]} is not reachable right now; try again shortly",
            type_=f"urn:marketred:unavailable:{dependency}",
            headers={"Retry-After": str(RETRY_AFTER_S)},
            instance=request.url.path,
        )

    # Specific classes are answered by Starlette's ExceptionMiddleware, which does not
    # re-raise (the catch-all Exception handler's error is re-raised to the server,
    # which logs its traceback once more).
    for cls in (
        sa_exc.DBAPIError,
        sa_exc.TimeoutError,
        RPCError,
        RPCTimeoutOrCancelledError,
        ConnectionError,
    ):
        app.add_exception_handler(cls, _answer)

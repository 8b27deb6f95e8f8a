"""Record a quote activity that keeps failing in `quotes.last_error`, and clear it once the
step succeeds (services/quotes/step_errors.py says why). Best effort: if the database is
what fails, nothing can be written, and the activity's own error goes on unchanged."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from marketred.activities.quotes import CLEAR_THEIR_OWN_ERROR
from marketred.logs import get_logger
from marketred.schemas.quotes import quote_id_of
from marketred.services.quotes import step_errors as quotes_step_errors

log = get_logger(__name__)
# A first failure is often a blip that the next attempt (a second later) fixes.
RECORD_FROM_ATTEMPT = 2


# Failures that are how a step waits, not errors: a poll that asks again by failing
# (Khipu's payment still pending).
WAITING_TYPES = frozenset({"PaymentPending"})


def _retried(error: Exception) -> bool:
    """Temporal will run the step again because it failed (not a business refusal, a
    cancel, or a poll's "not yet")."""
    if isinstance(error, CancelledError):
        return False
    if isinstance(error, ApplicationError):
        return not error.non_retryable and error.type not in WAITING_TYPES
    return True


class _Inbound(ActivityInboundInterceptor):
    def __init__(
        self,
        next: ActivityInboundInterceptor,  # noqa: A002
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        super().__init__(next)
        self._sessions = sessions

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:  # noqa: A002
        info = activity.info()
        quote_id = None
        if info.workflow_type == "QuoteWorkflow" and info.workflow_id:
            quote_id = quote_id_of(info.workflow_id)
        if quote_id is None:
            return await super().execute_activity(input)
        try:
            result = await super().execute_activity(input)
        except Exception as exc:
            if _retried(exc) and info.attempt >= RECORD_FROM_ATTEMPT:
                message = quotes_step_errors.describe(info.activity_type, exc, info.attempt)
                await self._write(quote_id, message)
            raise
        # Any success clears this step's error: a pre-0.2.0 run retries in "rounds",
        # each starting again at attempt 1. The projection steps clear it themselves, in
        # their own transaction (one fewer per transition).
        if info.activity_type not in CLEAR_THEIR_OWN_ERROR:
            await self._write(quote_id, None, clear=info.activity_type)
        return result

    async def _write(self, quote_id: uuid.UUID, message: str | None, *, clear: str = "") -> None:
        try:
            async with self._sessions() as session:
                # One statement: autocommit spares the BEGIN and COMMIT round trips
                # (this runs after every successful non-projection quote activity).
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                if message is not None:
                    await quotes_step_errors.record(session, quote_id, message)
                else:
                    await quotes_step_errors.clear(session, quote_id, clear)
                await session.commit()
        except Exception as exc:  # the database may be what fails
            log.warning("cannot record the step's error", error=str(exc))


class StepErrors(Interceptor):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def intercept_activity(
        self,
        next: ActivityInboundInterceptor,  # noqa: A002
    ) -> ActivityInboundInterceptor:
        return _Inbound(next, self._sessions)

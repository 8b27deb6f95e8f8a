"""A quote's step that keeps failing, written where the console looks (`quotes.last_error`).

Activities retry inside Temporal; the attempts leave nothing in the workflow's history
and the workflow cannot write to the database while its step is the thing failing. So
the worker records the failure itself (workers/step_errors.py) after the second failed
attempt of a quote activity, and clears it when that step succeeds. "Atascadas" lists
quotes with a `last_error`; the projection overwrites it with the workflow's own state
at the next transition.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.repositories import quotes as repo

MAX_LENGTH = 500


def describe(activity: str, error: BaseException, attempt: int) -> str:
    message = str(error) or type(error).__name__
    return f"{activity}: {message} (attempt {attempt})"[:MAX_LENGTH]


async def record(session: AsyncSession, quote_id: uuid.UUID, message: str) -> None:
    await repo.set_last_error(session, quote_id, message)


async def clear(session: AsyncSession, quote_id: uuid.UUID, activity: str) -> None:
    """Only this step's error: another step may still be failing."""
    await repo.clear_last_error(session, quote_id, f"{activity}: ")

"""One way for a POST that changes a workflow to honour `Idempotency-Key` (docs/api.md).

The first request stores its answer; a replay with the same key answers that stored
response without doing anything. The work receives a key scoped to the caller (None
without a header), from which the service derives the Temporal update id
(`idempotency.update_id`): even two copies racing past the stored answer are one update,
which the workflow runs once and answers both."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services import idempotency

Out = TypeVar("Out", bound=BaseModel)


async def once(
    session: AsyncSession,
    user_id: uuid.UUID,
    scope: str,
    key: str | None,
    body: BaseModel | None,
    work: Callable[[str | None], Awaitable[Out]],
    *,
    status: int = 200,
) -> Out | JSONResponse:
    record = None
    if key:
        payload = body.model_dump(mode="json") if body else {}
        started = await idempotency.begin(session, user_id, scope, key, payload)
        if isinstance(started, idempotency.StoredResponse):
            return JSONResponse(started.body, status_code=started.status)
        record = started
    out = await work(f"{user_id}:{record.key}" if record else None)
    if record is not None:
        await idempotency.complete(session, record, status, out.model_dump(mode="json"))
    return out

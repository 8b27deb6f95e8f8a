"""One way for a POST to honour `Idempotency-Key` (docs/api.md): the `Idempotent`
dependency.

It binds the request's key to the caller and to the request (`POST /api/v1/quotes/<id>/accept`
is the scope), so a handler only says what its work is:

    async def accept_quote(..., idem: Idempotent) -> QuoteOut | JSONResponse:
        return await idem.run(body, lambda k: quotes.accept_quote(..., key=k))

The first request stores its answer (begin → work → complete, in the request's
transaction); a replay with the same key answers that stored response without doing
anything. The work receives a key scoped to the caller (None without a header), from
which the service derives the Temporal update id (`idempotency.update_id`): even two
copies racing past the stored answer are one update, which the workflow runs once and
answers both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.http.deps import CurrentPrincipal, SessionDep
from marketred.services.operations import idempotency

Out = TypeVar("Out", bound=BaseModel)


class IdempotentRequest:
    """The caller's `Idempotency-Key` for this request (absent: the work simply runs)."""

    def __init__(self, session: AsyncSession, principal: CurrentPrincipal, scope: str,
                 key: str | None) -> None:  # fmt: skip
        self._session = session
        self._user_id = principal.user_id
        self.scope = scope
        self.key = key

    def scoped_key(self) -> str | None:
        """The key scoped to the caller, for work that is idempotent by itself (a workflow
        id made of it); None without a header."""
        if self.key is None:
            return None
        return f"{self._user_id}:{idempotency.validate_key(self.key)}"

    async def run(
        self,
        body: BaseModel | None,
        work: Callable[[str | None], Awaitable[Out]],
        *,
        status: int = 200,
        resource_id: Callable[[Out], str] | None = None,
    ) -> Out | JSONResponse:
        """`work` once per key: its answer is stored, a replay gets the stored answer."""
        if self.key is None:
            return await work(None)
        payload = body.model_dump(mode="json") if body else {}
        started = await idempotency.begin(
            self._session, self._user_id, self.scope, self.key, payload
        )
        if isinstance(started, idempotency.StoredResponse):
            return JSONResponse(started.body, status_code=started.status)
        out = await work(f"{self._user_id}:{started.key}")
        await idempotency.complete(
            self._session,
            started,
            status,
            out.model_dump(mode="json"),
            resource_id(out) if resource_id else None,
        )
        return out


def idempotent_request(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None,
) -> IdempotentRequest:
    return IdempotentRequest(session, principal, f"{request.method} {request.url.path}", key)


Idempotent = Annotated[IdempotentRequest, Depends(idempotent_request)]

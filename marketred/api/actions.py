"""Action routes as declarations: `POST <prefix>/{<id>}/<action>`, honouring an
`Idempotency-Key` (api/idempotent.py), answering the resource's view.

Every quote update (accept, reject, ship, refund, …) and every payout decision has the
same handler: the target's id from the path, an optional JSON body, the caller, the
session and Temporal, and `idem.run(body, work)`. `add_action` writes that handler once
and registers it under the route's own name and docstring, so the OpenAPI operation
(operationId, summary, description, request body, response) is what a hand-written
handler with those parameters would give:

    add_action(router, "/{quote_id}/accept", "accept_quote", work,
               principal=CurrentPrincipal, response_model=QuoteOut, body=AcceptQuote)

(each router wraps this in its own one-line form, e.g. `_action("accept", …)` in
routers/quotes.py). The work receives an `ActionCall` (what the request carried) and the
caller-scoped key (None without a header), from which the service derives the Temporal
update id."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from marketred.api.idempotent import Idempotent, IdempotentRequest
from marketred.http.deps import SessionDep, TemporalDep
from marketred.schemas.accounts import Principal

Out = TypeVar("Out", bound=BaseModel)
Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True)
class ActionCall:
    """One action request: the target's id (from the path), its body (None when the
    route takes none), the caller, and the request's session and Temporal client."""

    target_id: uuid.UUID
    body: Any
    principal: Principal
    session: AsyncSession
    temporal: Client


Work = Callable[[ActionCall, str | None], Awaitable[Out]]


@dataclass(frozen=True)
class OptionalBody(Generic[Body]):
    """A body the client may leave out; the action then gets `model()` (its defaults)."""

    model: type[Body]


def add_action(
    router: APIRouter,
    path: str,
    name: str,
    work: Work[Out],
    *,
    principal: Any,
    response_model: type[Out],
    body: type[BaseModel] | OptionalBody[Any] | None = None,
    doc: str | None = None,
) -> Callable[..., Awaitable[Out | JSONResponse]]:
    """Register `POST path` as the action `name` (its operation's name; `doc` its
    description). `path` ends in `/{<id>}/<action>`; `principal` is the caller's
    dependency type (it decides who may call, with the route's policy)."""
    id_name = path.rsplit("{", 1)[1].split("}", 1)[0]
    optional = body if isinstance(body, OptionalBody) else None

    async def endpoint(**kwargs: Any) -> Out | JSONResponse:
        payload: BaseModel | None = kwargs.get("body")
        if optional is not None and payload is None:
            payload = optional.model()
        idem: IdempotentRequest = kwargs["idem"]
        call = ActionCall(
            target_id=kwargs[id_name],
            body=payload,
            principal=kwargs["principal"],
            session=kwargs["session"],
            temporal=kwargs["temporal"],
        )
        return await idem.run(payload, lambda key: work(call, key))

    def param(param_name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
        return inspect.Parameter(
            param_name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
        )

    params = [param(id_name, uuid.UUID)]
    if isinstance(body, type):
        params.append(param("body", body))
    params += [
        param("principal", principal),
        param("session", SessionDep),
        param("temporal", TemporalDep),
        param("idem", Idempotent),
    ]
    if optional is not None:  # a body with a default stands last, as Python wants it
        params.append(param("body", optional.model | None, None))
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        params, return_annotation=response_model | JSONResponse
    )
    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = doc
    router.add_api_route(path, endpoint, methods=["POST"], response_model=response_model, name=name)
    return endpoint

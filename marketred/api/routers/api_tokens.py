"""Personal API tokens: create (the token is in the answer, once), list, revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from marketred.http.deps import CurrentPrincipal, SessionDep, VendorOrOperator
from marketred.schemas.accounts import ApiTokenCreate, ApiTokenCreated, ApiTokenOut
from marketred.schemas.common import Page
from marketred.services.accounts import api_tokens

router = APIRouter(prefix="/api/v1/auth/tokens", tags=["auth"])


@router.post("", status_code=201)
async def create_api_token(
    body: ApiTokenCreate, principal: VendorOrOperator, session: SessionDep
) -> ApiTokenCreated:
    raw, token = await api_tokens.create(
        session, principal, body.name, expires_in_days=body.expires_in_days
    )
    return ApiTokenCreated(
        token=raw, **ApiTokenOut.model_validate(token, from_attributes=True).model_dump()
    )


@router.get("")
async def list_api_tokens(principal: CurrentPrincipal, session: SessionDep) -> Page[ApiTokenOut]:
    rows = await api_tokens.list_live(session, principal)
    items = [ApiTokenOut.model_validate(t, from_attributes=True) for t in rows]
    return Page[ApiTokenOut](items=items, total=len(items))


@router.delete("/{token_id}", status_code=204)
async def revoke_api_token(
    token_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    await api_tokens.revoke(session, principal, token_id)
    return Response(status_code=204)

"""Buyer registration, password → bearer token, and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from marketred.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from marketred.schemas.accounts import RegisterBuyer, TokenOut, UserOut
from marketred.services import accounts, tokens

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/register", status_code=201)
async def register(body: RegisterBuyer, session: SessionDep) -> UserOut:
    user = await accounts.register_buyer(session, body)
    return await accounts.to_user_out(session, user)


@router.post("/token")
async def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(min_length=1, max_length=320)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
) -> TokenOut:
    user = await accounts.authenticate(session, username, password)
    token = tokens.issue_access_token(settings.secret_key, user.id, settings.access_token_minutes)
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)


@router.get("/me")
async def me(principal: CurrentPrincipal, session: SessionDep) -> UserOut:
    user = await accounts.get_active_user(session, principal.user_id)
    return await accounts.to_user_out(session, user)

"""Request dependencies: settings, a transaction-owning session, Temporal, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from marketred.http.resources import Resources
from marketred.schemas.accounts import Principal
from marketred.services.accounts import api_tokens, tokens
from marketred.services.accounts import credentials as credentials_service
from marketred.services.accounts import users as accounts
from marketred.services.errors import DomainError, Forbidden, Unauthorized, Unavailable
from marketred.settings import Settings
from marketred.store.session import transaction


def get_resources(request: Request) -> Resources:
    res: Resources = request.app.state.resources
    return res


def get_settings(request: Request) -> Settings:
    return get_resources(request).settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, owned here: committed when the handler returns (then
    its after-commit hooks run, store/session.py), else rolled back (a refusal after
    keep_when_refused() is committed). Handlers and services do not commit
    (docs/architecture.md lists the few exceptions, and why)."""
    async with transaction(get_resources(request).sessions, refusals=(DomainError,)) as session:
        yield session


async def get_temporal(request: Request) -> Client:
    try:
        return await get_resources(request).temporal.get()
    except Exception as exc:
        raise Unavailable(
            "the workflow engine is not reachable; try again shortly", code="WORKFLOW_UNAVAILABLE"
        ) from exc


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent, so a client that follows a 303 or
# reads right after a 201 sees the write (a request-scoped yield dependency would only
# commit after the response went out).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
TemporalDep = Annotated[Client, Depends(get_temporal)]

_bearer = HTTPBearer(auto_error=False)


async def get_optional_principal(
    settings: SettingsDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    raw = credentials.credentials
    if api_tokens.looks_like_personal_token(raw):
        user = await api_tokens.authenticate(session, raw)
        return accounts.principal_of(user).model_copy(update={"via_personal_token": True})
    token = tokens.read_access_token(settings.secret_key, raw)
    user = await accounts.get_active_user(session, token.user_id)
    credentials_service.check_access_token(user, token)
    return accounts.principal_of(user)


async def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized(
            "sign in first: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def client_ip(request: Request) -> str | None:
    """The caller's address (uvicorn --proxy-headers resolves X-Forwarded-For behind a LB)."""
    return request.client.host if request.client else None


ClientIP = Annotated[str | None, Depends(client_ip)]


def _require(*roles: str):  # type: ignore[no-untyped-def]
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this action is for {' or '.join(roles)} accounts")
        return principal

    return dependency


BuyerPrincipal = Annotated[Principal, Depends(_require("buyer"))]
VendorPrincipal = Annotated[Principal, Depends(_require("vendor"))]
OperatorPrincipal = Annotated[Principal, Depends(_require("operator"))]
VendorOrOperator = Annotated[Principal, Depends(_require("vendor", "operator"))]
BuyerOrOperator = Annotated[Principal, Depends(_require("buyer", "operator"))]

"""Starting and ending a browser session (used by the sign-in pages and the OIDC callback)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from marketred.services.accounts import oidc, sessions
from marketred.web.security.cookies import (
    SESSION_COOKIE,
    clear_cookie,
    read_session_id,
    set_cookie,
    settings_of,
)

if TYPE_CHECKING:
    from marketred.store.models import User

OIDC_COOKIE = "mr_oidc"
OIDC_COOKIE_MAX_AGE = 600
LANDING = {"buyer": "/", "vendor": "/vendedor", "operator": "/operador"}


def is_local_path(target: str | None) -> bool:
    """Same-site paths only (no //host, no backslashes or control characters that
    browsers would fold into one): `next` must not become an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    return "\\" not in target and all(ord(c) > 0x20 for c in target)


def landing_for(user: User, next_url: str | None) -> str:
    return next_url if next_url and is_local_path(next_url) else LANDING.get(user.role, "/")


async def sign_in(
    request: Request, db: AsyncSession, user: User, *, method: str, next_url: str | None
) -> RedirectResponse:
    """A fresh session (any id the browser brought is revoked first) and a 303 onwards."""
    raw, _ = await sessions.start_session(
        db, user, method=method, replacing=read_session_id(request)
    )
    response = RedirectResponse(landing_for(user, next_url), status_code=303)
    settings = settings_of(request)
    set_cookie(
        response,
        settings,
        SESSION_COOKIE,
        raw,
        max_age=int(sessions.ABSOLUTE_TIMEOUT.total_seconds()),
    )
    return response


async def sign_out(request: Request, db: AsyncSession, response: Response) -> None:
    raw = read_session_id(request)
    if raw:
        await sessions.end_session(db, raw)
    clear_cookie(response, settings_of(request), SESSION_COOKIE)


def _oidc_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings_of(request).secret_key, salt="marketred.oidc")


def remember_pending(request: Request, response: Response, pending: oidc.PendingLogin) -> None:
    value = _oidc_serializer(request).dumps(
        [pending.state, pending.nonce, pending.code_verifier, pending.next_url]
    )
    response.set_cookie(
        OIDC_COOKIE,
        value,
        max_age=OIDC_COOKIE_MAX_AGE,
        path="/auth/oidc/",
        httponly=True,
        samesite="lax",
        secure=settings_of(request).secure_cookies,
    )


def recall_pending(request: Request) -> oidc.PendingLogin | None:
    cookie = request.cookies.get(OIDC_COOKIE)
    if not cookie:
        return None
    try:
        state, nonce, verifier, next_url = _oidc_serializer(request).loads(
            cookie, max_age=OIDC_COOKIE_MAX_AGE
        )
    except (BadSignature, ValueError):
        return None
    return oidc.PendingLogin(
        state=str(state), nonce=str(nonce), code_verifier=str(verifier), next_url=str(next_url)
    )


def forget_pending(request: Request, response: Response) -> None:
    response.delete_cookie(
        OIDC_COOKIE,
        path="/auth/oidc/",
        httponly=True,
        samesite="lax",
        secure=settings_of(request).secure_cookies,
    )

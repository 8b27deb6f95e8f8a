"""The two browser cookies: the signed session id and the anonymous CSRF seed."""

from __future__ import annotations

from itsdangerous import BadSignature, Signer
from starlette.requests import Request
from starlette.responses import Response

from marketred.settings import Settings

SESSION_COOKIE = "mr_session"
# Anonymous visitors have no session record; their forms (sign in, sign up) are bound to
# this random, signed cookie instead.
ANON_COOKIE = "mr_anon"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.resources.settings
    return settings


def _signer(settings: Settings, purpose: str) -> Signer:
    return Signer(settings.secret_key, salt=f"marketred.cookie.{purpose}")


def sign(settings: Settings, purpose: str, value: str) -> str:
    return _signer(settings, purpose).sign(value).decode()


def unsign(settings: Settings, purpose: str, cookie: str | None) -> str | None:
    if not cookie:
        return None
    try:
        return _signer(settings, purpose).unsign(cookie).decode()
    except BadSignature:
        return None


def read_session_id(request: Request) -> str | None:
    return unsign(settings_of(request), SESSION_COOKIE, request.cookies.get(SESSION_COOKIE))


def set_cookie(
    response: Response, settings: Settings, name: str, raw: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        sign(settings, name, raw),
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )

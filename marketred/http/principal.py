"""Who is behind a browser request.

The security middleware resolves the session cookie once per request (see
middleware.py) and leaves the result on `request.state`; these dependencies read it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from marketred.schemas.accounts import Principal
from marketred.services.accounts.sessions import LiveSession
from marketred.services.errors import Forbidden

LOGIN_PATH = "/ingresar"


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a 303 to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def live_session(request: Request) -> LiveSession | None:
    live: LiveSession | None = getattr(request.state, "web_session", None)
    return live


def get_web_principal(request: Request) -> Principal | None:
    principal: Principal | None = getattr(request.state, "web_principal", None)
    return principal


def login_url(next_url: str) -> str:
    return f"{LOGIN_PATH}?next={quote(next_url, safe='/')}"


def _next_of(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def require_web_principal(request: Request) -> Principal:
    principal = get_web_principal(request)
    if principal is None:
        raise LoginRequired(_next_of(request))
    return principal


def require_web_role(*roles: str):  # type: ignore[no-untyped-def]
    """A page dependency: signed in (else redirect to sign in) with one of `roles` (else 403)."""

    def dependency(request: Request) -> Principal:
        principal = require_web_principal(request)
        if principal.role not in roles:
            raise Forbidden(f"esta página es para cuentas de tipo {' o '.join(roles)}")
        return principal

    return dependency


OptionalWebPrincipal = Annotated[Principal | None, Depends(get_web_principal)]
WebPrincipal = Annotated[Principal, Depends(require_web_principal)]
WebBuyer = Annotated[Principal, Depends(require_web_role("buyer"))]
WebVendor = Annotated[Principal, Depends(require_web_role("vendor"))]
WebOperator = Annotated[Principal, Depends(require_web_role("operator"))]
WebVendorOrOperator = Annotated[Principal, Depends(require_web_role("vendor", "operator"))]
WebBuyerOrOperator = Annotated[Principal, Depends(require_web_role("buyer", "operator"))]

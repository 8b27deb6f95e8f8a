"""Web security core: sessions, CSRF, page guards and security headers.

Pages use:
- `OptionalWebPrincipal` / `WebPrincipal` / `WebBuyer` / `WebVendor` / `WebOperator`
  (Annotated dependencies; the non-optional ones redirect to /ingresar?next=...),
- `Depends(verify_csrf)` on every POST route (form field `csrf_token`),
- `csrf_token(request)` in templates (installed as a Jinja global by `install_templates`).
`install_web_security(app)` (called by create_app) adds the middleware and the
sign-in redirect.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from marketred.http.principal import (
    LOGIN_PATH,
    LoginRequired,
    OptionalWebPrincipal,
    WebBuyer,
    WebBuyerOrOperator,
    WebOperator,
    WebPrincipal,
    WebVendor,
    WebVendorOrOperator,
    get_web_principal,
    login_url,
    require_web_principal,
    require_web_role,
)
from marketred.web.security.csrf import CSRF_FIELD, csrf_token, verify_csrf
from marketred.web.security.middleware import WebSecurity


async def _to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
    del request
    return RedirectResponse(login_url(exc.next_url), status_code=303)


def install_web_security(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    app.add_middleware(WebSecurity)


def install_templates(env: Any) -> None:
    """Make `csrf_token(request)` and `current_user(request)` available in Jinja templates."""
    env.globals["csrf_token"] = csrf_token
    env.globals["current_user"] = get_web_principal
    env.globals["CSRF_FIELD"] = CSRF_FIELD


__all__ = [
    "CSRF_FIELD",
    "LOGIN_PATH",
    "LoginRequired",
    "OptionalWebPrincipal",
    "WebBuyer",
    "WebBuyerOrOperator",
    "WebOperator",
    "WebPrincipal",
    "WebVendor",
    "WebVendorOrOperator",
    "csrf_token",
    "get_web_principal",
    "install_templates",
    "install_web_security",
    "login_url",
    "require_web_principal",
    "require_web_role",
    "verify_csrf",
]

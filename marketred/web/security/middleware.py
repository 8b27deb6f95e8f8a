"""Browser-facing middleware: resolve the session cookie once, add security headers.

The session is read in its own short transaction before the handler runs, so pages,
forms and templates (csrf_token) all see the same signed-in person. API, webhook and
embed paths never look at cookies: the API authenticates with bearer tokens only,
which is what keeps it safe from cross-site requests.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from marketred.http.asgi import HttpMiddleware
from marketred.services.accounts import sessions
from marketred.services.accounts import users as accounts
from marketred.settings import Settings
from marketred.web.security.cookies import (
    ANON_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    read_session_id,
    set_cookie,
    settings_of,
)

COOKIELESS_PREFIXES = (
    "/api/",
    "/webhooks/",
    "/embed/",
    "/static/",
    "/healthz",
    "/readyz",
    "/metrics",
)
EMBED_PREFIX = "/embed/v1/"
DOCS_PATHS = ("/api/docs", "/api/redoc")

_CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; object-src 'none'; base-uri 'self'"
)
# Forms post to us; the pay button's answer redirects to Khipu, which form-action also
# governs (browsers apply it to the redirect), so Khipu's origins are listed.
KHIPU_FORM_TARGETS = "https://khipu.com https://*.khipu.com"


def _form_action(khipu_api_base: str) -> str:
    parts = urlsplit(khipu_api_base)
    sandbox = f" {parts.scheme}://{parts.netloc}" if parts.scheme == "http" else ""
    return f"form-action 'self' {KHIPU_FORM_TARGETS}{sandbox}"


# FastAPI's Swagger UI page is inline script + CDN assets; it carries no session.
_CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "frame-ancestors 'none'"
)


def uses_cookies(path: str) -> bool:
    return not path.startswith(COOKIELESS_PREFIXES)


async def _resolve_session(request: Request) -> bool:
    """Put the live session and principal on request.state; True if the cookie is stale."""
    request.state.web_session = None
    request.state.web_principal = None
    raw = read_session_id(request)
    if raw is None:
        return SESSION_COOKIE in request.cookies
    async with request.app.state.resources.sessions() as db:
        live = await sessions.load_session(db, raw)
        await db.commit()
    if live is None:
        return True
    request.state.web_session = live
    request.state.web_principal = accounts.principal_of(live.user)
    return False


def _security_headers(path: str, settings: Settings, headers: MutableHeaders) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if settings.secure_cookies:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if path.startswith(DOCS_PATHS):
        headers.setdefault("Content-Security-Policy", _CSP_DOCS)
        return
    if path.startswith(EMBED_PREFIX):
        ancestors = " ".join(settings.embed_origins) or "'none'"
        headers.setdefault("Content-Security-Policy", f"{_CSP_BASE}; frame-ancestors {ancestors}")
        return
    form_action = _form_action(settings.khipu_api_base)
    headers.setdefault(
        "Content-Security-Policy", f"{_CSP_BASE}; {form_action}; frame-ancestors 'none'"
    )
    headers.setdefault("X-Frame-Options", "DENY")


def _add_cookie_headers(headers: MutableHeaders, cookies: Response) -> None:
    for key, value in cookies.raw_headers:
        if key == b"set-cookie":
            headers.append("set-cookie", value.decode("latin-1"))


class WebSecurity(HttpMiddleware):
    """Resolves the session before the app runs; on the response's start message, adds
    the cookies the request asked for, clears a stale session cookie, and sets the
    security headers. Pure ASGI (not BaseHTTPMiddleware): no extra task or memory stream
    per request, and streamed bodies pass through as they come (http/asgi.py)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        path = request.url.path
        cookies_used = uses_cookies(path)
        stale = await _resolve_session(request) if cookies_used else False

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                settings = settings_of(request)
                cookies = Response()
                new_seed: str | None = getattr(request.state, "new_anon_seed", None)
                if new_seed is not None and cookies_used:  # embeds set no cookies
                    set_cookie(cookies, settings, ANON_COOKIE, new_seed, max_age=None)
                if stale and not any(
                    SESSION_COOKIE in value for value in headers.getlist("set-cookie")
                ):
                    clear_cookie(cookies, settings, SESSION_COOKIE)
                _add_cookie_headers(headers, cookies)
                if getattr(request.state, "web_session", None) is not None:
                    # Pages for a signed-in person must not be kept by shared caches or
                    # the back button.
                    headers.setdefault("Cache-Control", "no-store")
                _security_headers(path, settings, headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""CSRF: a per-session token in every state-changing form, plus an Origin/Referer check.

Signed-in visitors get HMAC(secret_key, the session's csrf secret); anonymous visitors
(sign-in and sign-up forms) get HMAC(secret_key, their anonymous cookie). A token from
another session or another browser therefore never matches.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from marketred.http.principal import live_session
from marketred.services.errors import Forbidden
from marketred.web.security.cookies import ANON_COOKIE, settings_of, unsign

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _mac(key: str, seed: str) -> str:
    return hmac.new(key.encode(), f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def _anon_seed(request: Request, *, create: bool) -> str | None:
    seed: str | None = getattr(request.state, "anon_seed", None)
    if seed is None:
        seed = unsign(settings_of(request), ANON_COOKIE, request.cookies.get(ANON_COOKIE))
    if seed is None and create:
        seed = secrets.token_urlsafe(24)
        request.state.new_anon_seed = seed  # the middleware sets the cookie
    if seed is not None:
        request.state.anon_seed = seed
    return seed


def csrf_token(request: Request) -> str:
    """The token to put in a form's hidden `csrf_token` field (templates call this)."""
    key = settings_of(request).secret_key
    live = live_session(request)
    if live is not None:
        return _mac(key, "s:" + live.record.csrf_secret)
    seed = _anon_seed(request, create=True)
    assert seed is not None
    return _mac(key, "a:" + seed)


def _expected_tokens(request: Request) -> list[str]:
    key = settings_of(request).secret_key
    live = live_session(request)
    if live is not None:
        return [_mac(key, "s:" + live.record.csrf_secret)]
    seed = _anon_seed(request, create=False)
    return [_mac(key, "a:" + seed)] if seed else []


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request) -> None:
    """A browser's Origin (or Referer) must be ours: our public URL or the host it asked."""
    sent = request.headers.get("origin")
    if sent is None or sent == "null":
        referer = request.headers.get("referer")
        sent = _origin_of(referer) if referer else sent
    if sent is None:
        return  # not a browser form post; the token alone decides
    allowed = {
        _origin_of(settings_of(request).public_url),
        f"{request.url.scheme}://{request.url.netloc}".lower(),
    }
    if sent.lower() not in allowed:
        raise Forbidden("la solicitud viene de otro sitio (Origin no permitido)")


async def verify_csrf(request: Request) -> None:
    """Dependency for every state-changing web route (form field or X-CSRF-Token header)."""
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not any(hmac.compare_digest(sent, t) for t in _expected_tokens(request)):
        raise Forbidden("el formulario expiró o no es válido; recarga la página e intenta de nuevo")

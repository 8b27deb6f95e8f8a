"""The one Jinja environment of the web UI and `render()`, which every page goes through.

Every template sees: `_`/`ngettext` (the request's language), `lang`, `languages`,
`csrf_token`, `principal` (who is signed in, or None), `request` and the filters below.
"""

from __future__ import annotations

import contextvars
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from marketred.web import formatting, i18n, service_messages

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _build_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        _=i18n.gettext,
        gettext=i18n.gettext,
        ngettext=i18n.ngettext,
        languages=i18n.LANGUAGES,
        # A fresh nonce per drawn form (macro `request_nonce`): posting it twice is the
        # same request key, hence the same workflow update.
        new_nonce=lambda: uuid.uuid4().hex,
    )
    env.filters.update(
        clp=formatting.clp,
        santiago=formatting.santiago,
        countdown=formatting.countdown,
        status_label=formatting.status_label,
        status_badge=formatting.status_badge,
        hold_label=formatting.hold_label,
        waiting_label=formatting.waiting_label,
        account_type_label=formatting.account_type_label,
        payout_item_label=formatting.payout_item_label,
        items_count=formatting.items_count,
        options_label=formatting.options_label,
        nl2br=formatting.nl2br,
        rut=formatting.rut,
        event_label=formatting.event_label,
        event_note=formatting.event_note,
        localize=service_messages.localize,
    )
    return env


env = _build_env()


class CsrfToken(str):
    """The form token; also callable, so `{{ csrf_token }}` and `{{ csrf_token(request) }}`
    (the security package's template style) both work."""

    def __call__(self, request: object = None) -> str:
        del request
        return str(self)


def _csrf(request: Request) -> CsrfToken:
    # Imported here: the security package may render auth pages through this module.
    from marketred.web.security.csrf import csrf_token

    return CsrfToken(csrf_token(request))


# The token of the page being rendered, for macros imported without context.
_render_csrf: contextvars.ContextVar[str] = contextvars.ContextVar("marketred_csrf", default="")


def current_csrf() -> str:
    return _render_csrf.get()


def _common(request: Request) -> dict[str, Any]:
    """Context every template gets, also when rendered through `templates` directly."""
    return {
        "lang": i18n.current_language(),
        "csrf_token": _csrf(request),
        "principal": getattr(request.state, "web_principal", None),
        "CSRF_FIELD": "csrf_token",
        "current_path": request.url.path,
        "current_query": request.url.query,
    }


# For pages outside this package (auth) that prefer Starlette's TemplateResponse.
templates = Jinja2Templates(env=env, context_processors=[_common])


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = i18n.use_language(i18n.request_language(request))
    try:
        data = {"request": request, **_common(request), **(context or {})}
        csrf_token = _render_csrf.set(str(data["csrf_token"]))
        try:
            html = env.get_template(name).render(data)
        finally:
            _render_csrf.reset(csrf_token)
    finally:
        i18n.reset_language(token)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def page_url(path: str, **params: Any) -> str:
    """`path?a=1&b=2` without empty values (pagination and filter links)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


env.globals["page_url"] = page_url
env.globals["current_csrf"] = current_csrf

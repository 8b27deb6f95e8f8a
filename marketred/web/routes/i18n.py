"""The language switch: remembers the choice in a cookie and goes back where it was."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse

from marketred.web.i18n import LANG_COOKIE, LANGUAGES
from marketred.web.routes.common import WebRoute, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/idioma")
async def switch_language(request: Request) -> RedirectResponse:
    lang = request.query_params.get("lang", "")
    chosen = lang if lang in LANGUAGES else "es"
    target = safe_next(request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        chosen,
        max_age=365 * 24 * 3600,
        path="/",
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response

"""The site theme: `/theme.css` (the storefront's CSS variables), `GET /api/v1/theme`
(the embed script reads it) and `PUT /api/v1/directory/theme` (the directory pushes its
look, signed like company updates)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from marketred.api.routers.directory import signed_path
from marketred.http.deps import SessionDep, SettingsDep
from marketred.integrations.directory import SIGNATURE_HEADER
from marketred.schemas.theme import ThemeIn
from marketred.services.directory import theme

router = APIRouter(tags=["theme"])
# Short: a pushed theme shows within a minute everywhere, with no version in the pages.
CACHE = "public, max-age=60"


@router.get("/theme.css", include_in_schema=False)
async def theme_css(request: Request, session: SessionDep) -> Response:
    current = await theme.current(session)
    etag = f'"{theme.version(current)}"'
    headers = {"Cache-Control": CACHE, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(theme.css(current), media_type="text/css; charset=utf-8", headers=headers)


@router.get("/api/v1/theme")
async def get_theme(session: SessionDep, response: Response) -> ThemeIn:
    response.headers["Cache-Control"] = CACHE
    return await theme.current(session)


@router.put(
    "/api/v1/directory/theme",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ThemeIn.model_json_schema()}},
        }
    },
)
async def put_theme(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> ThemeIn:
    """The directory's look: colours must pass WCAG AA against white (422 otherwise)."""
    body = await request.body()
    saved = await theme.push_from_directory(
        session,
        secret=settings.directory_secret,
        signature=signature,
        path=signed_path(request),
        body=body,
    )
    return saved

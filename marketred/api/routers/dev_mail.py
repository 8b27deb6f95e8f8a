"""`/dev/mail`: the mail the dev catcher caught (dev and test environments only)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from marketred.api.deps import SettingsDep
from marketred.sandbox.mailcatcher import list_caught
from marketred.services.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.get("/dev/mail")
async def caught_mail(settings: SettingsDep) -> HTMLResponse:
    if not settings.is_dev:
        raise NotFound("not found")
    mails = list_caught(settings.home / "mail")
    items = "\n".join(
        f"<article><h2>{escape(m.subject)}</h2>"
        f"<p><small>{m.received_at:%Y-%m-%d %H:%M:%S} UTC · de {escape(m.sender)} "
        f"· para {escape(m.to)}</small></p><pre>{escape(m.text)}</pre></article>"
        for m in mails
    )
    body = (
        "<!doctype html><html lang='es'><head><meta charset='utf-8'>"
        "<title>Correo de desarrollo</title></head><body>"
        f"<h1>Correo de desarrollo ({len(mails)})</h1>{items or '<p>Sin mensajes.</p>'}"
        "</body></html>"
    )
    return HTMLResponse(body)

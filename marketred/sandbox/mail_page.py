"""`/dev/mail`: the mail the dev catcher caught. Mounted by the app factory in the dev and
test environments only (`marketred/app.py`); production has no such route."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from marketred.sandbox.mailcatcher import list_caught


def mail_page_router(mail_dir: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/dev/mail", openapi_extra={"x-policy": "dev"})
    async def caught_mail() -> HTMLResponse:
        mails = list_caught(mail_dir)
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

    return router

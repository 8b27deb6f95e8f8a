"""Caps on request bodies, enforced before anything parses them.

FastAPI reads a multipart body completely (spooling files to disk) before the handler
runs, so a size check in the handler comes too late. This ASGI middleware answers 413
from the Content-Length header, or stops a chunked body once it passes the cap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from marketred.services.image_processing import MAX_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Photo uploads (API and back office): one file plus a short form.
PHOTO_UPLOAD = re.compile(
    r"^/((api/v1/vendor/products|vendedor/catalogo)/[^/]+/(images|fotos)|vendedor/ajustes/logo)$"
)
PHOTO_BODY_CAP = MAX_BYTES + 64 * 1024


class BodyTooLarge(Exception):
    pass


def cap_for(path: str) -> int | None:
    return PHOTO_BODY_CAP if PHOTO_UPLOAD.match(path) else None


class BodyCapMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap = cap_for(scope.get("path", "")) if scope["type"] == "http" else None
        if cap is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:
            await _too_large(send, cap)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await _too_large(send, cap)


async def _too_large(send: Send, cap: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Payload too large",
            "status": 413,
            "detail": f"the request body is larger than {cap // (1024 * 1024)} MB",
            "errors": [{"field": "file", "message": "too large"}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

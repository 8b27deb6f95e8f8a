"""Request body size caps, enforced before any handler reads the body.

Signed machine calls (Khipu's webhook, the directory's company sync) are small: their
body is read whole to check the signature, so an unauthenticated caller must not make
us buffer megabytes first. Everything else is capped at what the largest legitimate
upload needs (the catalog CSV, services/catalog/csv_reader.MAX_BYTES, plus form overhead).
A declared Content-Length over the cap is refused at once; a chunked body is counted as
it arrives and refused when it passes the cap (the app never sees more than the cap).
Either way: 413 problem+json. Photo uploads (API and back office) have their own, smaller
cap: one image plus a short form (services/catalog/image_processing.MAX_BYTES); FastAPI spools a
multipart body whole before the handler runs, so the handler's own check comes too late.
"""

from __future__ import annotations

import json
import re

from starlette.types import Message, Receive, Scope, Send

from marketred.http.asgi import HttpMiddleware
from marketred.services.catalog.image_processing import MAX_BYTES as IMAGE_MAX_BYTES

SIGNED_BODY_MAX = 256 * 1024
DEFAULT_BODY_MAX = 25 * 1024 * 1024
SIGNED_PREFIXES = ("/webhooks/", "/api/v1/directory/")
PHOTO_UPLOAD = re.compile(
    r"^/((api/v1/vendor/products|vendedor/catalogo)/[^/]+/(images|fotos)|vendedor/ajustes/logo)$"
)
PHOTO_BODY_MAX = IMAGE_MAX_BYTES + 64 * 1024


def limit_for(path: str) -> int:
    if PHOTO_UPLOAD.match(path):
        return PHOTO_BODY_MAX
    return SIGNED_BODY_MAX if path.startswith(SIGNED_PREFIXES) else DEFAULT_BODY_MAX


async def _refuse(send: Send, limit: int, path: str) -> None:
    problem: dict[str, object] = {
        "type": "about:blank",
        "title": "Payload Too Large",
        "status": 413,
        "detail": f"the request body is larger than {limit} bytes",
    }
    if PHOTO_UPLOAD.match(path):
        problem["errors"] = [{"field": "file", "message": "too large"}]
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = limit_for(scope["path"])
        headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit, scope["path"])
            return
        seen = 0
        too_large = False

        async def counting_receive() -> Message:
            # Past the cap the app gets an end of body (it reads no further) and whatever
            # it answers is replaced by the 413 below.
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await _refuse(send, limit, scope["path"])

        await self.app(scope, counting_receive, guarded_send)


__all__ = ["BodyLimit", "limit_for"]

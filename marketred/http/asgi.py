"""The shape of our pure ASGI middlewares.

Not Starlette's BaseHTTPMiddleware (`@app.middleware("http")`): that runs every
request's response through an extra task and memory stream, a measurable cost per
request. A pure ASGI middleware wraps `receive`/`send` instead, and lets every scope
that is not an HTTP request (lifespan, websocket) through untouched.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    """Acts on HTTP requests only (`handle`); any other scope goes straight to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError

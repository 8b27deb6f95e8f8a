"""CORS for the public catalog API only (design.md §6): the directory's pages call search
and catalog reads from the browser. Everything else (carts, vendor endpoints, auth) gets no
CORS headers, so a foreign page cannot drive it with the visitor's browser."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PUBLIC_PREFIXES = ("/api/v1/products", "/api/v1/vendors", "/api/v1/theme")


class PublicCatalogCORS:
    def __init__(self, app: ASGIApp, allow_origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=allow_origins,
            allow_methods=["GET"],
            allow_headers=["Accept", "Accept-Language", "Content-Language"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PUBLIC_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

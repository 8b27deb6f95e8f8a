"""CORS for the public catalog API (docs/directory.md, "Embed"): the directory's pages call search
and catalog reads from the browser; and for the codec endpoint, which the Temporal UI calls
with the operator's credentials. Everything else (carts, vendor endpoints, auth) gets no
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


CODEC_PREFIX = "/codec/"


class CodecCORS:
    """The Temporal UI (another origin) posts payloads to /codec/decode with the operator's
    session cookie or token; only that origin may read the answers."""

    def __init__(self, app: ASGIApp, temporal_ui_origin: str) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=[temporal_ui_origin],
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(CODEC_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

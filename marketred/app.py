"""The ASGI app factory: composes the request plumbing (`http/`), the REST API (`api/`),
the web pages (`web/`) and, in dev, the mail catcher's page. Settings are built by the
caller and passed in; the lifespan owns the engine, the Temporal connection and the one
shared httpx client. This is the one module that sees both `api` and `web`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from marketred import tracing
from marketred.api import install_api, middleware
from marketred.api.body_limit import BodyLimit
from marketred.api.cors import CodecCORS, PublicCatalogCORS
from marketred.api.route_policies import API_ROUTE_POLICIES
from marketred.api.routers.codec import origin_of as codec_origin
from marketred.http.errors import install_error_handlers
from marketred.http.outages import install_outage_handlers
from marketred.http.quote_starter import quote_start_sweep
from marketred.http.resources import Resources, build_resources
from marketred.logs import configure_logging
from marketred.sandbox.mail_page import mail_page_router
from marketred.services.accounts.authz import Policy
from marketred.settings import Settings
from marketred.web import install_web
from marketred.web.route_policies import WEB_ROUTE_POLICIES
from marketred.web.security import install_web_security


def create_app_from_environment() -> FastAPI:
    """uvicorn's factory when `marketred api` runs several processes
    (MARKETRED_API_WORKERS): each process reads the settings itself."""
    return create_app(Settings())


def create_app(settings: Settings, resources: Resources | None = None) -> FastAPI:
    """`resources` may be injected (tests); otherwise they are built at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = resources is None
        app.state.resources = resources or build_resources(settings)
        tracing.instrument_clients(app.state.resources.engine)
        try:
            async with quote_start_sweep(app.state.resources):
                yield
        finally:
            if owned:
                res: Resources = app.state.resources
                await res.http.aclose()
                await res.engine.dispose()
                if res.counters is not None:
                    await res.counters.dispose()

    configure_logging(settings)
    tracing.configure("api")
    app = FastAPI(
        title="MarketRed",
        version="1.0",
        lifespan=lifespan,
        # The interactive docs are for development; production publishes the OpenAPI
        # document (integrators need it) but no Swagger page.
        docs_url=None if settings.env == "production" else "/api/docs",
        redoc_url=None if settings.env == "production" else "/redoc",
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    if resources is not None:
        app.state.resources = resources
    install_error_handlers(app)
    install_outage_handlers(app)
    app.add_middleware(middleware.RequestContext)
    install_web_security(app)
    install_api(app)
    install_web(app)
    app.add_middleware(PublicCatalogCORS, allow_origins=list(settings.embed_origins))
    if settings.is_dev:
        app.include_router(mail_page_router(settings.home / "mail"))
    tracing.instrument_app(app)
    app.add_middleware(CodecCORS, temporal_ui_origin=codec_origin(settings.temporal_ui_url))
    app.add_middleware(BodyLimit)  # outermost: before anything reads a body
    return app


# The routes FastAPI itself adds (the OpenAPI document and, outside production, its pages).
_APP_ROUTE_POLICIES: dict[tuple[str, str], Policy] = {
    ("GET", path): "public"
    for path in ("/api/openapi.json", "/api/docs", "/docs/oauth2-redirect", "/redoc")
}


def route_policy(method: str, path: str, openapi_extra: dict[str, object] | None) -> Policy | None:
    """The policy a route declares: its own `x-policy`, else the table beside its router."""
    declared = (openapi_extra or {}).get("x-policy")
    if isinstance(declared, str):
        return declared  # type: ignore[return-value]
    key = (method, path)
    return (
        API_ROUTE_POLICIES.get(key) or WEB_ROUTE_POLICIES.get(key) or _APP_ROUTE_POLICIES.get(key)
    )

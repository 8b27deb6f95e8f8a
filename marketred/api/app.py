"""App factory. Settings are built by the caller and passed in; the lifespan owns the
engine, the Temporal connection and the one shared httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from marketred import tracing
from marketred.api import middleware
from marketred.api.body_limit import BodyLimit
from marketred.api.cors import CodecCORS, PublicCatalogCORS
from marketred.api.errors import install_error_handlers
from marketred.api.outages import install_outage_handlers
from marketred.api.quote_starter import quote_start_sweep
from marketred.api.resources import Resources, TemporalHandle
from marketred.api.routers import (
    api_tokens,
    auth,
    carts,
    codec,
    dev_mail,
    directory,
    embed,
    health,
    khipu_webhook,
    media,
    payouts,
    privacy,
    products,
    quotes,
    theme,
    vendor_bank_account,
    vendor_catalog,
    vendors,
)
from marketred.integrations import temporal
from marketred.logs import configure_logging
from marketred.settings import Settings
from marketred.store.session import create_engine, create_session_factory
from marketred.web import install_web
from marketred.web.routes import auth_pages
from marketred.web.security import install_web_security


def build_resources(settings: Settings) -> Resources:
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (marketred dev sets it for you)")
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    sessions = create_session_factory(engine)
    return Resources(
        settings=settings,
        engine=engine,
        sessions=sessions,
        temporal=TemporalHandle(settings, codec=temporal.payload_codec(settings, sessions)),
        http=httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)),
    )


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
    for router in (
        health.router,
        auth.router,
        api_tokens.router,
        auth_pages.router,
        directory.router,
        embed.router,
        vendors.router,
        products.router,
        vendor_catalog.router,
        vendor_bank_account.router,
        carts.router,
        quotes.router,
        payouts.router,
        privacy.router,
        khipu_webhook.router,
        codec.router,
        dev_mail.router,
        media.router,
        theme.router,
    ):
        app.include_router(router)
    install_web(app)
    app.add_middleware(PublicCatalogCORS, allow_origins=list(settings.embed_origins))
    tracing.instrument_app(app)
    app.add_middleware(CodecCORS, temporal_ui_origin=codec.origin_of(settings.temporal_ui_url))
    app.add_middleware(BodyLimit)  # outermost: before anything reads a body
    return app

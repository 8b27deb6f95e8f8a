"""App factory. Settings are built by the caller and passed in; the lifespan owns the
engine, the Temporal connection and the one shared httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from marketred.api import middleware
from marketred.api.body_limits import BodyCapMiddleware
from marketred.api.cors import PublicCatalogCORS
from marketred.api.errors import install_error_handlers
from marketred.api.resources import Resources, TemporalHandle
from marketred.api.routers import (
    api_tokens,
    auth,
    carts,
    dev_mail,
    directory,
    embed,
    health,
    khipu_webhook,
    media,
    payouts,
    products,
    quotes,
    theme,
    vendor_bank_account,
    vendor_catalog,
    vendors,
)
from marketred.logs import configure_logging
from marketred.settings import Settings
from marketred.store.session import create_engine, create_session_factory
from marketred.web import install_web
from marketred.web.routes import auth_pages
from marketred.web.security import install_web_security


def build_resources(settings: Settings) -> Resources:
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (marketred dev sets it for you)")
    engine = create_engine(settings.database_url)
    return Resources(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        temporal=TemporalHandle(settings),
        http=httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)),
    )


def create_app(settings: Settings, resources: Resources | None = None) -> FastAPI:
    """`resources` may be injected (tests); otherwise they are built at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = resources is None
        app.state.resources = resources or build_resources(settings)
        try:
            yield
        finally:
            if owned:
                res: Resources = app.state.resources
                await res.http.aclose()
                await res.engine.dispose()

    configure_logging(settings)
    app = FastAPI(
        title="MarketRed",
        version="1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    if resources is not None:
        app.state.resources = resources
    install_error_handlers(app)
    app.middleware("http")(middleware.request_context)
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
        khipu_webhook.router,
        dev_mail.router,
        media.router,
        theme.router,
    ):
        app.include_router(router)
    install_web(app)
    app.add_middleware(PublicCatalogCORS, allow_origins=list(settings.embed_origins))
    # Outermost: an oversized upload is refused before anything reads it.
    app.add_middleware(BodyCapMiddleware)
    return app

"""App factory of the InforedChile directory sandbox: directory site with MarketRed's
embed, admin form that pushes signed company updates, the indexer endpoint MarketRed
pushes to, and the OpenID Connect provider (see `oidc.py` for endpoints and test hooks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from marketred.sandbox.directory import indexer, oidc, site
from marketred.sandbox.directory.store import DirectoryStore
from marketred.schemas.demo_data import DEMO_VENDORS
from marketred.settings import DEV_OIDC_CLIENT_SECRET, Settings

STATE_FILE = "directory-sandbox.sqlite3"
COMPANY_FIELDS = ("name", "rut", "email", "phone", "address")


def _demo_companies() -> list[dict[str, Any]]:
    # The directory knows the same companies the marketplace's demo seed creates.
    return [s for s in DEMO_VENDORS if s.get("directory_id")]


def demo_people() -> list[oidc.DemoPerson]:
    people = [
        oidc.DemoPerson("comprador@marketred.cl", "Camila Comprador"),
        oidc.DemoPerson("operador@marketred.cl", "Óscar Operador", ("marketred-operators",)),
    ]
    for spec in _demo_companies():
        people.append(
            oidc.DemoPerson(
                f"staff@{spec['slug']}.cl",
                f"Equipo {spec['name']}",
                ("inforedchile-company-staff",),
                str(spec["directory_id"]),
            )
        )
    return people


def create_app(
    *,
    issuer: str,
    marketplace_url: str,
    secret: str,
    indexer_secret: str,
    client_id: str,
    client_secret: str,
    state_path: Path | None,
    http: httpx.AsyncClient | None = None,
) -> FastAPI:
    """`http` (tests) is the client the admin form uses to reach MarketRed. `secret` signs
    the company updates sent to MarketRed; `indexer_secret` checks MarketRed's pushes."""
    store = DirectoryStore(state_path)
    for spec in _demo_companies():
        data = {k: spec.get(k) for k in COMPANY_FIELDS}
        store.seed_company(str(spec["directory_id"]), str(spec["slug"]), {**data, "active": True})
    client = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if http is None:
            await client.aclose()
        store.close()

    app = FastAPI(title="InforedChile directory sandbox", lifespan=lifespan, docs_url="/_docs")
    app.state.site = site.Site(store, marketplace_url.rstrip("/"), secret, client)
    app.state.indexer = indexer.Indexer(store, indexer_secret, indexer.Outage())
    app.state.oidc = oidc.OidcProvider(
        store=store,
        issuer=issuer.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        people=demo_people(),
        allowed_redirect_prefixes=[marketplace_url.rstrip("/") + "/"],
    )
    app.include_router(site.router)
    app.include_router(indexer.router)
    app.include_router(oidc.router)
    return app


def create_app_from_settings(settings: Settings) -> FastAPI:
    return create_app(
        issuer=f"http://127.0.0.1:{settings.directory_sandbox_port}",
        marketplace_url=settings.public_url,
        secret=settings.directory_secret,
        indexer_secret=settings.indexer_secret,
        client_id=settings.oidc_client_id or "marketred",
        client_secret=settings.oidc_client_secret or DEV_OIDC_CLIENT_SECRET,
        state_path=settings.home / STATE_FILE,
    )

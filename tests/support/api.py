"""Building and calling the app under test: its resources, an account, a bearer token."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from marketred.app import create_app
from marketred.http.resources import Resources, TemporalHandle
from marketred.settings import Settings


def make_resources(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    temporal_client: Client | None = None,
) -> Resources:
    return Resources(
        settings=settings,
        engine=engine,
        sessions=sessions,
        temporal=TemporalHandle(settings, client=temporal_client),
        http=http,
    )


def app_client(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    temporal_client: Client | None = None,
    *,
    base_url: str = "http://testserver",
) -> httpx.AsyncClient:
    """The API and pages over ASGI (use with `async with`): keeps cookies, does not follow
    redirects (tests look at them)."""
    app = create_app(settings, make_resources(settings, engine, sessions, http, temporal_client))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def register_user(
    client: httpx.AsyncClient, email: str | None = None, password: str = "correct horse battery"
) -> dict[str, Any]:
    email = email or f"buyer-{uuid.uuid4().hex[:8]}@example.cl"
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert r.status_code == 201, r.text
    return {"email": email, "password": password, **r.json()}


async def bearer(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}

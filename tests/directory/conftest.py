"""The directory sandbox app, in memory, for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from marketred.sandbox.directory.app import create_app

SECRET = "test-directory-secret"
CLIENT_ID = "marketred"
CLIENT_SECRET = "test-oidc-client-secret"
ISSUER = "http://directory.test"


def build_sandbox(state_path: Path | None = None, http: httpx.AsyncClient | None = None) -> FastAPI:
    return create_app(
        issuer=ISSUER,
        marketplace_url="http://marketred.test",
        secret=SECRET,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        state_path=state_path,
        http=http,
    )


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER)


@pytest.fixture
def sandbox_app() -> FastAPI:
    return build_sandbox()


@pytest.fixture
async def sandbox(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(sandbox_app) as c:
        yield c

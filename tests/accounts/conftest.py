"""Fixtures for account tests: a mail catcher, the directory sandbox's OpenID provider on
a real socket, settings pointing at both, and a browser-like client (keeps cookies)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketred.sandbox.directory.app import create_app as create_directory_sandbox
from marketred.settings import Settings
from tests.accounts.matrix_support import NoTemporal
from tests.support.api import app_client
from tests.support.ports import free_port
from tests.support.servers import catching_mail, serve

OIDC_CLIENT_SECRET = "test-oidc-client-secret-0123456789"


@pytest.fixture(scope="session")
def mail_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    folder = tmp_path_factory.mktemp("mail")
    with catching_mail(folder) as port:
        yield folder, port


@pytest.fixture(scope="session")
async def oidc_issuer(settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    app = create_directory_sandbox(
        issuer=f"http://127.0.0.1:{port}",
        marketplace_url=settings.public_url,
        secret=settings.directory_secret,
        indexer_secret=settings.indexer_secret,
        client_id="marketred",
        client_secret=OIDC_CLIENT_SECRET,
        state_path=None,
    )
    async with serve(app, port) as url:
        yield url


@pytest.fixture(scope="session")
def acc_settings(settings: Settings, mail_folder: tuple[Path, int], oidc_issuer: str) -> Settings:
    return settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{mail_folder[1]}",
            "oidc_issuer": oidc_issuer,
            "oidc_client_id": "marketred",
            "oidc_client_secret": OIDC_CLIENT_SECRET,
        }
    )


@pytest.fixture
async def web(
    acc_settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser: keeps cookies, does not follow redirects (tests look at them)."""
    async with app_client(acc_settings, engine, session_factory, http_client) as c:
        yield c


@pytest.fixture
def web_factory(
    acc_settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
):  # type: ignore[no-untyped-def]
    """More browsers on the same app state (another person, an attacker)."""

    def make(
        settings: Settings | None = None, base_url: str = "http://testserver"
    ) -> httpx.AsyncClient:
        return app_client(
            settings or acc_settings, engine, session_factory, http_client, base_url=base_url
        )

    return make


@pytest.fixture
async def no_temporal_client(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API client with a Temporal stand-in (NoTemporal): the authorization matrix and
    the CSRF walk see every answer given before the engine is used."""
    temporal = NoTemporal()
    async with app_client(settings, engine, session_factory, http_client, temporal) as c:  # type: ignore[arg-type]
        yield c

"""Fixtures for account tests: a mail catcher, the directory sandbox's OpenID provider on
a real socket, settings pointing at both, and a browser-like client (keeps cookies)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketred.app import create_app
from marketred.sandbox.directory.app import create_app as create_directory_sandbox
from marketred.sandbox.mailcatcher import CaughtMail, list_caught, start_catcher
from marketred.settings import Settings
from tests.support.api import make_resources
from tests.support.ports import free_port
from tests.support.servers import serve

OIDC_CLIENT_SECRET = "test-oidc-client-secret-0123456789"


@pytest.fixture(scope="session")
def mail_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    folder = tmp_path_factory.mktemp("mail")
    port = free_port()
    controller = start_catcher(folder, "127.0.0.1", port)
    yield folder, port
    controller.stop()


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


def build_client(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    base_url: str = "http://testserver",
) -> httpx.AsyncClient:
    app = create_app(settings, make_resources(settings, engine, sessions, http))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def web(
    acc_settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser: keeps cookies, does not follow redirects (tests look at them)."""
    async with build_client(acc_settings, engine, session_factory, http_client) as c:
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
        return build_client(
            settings or acc_settings, engine, session_factory, http_client, base_url
        )

    return make


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


async def page_csrf(client: httpx.AsyncClient, path: str) -> str:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


async def web_login(
    client: httpx.AsyncClient, email: str, password: str, *, next_url: str = ""
) -> httpx.Response:
    token = await page_csrf(client, "/ingresar")
    return await client.post(
        "/ingresar",
        data={"email": email, "password": password, "csrf_token": token, "next": next_url},
    )


def mail_to(folder: Path, to: str) -> list[CaughtMail]:
    return [m for m in list_caught(folder) if to in m.to]


LINK_RE = re.compile(r"https?://\S+")


def link_in(mail: CaughtMail) -> str:
    found = LINK_RE.search(mail.text)
    assert found, mail.text
    return found.group(0)

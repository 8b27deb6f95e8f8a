"""The directory sandbox and MarketRed on two real origins: a company update pushed from
the sandbox's admin renames our vendor, and the sandbox's company page, opened in
Chromium, shows that company's products rendered by our embed script."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from marketred.app import create_app
from marketred.sandbox.directory.app import create_app as create_sandbox
from marketred.settings import Settings
from marketred.store.models import Vendor
from marketred.store.session import create_session_factory
from tests.directory.helpers import company_body
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.factories import make_product
from tests.support.ports import free_port
from tests.support.servers import serve

pytestmark = [pytest.mark.db, pytest.mark.browser]


@dataclass
class TwoOrigins:
    marketplace: str
    directory: str
    directory_id: str
    slug: str
    http: httpx.AsyncClient


@pytest.fixture(scope="module")
async def origins(settings: Settings, engine: AsyncEngine) -> AsyncIterator[TwoOrigins]:
    api_port, dir_port = free_port(), free_port()
    marketplace, directory = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{dir_port}"
    ours = settings.model_copy(update={"public_url": marketplace, "embed_origins": [directory]})
    sandbox = create_sandbox(
        issuer=directory,
        marketplace_url=marketplace,
        secret=ours.directory_secret,
        indexer_secret=ours.indexer_secret,
        client_id="marketred",
        client_secret="unused-here",
        state_path=None,
    )
    directory_id = f"inf-{uuid.uuid4().hex[:8]}"
    async with (
        serve(create_app(ours), api_port),
        serve(sandbox, dir_port),
        httpx.AsyncClient(timeout=10) as http,
    ):
        # The directory's admin pushes the company; we create the vendor.
        name = f"Quesería Frutillar {directory_id}"
        pushed = await http.post(
            f"{directory}/_sandbox/companies/{directory_id}/push",
            json={k: v for k, v in company_body(name).items() if k != "updated_at"},
        )
        assert pushed.json()["status"] == 200, pushed.text
        slug = pushed.json()["response"]["vendor"]
        async with create_session_factory(engine)() as session:
            vendor = await session.get(Vendor, await _vendor_id(session, directory_id))
            assert vendor is not None
            await make_product(
                session, vendor, "Queso mantecoso", prices=(6990, 12990), keywords="queso leche"
            )
            await make_product(session, vendor, "Queso de cabra", prices=(8490,))
            await session.commit()
        yield TwoOrigins(marketplace, directory, directory_id, slug, http)


async def _vendor_id(session: AsyncSession, directory_id: str) -> uuid.UUID:
    found = await session.scalar(select(Vendor.id).where(Vendor.directory_id == directory_id))
    assert found is not None
    return found


async def test_company_page_on_another_origin_shows_our_catalog(origins: TwoOrigins) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(f"{origins.directory}/")  # same origin, no embed script
            baseline = set(await page.evaluate("Object.keys(window)"))
            await page.goto(f"{origins.directory}/empresas/{origins.directory_id}")
            names = page.locator("[data-marketred-catalog] .mr-name")
            await names.first.wait_for(timeout=10_000)
            assert sorted(await names.all_inner_texts()) == ["Queso de cabra", "Queso mantecoso"]
            prices = await page.locator("[data-marketred-catalog] .mr-price").all_inner_texts()
            assert "desde $6.990" in prices
            assert "$8.490" in prices
            href = await page.locator("[data-marketred-catalog] a").first.get_attribute("href")
            assert href is not None
            assert href.startswith(f"{origins.marketplace}/productos/")
            # The host page's CSS variable restyles the widget.
            accent = await page.locator(".mr-price").first.evaluate(
                "el => getComputedStyle(el).color"
            )
            assert accent == "rgb(21, 101, 192)"
            added = set(await page.evaluate("Object.keys(window)")) - baseline
            assert added == {"MarketRed"}
            assert await context.cookies() == []
        finally:
            await browser.close()


async def test_search_page_shows_our_results(origins: TwoOrigins) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{origins.directory}/buscar")
            await page.fill("[data-marketred-search] input", "mantecoso")
            await page.click("[data-marketred-search] button")
            names = page.locator("[data-marketred-search] .mr-name")
            await names.first.wait_for(timeout=10_000)
            assert "Queso mantecoso" in await names.all_inner_texts()
        finally:
            await browser.close()


async def test_admin_edit_in_directory_renames_vendor_on_storefront(origins: TwoOrigins) -> None:
    new_name = f"Quesería del Lago {origins.directory_id}"
    form = {**company_body(new_name), "categories": "Quesos, Lácteos", "active": "1"}
    form.pop("updated_at")
    r = await origins.http.post(
        f"{origins.directory}/admin/empresas/{origins.directory_id}", data=form
    )
    assert 'id="result" class="ok"' in r.text, r.text
    vendor = (await origins.http.get(f"{origins.marketplace}/api/v1/vendors/{origins.slug}")).json()
    assert vendor["name"] == new_name
    assert vendor["directory_id"] == origins.directory_id
    storefront = await origins.http.get(f"{origins.marketplace}/tiendas/{origins.slug}")
    assert new_name in storefront.text


async def test_public_api_answers_cors_only_for_embed_origins(origins: TwoOrigins) -> None:
    url = f"{origins.marketplace}/api/v1/vendors/{origins.slug}/products"
    allowed = await origins.http.get(url, headers={"Origin": origins.directory})
    assert allowed.headers.get("access-control-allow-origin") == origins.directory
    other = await origins.http.get(url, headers={"Origin": "https://otro-sitio.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_iframe_fragment_and_script_limits(origins: TwoOrigins) -> None:
    fragment = await origins.http.get(f"{origins.marketplace}/embed/v1/catalog/{origins.slug}")
    assert fragment.status_code == 200
    assert "Queso mantecoso" in fragment.text
    assert origins.directory in fragment.headers["content-security-policy"]
    assert "set-cookie" not in fragment.headers
    search = await origins.http.get(f"{origins.marketplace}/embed/v1/search", params={"q": "cabra"})
    assert "Queso de cabra" in search.text
    assert "Queso mantecoso" not in search.text
    script = await origins.http.get(f"{origins.marketplace}/embed/v1/marketred.js")
    assert script.headers["content-type"].startswith("application/javascript")
    assert len(script.content) < 15 * 1024
    assert "set-cookie" not in script.headers

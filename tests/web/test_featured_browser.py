"""A featured product in the browser: an operator features a product for two weeks in
the console; it shows in the home page's "Destacados" row, and first, marked
"Destacado", in our search embedded on the directory sandbox's search page."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.browser import assert_accessible_forms, new_page, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PRODUCT = "Gorro de lana"  # "Chaleco de lana chilota" ranks above it for "lana"


async def test_featured_product_shows_on_home_and_first_in_the_embed_search(browser, stack):
    context, page = await new_page(browser, stack)
    await sign_in(page, "operador@marketred.cl")
    await page.goto("/operador/destacados")
    await assert_accessible_forms(page)
    option = page.locator("#d-objetivo option", has_text=PRODUCT)
    await page.locator("#d-objetivo").select_option(await option.get_attribute("value"))
    await page.get_by_role("button", name="Destacar").click()
    await expect(page.locator(".flash")).to_contain_text("Destacado guardado")
    row = page.locator(f'tr[data-featured="{PRODUCT}"]')
    await expect(row).to_have_attribute("data-state", "running")
    await expect(row).to_contain_text("operador@marketred.cl")
    await screenshot(page, "operador-destacados")
    await context.close()

    context, page = await new_page(browser, stack)
    await page.goto("/")
    highlighted = page.locator("[data-highlighted]")
    await expect(highlighted.get_by_role("heading", name="Destacados")).to_be_visible()
    await expect(highlighted.get_by_role("link", name=PRODUCT)).to_be_visible()
    await screenshot(page, "portada-destacados")
    await context.close()

    page = await browser.new_page()
    await page.goto(f"{stack.directory_url}/buscar")
    await page.fill("[data-marketred-search] input", "lana")
    await page.click("[data-marketred-search] button")
    first = page.locator("[data-marketred-search] .mr-item").first
    await expect(first.locator(".mr-name")).to_have_text(PRODUCT, timeout=20_000)
    await expect(first.locator(".mr-featured")).to_have_text("Destacado")
    await page.close()

"""RNF1 in the browser: the directory sandbox's admin pushes its look (signed); the
storefront's header, the embed fragment and the embed script on the directory's own
page take its colour, radius and font; an unreadable colour is refused and changes
nothing. The default look is pushed back at the end."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from marketred.schemas.theme import DEFAULT_THEME
from tests.support.browser import new_page, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
GREEN = "rgb(46, 125, 50)"  # #2e7d32: 5.1:1 against white


async def _push(page, primary: str, radius: str) -> str:  # type: ignore[no-untyped-def]
    await page.fill("input[name=primary]", primary)
    await page.fill("input[name=secondary]", "#1b5e20")
    await page.fill("input[name=radius_px]", radius)
    await page.fill("input[name=font_stack]", "Georgia, serif")
    await page.get_by_role("button", name="Enviar apariencia a MarketRed").click()
    return str(await page.locator("#result").inner_text())


async def test_directory_theme_recolours_storefront_and_embeds(browser, stack):
    page = await browser.new_page()
    await page.goto(f"{stack.directory_url}/admin/tema")
    refused = await _push(page, "#ffeb3b", "4")  # yellow under white text: unreadable
    assert "422" in refused
    assert "WCAG AA" in refused
    answered = await _push(page, "#2e7d32", "3")
    assert "MarketRed respondió 200" in answered
    await page.close()

    context, page = await new_page(browser, stack)
    await page.goto("/")
    header = page.locator(".site-header")
    await expect(header).to_have_css("background-color", GREEN)
    await expect(page.locator("body")).to_have_css("font-family", "Georgia, serif")
    await screenshot(page, "portada-tema-directorio")
    await page.goto("/embed/v1/catalog/cafe-altiplano")
    await expect(page.locator(".mr-price").first).to_have_css("color", GREEN)
    await context.close()

    page = await browser.new_page()
    await page.goto(f"{stack.directory_url}/empresas/inf-1001")
    card = page.locator("[data-marketred-catalog] .mr-item a").first
    await card.wait_for(timeout=20_000)
    # The host page keeps its own accent (its rule on the container wins), the rest is ours.
    await expect(card).to_have_css("border-top-left-radius", "3px")
    await expect(page.locator("[data-marketred-catalog]")).to_have_css(
        "font-family", "Georgia, serif"
    )
    await page.screenshot(path="test-artifacts/screenshots/directorio-tema.png", full_page=True)
    await page.close()

    with httpx.Client(timeout=30) as http:
        r = http.post(f"{stack.directory_url}/_sandbox/theme/push", json=DEFAULT_THEME.model_dump())
        assert r.json()["status"] == 200

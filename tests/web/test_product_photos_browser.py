"""Product photos in the browser: a vendor uploads two photos with alt text in the back
office and makes the second the main one; buyers see it on the product page, the store's
cards, their cart and their quote, and the directory sandbox's page shows it in our
embed (script and iframe fragment)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.async_api import expect

from tests.support.browser import (
    BUYER,
    DEMO_PASSWORD,
    SCREENSHOTS,
    assert_accessible_forms,
    new_page,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SLUG = "textiles-chiloe"
PRODUCT = "Gorro de lana"
MAIN_ALT = "Gorro de lana azul, vista lateral"


def _jpeg(path: Path, color: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (900, 700), color)
    for x in range(0, 900, 60):  # stripes: something a person can tell apart
        for y in range(700):
            image.putpixel((x, y), (255, 255, 255))
    image.save(path, format="JPEG")
    return path


async def test_vendor_photos_show_on_storefront_cart_quote_and_directory_embed(
    browser, stack, tmp_path
):
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        items = api.get(f"/api/v1/vendors/{SLUG}/products").json()["items"]
    product = next(p for p in items if p["name"] == PRODUCT)

    context, page = await new_page(browser, stack)
    await sign_in(page, f"staff@{SLUG}.cl")
    await page.goto(f"/vendedor/catalogo/{product['id']}")
    await expect(page.get_by_text("Este producto aún no tiene fotos.")).to_be_visible()
    await page.locator("#f-photo").set_input_files(
        str(_jpeg(tmp_path / "gris.jpg", (120, 120, 120)))
    )
    await page.get_by_role("button", name="Subir foto").click()
    # No description: refused with the reason, nothing stored.
    await expect(page.locator('[data-field-error="alt"]')).to_contain_text("Describe la foto")
    await page.locator("#f-photo").set_input_files(
        str(_jpeg(tmp_path / "gris.jpg", (120, 120, 120)))
    )
    await page.locator("#photo-alt").fill("Gorro de lana gris, vista frontal")
    await page.get_by_role("button", name="Subir foto").click()
    await expect(page.locator(".flash")).to_contain_text("Foto agregada")
    await page.locator("#f-photo").set_input_files(str(_jpeg(tmp_path / "azul.jpg", (30, 60, 160))))
    await page.locator("#photo-alt").fill(MAIN_ALT)
    await page.get_by_role("button", name="Subir foto").click()
    await expect(page.locator("[data-photo]")).to_have_count(2)
    await page.get_by_role("button", name="Hacer principal (foto 2)").click()
    await expect(page.locator('[data-photo][data-position="0"] img')).to_have_attribute(
        "alt", MAIN_ALT
    )
    await assert_accessible_forms(page)
    await screenshot(page, "vendedor-fotos")
    await context.close()

    context, page = await new_page(browser, stack)
    await page.goto(f"/productos/{product['id']}")
    main = page.locator("[data-photos] img").first
    await expect(main).to_have_attribute("alt", MAIN_ALT)
    assert await main.evaluate("img => img.complete && img.naturalWidth > 0")
    await screenshot(page, "producto-con-fotos")
    await page.goto(f"/tiendas/{SLUG}")
    await expect(page.get_by_role("img", name=MAIN_ALT)).to_be_visible()

    await sign_in(page, BUYER)
    await page.goto(f"/productos/{product['id']}")
    await page.get_by_role("button", name="Agregar al carro").click()
    await page.goto("/carros")
    await expect(page.get_by_role("img", name=MAIN_ALT)).to_be_visible()
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        token = api.post(
            "/api/v1/auth/token", data={"username": BUYER, "password": DEMO_PASSWORD}
        ).json()["access_token"]
        r = api.post(
            "/api/v1/quotes",
            json={"vendor": SLUG, "note": "", "contact": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
    await page.goto(f"/cotizaciones/{r.json()['id']}")
    await expect(page.get_by_role("img", name=MAIN_ALT)).to_be_visible()
    await context.close()

    # The directory's company page: our embed script renders the photo from our API.
    page = await browser.new_page()
    await page.goto(f"{stack.directory_url}/empresas/inf-1002")
    photo = page.locator("[data-marketred-catalog] img").first
    await photo.wait_for(timeout=20_000)
    assert (await photo.get_attribute("src") or "").startswith(f"{stack.base_url}/media/")
    # The embed adds the <img> after the page's load event: wait for the picture itself
    # (fails if it never decodes, e.g. a broken media URL) instead of reading it at once.
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=await photo.element_handle(),
        timeout=20_000,
    )
    await page.screenshot(path=str(SCREENSHOTS / "directorio-con-fotos.png"), full_page=True)
    # The iframe fragment carries the vendor's alt text.
    await page.goto(f"{stack.base_url}/embed/v1/catalog/{SLUG}")
    await expect(page.get_by_role("img", name=MAIN_ALT)).to_be_visible()
    await page.close()

    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        shown = api.get(f"/api/v1/products/{product['id']}").json()
        media = api.get(shown["image_urls"][0])
    assert media.headers["cache-control"] == "public, max-age=31536000, immutable"

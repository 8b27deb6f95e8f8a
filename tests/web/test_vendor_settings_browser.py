"""Vendor settings in the back office and the operator's vendor console, in the
browser: a vendor sets its response deadline and the next quote uses it; a deadline
outside the operator's bounds is refused with the reason; an operator sets a vendor's
commission and deactivates/reactivates it; every change shows who made it and when."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from PIL import Image
from playwright.async_api import expect

from tests.support.browser import (
    BUYER,
    DEMO_PASSWORD,
    assert_accessible_forms,
    new_page,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SLUG = "zapateria-valparaiso"


def _token(api: httpx.Client, email: str) -> dict[str, str]:
    r = api.post("/api/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_vendor_sets_its_deadlines_and_the_next_quote_uses_them(browser, stack, tmp_path):
    context, page = await new_page(browser, stack)
    await sign_in(page, f"staff@{SLUG}.cl")
    await page.goto("/vendedor/ajustes")
    await assert_accessible_forms(page)
    field = page.get_by_label("Plazo para responder (horas)")
    await field.fill("500")
    await page.get_by_role("button", name="Guardar ajustes").click()
    await expect(page.locator('[data-field-error="response_hours"]')).to_have_text(
        "Entre 12 y 168 horas."
    )
    await field.fill("24")
    await page.get_by_label("Teléfono").fill("+56 32 299 0000")
    await page.get_by_role("button", name="Guardar ajustes").click()
    await expect(page.locator(".flash")).to_contain_text("Ajustes guardados")
    row = page.locator('tr[data-vendor-change="response_hours"]')
    await expect(row).to_contain_text(f"staff@{SLUG}.cl")
    await expect(row).to_contain_text("24")
    # The store's logo: a file that is not a picture is refused, a real one shows.
    not_a_picture = tmp_path / "logo.png"
    not_a_picture.write_bytes(b"not a picture")
    await page.locator("#f-logo").set_input_files(str(not_a_picture))
    await page.get_by_role("button", name="Subir logo").click()
    await expect(page.locator('[data-field-error="logo"]')).to_have_text(
        "No es una foto JPEG, PNG o WebP."
    )
    Image.new("RGB", (400, 200), (20, 40, 120)).save(tmp_path / "logo.jpg", format="JPEG")
    await page.locator("#f-logo").set_input_files(str(tmp_path / "logo.jpg"))
    await page.get_by_role("button", name="Subir logo").click()
    await expect(page.locator(".flash")).to_contain_text("Logo guardado")
    await expect(page.locator('tr[data-vendor-change="logo_url"]')).to_have_count(1)
    await screenshot(page, "vendedor-ajustes")
    await page.goto(f"/tiendas/{SLUG}")
    logo = page.locator("img[data-logo]")
    await expect(logo).to_have_attribute("alt", "Logo de Zapatería Valparaíso EIRL")
    assert await logo.evaluate("img => img.complete && img.naturalWidth > 0")
    await context.close()

    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        buyer = _token(api, BUYER)
        variant = api.get(f"/api/v1/vendors/{SLUG}/products").json()["items"][0]["variants"][0]
        api.put(f"/api/v1/carts/{SLUG}/items/{variant['id']}", json={"quantity": 1},
                headers=buyer).raise_for_status()  # fmt: skip
        r = api.post("/api/v1/quotes", json={"vendor": SLUG, "note": "", "contact": {}},
                     headers=buyer)  # fmt: skip
        assert r.status_code == 201, r.text
        quote = r.json()
    respond_by = datetime.fromisoformat(quote["deadlines"]["respond_by"])
    hours = (respond_by - datetime.fromisoformat(quote["created_at"])).total_seconds() / 3600
    assert 23.9 < hours < 24.1


async def test_operator_sets_commission_and_deactivates_a_vendor(browser, stack):
    context, page = await new_page(browser, stack)
    await sign_in(page, "operador@marketred.cl")
    await page.goto("/operador/tiendas")
    await assert_accessible_forms(page)
    row = page.locator('tr[data-vendor="textiles-chiloe"]')
    await row.get_by_label("Comisión de Textiles Chiloé Ltda. (%)").fill("12,5")
    await row.get_by_role("button", name="Guardar").click()
    await expect(page.locator(".flash")).to_contain_text("Comisión guardada")
    row = page.locator('tr[data-vendor="textiles-chiloe"]')
    change = row.locator('[data-vendor-change="commission_bps"]')
    await expect(change).to_contain_text("operador@marketred.cl")
    await expect(change).to_contain_text("1000 → 1250")

    await row.get_by_role("button", name="Desactivar").click()
    await expect(page.locator(".flash")).to_contain_text("Tienda desactivada")
    await expect(page.locator('tr[data-vendor="textiles-chiloe"]')).to_have_attribute(
        "data-active", "no"
    )
    assert (await page.request.get("/tiendas/textiles-chiloe")).status == 404
    await screenshot(page, "operador-tiendas")
    await (
        page.locator('tr[data-vendor="textiles-chiloe"]')
        .get_by_role("button", name="Activar")
        .click()
    )
    await expect(page.locator(".flash")).to_contain_text("Tienda activada")
    assert (await page.request.get("/tiendas/textiles-chiloe")).status == 200
    await context.close()

"""The golden path in a real browser against the whole running product (docs/quotes.md):
buyer searches and fills the carts of two vendors, requests a quote from one; the vendor
accepts with shipping; the buyer pays in the Khipu sandbox; the vendor ships; the buyer
confirms; the vendor sees the sale in payouts. Screenshots of each page are saved."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import BUYER, assert_accessible_forms, new_page, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

VENDOR = "staff@cafe-altiplano.cl"
OPERATOR = "operador@marketred.cl"


async def add_first_result_to_cart(page: Page, query: str, product: str) -> None:
    await page.goto("/")
    await page.get_by_label("Buscar productos").first.fill(query)
    await page.get_by_role("button", name="Buscar").first.click()
    await expect(page.get_by_role("link", name=product)).to_be_visible()
    await page.get_by_role("link", name=product).click()
    await page.get_by_label("Cantidad").fill("2")
    await page.get_by_role("button", name="Agregar al carro").click()
    if "/ingresar" in page.url:  # first add: sign in, then back to the product
        await sign_in(page, BUYER)
        await page.get_by_label("Cantidad").fill("2")
        await page.get_by_role("button", name="Agregar al carro").click()
    await expect(page).to_have_url(re.compile(r"/carros"))


async def test_golden_path(browser, stack):
    buyer_ctx, buyer = await new_page(browser, stack)
    vendor_ctx, vendor = await new_page(browser, stack)

    # Buyer: home, search, two vendors' carts, a quote request to one of them.
    await buyer.goto("/")
    await expect(buyer.locator("html")).to_have_attribute("lang", "es-CL")
    await screenshot(buyer, "01-inicio")
    await assert_accessible_forms(buyer)
    await add_first_result_to_cart(buyer, "café etiopía", "Café de grano Etiopía Yirgacheffe")
    await buyer.goto("/buscar?q=chaleco")
    await expect(buyer.get_by_text("$34.990").first).to_be_visible()
    await screenshot(buyer, "02-busqueda")
    await add_first_result_to_cart(buyer, "chaleco", "Chaleco de lana chilota")
    carts = buyer.locator("section.cart")
    await expect(carts).to_have_count(2)
    cafe_cart = buyer.locator('section[data-cart="cafe-altiplano"]')
    await expect(cafe_cart.locator("[data-cart-total]")).to_have_text("$17.980")
    await screenshot(buyer, "03-carros")
    await assert_accessible_forms(buyer)
    await cafe_cart.get_by_label("Tu nombre").fill("Camila Rojas")
    await cafe_cart.get_by_label("Correo electrónico").fill("camila@example.cl")
    await cafe_cart.get_by_label("Nota para la tienda (opcional)").fill("Molido para italiana")
    await cafe_cart.get_by_role("button", name="Solicitar cotización").click()
    await expect(buyer).to_have_url(re.compile(r"/cotizaciones/[0-9a-f-]+\?aviso=solicitada"))
    quote_url = buyer.url.split("?")[0]
    await expect(buyer.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "REQUESTED"
    )
    await expect(buyer.locator("[data-active-deadline] time.countdown")).to_be_visible()
    await screenshot(buyer, "04-cotizacion-solicitada")
    # The other vendor's cart is still there.
    await buyer.goto("/carros")
    await expect(buyer.locator("section.cart")).to_have_count(1)

    # Vendor: pending quote by deadline, accept with a price change and shipping.
    await sign_in(vendor, VENDOR)
    await vendor.goto("/vendedor")
    await screenshot(vendor, "05-vendedor-pendientes")
    await vendor.get_by_role("link", name="Responder", exact=True).first.click()
    await expect(vendor).to_have_url(re.compile(r"/vendedor/cotizaciones/"))
    await screenshot(vendor, "06-vendedor-decision")
    await vendor.get_by_label("Precio unitario de Café de grano Etiopía Yirgacheffe").fill("8.490")
    await vendor.get_by_label("Costo de despacho ($)").fill("3.990")
    await vendor.get_by_label("Nota para el comprador (opcional)").fill("Despacho por Starken")
    await assert_accessible_forms(vendor)
    await screenshot(vendor, "06-vendedor-decision")
    await vendor.get_by_role("button", name="Aceptar cotización").click()
    await expect(vendor.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "ACCEPTED"
    )

    # Buyer: adjusted prices and shipping, pay with Khipu (sandbox payer page).
    await buyer.goto(quote_url)
    await expect(buyer.locator("[data-total]")).to_have_text("$20.970")  # 2 × 8.490 + 3.990
    await expect(buyer.locator("[data-shipping]")).to_have_text("$3.990")
    await screenshot(buyer, "07-cotizacion-aceptada")
    await assert_accessible_forms(buyer)
    await buyer.get_by_role("button", name="Pagar con Khipu").click()
    await expect(buyer.get_by_text("$20.970")).to_be_visible()
    await screenshot(buyer, "08-khipu-sandbox")
    await buyer.get_by_role("button", name="Pagar", exact=True).click()
    await expect(buyer).to_have_url(re.compile(r"/cotizaciones/[0-9a-f-]+/pago"))
    await screenshot(buyer, "09-pago-verificando")
    await expect(buyer.locator('[data-payment-state="confirmed"]')).to_be_visible(timeout=60_000)
    await screenshot(buyer, "10-pago-confirmado")

    # Vendor ships.
    await vendor.goto("/vendedor/pedidos")
    order = vendor.locator("section[data-quote]").first
    await order.get_by_label("Empresa de transporte").fill("Starken")
    await order.get_by_label("Número de seguimiento").fill("STK-123456")
    await screenshot(vendor, "11-vendedor-despacho")
    await order.get_by_role("button", name="Marcar como despachado").click()
    await expect(vendor.get_by_text("Pedido marcado como despachado.")).to_be_visible()

    # Buyer confirms delivery and sees the whole timeline.
    await buyer.goto(quote_url)
    await expect(buyer.locator("[data-tracking]")).to_have_text("STK-123456")
    await buyer.get_by_role("button", name="Confirmar entrega").click()
    await expect(buyer.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", re.compile("DELIVERED|COMPLETED")
    )
    await screenshot(buyer, "12-entrega-confirmada")
    await buyer.goto("/cotizaciones")
    await screenshot(buyer, "13-mis-cotizaciones")

    await expect(buyer.locator("[data-quote]").first.locator("[data-status]")).to_have_attribute(
        "data-status", re.compile("DELIVERED|COMPLETED")
    )

    # Delivered → the workflow posts the sale to the ledger and completes the quote.
    for _attempt in range(30):
        await buyer.goto(quote_url)
        status = await buyer.locator("[data-quote-status]").get_attribute("data-quote-status")
        if status == "COMPLETED":
            break
        await buyer.wait_for_timeout(1000)
    await expect(buyer.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "COMPLETED"
    )
    await expect(buyer.locator('.timeline li[data-event="completed"]')).to_be_visible()

    # The operator runs the payouts; the vendor sees the sale in its payouts.
    operator_ctx, operator = await new_page(browser, stack)
    await sign_in(operator, OPERATOR)
    await operator.goto("/operador/pagos")
    await operator.get_by_role("button", name="Generar pagos ahora").click()
    for _attempt in range(30):
        if await operator.locator("tr[data-payout]").count():
            break
        await operator.wait_for_timeout(1000)
        await operator.goto("/operador/pagos")
    await expect(operator.get_by_text("Café Altiplano SpA").first).to_be_visible()
    await screenshot(operator, "14-operador-pagos")
    await vendor.goto("/vendedor/pagos")
    payout = vendor.locator("tr[data-payout]").first
    await expect(payout).to_contain_text("$20.970")
    await expect(vendor.locator(".chart svg rect.bar-sales")).to_have_count(8)
    await screenshot(vendor, "15-vendedor-pagos")

    for context in (buyer_ctx, vendor_ctx, operator_ctx):
        await context.close()

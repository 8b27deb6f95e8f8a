"""Browser tests beside the golden path: the main pages and a quote request with
JavaScript disabled, a validation error shown beside its field, a rejection, and more time
asked by the vendor (once) and given by an operator, and a payment the buyer rejected at
Khipu, held for an operator who rechecks it and cancels."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import BUYER, assert_accessible_forms, new_page, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SHOE_VENDOR = "staff@zapateria-valparaiso.cl"


async def add_to_cart(page: Page, query: str, product: str, quantity: str = "1") -> None:
    await page.goto(f"/buscar?q={query}")
    await page.get_by_role("link", name=product).click()
    await page.get_by_label("Cantidad").fill(quantity)
    await page.get_by_role("button", name="Agregar al carro").click()
    await expect(page).to_have_url(re.compile(r"/carros"))


async def request_shoe_quote(buyer: Page) -> None:
    """The demo buyer asks the shoe shop for a quote; the page shows it REQUESTED."""
    await sign_in(buyer, BUYER)
    await add_to_cart(buyer, "zapato cuero", "Zapato de cuero clásico")
    cart = buyer.locator('section[data-cart="zapateria-valparaiso"]')
    await cart.get_by_label("Tu nombre").fill("Ana Pérez")
    await cart.get_by_label("Correo electrónico").fill("ana@example.cl")
    await cart.get_by_role("button", name="Solicitar cotización").click()
    await expect(buyer.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "REQUESTED"
    )


async def test_main_pages_and_a_quote_request_work_without_javascript(browser, stack):
    context, page = await new_page(browser, stack, javascript=False, mobile=True)
    await page.goto("/")
    await expect(
        page.get_by_role("heading", name="Compra directo a MiPymes de todo Chile")
    ).to_be_visible()
    await screenshot(page, "sin-js-01-inicio-movil")
    await page.get_by_label("Buscar productos").first.fill("gorro")
    await page.get_by_role("button", name="Buscar").first.click()
    await expect(page.locator("[data-result-count]")).not_to_have_attribute(
        "data-result-count", "0"
    )
    await page.get_by_role("link", name="Textiles Chiloé Ltda.").first.click()
    await expect(page.locator("[data-rut]")).to_have_text("77.123.456-9")
    await screenshot(page, "sin-js-02-tienda-movil")
    await page.get_by_role("link", name="Gorro de lana").click()
    await expect(page.locator("[data-price]")).to_have_text("$12.990")
    await page.get_by_role("button", name="Agregar al carro").click()
    await sign_in(page, BUYER)  # the POST came back to the product page
    await page.get_by_role("button", name="Agregar al carro").click()
    await expect(page).to_have_url(re.compile(r"/carros"))
    cart = page.locator('section[data-cart="textiles-chiloe"]')
    await cart.get_by_label("Tu nombre").fill("Pedro Soto")
    await cart.get_by_label("Correo electrónico").fill("pedro@example.cl")
    await screenshot(page, "sin-js-03-carros-movil")
    await cart.get_by_role("button", name="Solicitar cotización").click()
    await expect(page.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "REQUESTED"
    )
    # Without JS the countdown is the server's text, already right.
    await expect(page.locator("[data-active-deadline] time.countdown")).to_contain_text("quedan")
    await screenshot(page, "sin-js-04-cotizacion-movil")
    await page.goto("/cotizaciones")
    await expect(page.locator('.badge[data-status="REQUESTED"]').first).to_have_text(
        "Esperando respuesta"
    )
    await context.close()


async def test_validation_error_is_shown_beside_its_field(browser, stack):
    context, page = await new_page(browser, stack)
    await sign_in(page, BUYER)
    await add_to_cart(page, "botin", "Botín de gamuza")
    cart = page.locator('section[data-cart="zapateria-valparaiso"]')
    await cart.get_by_label("Tu nombre").fill("Ana Pérez")
    await cart.get_by_label("Correo electrónico").fill("ana-en-correo")
    await cart.get_by_label("Nota para la tienda (opcional)").fill("Talla 38 por favor")
    await cart.get_by_role("button", name="Solicitar cotización").click()
    cart = page.locator('section[data-cart="zapateria-valparaiso"]')
    email = cart.get_by_label("Correo electrónico")
    await expect(email).to_have_attribute("aria-invalid", "true")
    error = cart.locator("#c-zapateria-valparaiso-contact_email-error")
    await expect(error).to_have_text(re.compile("Este correo no parece válido"))
    # The message is the field's description, right after it; what was typed stays.
    await expect(email).to_have_attribute(
        "aria-describedby", "c-zapateria-valparaiso-contact_email-error"
    )
    await expect(email).to_have_value("ana-en-correo")
    await expect(cart.get_by_label("Tu nombre")).to_have_value("Ana Pérez")
    await expect(cart.get_by_label("Nota para la tienda (opcional)")).to_have_value(
        "Talla 38 por favor"
    )
    await screenshot(page, "validacion-error-junto-al-campo")
    await assert_accessible_forms(page)
    await context.close()


async def test_vendor_rejects_and_buyer_sees_the_reason(browser, stack):
    buyer_ctx, buyer = await new_page(browser, stack)
    await request_shoe_quote(buyer)
    quote_url = buyer.url.split("?")[0]
    number = (await buyer.locator("h1").text_content() or "").split()[-1]

    vendor_ctx, vendor = await new_page(browser, stack)
    await sign_in(vendor, SHOE_VENDOR)
    await vendor.goto("/vendedor")
    await vendor.locator("tr", has_text=number).get_by_role("link", name="Responder").click()
    await vendor.get_by_role("button", name="Rechazar cotización").click()
    # An empty reason is refused beside the field.
    await expect(vendor.locator("#f-reason-error")).to_be_visible()
    await vendor.get_by_label("Motivo del rechazo").fill("Sin stock de la talla 41 hasta marzo")
    await vendor.get_by_role("button", name="Rechazar cotización").click()
    await expect(vendor.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "REJECTED"
    )

    await buyer.goto(quote_url)
    await expect(buyer.locator("[data-quote-status]")).to_contain_text("Rechazada")
    await expect(buyer.get_by_text("Motivo: Sin stock de la talla 41 hasta marzo")).to_be_visible()
    await expect(buyer.get_by_role("button", name="Pagar con Khipu")).to_have_count(0)
    await screenshot(buyer, "cotizacion-rechazada")
    await buyer_ctx.close()
    await vendor_ctx.close()


async def test_vendor_asks_once_for_more_time_and_operator_extends_the_deadline(browser, stack):
    buyer_ctx, buyer = await new_page(browser, stack)
    await request_shoe_quote(buyer)
    quote_id = buyer.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    await buyer_ctx.close()

    vendor_ctx, vendor = await new_page(browser, stack)
    await sign_in(vendor, SHOE_VENDOR)
    await vendor.goto(f"/vendedor/cotizaciones/{quote_id}")
    before = await vendor.locator("[data-active-deadline] time").get_attribute("datetime")
    # More than the vendor may ask for: refused beside the field, in Spanish.
    await vendor.locator("#x-hours").fill("500")
    await vendor.get_by_role("button", name="Pedir más plazo").click()
    await expect(vendor.locator("#x-hours-error")).to_have_text(re.compile("Como máximo"))
    await vendor.locator("#x-hours").fill("12")
    await vendor.get_by_label("Motivo (opcional)").fill("Consultando stock con la fábrica")
    await vendor.get_by_role("button", name="Pedir más plazo").click()
    await expect(vendor.get_by_text("Plazo extendido.", exact=True)).to_be_visible()
    await expect(vendor.get_by_text("Consultando stock con la fábrica")).to_be_visible()
    after = await vendor.locator("[data-active-deadline] time").get_attribute("datetime")
    assert before is not None
    assert after is not None
    assert datetime.fromisoformat(after) - datetime.fromisoformat(before) == timedelta(hours=12)
    # Once only: the form is gone.
    await expect(vendor.get_by_role("button", name="Pedir más plazo")).to_have_count(0)
    await vendor_ctx.close()

    op_ctx, operator = await new_page(browser, stack)
    await sign_in(operator, "operador@marketred.cl")
    await operator.goto(f"/operador/cotizaciones/{quote_id}")
    await operator.locator("#x-hours").fill("2")
    await operator.locator("#x-reason").fill("Feriado regional")
    await operator.get_by_role("button", name="Extender plazo").click()
    await expect(operator.get_by_text("Plazo extendido.", exact=True)).to_be_visible()
    await expect(operator.get_by_text("Feriado regional")).to_be_visible()
    await assert_accessible_forms(operator)
    await op_ctx.close()


async def test_a_payment_rejected_at_khipu_is_held_and_the_operator_rechecks_then_cancels(
    browser, stack
):
    buyer_ctx, buyer = await new_page(browser, stack)
    await request_shoe_quote(buyer)
    quote_url = buyer.url.split("?")[0]
    quote_id = quote_url.rstrip("/").rsplit("/", 1)[-1]

    vendor_ctx, vendor = await new_page(browser, stack)
    await sign_in(vendor, SHOE_VENDOR)
    await vendor.goto(f"/vendedor/cotizaciones/{quote_id}")
    await vendor.get_by_label("Costo de despacho ($)").fill("2.990")
    await vendor.get_by_role("button", name="Aceptar cotización").click()
    await expect(vendor.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "ACCEPTED"
    )
    await vendor_ctx.close()

    # The buyer goes to Khipu and rejects the charge there.
    await buyer.goto(quote_url)
    await buyer.get_by_role("button", name="Pagar con Khipu").click()
    await buyer.get_by_role("button", name="Rechazar").click()
    await buyer_ctx.close()

    op_ctx, operator = await new_page(browser, stack)
    await sign_in(operator, "operador@marketred.cl")
    held_link = operator.locator(f'a[href="/operador/cotizaciones/{quote_id}"]')
    for _attempt in range(60):  # the workflow reads the payment back within seconds
        await operator.goto("/operador/retenidas")
        if await held_link.count():
            break
        await operator.wait_for_timeout(1000)
    await held_link.first.click()
    await expect(operator.get_by_text("the payer declined to pay")).to_be_visible()
    await assert_accessible_forms(operator)

    await operator.get_by_role("button", name="Verificar de nuevo").click()
    await expect(operator.get_by_text(re.compile("Khipu aún no confirma el pago"))).to_be_visible()
    await expect(
        operator.get_by_text("Pago verificado de nuevo con Khipu: sigue retenido")
    ).to_be_visible()
    await expect(operator.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "ACCEPTED"
    )

    await operator.locator("#op-reason").fill("El comprador rechazó el cobro")
    await operator.get_by_role("button", name="Cancelar cotización").click()
    await expect(operator.get_by_text("La cotización fue cancelada.")).to_be_visible()
    await expect(operator.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "CANCELLED"
    )
    await expect(operator.get_by_role("button", name="Verificar de nuevo")).to_have_count(0)
    # Its buyer's account, found in the console's account search (labelled for screen readers).
    await operator.get_by_role("link", name="Cuentas").click()
    await operator.get_by_label("Correo o nombre").fill(BUYER)
    await operator.get_by_role("button", name="Buscar cuentas").click()
    row = operator.locator(f'tr[data-account="{BUYER}"]')
    await expect(row).to_have_attribute("data-active", "yes")
    await expect(row.get_by_role("button", name=f"Desactivar {BUYER}")).to_be_visible()
    await assert_accessible_forms(operator)
    await op_ctx.close()

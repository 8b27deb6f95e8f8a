"""Partial acceptance and stock in a real browser against the whole running product:
(a) a vendor accepts 2 of 3 lines with a lower quantity and the buyer sees the change
(old → new, the dropped line with its reason) before paying the new total in the Khipu
sandbox; the ledger posts exactly that total; (b) the vendor sets the stock of a variant
to its last unit in the back office and two acceptances clicked at the same moment sell
it once: one is accepted, the other says which line lacks stock; the variant then shows
as sold out and cannot be put in a cart."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.support import journey
from tests.support.browser import BUYER, new_page, screenshot, sign_in
from tests.support.stack import connect_stack_database

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SLUG = "textiles-chiloe"
STAFF = f"staff@{SLUG}.cl"


def _variants(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """The vendor's variants by SKU (each with its product's id)."""
    out: dict[str, dict[str, Any]] = {}
    for product in api.get(f"/api/v1/vendors/{SLUG}/products").json()["items"]:
        for variant in product["variants"]:
            out[variant["sku"]] = {**variant, "product_id": product["id"]}
    return out


def _request(api: httpx.Client, buyer: dict[str, str], items: dict[str, int]) -> dict[str, Any]:
    """The buyer's quote for exactly these variant ids and quantities."""
    api.delete(f"/api/v1/carts/{SLUG}", headers=buyer)
    for variant_id, quantity in items.items():
        r = api.put(
            f"/api/v1/carts/{SLUG}/items/{variant_id}", json={"quantity": quantity}, headers=buyer
        )
        r.raise_for_status()
    r = api.post("/api/v1/quotes", json={"vendor": SLUG, "note": "", "contact": {}}, headers=buyer)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _sale_posted(stack, quote_id: str) -> int:  # type: ignore[no-untyped-def]
    """What the stack's ledger took in for the quote's sale (its own database)."""
    conn = await connect_stack_database(stack)
    try:
        total = await conn.fetchval(
            """SELECT sum(amount) FROM ledger_entries WHERE account = 'buyer_payments'
               AND quote_id = $1::uuid AND key LIKE 'quote:%:sale:%'""",
            quote_id,
        )
    finally:
        await conn.close()
    return int(total or 0)


def _line(quote: dict[str, Any], variant_id: str) -> int:
    return int(next(ln["position"] for ln in quote["lines"] if ln["variant_id"] == variant_id))


async def test_vendor_accepts_two_of_three_lines_and_the_buyer_sees_the_change(browser, stack):
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        buyer_h, staff_h = journey.login(api, BUYER), journey.login(api, STAFF)
        v = _variants(api)
        small, medium, cap = v["CHA-S-GRIS"]["id"], v["CHA-M-GRIS"]["id"], v["GOR-UNI"]["id"]
        quote = _request(api, buyer_h, {small: 2, medium: 1, cap: 3})
    qid = quote["id"]

    vendor_ctx, vendor = await new_page(browser, stack)
    await sign_in(vendor, STAFF)
    await vendor.goto(f"/vendedor/cotizaciones/{qid}")
    cap_row = vendor.locator(f'tr[data-line="{_line(quote, cap)}"]')
    medium_row = vendor.locator(f'tr[data-line="{_line(quote, medium)}"]')
    await cap_row.get_by_label(re.compile("^Cantidad de Gorro")).fill("2")
    await cap_row.get_by_label(re.compile("^Motivo del cambio")).fill("Solo quedan 2 gorros")
    await medium_row.get_by_label(re.compile("^Cantidad de Chaleco")).fill("0")
    # No reason for the dropped line: the form says so and nothing is accepted.
    await vendor.get_by_label("Costo de despacho ($)").fill("3.990")
    await vendor.get_by_role("button", name="Aceptar cotización").click()
    await expect(
        vendor.locator(f'[data-field-error="reason_{_line(quote, medium)}"]')
    ).to_contain_text("por qué envías menos")
    await expect(vendor.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "REQUESTED"
    )
    medium_row = vendor.locator(f'tr[data-line="{_line(quote, medium)}"]')
    await medium_row.get_by_label(re.compile("^Motivo del cambio")).fill("No queda talla M")
    await screenshot(vendor, "aceptacion-parcial-01-vendedor")
    await vendor.get_by_role("button", name="Aceptar cotización").click()
    await expect(vendor.locator("[data-quote-status]")).to_have_attribute(
        "data-quote-status", "ACCEPTED"
    )

    # The buyer sees what changed, and the new total, before paying.
    buyer_ctx, buyer = await new_page(browser, stack)
    await sign_in(buyer, BUYER)
    await buyer.goto(f"/cotizaciones/{qid}")
    changed = buyer.locator("[data-order-changed]")
    await expect(changed).to_contain_text("Gorro de lana: 3 → 2 — Solo quedan 2 gorros")
    await expect(changed).to_contain_text(
        "Chaleco de lana chilota: quitado (pediste 1) — No queda talla M"
    )
    await expect(buyer.locator(f'tr[data-line="{_line(quote, cap)}"] del')).to_have_text("3")
    # 2 × 34.990 + 2 × 12.990 + 3.990
    await expect(buyer.locator("[data-total]")).to_have_text("$99.950")
    await expect(buyer.get_by_text("Cancelar esta cotización")).to_be_visible()
    await screenshot(buyer, "aceptacion-parcial-02-comprador")
    await buyer.get_by_role("button", name="Pagar con Khipu").click()
    await expect(buyer.get_by_text("$99.950")).to_be_visible()  # what Khipu is asked for
    await buyer.get_by_role("button", name="Pagar", exact=True).click()
    await expect(buyer.locator('[data-payment-state="confirmed"]')).to_be_visible(timeout=60_000)

    # Shipped and delivered: the ledger posts the sale at the new total, to the peso.
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        journey.wait_status(api, qid, "PAID", buyer_h)
        done = journey.ship_and_deliver(api, qid, staff_h, buyer_h, "P1")
    assert done["total"] == 99_950
    assert await _sale_posted(stack, qid) == 99_950
    for context in (vendor_ctx, buyer_ctx):
        await context.close()


async def test_the_last_unit_is_not_sold_twice_by_two_acceptances_at_once(browser, stack):
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        buyer_h, staff_h = journey.login(api, BUYER), journey.login(api, STAFF)
        large = _variants(api)["CHA-L-CRUDO"]

    # The vendor tracks the variant's stock: one left.
    first_ctx, first = await new_page(browser, stack)
    await sign_in(first, STAFF)
    await first.goto(f"/vendedor/catalogo/{large['product_id']}")
    stock_field = first.locator(f"#vs-{large['id']}")
    await stock_field.fill("1")
    await stock_field.locator("xpath=ancestor::form").get_by_role("button", name="Guardar").click()
    await first.goto(f"/vendedor/catalogo/{large['product_id']}")
    await expect(first.locator(f"#vs-{large['id']}")).to_have_value("1")

    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        quotes = [_request(api, buyer_h, {large["id"]: 1}) for _ in range(2)]

    # Two decision pages, both "Aceptar" pressed at the same moment.
    second_ctx, second = await new_page(browser, stack)
    await sign_in(second, STAFF)
    pages = [first, second]
    for page, quote in zip(pages, quotes, strict=True):
        await page.goto(f"/vendedor/cotizaciones/{quote['id']}")
        await page.get_by_label("Costo de despacho ($)").fill("0")
    await asyncio.gather(
        *(p.get_by_role("button", name="Aceptar cotización").click() for p in pages)
    )
    for page in pages:
        await page.wait_for_load_state()
    statuses = [
        await p.locator("[data-quote-status]").get_attribute("data-quote-status") for p in pages
    ]
    assert sorted(statuses) == ["ACCEPTED", "REQUESTED"], statuses  # type: ignore[type-var]
    loser = pages[statuses.index("REQUESTED")]
    await expect(loser.locator('[data-field-error="lines"]')).to_contain_text(
        "Falta stock de Chaleco de lana chilota"
    )
    await expect(loser.locator('[data-field-error="lines"]')).to_contain_text("quedan 0")
    await screenshot(loser, "stock-01-ultima-unidad-vendida")
    await loser.goto(f"/vendedor/catalogo/{large['product_id']}")
    await expect(loser.locator(f"#vs-{large['id']}")).to_have_value("0")

    # Sold out: the product page says so and the cart refuses it.
    buyer_ctx, buyer = await new_page(browser, stack)
    await sign_in(buyer, BUYER)
    await buyer.goto(f"/productos/{large['product_id']}")
    await expect(buyer.get_by_text("agotado")).to_be_visible()
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        r = api.put(
            f"/api/v1/carts/{SLUG}/items/{large['id']}", json={"quantity": 1}, headers=buyer_h
        )
        assert r.status_code == 422
        assert "out of stock" in r.text
        # Leave the shop as found: the other quote is rejected, the stock untracked.
        still = quotes[statuses.index("REQUESTED")]
        api.post(f"/api/v1/quotes/{still['id']}/reject", json={"reason": "Agotado"},
                 headers=staff_h).raise_for_status()  # fmt: skip
    stock_field = loser.locator(f"#vs-{large['id']}")
    await stock_field.fill("")
    await stock_field.locator("xpath=ancestor::form").get_by_role("button", name="Guardar").click()
    for context in (first_ctx, second_ctx, buyer_ctx):
        await context.close()

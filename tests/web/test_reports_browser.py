"""An operator's report matches the ledger: a quote is taken to COMPLETED through the
API and the Khipu sandbox, then the operator's report page (table, chart, CSV) and the
vendor's own report show exactly the sums of the stack's ledger accounts."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from marketred.schemas.money import format_clp
from tests.support import journey
from tests.support.browser import BUYER, new_page, screenshot, sign_in
from tests.support.stack import connect_stack_database

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SLUG = "cafe-altiplano"


def _completed_sale(stack) -> int:  # type: ignore[no-untyped-def]
    with (
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
        httpx.Client(base_url=stack.khipu_url, timeout=30) as khipu,
    ):
        buyer, staff = journey.login(api, BUYER), journey.login(api, f"staff@{SLUG}.cl")
        journey.fill_cart(api, buyer, journey.first_variant(api), 3)
        quote = api.post("/api/v1/quotes", json={"vendor": SLUG, "note": "", "contact": {}},
                         headers=buyer).json()  # fmt: skip
        qid = quote["id"]
        api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 2990},
                 headers=staff).raise_for_status()  # fmt: skip
        api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer).raise_for_status()
        journey.pay_at_khipu(khipu, quote["workflow_id"])
        journey.wait_status(api, qid, "PAID", buyer)
        return int(
            journey.ship_and_deliver(api, qid, staff, buyer, "R1", carrier="Chilexpress")["total"]
        )


async def _ledger(stack) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The stack's own books, straight from its database (found as the CLI finds it)."""
    conn = await connect_stack_database(stack)
    try:
        rows = await conn.fetch(
            """SELECT account, sum(amount) AS total FROM ledger_entries e
               JOIN vendors v ON v.id = e.vendor_id
               WHERE v.slug = $1 AND (account <> 'buyer_payments' OR key LIKE 'quote:%:sale:%')
               GROUP BY account""",
            SLUG,
        )
    finally:
        await conn.close()
    return {r["account"]: int(r["total"]) for r in rows}


async def test_operator_report_matches_the_ledger(browser, stack):
    total = _completed_sale(stack)
    books = await _ledger(stack)
    assert books["buyer_payments"] >= total
    context, page = await new_page(browser, stack)
    await sign_in(page, "operador@marketred.cl")
    await page.goto(f"/operador/informes?tienda={SLUG}")
    rows = page.locator("table[data-report] tbody tr")
    await expect(rows).to_have_count(1)
    footer = page.locator('tr[data-row="total"]')
    await expect(footer.locator('[data-col="sales"]')).to_have_text(
        format_clp(books["buyer_payments"])
    )
    await expect(footer.locator('[data-col="commission"]')).to_have_text(
        format_clp(-books["platform_commission"])
    )
    await expect(footer.locator('[data-col="refunds"]')).to_have_text(
        format_clp(-books.get("refunds", 0))
    )
    await expect(page.locator("section.chart svg rect.bar-sales")).not_to_have_count(0)
    await screenshot(page, "operador-informe")
    csv = await page.request.get(f"/operador/informes.csv?tienda={SLUG}")
    assert csv.headers["content-type"].startswith("text/csv")
    last = (await csv.text()).strip().splitlines()[-1]
    assert last.startswith(f"total;;{books['buyer_payments']};{-books['platform_commission']};")
    await context.close()

    context, page = await new_page(browser, stack)
    await sign_in(page, f"staff@{SLUG}.cl")
    await page.goto("/vendedor/informes")
    await expect(page.locator("#r-tienda")).to_have_count(0)
    await expect(page.locator('tr[data-row="total"] [data-col="sales"]')).to_have_text(
        format_clp(books["buyer_payments"])
    )
    await context.close()

"""Back office and console pages in the browser: the vendor's catalog and CSV import
(dry-run report by row), the operator's console with its Temporal UI links, and the
English switch. Screenshots of each are saved."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.support.browser import assert_accessible_forms, new_page, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def test_vendor_catalog_and_csv_import(browser, stack, tmp_path):
    context, page = await new_page(browser, stack)
    await sign_in(page, "staff@textiles-chiloe.cl")
    await page.goto("/vendedor/catalogo")
    await expect(page.get_by_role("link", name="Chaleco de lana chilota")).to_be_visible()
    await expect(page.get_by_text("$34.990").first).to_be_visible()
    await screenshot(page, "vendedor-catalogo")
    await page.get_by_role("link", name="Chaleco de lana chilota").click()
    await assert_accessible_forms(page)
    await screenshot(page, "vendedor-producto-variantes")

    csv = tmp_path / "planilla.csv"
    csv.write_text(
        "sku;nombre;precio;Talla\nMAN-S;Manta de lana;29.990;S\nMAN-M;Manta de lana;treinta;M\n",
        encoding="utf-8",
    )
    await page.goto("/vendedor/catalogo-importar")
    await page.get_by_label("Archivo CSV").set_input_files(str(csv))
    await page.get_by_role("button", name="Revisar archivo").click()
    report = page.locator("tr.report-row-error")
    await expect(report).to_have_count(1)
    await expect(report.first.locator("td").first).to_have_text("3")
    await screenshot(page, "vendedor-importacion-reporte")
    await context.close()


async def test_operator_console_and_english(browser, stack):
    context, page = await new_page(browser, stack)
    await sign_in(page, "operador@marketred.cl")
    await page.goto("/operador")
    await expect(
        page.get_by_role("heading", name=re.compile("Todas las cotizaciones"))
    ).to_be_visible()
    links = page.get_by_role("link", name=re.compile("Ver en Temporal"))
    if await links.count():
        href = await links.first.get_attribute("href") or ""
        assert href.startswith(f"{stack.temporal_ui_url}/namespaces/default/workflows/quote-")
    await assert_accessible_forms(page)
    await screenshot(page, "operador-consola")
    await page.goto("/operador/pagos")
    await screenshot(page, "operador-pagos-por-aprobar")

    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", name="Payouts to approve")).to_be_visible()
    await page.goto("/")
    await expect(
        page.get_by_role("link", name="Sign out").or_(page.get_by_role("button", name="Sign out"))
    ).to_be_visible()
    await screenshot(page, "english-home")
    await page.get_by_role("link", name="Español").click()
    await expect(page.locator("html")).to_have_attribute("lang", "es-CL")
    await context.close()

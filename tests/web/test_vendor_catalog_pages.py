"""Vendor catalog pages over ASGI: create a product with variants, errors beside fields,
CSV import dry-run report by row, then confirm."""

from __future__ import annotations

import pytest

from tests.support.factories import make_user, make_vendor
from tests.support.pages import csrf_of, sign_in

pytestmark = pytest.mark.db


@pytest.fixture
async def vendor_client(client, db, settings):
    shop = await make_vendor(db, "Quesos del Sur")
    staff = await make_user(db, "vendor", shop)
    await sign_in(client, db, settings, staff)
    return client, shop


async def test_create_product_with_variants_then_see_it_in_the_store(vendor_client):
    client, _shop = vendor_client
    page = await client.get("/vendedor/catalogo/nuevo")
    assert page.status_code == 200
    token = csrf_of(page.text)
    bad = await client.post(
        "/vendedor/catalogo/nuevo",
        data={"csrf_token": token, "name": "Queso de cabra", "sku_0": "QC-1", "price_0": "12,5"},
    )
    assert bad.status_code == 422
    assert 'id="f-price_0-error"' in bad.text
    assert 'value="Queso de cabra"' in bad.text

    ok = await client.post(
        "/vendedor/catalogo/nuevo",
        data={
            "csrf_token": token,
            "name": "Queso de cabra",
            "sku_0": "QC-250",
            "price_0": "$6.990",
            "options_0": "formato: 250 g",
            "sku_1": "QC-1K",
            "price_1": "24.990",
            "options_1": "formato: 1 kg",
        },
    )
    assert ok.status_code == 303, ok.text
    edit = await client.get(ok.headers["location"])
    assert "QC-1K" in edit.text
    listing = await client.get("/vendedor/catalogo")
    assert "$6.990" in listing.text


async def test_csv_import_reports_bad_rows_and_imports_after_confirmation(vendor_client):
    client, _ = vendor_client
    page = await client.get("/vendedor/catalogo-importar")
    token = csrf_of(page.text)
    bad_csv = "sku;nombre;precio;Talla\nG-1;Guante;5.990;M\nG-2;Guante;cinco mil;L\n"
    report = await client.post(
        "/vendedor/catalogo-importar",
        data={"csrf_token": token},
        files={"file": ("guantes.csv", bad_csv.encode(), "text/csv")},
    )
    assert report.status_code == 200
    assert 'class="report-row-error"' in report.text
    assert '<td data-label="Fila">3</td>' in report.text
    assert "Confirmar importación" not in report.text
    # The row's problem is told in the page's language, not the service's English.
    assert "No es un monto en pesos: escribe 12990 o 12.990." in report.text
    assert "whole number" not in report.text

    good_csv = "sku;nombre;precio;Talla\nG-1;Guante de lana;5.990;M\nG-2;Guante de lana;6.490;L\n"
    report = await client.post(
        "/vendedor/catalogo-importar",
        data={"csrf_token": token},
        files={"file": ("guantes.csv", good_csv.encode(), "text/csv")},
    )
    assert "Confirmar importación" in report.text
    assert "Guante de lana" not in (await client.get("/vendedor/catalogo")).text
    payload = report.text.split('name="payload" value="')[1].split('"')[0]
    done = await client.post(
        "/vendedor/catalogo-importar/confirmar", data={"csrf_token": token, "payload": payload}
    )
    assert done.status_code == 303
    listing = await client.get("/vendedor/catalogo")
    assert "Guante de lana" in listing.text
    assert "$5.990" in listing.text


async def test_buyers_cannot_open_the_back_office(client, db, settings):
    buyer = await make_user(db, "buyer")
    await sign_in(client, db, settings, buyer)
    r = await client.get("/vendedor/catalogo")
    assert r.status_code == 403
    assert "No tienes acceso" in r.text


async def test_a_service_refusal_is_shown_beside_the_field_in_spanish(vendor_client):
    client, _ = vendor_client
    page = await client.get("/vendedor/catalogo/nuevo")
    token = csrf_of(page.text)
    first = {"csrf_token": token, "name": "Queso fresco", "sku_0": "QF-1", "price_0": "3.990"}
    assert (await client.post("/vendedor/catalogo/nuevo", data=first)).status_code == 303
    again = await client.post(
        "/vendedor/catalogo/nuevo", data={**first, "name": "Queso fresco grande"}
    )
    assert again.status_code == 422
    assert 'id="f-sku_0-error"' in again.text
    assert "Ya lo usa otro de tus productos." in again.text
    english = await client.post(
        "/vendedor/catalogo/nuevo?lang=en", data={**first, "name": "Queso fresco grande"}
    )
    assert "Already used by another of your products." in english.text

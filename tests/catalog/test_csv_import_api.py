"""POST /api/v1/vendor/products/import: dry run, all-or-nothing, re-import by SKU, speed."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.catalog.helpers import Actor, buyer_actor, vendor_actor

pytestmark = pytest.mark.db

FIXTURES = Path(__file__).parent / "fixtures"
IMPORT = "/api/v1/vendor/products/import"


async def _own_products(client: httpx.AsyncClient, actor: Actor) -> dict[str, Any]:
    r = await client.get("/api/v1/vendor/products?limit=100", headers=actor.headers)
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


async def test_windows_1252_semicolon_file_imports_grouping_variants(client, db, settings):
    vendor = await vendor_actor(db, settings)
    data = (FIXTURES / "catalogo_windows1252_punto_y_coma.csv").read_bytes()
    r = await client.post(
        IMPORT, content=data, headers={**vendor.headers, "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] is False
    assert "touched_product_ids" not in report  # internal, for the directory indexer
    assert (report["products_created"], report["variants_created"]) == (2, 3)
    products = {p["name"]: p for p in (await _own_products(client, vendor))["items"]}
    zapato = products["Zapato de cuero"]
    assert sorted(v["sku"] for v in zapato["variants"]) == ["ZAP-38-NEG", "ZAP-40-NEG"]
    assert {v["price"] for v in zapato["variants"]} == {12990}
    assert zapato["category"] == "Calzado"
    by_sku = {v["sku"]: v for v in zapato["variants"]}
    assert by_sku["ZAP-38-NEG"]["stock"] == 4
    assert by_sku["ZAP-40-NEG"]["stock"] is None
    assert by_sku["ZAP-38-NEG"]["options"] == {"Talla": "38", "Color": "negro"}
    assert products["Café de grano tostado"]["variants"][0]["price"] == 7490


async def test_multipart_upload_of_a_utf8_bom_comma_file(client, db, settings):
    vendor = await vendor_actor(db, settings)
    data = (FIXTURES / "catalogo_utf8_bom_coma.csv").read_bytes()
    r = await client.post(
        IMPORT, files={"file": ("miel.csv", data, "text/csv")}, headers=vendor.headers
    )
    assert r.status_code == 200, r.text
    items = (await _own_products(client, vendor))["items"]
    assert len(items) == 1
    assert items[0]["keywords"] == ["miel", "ulmo", "sur"]
    assert sorted(v["price"] for v in items[0]["variants"]) == [12990, 21990]


async def test_dry_run_reports_bad_rows_by_line_and_writes_nothing(client, db, settings):
    vendor = await vendor_actor(db, settings)
    data = (FIXTURES / "catalogo_con_errores.csv").read_bytes()
    r = await client.post(IMPORT, params={"dry_run": "true"}, content=data, headers=vendor.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] is True
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "precio"), (4, "nombre")]
    assert (await _own_products(client, vendor))["total"] == 0


async def test_dry_run_of_a_good_file_counts_without_writing(client, db, settings):
    vendor = await vendor_actor(db, settings)
    data = (FIXTURES / "catalogo_windows1252_punto_y_coma.csv").read_bytes()
    r = await client.post(IMPORT, params={"dry_run": "true"}, content=data, headers=vendor.headers)
    assert r.status_code == 200
    assert (r.json()["products_created"], r.json()["variants_created"]) == (2, 3)
    assert (await _own_products(client, vendor))["total"] == 0


async def test_real_run_with_a_bad_row_is_refused_whole(client, db, settings):
    vendor = await vendor_actor(db, settings)
    data = (FIXTURES / "catalogo_con_errores.csv").read_bytes()
    r = await client.post(IMPORT, content=data, headers=vendor.headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["line 3: precio", "line 4: nombre"]
    assert (await _own_products(client, vendor))["total"] == 0


async def test_reimport_updates_by_sku_instead_of_duplicating(client, db, settings):
    vendor = await vendor_actor(db, settings)
    first = b"sku;nombre;precio;stock\nTZ-1;Taza;5.990;10\nTZ-2;Taza;6.990;\n"
    r = await client.post(IMPORT, content=first, headers=vendor.headers)
    assert r.status_code == 200, r.text
    again = (
        b"sku;nombre;precio;stock\n"
        b"TZ-1;Taza grande;7.990;3\nTZ-2;Taza grande;6.990;\nTZ-3;Taza grande;8.990;1\n"
    )
    r = await client.post(IMPORT, content=again, headers=vendor.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["products_created"], report["variants_created"], report["variants_updated"]) == (
        0,
        1,
        2,
    )
    listing = await _own_products(client, vendor)
    assert listing["total"] == 1
    product = listing["items"][0]
    assert product["name"] == "Taza grande"
    prices = {v["sku"]: (v["price"], v["stock"]) for v in product["variants"]}
    assert prices == {"TZ-1": (7990, 3), "TZ-2": (6990, None), "TZ-3": (8990, 1)}


async def test_a_buyer_cannot_import(client, db, settings):
    buyer = await buyer_actor(db, settings)
    r = await client.post(IMPORT, content=b"sku;nombre;precio\nA;B;1\n", headers=buyer.headers)
    assert r.status_code == 403


async def test_ten_thousand_rows_import_then_update_in_place(client, db, settings):
    """A catalog of 10,000 variants goes in in one request, and the same file again
    updates every variant instead of adding any (how long it takes is a benchmark's
    business, not this test's: a timed assertion fails on a busy machine)."""
    vendor = await vendor_actor(db, settings)
    lines = ["sku;nombre;descripcion;categoria;precio;stock;talla"]
    for i in range(10_000):
        lines.append(
            f"SKU-{i:05d};Producto {i // 4};Descripción del producto {i // 4};Cat {i % 7};"
            f"${1000 + i:,}".replace(",", ".")
            + f";{i % 50};{['S', 'M', 'L', 'XL'][i % 4]}"
        )
    data = "\r\n".join(lines).encode("cp1252")
    r = await client.post(IMPORT, content=data, headers=vendor.headers)
    assert r.status_code == 200, r.text[:500]
    assert (r.json()["products_created"], r.json()["variants_created"]) == (2500, 10_000)
    r = await client.post(IMPORT, content=data, headers=vendor.headers)
    assert r.status_code == 200
    assert (r.json()["variants_updated"], r.json()["variants_created"]) == (10_000, 0)
    assert (await _own_products(client, vendor))["total"] == 2500

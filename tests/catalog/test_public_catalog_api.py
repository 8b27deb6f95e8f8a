"""Public catalog: vendors, a vendor's products, one product; CORS for embed origins."""

import pytest

from tests.catalog.helpers import create_product, product_body, vendor_actor

pytestmark = pytest.mark.db


async def test_vendor_list_and_detail_show_only_active_vendors(client, db, settings):
    shown = await vendor_actor(db, settings, "Artesanías Chiloé Sur")
    hidden = await vendor_actor(db, settings, "Artesanías Ocultas")
    hidden.vendor.active = False
    shown.vendor.directory_id = "dir-123"
    await db.flush()
    r = await client.get("/api/v1/vendors", params={"q": "artesanias", "limit": 100})
    assert r.status_code == 200
    slugs = [v["slug"] for v in r.json()["items"]]
    assert shown.vendor.slug in slugs
    assert hidden.vendor.slug not in slugs
    r = await client.get(f"/api/v1/vendors/{shown.vendor.slug}")
    body = r.json()
    assert (body["slug"], body["name"], body["rut"], body["directory_id"]) == (
        shown.vendor.slug,
        "Artesanías Chiloé Sur",
        shown.vendor.rut,
        "dir-123",
    )
    assert (await client.get(f"/api/v1/vendors/{hidden.vendor.slug}")).status_code == 404
    assert (await client.get(f"/api/v1/vendors/{hidden.vendor.slug}/products")).status_code == 404


async def test_vendor_products_and_product_detail_hide_inactive_things(client, db, settings):
    vendor = await vendor_actor(db, settings)
    shown = await create_product(client, vendor, product_body("Poncho de lana"))
    hidden = await create_product(
        client,
        vendor,
        product_body("Poncho viejo", active=False, variants=[{"sku": "PV", "price": 1}]),
    )
    m_id = shown["variants"][0]["id"]
    await client.patch(
        f"/api/v1/vendor/products/{shown['id']}/variants/{m_id}",
        json={"active": False},
        headers=vendor.headers,
    )
    r = await client.get(f"/api/v1/vendors/{vendor.vendor.slug}/products")
    assert r.json()["total"] == 1
    [item] = r.json()["items"]
    assert item["id"] == shown["id"]
    assert [v["sku"] for v in item["variants"]] == ["POL-L-GRIS"]
    r = await client.get(f"/api/v1/products/{shown['id']}")
    assert r.status_code == 200
    assert [v["sku"] for v in r.json()["variants"]] == ["POL-L-GRIS"]
    assert r.json()["min_price"] == 13990
    assert (await client.get(f"/api/v1/products/{hidden['id']}")).status_code == 404
    r = await client.get(
        f"/api/v1/vendors/{vendor.vendor.slug}/products", params={"category": "vestuario"}
    )
    assert r.json()["total"] == 1


async def test_cors_allows_configured_origins_on_the_public_api_only(client, settings):
    origin = settings.embed_origins[0]
    r = await client.get("/api/v1/products/search", params={"q": "x"}, headers={"Origin": origin})
    assert r.headers.get("access-control-allow-origin") == origin
    r = await client.options(
        "/api/v1/products/search",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert r.status_code == 200
    assert "GET" in r.headers["access-control-allow-methods"]
    r = await client.get("/api/v1/vendors", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    r = await client.get("/api/v1/carts", headers={"Origin": origin})
    assert "access-control-allow-origin" not in r.headers

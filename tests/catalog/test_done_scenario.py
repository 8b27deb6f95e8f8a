"""The issue's "done when" walk-through, through the public API."""

import pytest

from tests.catalog.helpers import buyer_actor, create_product, product_body, vendor_actor

pytestmark = pytest.mark.db


async def test_vendor_creates_buyer_finds_by_typo_and_fills_two_carts(client, db, settings):
    a = await vendor_actor(db, settings, "Café Ñuñoa Limitada")
    b = await vendor_actor(db, settings)
    buyer = await buyer_actor(db, settings)
    created = await create_product(
        client,
        a,
        product_body(
            "Chocolate amargo de Cafetería",
            variants=[
                {"sku": "CHOC-100", "options": {"peso": "100 g"}, "price": 3990},
                {"sku": "CHOC-250", "options": {"peso": "250 g"}, "price": 8990},
            ],
        ),
    )
    assert [v["sku"] for v in created["variants"]] == ["CHOC-100", "CHOC-250"]
    other = await create_product(client, b, product_body("Miel de ulmo"))

    r = await client.get("/api/v1/products/search", params={"q": "chocolat amrgo"})
    assert r.status_code == 200, r.text
    assert created["id"] in [hit["id"] for hit in r.json()["items"]]

    slug_a, slug_b = a.vendor.slug, b.vendor.slug
    v100, v250 = (v["id"] for v in created["variants"])
    for variant_id, qty in ((v100, 2), (v250, 1)):
        r = await client.put(
            f"/api/v1/carts/{slug_a}/items/{variant_id}",
            json={"quantity": qty},
            headers=buyer.headers,
        )
        assert r.status_code == 200, r.text
    r = await client.put(
        f"/api/v1/carts/{slug_b}/items/{other['variants'][0]['id']}",
        json={"quantity": 3},
        headers=buyer.headers,
    )
    assert r.status_code == 200, r.text

    r = await client.get("/api/v1/carts", headers=buyer.headers)
    assert r.status_code == 200
    carts = {c["vendor"]["slug"]: c for c in r.json()["items"]}
    assert r.json()["total"] == 2
    assert carts[slug_a]["total"] == 2 * 3990 + 8990
    assert carts[slug_b]["total"] == 3 * 12990
    assert len(carts[slug_a]["items"]) == 2

    # Vendor A touching vendor B's product: 404. A buyer on a vendor endpoint: 403.
    r = await client.patch(
        f"/api/v1/vendor/products/{other['id']}", json={"name": "Mío"}, headers=a.headers
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post("/api/v1/vendor/products", json=product_body(), headers=buyer.headers)
    assert r.status_code == 403

"""A vendor's own catalog: create, validate, update, deactivate, delete, variants."""

import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import Quote, QuoteLine
from tests.catalog.helpers import (
    Actor,
    VendorActor,
    buyer_actor,
    create_product,
    product_body,
    vendor_actor,
)

pytestmark = pytest.mark.db

PRODUCTS = "/api/v1/vendor/products"


async def _quote_line_for(
    db: AsyncSession, buyer: Actor, vendor: VendorActor, product: Any, variant: Any
) -> None:
    quote = Quote(
        workflow_id=f"quote-{uuid.uuid4()}",
        buyer_id=buyer.user.id,
        vendor_id=vendor.vendor.id,
        status="REQUESTED",
        subtotal=variant["price"],
        total=variant["price"],
        commission_bps=1000,
    )
    db.add(quote)
    await db.flush()
    db.add(
        QuoteLine(
            quote_id=quote.id,
            position=0,
            variant_id=uuid.UUID(variant["id"]),
            product_id=uuid.UUID(product["id"]),
            product_name=product["name"],
            sku=variant["sku"],
            quantity=1,
            original_unit_price=variant["price"],
            unit_price=variant["price"],
        )
    )
    await db.flush()


async def test_create_returns_the_product_with_ids_and_variants(client, db, settings):
    vendor = await vendor_actor(db, settings)
    out = await create_product(client, vendor, product_body())
    assert uuid.UUID(out["id"])
    assert out["vendor"]["slug"] == vendor.vendor.slug
    assert out["min_price"] == 12990
    assert out["keywords"] == ["ropa", "polera"]
    first, second = out["variants"]
    assert uuid.UUID(first["id"])
    assert first["label"] == "color: gris, talla: M"
    assert first["stock"] is None  # not tracked
    assert second["stock"] == 5
    r = await client.get(f"{PRODUCTS}/{out['id']}", headers=vendor.headers)
    assert r.status_code == 200
    assert r.json()["name"] == "Polera de algodón"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variants": [{"sku": "A", "price": 12990.5}]}, "variants[0].price"),
        ({"variants": [{"sku": "A", "price": 12990.0}]}, "variants[0].price"),
        ({"variants": [{"sku": "A", "price": "12990"}]}, "variants[0].price"),
        ({"variants": [{"sku": "A", "price": -100}]}, "variants[0].price"),
        ({"variants": [{"sku": "A", "price": 0}]}, "variants[0].price"),
        ({"variants": [{"sku": "A", "price": 1_000_000_001}]}, "variants[0].price"),
        ({"variants": [{"sku": "A", "price": 100, "stock": -1}]}, "variants[0].stock"),
        ({"variants": [{"sku": "", "price": 100}]}, "variants[0].sku"),
        ({"variants": [{"sku": "A", "price": 100, "colour": "red"}]}, "variants[0].colour"),
        ({"variants": []}, "variants"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"colour": "rojo"}, "colour"),
        ({"image_urls": ["javascript:alert(1)"]}, "image_urls[0]"),
    ],
)
async def test_invalid_writes_are_422_naming_the_field(client, db, settings, change, field):
    vendor = await vendor_actor(db, settings)
    r = await client.post(PRODUCTS, json=product_body(**change), headers=vendor.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_sku_is_unique_per_vendor_but_not_across_vendors(client, db, settings):
    a = await vendor_actor(db, settings)
    b = await vendor_actor(db, settings)
    await create_product(client, a, product_body())
    r = await client.post(PRODUCTS, json=product_body("Otra polera"), headers=a.headers)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["variants[0].sku", "variants[1].sku"]
    await create_product(client, b, product_body())  # same SKUs, other vendor: fine
    twice = product_body(variants=[{"sku": "X", "price": 100}, {"sku": "X", "price": 200}])
    r = await client.post(PRODUCTS, json=twice, headers=a.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "variants"


async def test_patch_updates_fields_and_refuses_nulls_and_unknown_fields(client, db, settings):
    vendor = await vendor_actor(db, settings)
    out = await create_product(client, vendor, product_body())
    url = f"{PRODUCTS}/{out['id']}"
    r = await client.patch(
        url, json={"name": "Polera premium", "category": None}, headers=vendor.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["category"]) == ("Polera premium", None)
    assert r.json()["description"] == out["description"]  # untouched
    for body, field in (({"name": None}, ""), ({"precio": 1}, "precio"), ({"name": ""}, "name")):
        r = await client.patch(url, json=body, headers=vendor.headers)
        assert r.status_code == 422, body
        if field:
            assert field in [e["field"] for e in r.json()["errors"]]


async def test_deactivated_product_disappears_from_the_public_catalog(client, db, settings):
    vendor = await vendor_actor(db, settings)
    out = await create_product(client, vendor, product_body("Bufanda de alpaca"))
    assert (await client.get(f"/api/v1/products/{out['id']}")).status_code == 200
    r = await client.patch(
        f"{PRODUCTS}/{out['id']}", json={"active": False}, headers=vendor.headers
    )
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert (await client.get(f"/api/v1/products/{out['id']}")).status_code == 404
    r = await client.get(f"/api/v1/vendors/{vendor.vendor.slug}/products")
    assert r.json() == {"items": [], "total": 0}
    r = await client.get("/api/v1/products/search", params={"q": "bufanda alpaca"})
    assert out["id"] not in [h["id"] for h in r.json()["items"]]
    # The vendor still sees it in its own listing.
    r = await client.get(PRODUCTS, headers=vendor.headers)
    assert [p["id"] for p in r.json()["items"]] == [out["id"]]


async def test_delete_only_when_never_quoted(client, db, settings):
    vendor = await vendor_actor(db, settings)
    buyer = await buyer_actor(db, settings)
    never = await create_product(
        client, vendor, product_body("Gorro", variants=[{"sku": "GOR-1", "price": 5990}])
    )
    r = await client.delete(f"{PRODUCTS}/{never['id']}", headers=vendor.headers)
    assert r.status_code == 204
    r = await client.get(f"{PRODUCTS}/{never['id']}", headers=vendor.headers)
    assert r.status_code == 404

    quoted = await create_product(client, vendor, product_body())
    await _quote_line_for(db, buyer, vendor, quoted, quoted["variants"][0])
    r = await client.delete(f"{PRODUCTS}/{quoted['id']}", headers=vendor.headers)
    assert r.status_code == 409
    url = f"{PRODUCTS}/{quoted['id']}/variants/{quoted['variants'][0]['id']}"
    assert (await client.delete(url, headers=vendor.headers)).status_code == 409
    r = await client.get(f"{PRODUCTS}/{quoted['id']}", headers=vendor.headers)
    assert r.status_code == 200


async def test_variant_endpoints(client, db, settings):
    vendor = await vendor_actor(db, settings)
    out = await create_product(client, vendor, product_body())
    base = f"{PRODUCTS}/{out['id']}/variants"
    r = await client.post(
        base,
        json={"sku": "POL-XL-GRIS", "options": {"talla": "XL"}, "price": 14990},
        headers=vendor.headers,
    )
    assert r.status_code == 201, r.text
    added = r.json()
    r = await client.post(base, json={"sku": "POL-M-GRIS", "price": 1}, headers=vendor.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "sku"
    r = await client.patch(
        f"{base}/{added['id']}", json={"price": 15990, "stock": 2}, headers=vendor.headers
    )
    assert r.status_code == 200
    assert (r.json()["price"], r.json()["stock"]) == (15990, 2)
    r = await client.patch(f"{base}/{added['id']}", json={"stock": None}, headers=vendor.headers)
    assert r.json()["stock"] is None
    r = await client.patch(f"{base}/{added['id']}", json={"price": 9.5}, headers=vendor.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "price"
    r = await client.patch(f"{base}/{added['id']}", json={"price": None}, headers=vendor.headers)
    assert r.status_code == 422
    for variant in (added, out["variants"][0]):
        assert (
            await client.delete(f"{base}/{variant['id']}", headers=vendor.headers)
        ).status_code == 204
    r = await client.delete(f"{base}/{out['variants'][1]['id']}", headers=vendor.headers)
    assert r.status_code == 422  # the last variant stays; deactivate the product instead
    r = await client.get(f"{PRODUCTS}/{out['id']}", headers=vendor.headers)
    assert [v["sku"] for v in r.json()["variants"]] == ["POL-L-GRIS"]


async def test_another_vendors_product_is_404_everywhere(client, db, settings):
    a = await vendor_actor(db, settings)
    b = await vendor_actor(db, settings)
    theirs = await create_product(client, b, product_body())
    pid, vid = theirs["id"], theirs["variants"][0]["id"]
    for method, url, body in (
        ("GET", f"{PRODUCTS}/{pid}", None),
        ("PATCH", f"{PRODUCTS}/{pid}", {"name": "x"}),
        ("DELETE", f"{PRODUCTS}/{pid}", None),
        ("POST", f"{PRODUCTS}/{pid}/variants", {"sku": "Z", "price": 1}),
        ("PATCH", f"{PRODUCTS}/{pid}/variants/{vid}", {"price": 1}),
        ("DELETE", f"{PRODUCTS}/{pid}/variants/{vid}", None),
    ):
        r = await client.request(method, url, json=body, headers=a.headers)
        assert r.status_code == 404, (method, url)
    assert (await client.get(PRODUCTS, headers=a.headers)).json()["total"] == 0


async def test_buyers_get_403_and_anonymous_401(client, db, settings):
    buyer = await buyer_actor(db, settings)
    assert (await client.get(PRODUCTS, headers=buyer.headers)).status_code == 403
    r = await client.post(PRODUCTS, json=product_body(), headers=buyer.headers)
    assert r.status_code == 403
    assert (await client.post(PRODUCTS, json=product_body())).status_code == 401


async def test_idempotency_key_replays_the_creation(client, db, settings):
    vendor = await vendor_actor(db, settings)
    headers = {**vendor.headers, "Idempotency-Key": "crear-polera-1"}
    first = await client.post(PRODUCTS, json=product_body(), headers=headers)
    again = await client.post(PRODUCTS, json=product_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (await client.get(PRODUCTS, headers=vendor.headers)).json()["total"] == 1
    other = await client.post(PRODUCTS, json=product_body("Otra"), headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_idempotency_key_on_adding_a_variant(client, db, settings):
    vendor = await vendor_actor(db, settings)
    out = await create_product(client, vendor, product_body())
    url = f"{PRODUCTS}/{out['id']}/variants"
    headers = {**vendor.headers, "Idempotency-Key": "variante-xl"}
    body = {"sku": "POL-XL", "options": {"talla": "XL"}, "price": 14990}
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    r = await client.get(f"{PRODUCTS}/{out['id']}", headers=vendor.headers)
    assert [v["sku"] for v in r.json()["variants"]].count("POL-XL") == 1

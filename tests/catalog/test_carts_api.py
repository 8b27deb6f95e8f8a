"""One cart per buyer and vendor: quantities, ownership, availability, stock, concurrency."""

import asyncio

import pytest

from marketred.services.catalog import carts
from marketred.store.models import Variant
from marketred.store.session import create_session_factory
from tests.catalog.helpers import (
    VendorActor,
    buyer_actor,
    create_product,
    product_body,
    vendor_actor,
)
from tests.support.factories import make_product, make_user, make_vendor

pytestmark = pytest.mark.db


def _item_url(actor: VendorActor, variant_id: str) -> str:
    return f"/api/v1/carts/{actor.vendor.slug}/items/{variant_id}"


@pytest.fixture
async def setup(client, db, settings):
    vendor = await vendor_actor(db, settings)
    buyer = await buyer_actor(db, settings)
    product = await create_product(client, vendor, product_body())
    return vendor, buyer, product


async def test_put_sets_and_zero_removes(client, setup):
    vendor, buyer, product = setup
    m, l_ = (v["id"] for v in product["variants"])
    r = await client.put(_item_url(vendor, m), json={"quantity": 3}, headers=buyer.headers)
    assert r.status_code == 200, r.text
    cart = r.json()
    assert cart["vendor"]["slug"] == vendor.vendor.slug
    assert cart["total"] == 3 * 12990
    assert cart["items"][0]["variant_label"] == "color: gris, talla: M"
    r = await client.put(_item_url(vendor, m), json={"quantity": 1}, headers=buyer.headers)
    assert r.json()["total"] == 12990  # set, not added
    await client.put(_item_url(vendor, l_), json={"quantity": 2}, headers=buyer.headers)
    r = await client.put(_item_url(vendor, m), json={"quantity": 0}, headers=buyer.headers)
    assert [i["sku"] for i in r.json()["items"]] == ["POL-L-GRIS"]
    assert r.json()["total"] == 2 * 13990


@pytest.mark.parametrize("quantity", [-1, 1000, 1.5, "2", None])
async def test_quantity_outside_0_to_999_is_refused(client, setup, quantity):
    vendor, buyer, product = setup
    url = _item_url(vendor, product["variants"][0]["id"])
    r = await client.put(url, json={"quantity": quantity}, headers=buyer.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "quantity"


async def test_variant_must_belong_to_that_vendor(client, db, settings, setup):
    _, buyer, product = setup
    other = await vendor_actor(db, settings)
    r = await client.put(
        _item_url(other, product["variants"][0]["id"]), json={"quantity": 1}, headers=buyer.headers
    )
    assert r.status_code == 404
    r = await client.put(
        f"/api/v1/carts/no-such-vendor/items/{product['variants'][0]['id']}",
        json={"quantity": 1},
        headers=buyer.headers,
    )
    assert r.status_code == 404


async def test_inactive_variant_or_product_cannot_be_added(client, setup):
    vendor, buyer, product = setup
    m, l_ = (v["id"] for v in product["variants"])
    base = f"/api/v1/vendor/products/{product['id']}"
    await client.patch(f"{base}/variants/{m}", json={"active": False}, headers=vendor.headers)
    r = await client.put(_item_url(vendor, m), json={"quantity": 1}, headers=buyer.headers)
    assert r.status_code == 422
    await client.patch(base, json={"active": False}, headers=vendor.headers)
    r = await client.put(_item_url(vendor, l_), json={"quantity": 1}, headers=buyer.headers)
    assert r.status_code == 422


async def test_tracked_stock_is_checked(client, setup):
    vendor, buyer, product = setup
    tracked = product["variants"][1]["id"]  # stock 5
    r = await client.put(_item_url(vendor, tracked), json={"quantity": 6}, headers=buyer.headers)
    assert r.status_code == 422
    assert "5" in r.json()["errors"][0]["message"]
    r = await client.put(_item_url(vendor, tracked), json={"quantity": 5}, headers=buyer.headers)
    assert r.status_code == 200
    untracked = product["variants"][0]["id"]
    r = await client.put(
        _item_url(vendor, untracked), json={"quantity": 999}, headers=buyer.headers
    )
    assert r.status_code == 200


async def test_carts_show_current_prices_and_hide_other_buyers(client, db, settings, setup):
    vendor, buyer, product = setup
    m = product["variants"][0]["id"]
    await client.put(_item_url(vendor, m), json={"quantity": 2}, headers=buyer.headers)
    await client.patch(
        f"/api/v1/vendor/products/{product['id']}/variants/{m}",
        json={"price": 10000},
        headers=vendor.headers,
    )
    r = await client.get("/api/v1/carts", headers=buyer.headers)
    assert r.json()["items"][0]["total"] == 20000
    stranger = await buyer_actor(db, settings)
    assert (await client.get("/api/v1/carts", headers=stranger.headers)).json() == {
        "items": [],
        "total": 0,
    }


async def test_delete_empties_that_vendors_cart_only(client, db, settings, setup):
    vendor, buyer, product = setup
    other = await vendor_actor(db, settings)
    theirs = await create_product(client, other, product_body("Otra cosa"))
    await client.put(
        _item_url(vendor, product["variants"][0]["id"]), json={"quantity": 1}, headers=buyer.headers
    )
    await client.put(
        _item_url(other, theirs["variants"][0]["id"]), json={"quantity": 1}, headers=buyer.headers
    )
    r = await client.delete(f"/api/v1/carts/{vendor.vendor.slug}", headers=buyer.headers)
    assert r.status_code == 204
    carts_now = (await client.get("/api/v1/carts", headers=buyer.headers)).json()
    assert [c["vendor"]["slug"] for c in carts_now["items"]] == [other.vendor.slug]


async def test_carts_are_for_buyers(client, setup):
    vendor, _, product = setup
    assert (await client.get("/api/v1/carts", headers=vendor.headers)).status_code == 403
    url = _item_url(vendor, product["variants"][0]["id"])
    r = await client.put(url, json={"quantity": 1}, headers=vendor.headers)
    assert r.status_code == 403
    assert (await client.get("/api/v1/carts")).status_code == 401


async def test_concurrent_updates_of_one_cart_never_lose_an_item(engine):
    """Twelve transactions add twelve different variants to one new cart at once."""
    sessions = create_session_factory(engine)
    async with sessions() as s:
        vendor = await make_vendor(s)
        buyer = await make_user(s, "buyer")
        _, variants = await make_product(s, vendor, "Botella", prices=tuple(range(1000, 1012)))
        await s.commit()

    async def put(variant: Variant, qty: int) -> None:
        async with sessions() as s, s.begin():
            await carts.set_quantity(s, buyer.id, vendor.slug, variant.id, qty)

    await asyncio.gather(*(put(v, i + 1) for i, v in enumerate(variants)))
    async with sessions() as s:
        [cart] = await carts.list_carts(s, buyer.id)
    assert len(cart.items) == 12
    assert cart.total == sum((1000 + i) * (i + 1) for i in range(12))

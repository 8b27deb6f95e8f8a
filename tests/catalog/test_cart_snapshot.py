"""The quote workflow's view of a cart: snapshot_for_quote and empty_cart."""

import pytest

from marketred.services.catalog import carts
from marketred.services.errors import InvalidInput, NotFound
from tests.support.factories import make_product, make_user, make_vendor

pytestmark = pytest.mark.db


@pytest.fixture
async def filled(db):
    vendor = await make_vendor(db, commission_bps=750)
    buyer = await make_user(db, "buyer")
    product, variants = await make_product(db, vendor, "Mantel bordado", prices=(15990, 21990))
    variants[0].options = {"talla": "M", "color": "gris"}
    await db.flush()
    await carts.set_quantity(db, buyer.id, vendor.slug, variants[0].id, 2)
    await carts.set_quantity(db, buyer.id, vendor.slug, variants[1].id, 1)
    return vendor, buyer, product, variants


async def test_snapshot_prices_every_line_and_carries_the_commission(db, filled):
    vendor, buyer, product, variants = filled
    snap = await carts.snapshot_for_quote(db, buyer.id, vendor.slug)
    assert (snap.vendor_id, snap.vendor_slug, snap.vendor_name) == (
        vendor.id,
        vendor.slug,
        vendor.name,
    )
    assert snap.commission_bps == 750
    assert snap.currency == "CLP"
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in snap.lines] == [
        (variants[0].sku, 2, 15990),
        (variants[1].sku, 1, 21990),
    ]
    assert snap.lines[0].variant_label == "color: gris, talla: M"
    assert snap.lines[0].product_id == product.id
    assert snap.lines[0].product_name == "Mantel bordado"
    assert snap.subtotal == 2 * 15990 + 21990


async def test_empty_cart_and_unknown_vendor_are_refused(db, filled):
    vendor, buyer, _, _ = filled
    stranger = await make_user(db, "buyer")
    with pytest.raises(InvalidInput) as err:
        await carts.snapshot_for_quote(db, stranger.id, vendor.slug)
    assert err.value.errors[0][0] == "items"
    with pytest.raises(NotFound):
        await carts.snapshot_for_quote(db, buyer.id, "no-existe")
    vendor.active = False
    await db.flush()
    with pytest.raises(NotFound):
        await carts.snapshot_for_quote(db, buyer.id, vendor.slug)


async def test_a_deactivated_line_blocks_the_quote(db, filled):
    vendor, buyer, product, _ = filled
    product.active = False
    await db.flush()
    with pytest.raises(InvalidInput) as err:
        await carts.snapshot_for_quote(db, buyer.id, vendor.slug)
    assert {field for field, _ in err.value.errors} == {"items"}
    assert len(err.value.errors) == 2
    # The cart still shows the lines, unpriced, so the buyer sees what happened.
    [cart] = await carts.list_carts(db, buyer.id)
    assert [i.available for i in cart.items] == [False, False]
    assert cart.total == 0


async def test_empty_cart_removes_only_that_cart(db, filled):
    vendor, buyer, _, _ = filled
    other = await make_vendor(db)
    _, [v] = await make_product(db, other, "Otro")
    await carts.set_quantity(db, buyer.id, other.slug, v.id, 1)
    await carts.empty_cart(db, buyer.id, vendor.id)
    await carts.empty_cart(db, buyer.id, vendor.id)  # idempotent
    assert [c.vendor.slug for c in await carts.list_carts(db, buyer.id)] == [other.slug]

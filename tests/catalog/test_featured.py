"""Featured products: operators feature a product or a vendor for a period; only running
periods count; the search API marks them and, asked to, puts them first; the embed
search fragment boosts and marks them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from marketred.schemas.accounts import Principal
from marketred.services.catalog import featured
from marketred.services.errors import Forbidden, InvalidInput
from tests.support.factories import make_product, make_user, make_vendor

pytestmark = pytest.mark.db
NOW = datetime.now(UTC)


async def _operator(db) -> Principal:  # type: ignore[no-untyped-def]
    user = await make_user(db, "operator")
    return Principal(user_id=user.id, role="operator", email=user.email)


async def test_only_running_periods_count_and_a_vendor_features_its_products(db):
    op = await _operator(db)
    vendor = await make_vendor(db)
    other = await make_vendor(db)
    lamp, _ = await make_product(db, vendor, "Lámpara de greda", prices=(19990,))
    vase, _ = await make_product(db, vendor, "Florero de greda", prices=(9990,))
    cup, _ = await make_product(db, other, "Taza de greda", prices=(4990,))
    await featured.feature(db, op, product_id=cup.id, starts_at=NOW - timedelta(days=1),
                           ends_at=NOW + timedelta(days=1))  # fmt: skip
    await featured.feature(db, op, vendor_slug=vendor.slug, starts_at=NOW + timedelta(days=2),
                           ends_at=NOW + timedelta(days=3))  # fmt: skip
    assert await featured.featured_product_ids(db, NOW) == [cup.id]
    later = set(await featured.featured_product_ids(db, NOW + timedelta(days=2, hours=1)))
    assert later == {lamp.id, vase.id}
    assert await featured.featured_product_ids(db, NOW + timedelta(days=5)) == []


async def test_refusals(db):
    op = await _operator(db)
    vendor = await make_vendor(db)
    product, _ = await make_product(db, vendor, "Mate de calabaza", prices=(6990,))
    with pytest.raises(InvalidInput):
        await featured.feature(db, op, product_id=product.id, starts_at=NOW, ends_at=NOW)
    with pytest.raises(InvalidInput):
        await featured.feature(db, op, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    staff = Principal(user_id=uuid.uuid4(), role="vendor", vendor_id=vendor.id)
    with pytest.raises(Forbidden):
        await featured.feature(db, staff, product_id=product.id, starts_at=NOW,
                               ends_at=NOW + timedelta(days=1))  # fmt: skip


async def test_ending_early_is_logged_and_stops_it(db):
    op = await _operator(db)
    vendor = await make_vendor(db)
    product, _ = await make_product(db, vendor, "Chal de alpaca", prices=(29990,))
    item = await featured.feature(db, op, product_id=product.id,
                                  starts_at=NOW - timedelta(hours=1),
                                  ends_at=NOW + timedelta(days=7))  # fmt: skip
    await featured.end_now(db, op, item.id)
    assert await featured.featured_product_ids(db) == []
    rows = await featured.list_all(db, op)
    assert rows[0].ended_by == op.email
    assert rows[0].state(datetime.now(UTC)) == "ended"


async def test_search_marks_featured_and_boosts_on_request(client, db):
    op = await _operator(db)
    vendor = await make_vendor(db)
    plain, _ = await make_product(db, vendor, "Miel de ulmo", prices=(5990,), keywords="miel")
    star, _ = await make_product(db, vendor, "Miel de quillay", prices=(6990,), keywords="miel")
    await featured.feature(db, op, product_id=star.id, starts_at=NOW - timedelta(hours=1),
                           ends_at=NOW + timedelta(days=1))  # fmt: skip
    await db.commit()
    found = (await client.get("/api/v1/products/search", params={"q": "miel"})).json()["items"]
    marks = {i["id"]: i["featured"] for i in found}
    assert marks == {str(plain.id): False, str(star.id): True}
    boosted = (
        await client.get("/api/v1/products/search", params={"q": "miel", "featured_first": True})
    ).json()["items"]
    assert boosted[0]["id"] == str(star.id)
    fragment = (await client.get("/embed/v1/search", params={"q": "miel"})).text
    assert fragment.index("Miel de quillay") < fragment.index("Miel de ulmo")
    assert fragment.count("Destacado") == 1

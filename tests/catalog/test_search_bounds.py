"""Search does bounded work: past MAX_CANDIDATES matches it says "more than N", takes the
products whose name matches first, and corrects typos against the names' vocabulary
(kept by triggers as names are added or changed)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from marketred.store.models import Product, Variant
from marketred.store.repositories import search as search_repo
from tests.support.factories import make_vendor

pytestmark = pytest.mark.db

SEARCH = "/api/v1/products/search"


async def _product(db, vendor, name: str, description: str = "") -> uuid.UUID:  # type: ignore[no-untyped-def]
    product = Product(vendor_id=vendor.id, name=name, description=description, keywords="")
    db.add(product)
    await db.flush()
    db.add(
        Variant(
            product_id=product.id,
            vendor_id=vendor.id,
            sku=f"SKU-{uuid.uuid4().hex[:8]}",
            price=9990,
        )
    )
    await db.flush()
    return product.id


async def _search(client, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(SEARCH, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_past_the_bound_the_total_says_more_than_and_name_matches_come_first(
    client, db, monkeypatch
):
    monkeypatch.setattr(search_repo, "MAX_CANDIDATES", 4)
    vendor = await make_vendor(db)
    in_description = [
        await _product(db, vendor, f"Caja {i}", "Sirve para guardar un quillango") for i in range(6)
    ]
    in_name = [await _product(db, vendor, f"Quillango de guanaco {i}") for i in range(2)]

    body = await _search(client, q="quillango", vendor=vendor.slug, limit=10)
    assert (body["total"], body["total_exact"]) == (4, False)
    ids = [hit["id"] for hit in body["items"]]
    assert set(ids[:2]) == set(map(str, in_name))  # name matches on top
    assert set(ids[2:]) <= set(map(str, in_description))

    body = await _search(client, q="guanaco", vendor=vendor.slug)
    assert (body["total"], body["total_exact"]) == (2, True)


async def test_pages_within_the_bound_do_not_repeat(client, db, monkeypatch):
    monkeypatch.setattr(search_repo, "MAX_CANDIDATES", 6)
    vendor = await make_vendor(db)
    for i in range(9):
        await _product(db, vendor, f"Chamanto tejido {i}")
    seen: list[str] = []
    for offset in (0, 3):
        body = await _search(client, q="chamanto", vendor=vendor.slug, limit=3, offset=offset)
        assert (body["total"], body["total_exact"]) == (6, False)
        seen += [hit["id"] for hit in body["items"]]
    assert len(seen) == len(set(seen)) == 6
    # Listing without a query is bounded the same way.
    body = await _search(client, vendor=vendor.slug, limit=20)
    assert (body["total"], body["total_exact"]) == (6, False)


async def test_a_misspelt_word_is_corrected_to_a_word_of_the_names(client, db):
    vendor = await make_vendor(db)
    target = await _product(db, vendor, "Chamanto de Doñihue")
    body = await _search(client, q="chamnto donihue", vendor=vendor.slug)
    assert [hit["id"] for hit in body["items"]] == [str(target)]


async def test_a_renamed_product_is_found_by_its_new_name_even_misspelt(client, db):
    vendor = await make_vendor(db)
    target = await _product(db, vendor, "Caja")
    product = await db.get(Product, target)
    assert product is not None
    product.name = "Trarilonko de plata"
    await db.flush()
    body = await _search(client, q="trarilonco", vendor=vendor.slug)
    assert [hit["id"] for hit in body["items"]] == [str(target)]


async def test_the_web_search_page_says_more_than_past_the_bound(client, db, monkeypatch):
    monkeypatch.setattr(search_repo, "MAX_CANDIDATES", 2)
    vendor = await make_vendor(db)
    for i in range(3):
        await _product(db, vendor, f"Rebozo de lana {i}")
    r = await client.get("/buscar", params={"q": "rebozo", "tienda": vendor.slug})
    assert r.status_code == 200
    assert "2+ productos encontrados" in r.text

"""GET /api/v1/products/search: Spanish stemming, accents, typos, filters, ranking, pages."""

from typing import Any

import httpx
import pytest

from tests.catalog.helpers import create_product, product_body, vendor_actor

pytestmark = pytest.mark.db

SEARCH = "/api/v1/products/search"


def _one(sku: str, price: int) -> list[dict[str, Any]]:
    return [{"sku": sku, "price": price}]


@pytest.fixture
async def shop(client, db, settings):
    """Two vendors with a small Spanish catalog (inside the test's transaction)."""
    a = await vendor_actor(db, settings, "Zapatería Los Andes")
    b = await vendor_actor(db, settings, "Tostaduría del Sur")
    made: dict[str, dict[str, Any]] = {}
    for actor, name, category, desc, price in (
        (a, "Zapato de cuero negro", "Calzado", "Formal, suela de goma", 39990),
        (a, "Zapatilla urbana", "Calzado", "Liviana y cómoda", 29990),
        (a, "Cinturón de cuero", "Accesorios", "Hebilla metálica; combina con zapatos", 14990),
        (b, "Café de grano tostado", "Almacén", "Origen Perú, tueste medio", 7490),
        (b, "Chocolate amargo 70%", "Almacén", "Cacao fino de aroma", 3990),
        (b, "Té verde orgánico", "Almacén", "Hojas enteras", 4990),
    ):
        sku = f"S-{len(made)}"
        made[name] = await create_product(
            client,
            actor,
            product_body(name, category=category, description=desc, variants=_one(sku, price)),
        )
    return a, b, made


async def _ids(client: httpx.AsyncClient, **params: Any) -> tuple[list[str], Any]:
    r = await client.get(SEARCH, params=params)
    assert r.status_code == 200, r.text
    return [hit["id"] for hit in r.json()["items"]], r.json()


async def test_plural_finds_singular_by_spanish_stemming(client, shop):
    a, _, made = shop
    ids, _ = await _ids(client, q="zapatos", vendor=a.vendor.slug)
    assert made["Zapato de cuero negro"]["id"] in ids


async def test_unaccented_query_finds_accented_name_and_the_reverse(client, shop):
    _, b, made = shop
    ids, _ = await _ids(client, q="cafe", vendor=b.vendor.slug)
    assert ids[0] == made["Café de grano tostado"]["id"]
    ids, _ = await _ids(client, q="té orgánico", vendor=b.vendor.slug)
    assert made["Té verde orgánico"]["id"] in ids
    ids, _ = await _ids(client, q="TE VERDE ORGANICO", vendor=b.vendor.slug)
    assert made["Té verde orgánico"]["id"] in ids


async def test_typos_are_tolerated(client, shop):
    _, b, made = shop
    for typo in ("chocolat", "chocolte", "chocloate amargo"):
        ids, _ = await _ids(client, q=typo, vendor=b.vendor.slug)
        assert made["Chocolate amargo 70%"]["id"] in ids, typo


async def test_unrelated_words_find_nothing(client, shop):
    a, _, _ = shop
    ids, body = await _ids(client, q="bicicleta", vendor=a.vendor.slug)
    assert ids == []
    assert body["total"] == 0


async def test_name_matches_rank_above_description_matches(client, shop):
    a, _, made = shop
    ids, _ = await _ids(client, q="zapato", vendor=a.vendor.slug)
    assert ids[0] == made["Zapato de cuero negro"]["id"]
    assert made["Cinturón de cuero"]["id"] in ids  # "zapatos" only in its description
    assert ids.index(made["Cinturón de cuero"]["id"]) > 0


async def test_filters_by_vendor_category_and_price(client, shop):
    a, b, made = shop
    ids, _ = await _ids(client, q="cuero", vendor=a.vendor.slug, category="accesorios")
    assert ids == [made["Cinturón de cuero"]["id"]]
    ids, _ = await _ids(client, vendor=b.vendor.slug, min_price=4000, max_price=8000)
    assert set(ids) == {made["Café de grano tostado"]["id"], made["Té verde orgánico"]["id"]}
    ids, _ = await _ids(client, q="cafe", vendor=a.vendor.slug)
    assert ids == []
    r = await client.get(SEARCH, params={"min_price": 10, "max_price": 5})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "min_price"
    r = await client.get(SEARCH, params={"limit": 1000})
    assert r.status_code == 422


async def test_pagination_carries_the_total(client, shop):
    a, _, _ = shop
    seen = []
    for offset in (0, 2, 4):
        r = await client.get(SEARCH, params={"vendor": a.vendor.slug, "limit": 2, "offset": offset})
        body = r.json()
        assert body["total"] == 3
        seen += [h["id"] for h in body["items"]]
    assert len(seen) == len(set(seen)) == 3


async def test_hits_carry_vendor_and_prices(client, shop):
    _, b, made = shop
    _, body = await _ids(client, q="cafe", vendor=b.vendor.slug)
    hit = body["items"][0]
    assert hit["vendor"]["slug"] == b.vendor.slug
    assert (hit["min_price"], hit["max_price"], hit["currency"]) == (7490, 7490, "CLP")
    assert hit["id"] == made["Café de grano tostado"]["id"]


async def test_inactive_vendor_products_are_not_found(client, db, shop):
    _, b, made = shop
    b.vendor.active = False
    await db.flush()
    ids, _ = await _ids(client, q="cafe")
    assert made["Café de grano tostado"]["id"] not in ids


async def test_search_follows_a_products_active_variants_and_their_prices(client, shop):
    """Visibility and the prices a hit shows follow the product's active variants as the
    vendor adds, reprices, deactivates and deletes them."""
    a, _, made = shop
    product = made["Zapatilla urbana"]
    base = f"/api/v1/vendor/products/{product['id']}/variants"
    only = product["variants"][0]["id"]

    async def prices() -> tuple[int, int] | None:
        """The hit's (min_price, max_price); None when the product is not found."""
        _, body = await _ids(client, q="zapatilla urbana")
        hits = [(h["min_price"], h["max_price"]) for h in body["items"] if h["id"] == product["id"]]
        return hits[0] if hits else None

    r = await client.post(base, json={"sku": "ZU-44", "price": 45990}, headers=a.headers)
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    assert await prices() == (29990, 45990)

    r = await client.patch(f"{base}/{second}", json={"price": 31990}, headers=a.headers)
    assert r.status_code == 200, r.text
    assert await prices() == (29990, 31990)

    for variant in (only, second):
        r = await client.patch(f"{base}/{variant}", json={"active": False}, headers=a.headers)
        assert r.status_code == 200, r.text
    assert await prices() is None  # no active variant left: hidden

    r = await client.patch(f"{base}/{second}", json={"active": True}, headers=a.headers)
    assert r.status_code == 200, r.text
    assert await prices() == (31990, 31990)

    r = await client.delete(f"{base}/{second}", headers=a.headers)
    assert r.status_code == 204, r.text
    assert await prices() is None


async def test_a_price_range_needs_a_variant_inside_it(client, shop):
    """A product priced 10.000 and 50.000 is not in 20.000–30.000 although its range
    straddles it; a range that holds one of its prices finds it, showing the prices
    inside the range."""
    a, _, _ = shop
    made = await create_product(
        client,
        a,
        product_body(
            "Bota de montaña",
            category="Calzado",
            variants=[{"sku": "BM-1", "price": 10000}, {"sku": "BM-2", "price": 50000}],
        ),
    )
    ids, _ = await _ids(client, q="bota", min_price=20000, max_price=30000)
    assert made["id"] not in ids
    for lo, hi, shown in (
        (5000, 15000, (10000, 10000)),
        (40000, None, (50000, 50000)),
        (None, 10000, (10000, 10000)),
        (None, None, (10000, 50000)),
    ):
        params = {k: v for k, v in (("min_price", lo), ("max_price", hi)) if v is not None}
        _, body = await _ids(client, q="bota", **params)
        hits = [h for h in body["items"] if h["id"] == made["id"]]
        assert [(h["min_price"], h["max_price"]) for h in hits] == [shown], (lo, hi)

"""Storefront pages over ASGI: Spanish by default, CLP prices, filters, carts, language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketred.schemas.rut import format_rut
from marketred.store.models import Quote, QuoteStartOutbox
from tests.support.factories import make_product, make_user, make_vendor
from tests.support.pages import csrf_of, sign_in

pytestmark = pytest.mark.db


async def test_home_search_vendor_and_product_pages_are_spanish_with_clp(client, db):
    vendor = await make_vendor(db, "Tostaduría Los Andes", phone="+56 2 2222 3333")
    product, _ = await make_product(
        db, vendor, "Café tostado de especialidad", prices=(12990, 29990), keywords="café grano"
    )

    home = await client.get("/")
    assert home.status_code == 200
    assert '<html lang="es-CL">' in home.text
    assert "Compra directo a MiPymes" in home.text

    found = await client.get("/buscar", params={"q": "cafe", "tienda": vendor.slug})
    assert found.status_code == 200
    assert "Café tostado de especialidad" in found.text
    assert "desde $12.990" in found.text

    page = await client.get(f"/tiendas/{vendor.slug}")
    assert format_rut(vendor.rut) in page.text
    assert "+56 2 2222 3333" in page.text

    detail = await client.get(f"/productos/{product.id}")
    assert detail.status_code == 200
    assert "$29.990" in detail.text
    assert 'type="radio" name="variant_id"' in detail.text


async def test_unknown_product_is_a_spanish_404_page(client):
    r = await client.get("/productos/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert "No encontramos lo que buscas" in r.text
    bad = await client.get("/productos/no-es-un-id")
    assert bad.status_code == 404


async def test_price_filter_excludes_products_outside_the_range(client, db):
    vendor = await make_vendor(db)
    await make_product(db, vendor, "Gorro económico", prices=(5990,))
    await make_product(db, vendor, "Gorro premium", prices=(45990,))
    r = await client.get("/buscar", params={"tienda": vendor.slug, "hasta": "10.000"})
    assert "Gorro económico" in r.text
    assert "Gorro premium" not in r.text


async def test_language_switch_turns_the_page_english(client):
    r = await client.get("/idioma", params={"lang": "en", "next": "/buscar"})
    assert r.status_code == 303
    assert r.headers["location"] == "/buscar"
    page = await client.get("/buscar")
    assert '<html lang="en">' in page.text
    assert "All products" in page.text


async def test_carts_need_a_buyer_and_show_one_cart_per_vendor(client, db, settings):
    anonymous = await client.get("/carros")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/ingresar?next=")

    buyer = await make_user(db, "buyer")
    await sign_in(client, db, settings, buyer)
    shops = [await make_vendor(db), await make_vendor(db)]
    for shop, price in zip(shops, (3990, 15000), strict=True):
        product, variants = await make_product(db, shop, f"Producto de {shop.name}", (price,))
        page = await client.get(f"/productos/{product.id}")
        r = await client.post(
            "/carros/agregar",
            data={
                "csrf_token": csrf_of(page.text),
                "vendor": shop.slug,
                "variant_id": str(variants[0].id),
                "quantity": "2",
            },
        )
        assert r.status_code == 303, r.text
    carts = await client.get("/carros")
    assert carts.text.count('class="quote-request"') == 2
    assert "$7.980" in carts.text
    assert "$30.000" in carts.text


async def test_quote_request_errors_are_shown_beside_their_fields(client, db, settings):
    buyer = await make_user(db, "buyer")
    await sign_in(client, db, settings, buyer)
    shop = await make_vendor(db)
    product, variants = await make_product(db, shop, "Chaleco", (34990,))
    page = await client.get(f"/productos/{product.id}")
    token = csrf_of(page.text)
    await client.post(
        "/carros/agregar",
        data={
            "csrf_token": token,
            "vendor": shop.slug,
            "variant_id": str(variants[0].id),
            "quantity": "1",
        },
    )
    r = await client.post(
        f"/carros/{shop.slug}/cotizar",
        data={
            "csrf_token": token,
            "contact_name": "Ana Pérez",
            "contact_email": "ana-at-correo",
            "note": "Para el viernes",
        },
    )
    assert r.status_code == 422
    assert f'id="c-{shop.slug}-contact_email-error"' in r.text
    assert "Este correo no parece válido" in r.text
    # What was typed is still there.
    assert 'value="Ana Pérez"' in r.text
    assert "Para el viernes</textarea>" in r.text


async def test_post_without_csrf_token_is_refused(client, db, settings):
    buyer = await make_user(db, "buyer")
    await sign_in(client, db, settings, buyer)
    shop = await make_vendor(db)
    r = await client.post(f"/carros/{shop.slug}/vaciar", data={})
    assert r.status_code == 403


async def test_a_sold_out_variant_is_marked_and_cannot_be_put_in_the_cart(client, db, settings):
    buyer = await make_user(db, "buyer")
    await sign_in(client, db, settings, buyer)
    shop = await make_vendor(db)
    product, (last, gone) = await make_product(db, shop, "Chaleco tejido", (30000, 31000))
    last.stock, gone.stock = 1, 0
    await db.commit()
    page = await client.get(f"/productos/{product.id}")
    assert page.text.count("(agotado)") == 1
    r = await client.post(
        "/carros/agregar",
        data={
            "csrf_token": csrf_of(page.text),
            "vendor": shop.slug,
            "variant_id": str(gone.id),
            "quantity": "1",
            "next": f"/productos/{product.id}",
        },
    )
    assert r.status_code == 303
    assert r.headers["location"].endswith("aviso=agotado")
    shown = await client.get(r.headers["location"])
    assert "Ese producto está agotado: no quedan unidades." in shown.text
    carts = await client.get("/carros")
    assert "Chaleco tejido" not in carts.text


async def test_a_quote_requested_while_temporal_is_away_is_recorded_and_waits_for_its_start(
    client, db, settings
):
    """The request does not wait on Temporal: the buyer lands on the new quote, and its
    workflow start waits in the outbox for the API's sweep (this app's Temporal is
    unreachable)."""
    buyer = await make_user(db, "buyer")
    await sign_in(client, db, settings, buyer)
    shop = await make_vendor(db)
    product, variants = await make_product(db, shop, "Chaleco", (34990,))
    token = csrf_of((await client.get(f"/productos/{product.id}")).text)
    await client.post(
        "/carros/agregar",
        data={
            "csrf_token": token,
            "vendor": shop.slug,
            "variant_id": str(variants[0].id),
            "quantity": "1",
        },
    )
    r = await client.post(
        f"/carros/{shop.slug}/cotizar",
        data={"csrf_token": token, "contact_name": "Ana Pérez", "contact_email": "ana@correo.cl"},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("?aviso=solicitada")
    quote = await db.scalar(select(Quote).where(Quote.buyer_id == buyer.id))
    assert quote is not None
    assert r.headers["location"] == f"/cotizaciones/{quote.id}?aviso=solicitada"
    assert quote.status == "REQUESTED"
    waiting = await db.get(QuoteStartOutbox, quote.id)
    assert waiting is not None
    assert waiting.workflow_input["contact"]["email"] == "ana@correo.cl"
    page = await client.get(r.headers["location"])
    assert page.status_code == 200
    assert "Chaleco" in page.text

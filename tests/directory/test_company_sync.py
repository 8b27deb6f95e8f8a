"""PUT /api/v1/directory/companies/{id}: signed upsert of a vendor from the directory."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.settings import Settings
from marketred.store.models import Product, Vendor
from tests.directory.helpers import at, company_body, put_company
from tests.support.factories import make_product

pytestmark = pytest.mark.db


def new_id() -> str:
    return f"inf-{uuid.uuid4().hex[:10]}"


async def vendor_of(db: AsyncSession, directory_id: str) -> Vendor | None:
    return await db.scalar(
        select(Vendor)
        .where(Vendor.directory_id == directory_id)
        .execution_options(populate_existing=True)
    )


async def test_signed_company_creates_a_vendor_with_a_slug_from_its_name(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    did = new_id()
    name = f"Panadería Ñuñoa {did}"
    body = company_body(name, rut="76.086.428-5", categories=["Panadería"])
    r = await put_company(client, did, body, settings.directory_secret)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["outcome"] == "created"
    assert answer["vendor"] == f"panaderia-nunoa-{did}"
    vendor = await vendor_of(db, did)
    assert vendor is not None
    assert (vendor.name, vendor.rut, vendor.slug) == (name, "76086428-5", answer["vendor"])
    assert vendor.email == "contacto@empresa.cl"
    assert vendor.address == "Av. Providencia 100, Santiago"
    assert vendor.logo_url == "https://inforedchile.cl/logos/empresa.png"
    assert vendor.categories == ["Panadería"]
    assert vendor.active is True


async def test_rename_keeps_the_slug(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    did = new_id()
    secret = settings.directory_secret
    first = await put_company(client, did, company_body("Ferretería Sur", updated_at=at(0)), secret)
    r = await put_company(
        client, did, company_body("Ferretería del Sur SpA", updated_at=at(5)), secret
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "updated"
    vendor = await vendor_of(db, did)
    assert vendor is not None
    assert vendor.name == "Ferretería del Sur SpA"
    assert vendor.slug == first.json()["vendor"]


@pytest.mark.parametrize("case", ["wrong secret", "stale", "tampered body", "missing header"])
async def test_bad_signatures_are_401_and_write_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, case: str
) -> None:
    did = new_id()
    body = company_body("Empresa Firmada")
    if case == "wrong secret":
        r = await put_company(client, did, body, "not-the-shared-secret")
    elif case == "stale":
        r = await put_company(
            client, did, body, settings.directory_secret, timestamp=int(time.time()) - 301
        )
    elif case == "tampered body":
        signed = company_body("Empresa Firmada")
        r = await put_company(
            client,
            did,
            {**signed, "name": "Empresa Cambiada"},
            settings.directory_secret,
            signed_body=json.dumps(signed).encode(),
        )
    else:
        r = await client.put(f"/api/v1/directory/companies/{did}", json=body)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await vendor_of(db, did) is None


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"rut": "76.086.428-4"}, "rut"),
        ({"name": ""}, "name"),
        ({"updated_at": "yesterday"}, "updated_at"),
        ({"email": "no-es-un-correo"}, "email"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
    ],
)
async def test_bad_bodies_are_422_naming_the_field_and_write_nothing(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    override: dict[str, str],
    field: str,
) -> None:
    did = new_id()
    body = {**company_body("Empresa Mala"), **override}
    r = await put_company(client, did, body, settings.directory_secret)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await vendor_of(db, did) is None


async def test_non_json_body_is_422(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    did = new_id()
    r = await put_company(client, did, b"name=Empresa", settings.directory_secret)
    assert r.status_code == 422
    assert await vendor_of(db, did) is None


async def test_older_update_is_ignored_with_a_note(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    did = new_id()
    secret = settings.directory_secret
    newer = await put_company(client, did, company_body("Nombre Nuevo", updated_at=at(10)), secret)
    assert newer.status_code == 200
    older = await put_company(client, did, company_body("Nombre Viejo", updated_at=at(3)), secret)
    assert older.status_code == 200, older.text
    assert older.json()["outcome"] == "ignored"
    assert "older" in older.json()["note"]
    vendor = await vendor_of(db, did)
    assert vendor is not None
    assert vendor.name == "Nombre Nuevo"
    # A later update still applies.
    later = await put_company(client, did, company_body("Nombre Final", updated_at=at(20)), secret)
    assert later.json()["outcome"] == "updated"
    vendor = await vendor_of(db, did)
    assert vendor is not None
    assert vendor.name == "Nombre Final"


async def test_inactive_company_hides_the_vendor_and_keeps_its_products(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    did = new_id()
    secret = settings.directory_secret
    r = await put_company(client, did, company_body("Empresa Que Cierra", updated_at=at(0)), secret)
    vendor = await vendor_of(db, did)
    assert vendor is not None
    await make_product(db, vendor, "Mermelada de mora")
    await db.commit()
    catalog_url = f"/api/v1/vendors/{vendor.slug}/products"
    assert (await client.get(catalog_url)).json()["total"] == 1
    r = await put_company(
        client, did, company_body("Empresa Que Cierra", active=False, updated_at=at(1)), secret
    )
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    vendor = await vendor_of(db, did)
    assert vendor is not None
    assert vendor.active is False
    count = await db.scalar(
        select(func.count()).select_from(Product).where(Product.vendor_id == vendor.id)
    )
    assert count == 1
    assert (await client.get(catalog_url)).status_code == 404
    search = await client.get("/api/v1/products/search", params={"q": "mermelada mora"})
    assert vendor.slug not in [item["vendor"]["slug"] for item in search.json()["items"]]

    r = await put_company(client, did, company_body("Empresa Que Cierra", updated_at=at(2)), secret)
    vendor = await vendor_of(db, did)
    assert vendor is not None
    assert vendor.active is True
    assert (await client.get(catalog_url)).json()["total"] == 1


async def test_a_captured_update_cannot_be_replayed_against_another_company(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """Finding 5: the signature covers the path, so company A's signed body (same
    bytes, same header, within the 5 minutes) does not overwrite company B."""
    victim, captured_for = new_id(), new_id()
    first = await put_company(
        client, victim, company_body("Víctima SpA", updated_at=at(0)), settings.directory_secret
    )
    assert first.status_code == 200
    body = json.dumps(company_body("Robada SpA", updated_at=at(5))).encode()
    signed = await put_company(client, captured_for, body, settings.directory_secret)
    assert signed.status_code == 200
    header = signed.request.headers["X-Directory-Signature"]
    replay = await client.put(
        f"/api/v1/directory/companies/{victim}",
        content=body,
        headers={"Content-Type": "application/json", "X-Directory-Signature": header},
    )
    assert replay.status_code == 401
    vendor = await vendor_of(db, victim)
    assert vendor is not None
    assert vendor.name == "Víctima SpA"


async def test_our_indexer_key_does_not_sign_company_updates(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """One key per direction: what we sign our indexer pushes with is refused inbound."""
    assert settings.indexer_secret != settings.directory_secret
    did = new_id()
    r = await put_company(client, did, company_body("Empresa"), settings.indexer_secret)
    assert r.status_code == 401
    assert await vendor_of(db, did) is None

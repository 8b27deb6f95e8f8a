"""Personal API tokens: shown once, stored hashed, usable as bearer, revocable, scoped to
the vendor; only vendor staff and operators get them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketred.store.models import ApiToken
from tests.support.factories import PASSWORD, auth_headers, make_user, make_vendor
from tests.support.pages import csrf_of, page_csrf, web_login

pytestmark = pytest.mark.db


async def test_vendor_token_lifecycle_over_the_api(client, db, settings):
    vendor = await make_vendor(db)
    staff = await make_user(db, "vendor", vendor)
    headers = auth_headers(settings, staff)
    r = await client.post("/api/v1/auth/tokens", json={"name": "ERP"}, headers=headers)
    assert r.status_code == 201
    created = r.json()
    raw = created["token"]
    assert raw.startswith("mrp_")
    assert created["prefix"] == raw[:10]
    stored = await db.scalar(select(ApiToken).where(ApiToken.id == created["id"]))
    assert raw not in (stored.token_hash, stored.prefix)
    listing = (await client.get("/api/v1/auth/tokens", headers=headers)).json()
    assert listing["total"] == 1
    assert "token" not in listing["items"][0]

    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200
    assert me.json()["vendor"] == vendor.slug

    r = await client.delete(f"/api/v1/auth/tokens/{created['id']}", headers=headers)
    assert r.status_code == 204
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 401


async def test_buyers_get_no_tokens_and_others_cannot_revoke_yours(client, db, settings):
    buyer = await make_user(db, "buyer")
    r = await client.post(
        "/api/v1/auth/tokens", json={"name": "x"}, headers=auth_headers(settings, buyer)
    )
    assert r.status_code == 403
    vendor = await make_vendor(db)
    staff = await make_user(db, "vendor", vendor)
    other_staff = await make_user(db, "vendor", await make_vendor(db))
    created = (
        await client.post(
            "/api/v1/auth/tokens", json={"name": "ERP"}, headers=auth_headers(settings, staff)
        )
    ).json()
    r = await client.delete(
        f"/api/v1/auth/tokens/{created['id']}", headers=auth_headers(settings, other_staff)
    )
    assert r.status_code == 404
    operator = await make_user(db, "operator")
    r = await client.delete(
        f"/api/v1/auth/tokens/{created['id']}", headers=auth_headers(settings, operator)
    )
    assert r.status_code == 204


async def test_token_stops_working_when_the_person_leaves_the_vendor(client, db, settings):
    vendor = await make_vendor(db)
    staff = await make_user(db, "vendor", vendor)
    raw = (
        await client.post(
            "/api/v1/auth/tokens", json={"name": "ERP"}, headers=auth_headers(settings, staff)
        )
    ).json()["token"]
    staff.vendor_id = (await make_vendor(db)).id
    await db.flush()
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 401


async def test_tokens_page_shows_a_new_token_once_and_revokes(web, db):
    vendor = await make_vendor(db)
    staff = await make_user(db, "vendor", vendor)
    await web_login(web, staff.email, PASSWORD)
    token = await page_csrf(web, "/cuenta/tokens")
    r = await web.post("/cuenta/tokens", data={"name": "Planilla", "csrf_token": token})
    assert r.status_code == 201
    found = re.search(r"data-new-token>([^<]+)<", r.text)
    assert found is not None
    raw = found.group(1)
    assert raw.startswith("mrp_")
    page = await web.get("/cuenta/tokens")
    assert raw not in page.text
    assert "Planilla" in page.text
    row = re.search(r'data-token="([^"]+)"', page.text)
    assert row is not None
    token_id = row.group(1)
    r = await web.post(
        f"/cuenta/tokens/{token_id}/revocar", data={"csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303
    assert "Planilla" not in (await web.get("/cuenta/tokens")).text

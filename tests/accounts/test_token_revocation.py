"""Finding 6 (docs/security.md): bearer credentials end with the event that should end
them — password change, password reset, deactivation, "revoke all" — and a personal API
token cannot mint more tokens."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.accounts import api_tokens, email_tokens
from marketred.services.accounts.users import principal_of
from marketred.settings import Settings
from marketred.store.models import User
from tests.support.factories import PASSWORD, auth_headers, make_user, make_vendor
from tests.support.pages import page_csrf, web_login

pytestmark = pytest.mark.db

NEW_PASSWORD = "otra clave bastante larga"


async def _staff_with_credentials(
    db: AsyncSession, settings: Settings
) -> tuple[User, dict[str, str], dict[str, str]]:
    staff = await make_user(db, "vendor", await make_vendor(db))
    raw, _ = await api_tokens.create(db, principal_of(staff), "ERP")
    return staff, auth_headers(settings, staff), {"Authorization": f"Bearer {raw}"}


async def _alive(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    r = await client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


async def test_password_change_ends_jwts_and_personal_tokens(client, db, settings):
    staff, jwt, personal = await _staff_with_credentials(db, settings)
    assert await _alive(client, jwt)
    assert await _alive(client, personal)
    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=jwt,
    )
    assert r.status_code == 204
    assert not await _alive(client, jwt)
    assert not await _alive(client, personal)
    # A token minted right after the change works (same second as the revocation).
    r = await client.post(
        "/api/v1/auth/token", data={"username": staff.email, "password": NEW_PASSWORD}
    )
    assert await _alive(client, {"Authorization": f"Bearer {r.json()['access_token']}"})


async def test_password_reset_ends_jwts_and_personal_tokens(client, db, settings):
    staff, jwt, personal = await _staff_with_credentials(db, settings)
    token = await email_tokens.issue(db, staff, "reset_password")
    r = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert r.status_code == 204
    assert not await _alive(client, jwt)
    assert not await _alive(client, personal)
    await db.refresh(staff)
    assert staff.email_verified_at is not None  # the mailed link proved the address


async def test_revoke_all_over_the_api(client, db, settings):
    _staff, jwt, personal = await _staff_with_credentials(db, settings)
    r = await client.post("/api/v1/auth/revoke-all", headers=personal)
    assert r.status_code == 204
    assert not await _alive(client, jwt)
    assert not await _alive(client, personal)


async def test_revoke_all_from_the_account_page(web, db, client, acc_settings):
    staff, jwt, personal = await _staff_with_credentials(db, acc_settings)
    assert (await web_login(web, staff.email, PASSWORD)).status_code == 303
    token = await page_csrf(web, "/cuenta")
    r = await web.post("/cuenta/cerrar-todo", data={"csrf_token": token})
    assert r.status_code == 303
    assert (await web.get("/cuenta")).status_code == 303
    assert not await _alive(client, jwt)
    assert not await _alive(client, personal)


async def test_a_personal_token_cannot_mint_tokens(client, db, settings):
    _staff, jwt, personal = await _staff_with_credentials(db, settings)
    r = await client.post("/api/v1/auth/tokens", json={"name": "otro"}, headers=personal)
    assert r.status_code == 403
    r = await client.post("/api/v1/auth/tokens", json={"name": "otro"}, headers=jwt)
    assert r.status_code == 201

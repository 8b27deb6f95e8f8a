"""Finding 1 (docs/security.md): an InforedChile sign-in never hands the directory's
powers to whoever registered the address first without proving it, and linking ends
every credential the local account had."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketred.services.accounts import sessions
from marketred.store.models import User
from tests.accounts.oidc_support import OPERATOR, STAFF, directory_sign_in, vendor_for_inf_1001
from tests.support.factories import PASSWORD, auth_headers, make_user
from tests.support.pages import page_csrf, web_login

pytestmark = pytest.mark.db


async def test_registration_does_not_sign_in_an_unproven_address(web):
    token = await page_csrf(web, "/registro")
    r = await web.post(
        "/registro",
        data={
            "email": "sin-verificar@example.cl",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/ingresar?registrado=1"
    assert "data-registered" in (await web.get(r.headers["location"])).text
    assert (await web.get("/cuenta")).status_code == 303  # nobody is signed in


async def test_an_unverified_squatter_does_not_become_vendor_staff(web, web_factory, db):
    """The attacker registers the staff member's address before they ever sign in."""
    vendor = await vendor_for_inf_1001(db)
    async with web_factory() as attacker:
        token = await page_csrf(attacker, "/registro")
        r = await attacker.post(
            "/registro",
            data={
                "email": STAFF,
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "csrf_token": token,
            },
        )
        assert r.status_code == 303
        assert (await web_login(attacker, STAFF, PASSWORD)).status_code == 303

        # The real person signs in with InforedChile: refused, nothing linked.
        r = await directory_sign_in(web, STAFF)
        assert r.status_code == 403
        assert "confirma" in r.text.lower()
        squatted = await db.scalar(select(User).where(User.email == STAFF))
        await db.refresh(squatted)
        assert squatted.role == "buyer"
        assert squatted.vendor_id is None
        assert squatted.oidc_subject is None

        # The attacker's session is still a buyer's: no back office of the vendor.
        assert (await attacker.get("/vendedor")).status_code != 200
    assert vendor.directory_id == "inf-1001"


async def test_linking_a_verified_account_drops_its_password_and_every_credential(
    web, web_factory, db, acc_settings, client
):
    person = await make_user(db, "buyer", email=OPERATOR)
    person.email_verified_at = sessions.now_utc()
    await db.flush()
    old_jwt = auth_headers(acc_settings, person)
    async with web_factory() as old_browser:
        assert (await web_login(old_browser, OPERATOR, PASSWORD)).status_code == 303
        assert (await old_browser.get("/cuenta")).status_code == 200
        assert (await client.get("/api/v1/auth/me", headers=old_jwt)).status_code == 200

        r = await directory_sign_in(web, OPERATOR)
        assert r.status_code == 303
        assert r.headers["location"] == "/operador"
        await db.refresh(person)
        assert person.role == "operator"
        assert person.password_hash is None  # the password is no second door
        # Everything minted before the link is over.
        assert (await old_browser.get("/cuenta")).status_code == 303
        assert (await client.get("/api/v1/auth/me", headers=old_jwt)).status_code == 401
        assert (await web_login(old_browser, OPERATOR, PASSWORD)).status_code == 401
    # The directory sign-in itself works.
    assert (await web.get("/operador")).status_code == 200


async def test_an_account_made_without_password_links(web, db):
    """Staff an operator created for directory sign-in (no password) link on first use."""
    vendor = await vendor_for_inf_1001(db)
    staff = User(email=STAFF, password_hash=None, role="vendor", vendor_id=vendor.id)
    db.add(staff)
    await db.flush()
    r = await directory_sign_in(web, STAFF)
    assert r.status_code == 303
    await db.refresh(staff)
    assert staff.oidc_subject is not None

"""Operators deactivate an account (fraud, staff who left) and reactivate it: the account
is out at once on every way in — web session, password, bearer and personal API tokens —
and back in after reactivation with a fresh sign-in."""

from __future__ import annotations

import httpx
import pytest

from marketred.services.accounts import api_tokens
from marketred.services.accounts.users import principal_of
from tests.support.factories import PASSWORD, make_user, make_vendor
from tests.support.pages import csrf_of, mail_to, web_login

pytestmark = pytest.mark.db


async def _password_token(client: httpx.AsyncClient, email: str) -> int:
    r = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    return r.status_code


async def test_operator_deactivates_staff_everywhere_and_reactivates_them(
    web, web_factory, db, mail_folder
):
    vendor = await make_vendor(db)
    staff = await make_user(db, "vendor", vendor)
    bystander = await make_user(db, "buyer")
    operator = await make_user(db, "operator")
    raw_token, _ = await api_tokens.create(db, principal_of(staff), "ERP")
    api_auth = {"Authorization": f"Bearer {raw_token}"}

    async with web_factory() as staff_browser:
        assert (await web_login(staff_browser, staff.email, PASSWORD)).status_code == 303
        assert (await staff_browser.get("/vendedor")).status_code == 200
        old_cookies = dict(staff_browser.cookies)
        assert (
            await staff_browser.get("/api/v1/vendor/products", headers=api_auth)
        ).status_code == 200

        assert (await web_login(web, operator.email, PASSWORD)).status_code == 303
        page = await web.get("/operador/cuentas", params={"q": staff.email.upper()})
        assert page.status_code == 200
        assert f'data-account="{staff.email}" data-active="yes"' in page.text
        assert bystander.email not in page.text  # the search narrows
        r = await web.post(
            f"/operador/cuentas/{staff.id}/desactivar", data={"csrf_token": csrf_of(page.text)}
        )
        assert r.status_code == 303
        page = await web.get(r.headers["location"])
        assert "Cuenta desactivada" in page.text
        assert f'data-account="{staff.email}" data-active="no"' in page.text
        # The owner is told once; a second click (another tab) changes and mails nothing.
        r = await web.post(
            f"/operador/cuentas/{staff.id}/desactivar", data={"csrf_token": csrf_of(page.text)}
        )
        assert r.status_code == 303
        mails = mail_to(mail_folder[0], staff.email)
        assert [m.subject for m in mails] == ["Desactivamos tu cuenta de MarketRed"]

        # Out on every way in.
        r = await staff_browser.get("/vendedor")
        assert r.status_code == 303
        assert r.headers["location"].startswith("/ingresar")
        assert (await web_login(staff_browser, staff.email, PASSWORD)).status_code != 303
        assert (
            await staff_browser.get("/api/v1/vendor/products", headers=api_auth)
        ).status_code == 401
        assert await _password_token(staff_browser, staff.email) == 401

        r = await web.post(
            f"/operador/cuentas/{staff.id}/reactivar", data={"csrf_token": csrf_of(page.text)}
        )
        assert r.status_code == 303
        assert "Cuenta reactivada" in (await web.get(r.headers["location"])).text
        subjects = {m.subject for m in mail_to(mail_folder[0], staff.email)}
        assert "Reactivamos tu cuenta de MarketRed" in subjects
        assert len(mail_to(mail_folder[0], staff.email)) == 2

        # Back in, but only by signing in again: the old session stays ended.
        staff_browser.cookies.clear()
        for name, value in old_cookies.items():
            staff_browser.cookies.set(name, value)
        assert (await staff_browser.get("/vendedor")).status_code == 303
        assert await _password_token(staff_browser, staff.email) == 200
        # Its personal API token stays revoked: the integration gets a new one.
        assert (
            await staff_browser.get("/api/v1/vendor/products", headers=api_auth)
        ).status_code == 401
        assert (await web_login(staff_browser, staff.email, PASSWORD)).status_code == 303
        assert (await staff_browser.get("/vendedor")).status_code == 200


async def test_an_operator_cannot_lock_themselves_out(web, db):
    operator = await make_user(db, "operator")
    assert (await web_login(web, operator.email, PASSWORD)).status_code == 303
    page = await web.get("/operador/cuentas", params={"q": operator.email})
    assert "Tu cuenta" in page.text
    r = await web.post(
        f"/operador/cuentas/{operator.id}/desactivar", data={"csrf_token": csrf_of(page.text)}
    )
    assert r.headers["location"] == "/operador/cuentas?aviso=no-a-ti-mismo"
    page = await web.get(r.headers["location"])
    assert "No puedes desactivar tu propia cuenta." in page.text
    assert (await web.get("/operador")).status_code == 200  # still signed in

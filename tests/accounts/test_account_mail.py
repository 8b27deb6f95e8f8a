"""Registration with emailed verification; password reset by a single-use, short-lived
emailed token; weak passwords refused."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from marketred.services.accounts import email_tokens, sessions
from marketred.services.errors import InvalidInput
from marketred.store.repositories import users as users_repo
from tests.support.factories import PASSWORD, make_user
from tests.support.pages import csrf_of, link_in, mail_to, page_csrf, web_login

pytestmark = pytest.mark.db


def _path(url: str) -> str:
    return urlsplit(url).path


async def test_web_registration_sends_a_verification_link_that_works_once(web, db, mail_folder):
    email = f"nueva-{sessions.hash_secret(str(id(web)))[:8]}@example.cl"
    token = await page_csrf(web, "/registro")
    r = await web.post(
        "/registro",
        data={
            "email": email,
            "name": "Nueva Compradora",
            "password": "mi clave muy segura",
            "password_confirm": "mi clave muy segura",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    user = await users_repo.get_by_email(db, email)
    assert user is not None
    assert user.role == "buyer"
    assert user.email_verified_at is None

    (mail,) = mail_to(mail_folder[0], email)
    path = _path(link_in(mail))
    page = await web.get(path)  # a GET only shows the confirm button
    assert page.status_code == 200
    await db.refresh(user)
    assert user.email_verified_at is None
    r = await web.post(path, data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 200
    assert "data-email-verified" in r.text
    await db.refresh(user)
    assert user.email_verified_at is not None
    again = await web.post(path, data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 400


async def test_common_or_short_passwords_are_refused(client):
    for weak in ("1234567890", "contraseña123", "qwertyuiop", "aaaaaaaaaaaa", "corta"):
        r = await client.post(
            "/api/v1/auth/register", json={"email": "x-weak@example.cl", "password": weak}
        )
        assert r.status_code == 422, weak
        assert r.json()["errors"][0]["field"] == "password"


async def test_password_reset_by_mail_is_single_use_and_ends_sessions(
    web, web_factory, db, mail_folder
):
    buyer = await make_user(db, "buyer")
    async with web_factory() as old_browser:
        await web_login(old_browser, buyer.email, PASSWORD)
        assert (await old_browser.get("/cuenta/tokens")).status_code == 200

        token = await page_csrf(web, "/recuperar")
        r = await web.post("/recuperar", data={"email": buyer.email, "csrf_token": token})
        assert r.status_code == 200
        assert "data-reset-sent" in r.text
        (mail,) = mail_to(mail_folder[0], buyer.email)
        path = _path(link_in(mail))

        form = await page_csrf(web, path)
        new = "una clave nueva y larga"
        r = await web.post(
            path, data={"password": new, "password_confirm": new, "csrf_token": form}
        )
        assert r.status_code == 303
        # The session that existed before the reset is over.
        assert (await old_browser.get("/cuenta/tokens")).status_code == 303
    # Single use.
    r = await web.post(path, data={"password": new, "password_confirm": new, "csrf_token": form})
    assert r.status_code == 422
    assert (await web_login(web, buyer.email, PASSWORD)).status_code == 401
    assert (await web_login(web, buyer.email, new)).status_code == 303


async def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, mail_folder):
    email = "nadie-aqui@example.cl"
    r = await client.post("/api/v1/auth/password-reset", json={"email": email})
    assert r.status_code == 202
    assert mail_to(mail_folder[0], email) == []


async def test_reset_tokens_expire_and_a_newer_one_replaces_older(db):
    buyer = await make_user(db, "buyer")
    now = sessions.now_utc()
    old = await email_tokens.issue(db, buyer, "reset_password", now=now)
    newer = await email_tokens.issue(db, buyer, "reset_password", now=now)
    with pytest.raises(InvalidInput):
        await email_tokens.consume(db, old, "reset_password", now=now)
    with pytest.raises(InvalidInput):
        await email_tokens.consume(db, newer, "reset_password", now=now + timedelta(minutes=31))
    assert (await email_tokens.consume(db, newer, "reset_password", now=now)).id == buyer.id
    # A reset token is not an email verification token.
    verify = await email_tokens.issue(db, buyer, "verify_email", now=now)
    with pytest.raises(InvalidInput):
        await email_tokens.consume(db, verify, "reset_password", now=now)

"""Browser sessions: hardened cookie, rotation at sign-in, logout replay, timeouts,
password change ending sessions, CSRF probes and security headers."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from marketred.services.accounts import sessions
from marketred.web.security.cookies import SESSION_COOKIE, sign
from tests.support.factories import PASSWORD, make_user, make_vendor
from tests.support.pages import page_csrf, web_login

pytestmark = pytest.mark.db


def session_cookie(client) -> str | None:  # type: ignore[no-untyped-def]
    """The session cookie the browser would send now (the latest one set)."""
    values = [c.value for c in client.cookies.jar if c.name == SESSION_COOKIE]
    return values[-1] if values else None


def plant(client, value: str | None) -> None:  # type: ignore[no-untyped-def]
    for c in list(client.cookies.jar):
        if c.name == SESSION_COOKIE:
            client.cookies.jar.clear(c.domain, c.path, c.name)
    assert value is not None
    client.cookies.set(SESSION_COOKIE, value, domain="testserver.local", path="/")


def _set_cookie_header(r: httpx.Response) -> str:
    return next(v for k, v in r.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)


async def test_sign_in_sets_hardened_cookie_and_lands_by_role(web, web_factory, db):
    buyer = await make_user(db, "buyer")
    vendor = await make_vendor(db)
    staff = await make_user(db, "vendor", vendor)

    r = await web_login(web, buyer.email, PASSWORD)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    cookie = _set_cookie_header(r).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie  # public URL is http in tests
    assert (await web.get("/cuenta/tokens")).status_code == 200

    async with web_factory() as other:
        r = await web_login(other, staff.email, PASSWORD)
        assert r.headers["location"] == "/vendedor"


async def test_cookie_is_secure_when_public_url_is_https(web_factory, acc_settings, db):
    buyer = await make_user(db, "buyer")
    https = acc_settings.model_copy(update={"public_url": "https://marketred.example"})
    async with web_factory(https, "https://testserver") as browser:
        r = await web_login(browser, buyer.email, PASSWORD)
        assert r.status_code == 303
        assert "secure" in _set_cookie_header(r).lower()
        assert "max-age=31536000" in r.headers.get("strict-transport-security", "")


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\\evil.example", "/\t/evil.example", "https://evil.example"]
)
async def test_next_is_followed_only_within_the_site(web_factory, db, target):
    buyer = await make_user(db, "buyer")
    async with web_factory() as browser:
        r = await web_login(browser, buyer.email, PASSWORD, next_url=target)
        assert r.status_code == 303
        assert r.headers["location"] == "/"
        r = await web_login(browser, buyer.email, PASSWORD, next_url="/cuenta/tokens?x=1")
        assert r.headers["location"] == "/cuenta/tokens?x=1"


async def test_pages_redirect_to_sign_in_with_next(web):
    r = await web.get("/cuenta/tokens")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/ingresar?next=")
    assert "cuenta" in r.headers["location"]


async def test_session_fixation_planted_or_previous_id_never_becomes_a_session(
    web, acc_settings, db
):
    first = await make_user(db, "buyer")
    second = await make_user(db, "buyer")
    # An attacker plants a well-signed id that no session has.
    planted = sign(acc_settings, SESSION_COOKIE, "planted-session-id-0123456789")
    plant(web, planted)
    r = await web_login(web, first.email, PASSWORD)
    issued_first = session_cookie(web)
    assert issued_first != planted
    # Signing in again from the same browser rotates the id; the old one is dead.
    r = await web_login(web, second.email, PASSWORD)
    assert r.status_code == 303
    issued_second = session_cookie(web)
    assert issued_second != issued_first
    plant(web, issued_first)
    assert (await web.get("/cuenta/tokens")).status_code == 303


async def test_cookie_replayed_after_logout_is_refused(web, db):
    buyer = await make_user(db, "buyer")
    await web_login(web, buyer.email, PASSWORD)
    stolen = session_cookie(web)
    token = await page_csrf(web, "/cuenta/tokens")
    r = await web.post("/salir", data={"csrf_token": token})
    assert r.status_code == 303
    assert session_cookie(web) is None
    plant(web, stolen)
    r = await web.get("/cuenta/tokens")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/ingresar")


async def test_logout_is_not_possible_with_get(web, db):
    buyer = await make_user(db, "buyer")
    await web_login(web, buyer.email, PASSWORD)
    assert (await web.get("/salir")).status_code == 405
    assert (await web.get("/cuenta/tokens")).status_code == 200


async def test_password_change_ends_web_sessions(web, client, db):
    buyer = await make_user(db, "buyer")
    await web_login(web, buyer.email, PASSWORD)
    assert (await web.get("/cuenta/tokens")).status_code == 200
    login = {"username": buyer.email, "password": PASSWORD}
    token = (await client.post("/api/v1/auth/token", data=login)).json()["access_token"]
    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "otra clave bastante larga"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 204
    assert (await web.get("/cuenta/tokens")).status_code == 303


async def test_idle_and_absolute_timeouts(db):
    buyer = await make_user(db, "buyer")
    start = sessions.now_utc()
    raw, _ = await sessions.start_session(db, buyer, now=start)
    assert await sessions.load_session(db, raw, now=start + timedelta(minutes=30)) is not None
    # Idle: nothing for longer than the idle timeout since the last request.
    later = start + timedelta(minutes=30) + sessions.IDLE_TIMEOUT
    assert await sessions.load_session(db, raw, now=later) is None
    # Absolute: even when active every hour, the session ends at its absolute limit.
    raw2, _ = await sessions.start_session(db, buyer, now=start)
    moment = start
    while moment + timedelta(hours=1) < start + sessions.ABSOLUTE_TIMEOUT:
        moment += timedelta(hours=1)
        assert await sessions.load_session(db, raw2, now=moment) is not None
    assert await sessions.load_session(db, raw2, now=start + sessions.ABSOLUTE_TIMEOUT) is None


async def test_csrf_missing_token_is_refused(web, db):
    buyer = await make_user(db, "buyer")
    await web_login(web, buyer.email, PASSWORD)
    r = await web.post("/salir", data={})
    assert r.status_code == 403
    assert (await web.get("/cuenta/tokens")).status_code == 200  # still signed in


async def test_csrf_token_of_another_session_is_refused(web, web_factory, db):
    victim = await make_user(db, "buyer")
    attacker = await make_user(db, "buyer")
    await web_login(web, victim.email, PASSWORD)
    async with web_factory() as other:
        await web_login(other, attacker.email, PASSWORD)
        foreign = await page_csrf(other, "/cuenta/tokens")
    r = await web.post("/salir", data={"csrf_token": foreign})
    assert r.status_code == 403
    assert (await web.get("/cuenta/tokens")).status_code == 200


async def test_cross_site_origin_is_refused_even_with_a_valid_token(web, db):
    buyer = await make_user(db, "buyer")
    await web_login(web, buyer.email, PASSWORD)
    token = await page_csrf(web, "/cuenta/tokens")
    r = await web.post(
        "/salir", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    r = await web.post(
        "/salir",
        data={"csrf_token": token},
        headers={"Referer": "https://evil.example/page"},
    )
    assert r.status_code == 403
    r = await web.post(
        "/salir", data={"csrf_token": token}, headers={"Origin": "http://testserver"}
    )
    assert r.status_code == 303


async def test_sign_in_form_itself_needs_csrf(web, db):
    buyer = await make_user(db, "buyer")
    r = await web.post("/ingresar", data={"email": buyer.email, "password": PASSWORD})
    assert r.status_code == 403
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")


async def test_security_headers(web, acc_settings):
    r = await web.get("/ingresar")
    csp = r.headers["content-security-policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text  # no inline script in our pages

    embed = await web.get("/embed/v1/search?q=cafe")
    csp = embed.headers["content-security-policy"]
    ancestors = next(p for p in csp.split(";") if "frame-ancestors" in p)
    for origin in acc_settings.embed_origins:
        assert origin in ancestors
    assert "'none'" not in ancestors
    assert "x-frame-options" not in embed.headers


async def test_changing_the_password_on_the_web_ends_every_session(web, web_factory, db):
    buyer = await make_user(db, "buyer")
    async with web_factory() as laptop:
        await web_login(laptop, buyer.email, PASSWORD)
        await web_login(web, buyer.email, PASSWORD)
        token = await page_csrf(web, "/cuenta/contrasena")
        new = "una clave distinta y larga"
        wrong = await web.post(
            "/cuenta/contrasena",
            data={"current_password": "no es", "new_password": new, "password_confirm": new,
                  "csrf_token": token},
        )  # fmt: skip
        assert wrong.status_code == 422
        r = await web.post(
            "/cuenta/contrasena",
            data={"current_password": PASSWORD, "new_password": new, "password_confirm": new,
                  "csrf_token": token},
        )  # fmt: skip
        assert r.status_code == 303
        assert (await web.get("/cuenta")).status_code == 303
        assert (await laptop.get("/cuenta")).status_code == 303
    assert (await web_login(web, buyer.email, new)).status_code == 303


async def test_embed_fragments_set_no_cookies(web):
    r = await web.get("/embed/v1/search?q=cafe")
    assert r.status_code == 200
    assert "set-cookie" not in r.headers

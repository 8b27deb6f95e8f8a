"""'Ingresar con InforedChile' end to end against the directory sandbox's OpenID provider
(real sockets for the provider; our app in-process): discovery, authorize with PKCE,
the demo-person picker, code exchange, ID token verification against the JWKS."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from marketred.store.models import Quote, User, Vendor
from tests.accounts.oidc_support import OPERATOR, STAFF, directory_sign_in, vendor_for_inf_1001
from tests.support.factories import make_quote_row, make_user, make_vendor

pytestmark = pytest.mark.db

BUYER = "comprador@marketred.cl"


async def _requested_quote(db, vendor: Vendor) -> Quote:  # type: ignore[no-untyped-def]
    return await make_quote_row(db, await make_user(db, "buyer"), vendor)


async def test_vendor_staff_lands_in_their_own_back_office(web, db):
    vendor = await vendor_for_inf_1001(db)
    own = await _requested_quote(db, vendor)
    other = await _requested_quote(db, await make_vendor(db))
    r = await directory_sign_in(web, STAFF)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/vendedor"
    user = await db.scalar(select(User).where(User.email == STAFF))
    assert user.role == "vendor"
    assert user.vendor_id == vendor.id
    assert user.password_hash is None
    office = await web.get("/vendedor")
    assert office.status_code == 200
    assert STAFF in office.text  # signed in as the staff member, in the back office
    assert f"/vendedor/cotizaciones/{own.id}" in office.text  # their vendor's quotes
    assert f"/vendedor/cotizaciones/{other.id}" not in office.text


async def test_buyer_lands_in_the_storefront(web, db):
    r = await directory_sign_in(web, BUYER)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    user = await db.scalar(select(User).where(User.email == BUYER))
    assert user.role == "buyer"
    assert user.email_verified_at is not None
    storefront = await web.get("/")
    assert storefront.status_code == 200
    assert BUYER in storefront.text


async def test_operator_group_makes_an_operator_and_next_is_kept(web, db):
    r = await directory_sign_in(web, OPERATOR, next_url="/cuenta/tokens")
    assert r.headers["location"] == "/cuenta/tokens"
    user = await db.scalar(select(User).where(User.email == OPERATOR))
    assert user.role == "operator"


async def test_staff_of_a_company_not_on_marketred_is_refused(web, db):
    vendor = await db.scalar(select(Vendor).where(Vendor.directory_id == "inf-1001"))
    if vendor is not None:
        vendor.directory_id = None  # rolled back after the test
        await db.flush()
    r = await directory_sign_in(web, STAFF)
    assert r.status_code == 403
    assert (await web.get("/cuenta/tokens")).status_code == 303


@pytest.mark.parametrize(
    "fault", ["tampered_signature", "wrong_nonce", "wrong_audience", "wrong_issuer", "expired"]
)
async def test_bad_id_tokens_are_refused(web, db, fault):
    await vendor_for_inf_1001(db)
    r = await directory_sign_in(web, STAFF, fault=fault)
    assert r.status_code in (303, 401)
    if r.status_code == 303:  # the web answers a refused sign-in with the sign-in page
        assert r.headers["location"].startswith("/ingresar")
    assert (await web.get("/cuenta/tokens")).status_code == 303
    assert await db.scalar(select(User).where(User.email == "intruso@example.cl")) is None


async def test_callback_with_a_foreign_state_is_refused(web, web_factory, db):
    """A code minted for another browser's sign-in cannot be injected into this one."""
    await vendor_for_inf_1001(db)
    await web.get("/auth/oidc/login")  # victim started a sign-in: has their own state
    async with web_factory() as attacker:
        r = await attacker.get("/auth/oidc/login")
        authorize_url = r.headers["location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        async with httpx.AsyncClient(timeout=10) as provider:
            back = await provider.post(authorize_url.split("?")[0], data={**query, "person": STAFF})
    callback = urlsplit(back.headers["location"])
    r = await web.get(f"{callback.path}?{callback.query}")
    assert r.status_code in (303, 401)
    assert (await web.get("/cuenta/tokens")).status_code == 303


async def test_callback_without_a_started_sign_in_is_refused(web):
    r = await web.get("/auth/oidc/callback?code=abc&state=xyz")
    assert r.status_code in (303, 401)
    assert (await web.get("/cuenta/tokens")).status_code == 303

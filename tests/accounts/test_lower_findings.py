"""Finding 8 (docs/security.md): the lower items, each as a person or a scanner would
check it — operators' passwords in production, a stranger locking an account, reset
requests that tell which addresses have accounts, the OIDC algorithm pin, LIKE
wildcards, body caps before signature checks, CSP, and what production does not serve."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketred.api.body_limit import SIGNED_BODY_MAX
from marketred.services.accounts import oidc, rate_limits, sign_in
from marketred.services.errors import Forbidden, RateLimited, Unauthorized, Unavailable
from marketred.settings import Settings
from tests.support.api import app_client
from tests.support.factories import PASSWORD, make_product, make_user, make_vendor

pytestmark = pytest.mark.db


async def test_operators_sign_in_with_inforedchile_only_in_production(db, settings):
    operator = await make_user(db, "operator")
    production = settings.model_copy(update={"env": "production"})
    with pytest.raises(Forbidden):
        await sign_in.password_sign_in(db, production, operator.email, PASSWORD, ip=None)
    break_glass = production.model_copy(update={"operator_password_sign_in": True})
    assert (await sign_in.password_sign_in(db, break_glass, operator.email, PASSWORD, ip=None)).id
    # Outside production the password still works (dev, tests, the demo).
    assert (await sign_in.password_sign_in(db, settings, operator.email, PASSWORD, ip=None)).id


async def test_a_stranger_guessing_from_elsewhere_does_not_lock_the_owner_out(db, settings):
    owner = await make_user(db, "buyer")
    for _ in range(rate_limits.LOGIN_FAILURES_PER_ACCOUNT.max_hits):
        with pytest.raises(Unauthorized):
            await sign_in.password_sign_in(db, settings, owner.email, "adivina", ip="203.0.113.9")
    with pytest.raises(RateLimited):  # the guesser is locked out...
        await sign_in.password_sign_in(db, settings, owner.email, PASSWORD, ip="203.0.113.9")
    # ...the owner, from their own network, is not.
    user = await sign_in.password_sign_in(db, settings, owner.email, PASSWORD, ip="198.51.100.7")
    assert user.id == owner.id


async def test_reset_limits_answer_the_same_for_addresses_with_and_without_accounts(client, db):
    owner = await make_user(db, "buyer")
    for email in (owner.email, "nadie-tiene-esta@example.cl"):
        statuses = [
            (await client.post("/api/v1/auth/password-reset", json={"email": email})).status_code
            for _ in range(rate_limits.RESET_PER_ACCOUNT.max_hits + 1)
        ]
        assert statuses == [202] * rate_limits.RESET_PER_ACCOUNT.max_hits + [429], email


async def test_id_tokens_signed_with_an_algorithm_we_did_not_pin_are_refused(settings):
    """A provider (or whoever answers for it) announcing HS256 cannot make us accept a
    token signed with a shared key."""
    issuer = "https://directory.example"
    key = OctKey.import_key(b"k" * 32)
    meta = {
        "issuer": issuer,
        "jwks_uri": issuer + "/jwks",
        "id_token_signing_alg_values_supported": ["HS256"],
    }
    jwks = {"keys": [key.as_dict(private=True)]}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=meta if "well-known" in request.url.path else jwks)

    ours = settings.model_copy(update={"oidc_issuer": issuer, "oidc_client_id": "marketred"})
    now = int(time.time())
    claims = {"iss": issuer, "aud": "marketred", "sub": "x", "exp": now + 60, "iat": now}
    token = jwt.encode({"alg": "HS256"}, {**claims, "nonce": "n"}, key)
    oidc._metadata_cache.clear()
    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            with pytest.raises((Unavailable, Unauthorized)):
                await oidc.verify_id_token(ours, http, token, "n")
    finally:
        oidc._metadata_cache.clear()


async def test_wildcards_in_a_public_search_are_plain_characters(client, db):
    vendor = await make_vendor(db, name="Ferretería Sur")
    await make_product(db, vendor, "Martillo de carpintero")
    r = await client.get("/api/v1/vendors", params={"q": "%"})
    assert r.status_code == 200
    assert r.json()["total"] == 0
    r = await client.get("/api/v1/vendors", params={"q": "_"})
    assert r.json()["total"] == 0
    found = await client.get("/embed/v1/search", params={"q": "%"})
    assert found.status_code == 200
    assert 'class="mr-empty"' in found.text  # "%" matched no product name


async def test_oversized_bodies_are_refused_before_the_signature_is_read(client):
    big = b"{" + b" " * SIGNED_BODY_MAX + b"}"
    for path in ("/webhooks/khipu", "/api/v1/directory/companies/inf-1"):
        method = "POST" if "webhooks" in path else "PUT"
        r = await client.request(method, path, content=big)
        assert r.status_code == 413, path
        assert r.headers["content-type"] == "application/problem+json"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b" " * (SIGNED_BODY_MAX // 4)

        r = await client.request(method, path, content=chunks())  # no Content-Length
        assert r.status_code == 413, path


async def test_csp_forbids_http_images_limits_forms_and_locks_down_embeds(client):
    page = await client.get("/")
    csp = page.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert "http:" not in directives["img-src"]
    assert "form-action 'self'" in csp
    embed = await client.get("/embed/v1/search", params={"q": "café"})
    csp = embed.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'none'" in csp
    assert "frame-ancestors" in csp


@pytest.fixture
async def production_client(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
) -> AsyncIterator[httpx.AsyncClient]:
    production = settings.model_copy(update={"env": "production", "metrics_token": "scrape-me"})
    base_url = "https://testserver"
    async with app_client(production, engine, session_factory, http_client, base_url=base_url) as c:
        yield c


async def test_production_serves_no_dev_mail_no_swagger_and_metrics_only_to_the_scraper(
    production_client: httpx.AsyncClient,
):
    assert (await production_client.get("/dev/mail")).status_code == 404
    assert (await production_client.get("/api/docs")).status_code == 404
    assert (await production_client.get("/redoc")).status_code == 404
    assert (await production_client.get("/api/openapi.json")).status_code == 200
    # With a token set, /metrics exists for the scraper only
    # (services/operations/metrics_access.py).
    assert (await production_client.get("/metrics")).status_code == 401
    wrong = {"Authorization": "Bearer guess"}
    assert (await production_client.get("/metrics", headers=wrong)).status_code == 401
    right = {"Authorization": "Bearer scrape-me"}
    scraped = await production_client.get("/metrics", headers=right)
    assert scraped.status_code == 200
    assert "marketred_http_requests_total" in scraped.text

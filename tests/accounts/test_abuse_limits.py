"""Abuse limits: wrong passwords lock the account (429 + Retry-After, owner mailed), every
sign-in attempt counts per IP, registration and reset are limited, quotes have a limiter."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketred.app import create_app
from marketred.services.accounts import rate_limits
from marketred.services.errors import RateLimited
from marketred.settings import Settings
from tests.support.api import make_resources
from tests.support.factories import PASSWORD, auth_headers, make_user, make_vendor
from tests.support.pages import mail_to, web_login

pytestmark = pytest.mark.db


async def test_ten_wrong_passwords_in_a_minute_get_429s(client, db):
    buyer = await make_user(db, "buyer")
    statuses = []
    for _ in range(10):
        r = await client.post(
            "/api/v1/auth/token", data={"username": buyer.email, "password": "not the password"}
        )
        statuses.append(r.status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 5
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["status"] == 429
    # Locked means locked: the right password does not get in until the window ends.
    r = await client.post(
        "/api/v1/auth/token", data={"username": buyer.email, "password": PASSWORD}
    )
    assert r.status_code == 429


async def test_lockout_mail_reaches_the_owner(web, db, mail_folder):
    buyer = await make_user(db, "buyer")
    for _ in range(rate_limits.LOGIN_FAILURES_PER_ACCOUNT.max_hits):
        r = await web_login(web, buyer.email, "not the password")
        assert r.status_code == 401
    r = await web_login(web, buyer.email, PASSWORD)
    assert r.status_code == 429
    assert "retry-after" in r.headers
    assert "Demasiados intentos" in r.text
    mails = mail_to(mail_folder[0], buyer.email)
    assert len(mails) == 1
    assert "Bloqueamos" in mails[0].subject
    # The mail tells how long the lock lasts, the same wait the 429 announces.
    minutes = int(re.search(r"durante (\d+) minutos", mails[0].text).group(1))  # type: ignore[union-attr]
    assert 1 <= minutes <= 18
    assert int(r.headers["retry-after"]) <= minutes * 60


async def test_a_success_clears_earlier_failures(client, db):
    buyer = await make_user(db, "buyer")
    for _ in range(rate_limits.LOGIN_FAILURES_PER_ACCOUNT.max_hits - 1):
        r = await client.post(
            "/api/v1/auth/token", data={"username": buyer.email, "password": "nope nope nope"}
        )
        assert r.status_code == 401
    ok = await client.post(
        "/api/v1/auth/token", data={"username": buyer.email, "password": PASSWORD}
    )
    assert ok.status_code == 200
    r = await client.post(
        "/api/v1/auth/token", data={"username": buyer.email, "password": "nope nope nope"}
    )
    assert r.status_code == 401


async def test_attempts_from_one_ip_are_limited_across_accounts(client, settings, monkeypatch):
    # One instant for the whole loop: on a slow machine 31 sign-ins can take longer than
    # the window, and the sliding window would rightly let the oldest fade (the window's
    # own behaviour is tested below with explicit times).
    fixed = datetime.now(UTC)
    monkeypatch.setattr(rate_limits, "clock", lambda: fixed)
    limit = settings.login_per_ip_minute
    statuses = []
    for i in range(limit + 1):
        r = await client.post(
            "/api/v1/auth/token",
            data={"username": f"nobody-{i}-{uuid.uuid4().hex[:6]}@example.cl", "password": "x"},
        )
        statuses.append(r.status_code)
    assert statuses == [401] * limit + [429]


LIMIT = rate_limits.Limit("test-sliding", 10, 60)
WINDOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a window start (multiple of 60 s)


async def _hits(db, n: int, at: datetime, subject: str = "s") -> list[int]:  # type: ignore[no-untyped-def]
    return [await rate_limits.hit(db, LIMIT, subject, now=at) for _ in range(n)]


async def test_a_burst_across_a_window_boundary_cannot_pass_twice_the_limit(db):
    # The whole limit in the last second of one window...
    assert await _hits(db, 10, WINDOW + timedelta(seconds=59)) == list(range(1, 11))
    # ...and the first second of the next still sees (nearly) all of it.
    with pytest.raises(RateLimited) as caught:
        await rate_limits.hit(db, LIMIT, "s", now=WINDOW + timedelta(seconds=61))
    # Nothing more coming: 10 × (1 − g) ≤ 9 once g ≥ 0.1 of the new window (6 s), then
    # the refused attempt (counted) fades too; Retry-After says when, not "now".
    retry = int(caught.value.headers["Retry-After"])
    assert 5 <= retry <= 60
    await rate_limits.ensure_below(db, LIMIT, "other")  # another subject is untouched


async def test_the_previous_window_fades_as_the_sliding_window_moves(db):
    await _hits(db, 10, WINDOW + timedelta(seconds=30))
    # Half way through the next window, half of the previous one still counts (5), so
    # five more pass and the sixth is refused.
    halfway = WINDOW + timedelta(seconds=90)
    assert await _hits(db, 5, halfway) == [6, 7, 8, 9, 10]
    with pytest.raises(RateLimited):
        await rate_limits.hit(db, LIMIT, "s", now=halfway)
    # Two windows later nothing of it is left.
    assert await rate_limits.current(db, LIMIT, "s", now=WINDOW + timedelta(seconds=180)) == 0
    assert await _hits(db, 10, WINDOW + timedelta(seconds=180)) == list(range(1, 11))


async def test_retry_after_is_when_the_next_attempt_passes(db):
    await _hits(db, 10, WINDOW + timedelta(seconds=10))
    at = WINDOW + timedelta(seconds=70)  # 10 s into the next window: estimate ≈ 8.3
    await _hits(db, 1, at)  # ≈ 9.3: one more would pass the limit...
    with pytest.raises(RateLimited) as caught:
        await rate_limits.ensure_below(db, LIMIT, "s", now=at + timedelta(seconds=1))
    wait = int(caught.value.headers["Retry-After"])
    # ...and after waiting as told, it does not.
    await rate_limits.ensure_below(db, LIMIT, "s", now=at + timedelta(seconds=1 + wait))
    assert await rate_limits.hit(db, LIMIT, "s", now=at + timedelta(seconds=1 + wait)) <= 10


async def test_registration_is_limited_per_ip(client, settings):
    limit = settings.register_per_ip_hour
    for _ in range(limit):
        r = await client.post(
            "/api/v1/auth/register",
            json={"email": f"b-{uuid.uuid4().hex[:8]}@example.cl", "password": "una clave larga 1"},
        )
        assert r.status_code == 201
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": f"b-{uuid.uuid4().hex[:8]}@example.cl", "password": "una clave larga 1"},
    )
    assert r.status_code == 429
    assert "retry-after" in r.headers


async def _register(client, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    statuses = []
    for _ in range(n):
        r = await client.post(
            "/api/v1/auth/register",
            json={"email": f"b-{uuid.uuid4().hex[:8]}@example.cl", "password": "una clave larga 1"},
        )
        statuses.append(r.status_code)
    return statuses


async def _sign_ins(client, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    statuses = []
    for i in range(n):
        r = await client.post(
            "/api/v1/auth/token",
            data={"username": f"nobody-{i}-{uuid.uuid4().hex[:6]}@example.cl", "password": "x"},
        )
        statuses.append(r.status_code)
    return statuses


async def test_per_ip_sign_in_and_registration_limits_are_settings(
    settings, engine, session_factory, http_client, monkeypatch
):
    fixed = datetime.now(UTC)
    monkeypatch.setattr(rate_limits, "clock", lambda: fixed)
    tight = settings.model_copy(update={"login_per_ip_minute": 3, "register_per_ip_hour": 2})
    async with _client(tight, engine, session_factory, http_client) as client:
        assert await _sign_ins(client, 4) == [401, 401, 401, 429]
        assert await _register(client, 3) == [201, 201, 429]


async def test_a_zero_per_ip_limit_turns_it_off(
    settings, engine, session_factory, http_client, monkeypatch
):
    fixed = datetime.now(UTC)
    monkeypatch.setattr(rate_limits, "clock", lambda: fixed)
    off = settings.model_copy(update={"login_per_ip_minute": 0, "register_per_ip_hour": 0})
    async with _client(off, engine, session_factory, http_client) as client:
        # Past the defaults (30 sign-ins a minute, 10 registrations an hour).
        assert await _sign_ins(client, settings.login_per_ip_minute + 5) == [401] * (
            settings.login_per_ip_minute + 5
        )
        assert await _register(client, settings.register_per_ip_hour + 2) == [201] * (
            settings.register_per_ip_hour + 2
        )


def _client(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
) -> httpx.AsyncClient:
    app = create_app(settings, make_resources(settings, engine, sessions, http))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_quote_creation_limiter_for_the_quotes_service(db, settings):
    limits = rate_limits.quote_limits(settings.quotes_per_account_hour, settings.quotes_per_ip_hour)
    user_id, ip = str(uuid.uuid4()), f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    for _ in range(settings.quotes_per_account_hour):
        await rate_limits.limit_quote_creation(db, limits, user_id=user_id, ip=ip)
    with pytest.raises(RateLimited) as caught:
        await rate_limits.limit_quote_creation(db, limits, user_id=user_id, ip=ip)
    assert int(caught.value.headers["Retry-After"]) > 0
    # Another buyer on the same network still may ask for quotes.
    await rate_limits.limit_quote_creation(db, limits, user_id=str(uuid.uuid4()), ip=ip)


async def test_vendor_staff_cannot_use_a_password_in_production(db, acc_settings):
    from marketred.services.accounts import sign_in
    from marketred.services.errors import Forbidden

    vendor_staff = await make_user(db, "vendor", await make_vendor(db))
    production = acc_settings.model_copy(update={"env": "production"})
    with pytest.raises(Forbidden):
        await sign_in.password_sign_in(db, production, vendor_staff.email, PASSWORD, ip=None)
    buyer = await make_user(db, "buyer")
    assert (await sign_in.password_sign_in(db, production, buyer.email, PASSWORD, ip=None)).id


async def test_guessing_the_current_password_with_a_stolen_token_is_limited(client, db, settings):
    buyer = await make_user(db, "buyer")
    headers = auth_headers(settings, buyer)
    body = {"current_password": "una adivinanza", "new_password": "nueva clave bien larga"}
    statuses = [
        (await client.post("/api/v1/auth/password", json=body, headers=headers)).status_code
        for _ in range(rate_limits.LOGIN_FAILURES_PER_ACCOUNT.max_hits + 1)
    ]
    assert statuses[:-1] == [422] * rate_limits.LOGIN_FAILURES_PER_ACCOUNT.max_hits
    assert statuses[-1] == 429

"""Quote creation is rate limited per buyer (docs/accounts.md), before any workflow starts."""

from __future__ import annotations

import httpx
import pytest

from marketred.app import create_app
from marketred.services.accounts import rate_limits
from tests.support.api import make_resources
from tests.support.factories import auth_headers, make_user, make_vendor

pytestmark = pytest.mark.db


async def test_a_buyer_past_the_quote_limit_gets_429_with_retry_after(
    settings, engine, session_factory, http_client, db, time_skipping_env
):
    vendor = await make_vendor(db)
    buyer = await make_user(db, "buyer")
    per_account, _ = rate_limits.quote_limits(
        settings.quotes_per_account_hour, settings.quotes_per_ip_hour
    )
    for _ in range(settings.quotes_per_account_hour):
        await rate_limits.hit(db, per_account, str(buyer.id))
    await db.commit()
    app = create_app(
        settings,
        make_resources(settings, engine, session_factory, http_client, time_skipping_env.client),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        r = await client.post(
            "/api/v1/quotes",
            json={
                "vendor": vendor.slug,
                "note": "",
                "contact": {"name": "Ana", "email": "ana@example.cl"},
            },
            headers=auth_headers(settings, buyer),
        )
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) > 0

"""Operators narrow the quote list in SQL: by vendor, creation date, held payments and
ship-by breaches, on top of who may see what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.quotes import QuoteListFilters, workflow_id_for
from marketred.services import quotes
from marketred.services.accounts.users import principal_of
from marketred.store.models import Quote, User, Vendor
from marketred.store.repositories import quotes as quotes_repo
from tests.support.factories import make_user, make_vendor

pytestmark = pytest.mark.db

NOW = datetime.now(UTC)


async def _quote(
    db: AsyncSession,
    buyer: User,
    vendor: Vendor,
    status: str = "REQUESTED",
    *,
    days_ago: int = 0,
    **fields: Any,
) -> Quote:
    quote_id = uuid.uuid4()
    return await quotes_repo.add_quote(
        db,
        Quote(
            id=quote_id,
            workflow_id=workflow_id_for(quote_id),
            buyer_id=buyer.id,
            vendor_id=vendor.id,
            status=status,
            subtotal=10000,
            shipping_cost=0,
            total=10000,
            commission_bps=1000,
            created_at=NOW - timedelta(days=days_ago),
            **fields,
        ),
        [],
    )


async def test_operator_filters_by_vendor_date_held_and_overdue(db):
    a, b = await make_vendor(db), await make_vendor(db)
    buyer = await make_user(db, "buyer")
    operator = principal_of(await make_user(db, "operator"))
    old_a = await _quote(db, buyer, a, days_ago=40)
    new_a = await _quote(db, buyer, a)
    held_b = await _quote(db, buyer, b, "ACCEPTED", hold_reason="amount is $9.999")
    # Held once, then cancelled with refund: no longer waiting for anyone.
    await _quote(db, buyer, b, "REFUNDED", hold_reason="amount is $9.998")
    late_b = await _quote(db, buyer, b, "PAID", ship_by=NOW - timedelta(hours=1))
    on_time_b = await _quote(db, buyer, b, "PAID", ship_by=NOW + timedelta(days=2))

    async def ids(status: str | None = None, **kw: Any) -> tuple[set[uuid.UUID], int]:
        page = await quotes.list_quotes(
            db, operator, status=status, limit=50, offset=0, filters=QuoteListFilters(**kw)
        )
        return {q.id for q in page.items}, page.total

    assert await ids(vendor=a.slug) == ({old_a.id, new_a.id}, 2)
    week_ago = NOW - timedelta(days=7)
    assert await ids(vendor=a.slug, created_from=week_ago) == ({new_a.id}, 1)
    assert await ids(vendor=a.slug, created_to=week_ago) == ({old_a.id}, 1)
    assert await ids(vendor=b.slug, held=True) == ({held_b.id}, 1)
    assert await ids(vendor=b.slug, ship_overdue=True) == ({late_b.id}, 1)
    assert await ids("PAID", vendor=b.slug) == ({late_b.id, on_time_b.id}, 2)


async def test_filters_never_widen_what_a_party_may_see(db):
    a, b = await make_vendor(db), await make_vendor(db)
    buyer, other = await make_user(db, "buyer"), await make_user(db, "buyer")
    mine = await _quote(db, buyer, a)
    await _quote(db, other, b)
    staff = principal_of(await make_user(db, "vendor", a))

    page = await quotes.list_quotes(
        db, principal_of(buyer), status=None, filters=QuoteListFilters(vendor=b.slug)
    )
    assert page.items == []
    page = await quotes.list_quotes(db, staff, status=None, filters=QuoteListFilters())
    assert [q.id for q in page.items] == [mine.id]


async def test_api_list_takes_the_same_filters(client, db, settings):
    from tests.support.factories import auth_headers

    a, b = await make_vendor(db), await make_vendor(db)
    buyer = await make_user(db, "buyer")
    operator = await make_user(db, "operator")
    await _quote(db, buyer, a, days_ago=40)
    late = await _quote(db, buyer, b, "PAID", ship_by=NOW - timedelta(hours=1))
    await db.commit()
    headers = auth_headers(settings, operator)
    r = await client.get(
        "/api/v1/quotes", params={"vendor": b.slug, "ship_overdue": "true"}, headers=headers
    )
    assert r.status_code == 200
    assert [q["id"] for q in r.json()["items"]] == [str(late.id)]
    r = await client.get(
        "/api/v1/quotes", params={"vendor": a.slug, "from": NOW.isoformat()}, headers=headers
    )
    assert r.json() == {"items": [], "total": 0}
    r = await client.get("/api/v1/quotes", params={"from": "yesterday"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "from"


async def test_support_finds_a_quote_by_its_number_or_its_buyers_email(client, db, settings):
    from tests.support.factories import auth_headers

    vendor = await make_vendor(db)
    ana, other = await make_user(db, "buyer"), await make_user(db, "buyer")
    first, second = await _quote(db, ana, vendor), await _quote(db, ana, vendor, days_ago=1)
    theirs = await _quote(db, other, vendor)
    await db.commit()
    headers = auth_headers(settings, await make_user(db, "operator"))

    async def ids(**params: str) -> list[str]:
        r = await client.get("/api/v1/quotes", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [q["id"] for q in r.json()["items"]]

    # As people type it: the label, lower case, without zeros, with spaces.
    for typed in (f"Q-{second.number:06d}", f"q{second.number}", f" {second.number} "):
        assert await ids(number=typed) == [str(second.id)]
    assert await ids(buyer=ana.email.upper()) == [str(first.id), str(second.id)]
    assert await ids(buyer=ana.email, number=str(theirs.number)) == []
    assert await ids(buyer="nadie@example.cl") == []
    r = await client.get("/api/v1/quotes", params={"number": "Q-12a"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "number"

    # A buyer filtering by someone else's email still sees only their own quotes.
    r = await client.get(
        "/api/v1/quotes", params={"buyer": other.email}, headers=auth_headers(settings, ana)
    )
    assert r.json() == {"items": [], "total": 0}

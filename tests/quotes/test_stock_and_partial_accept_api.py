"""Partial acceptance and stock reservations through the API, on the Temporal dev
server with the real projection, mail and stock activities and real PostgreSQL (Khipu
and the ledger are faked: their own tests cover them). Two acceptances racing for the
last unit: exactly one wins and stock never goes negative."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from marketred.schemas.payments import PaymentNotified
from marketred.schemas.quotes import StockItem
from marketred.services.catalog import stock
from marketred.settings import Settings
from marketred.store.models import Quote, StockReservation, Variant
from marketred.store.session import create_session_factory
from tests.quotes.test_quotes_api import Stack, stack  # the dev-server stack
from tests.support.factories import (
    auth_headers,
    make_product,
    make_quote_row,
    make_user,
    make_vendor,
)
from tests.support.polling import eventually

pytestmark = pytest.mark.db
__all__ = ["stack"]  # the fixture, shared with test_quotes_api


async def _shop(
    engine: AsyncEngine, settings: Settings, prices: tuple[int, ...], stocks: tuple[int | None, ...]
) -> tuple[str, list[uuid.UUID], dict[str, str], list[dict[str, str]]]:
    """A vendor selling one product with these variants' prices and stock; its staff's
    headers and two buyers'."""
    async with create_session_factory(engine)() as db:
        vendor = await make_vendor(db)
        _, variants = await make_product(db, vendor, "Café de grano", prices=prices)
        for variant, n in zip(variants, stocks, strict=True):
            variant.stock = n
        staff = await make_user(db, "vendor", vendor)
        buyers = [await make_user(db, "buyer"), await make_user(db, "buyer")]
        await db.commit()
    return (
        vendor.slug,
        [v.id for v in variants],
        auth_headers(settings, staff),
        [auth_headers(settings, b) for b in buyers],
    )


async def _quote(
    stack: Stack, slug: str, buyer: dict[str, str], items: dict[uuid.UUID, int]
) -> dict[str, Any]:
    for variant_id, quantity in items.items():
        r = await stack.api.put(
            f"/api/v1/carts/{slug}/items/{variant_id}", json={"quantity": quantity}, headers=buyer
        )
        assert r.status_code == 200, r.text
    r = await stack.api.post(
        "/api/v1/quotes", json={"vendor": slug, "note": "", "contact": {}}, headers=buyer
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _position(quote: dict[str, Any], variant_id: uuid.UUID) -> int:
    return int(next(ln["position"] for ln in quote["lines"] if ln["variant_id"] == str(variant_id)))


async def _stock(engine: AsyncEngine, variant_id: uuid.UUID) -> int | None:
    async with create_session_factory(engine)() as db:
        return await db.scalar(select(Variant.stock).where(Variant.id == variant_id))


async def _reservations(engine: AsyncEngine, quote_id: str) -> dict[uuid.UUID, tuple[int, str]]:
    async with create_session_factory(engine)() as db:
        rows = await db.scalars(
            select(StockReservation).where(StockReservation.quote_id == uuid.UUID(quote_id))
        )
        return {r.variant_id: (r.quantity, r.state) for r in rows}


async def test_vendor_accepts_two_of_three_lines_and_khipu_is_asked_for_the_new_total(
    stack: Stack, engine: AsyncEngine
) -> None:
    slug, (coffee, mug, filters), staff, (buyer, _) = await _shop(
        engine, stack.settings, (8_000, 5_000, 2_000), (5, None, None)
    )
    quote = await _quote(stack, slug, buyer, {coffee: 3, mug: 2, filters: 1})
    qid = quote["id"]
    body = {
        "shipping_cost": 3_000,
        "lines": [
            {"position": _position(quote, coffee), "quantity": 2, "reason": "Quedan 2 bolsas"},
            {"position": _position(quote, filters), "quantity": 0, "reason": "Sin filtros"},
        ],
    }
    r = await stack.api.post(f"/api/v1/quotes/{qid}/accept", json=body, headers=staff)
    assert r.status_code == 200, r.text
    accepted = r.json()
    lines = {ln["variant_id"]: ln for ln in accepted["lines"]}
    assert (lines[str(coffee)]["quantity"], lines[str(coffee)]["requested_quantity"]) == (2, 3)
    assert lines[str(coffee)]["change_reason"] == "Quedan 2 bolsas"
    assert (lines[str(filters)]["quantity"], lines[str(filters)]["line_total"]) == (0, 0)
    assert lines[str(filters)]["change_reason"] == "Sin filtros"
    assert lines[str(mug)]["requested_quantity"] is None
    assert (accepted["subtotal"], accepted["total"]) == (26_000, 29_000)  # 16.000 + 10.000
    # The buyer sees the same (old → new, the reason) before paying.
    seen = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=buyer)).json()
    assert seen["lines"] == accepted["lines"]
    assert seen["total"] == 29_000
    # Reserved: the coffee's accepted 2 (the untracked lines hold nothing).
    assert await _stock(engine, coffee) == 3
    assert await _reservations(engine, qid) == {coffee: (2, "reserved")}
    r = await stack.api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer)
    assert r.status_code == 200, r.text
    assert [p.amount for p in stack.world.payments_created] == [29_000]
    stack.world.verdict = "paid"
    handle = stack.env.client.get_workflow_handle(f"quote-{qid}")
    await handle.signal(
        "payment_notified", PaymentNotified(khipu_payment_id=f"kp-{uuid.UUID(qid).hex[:8]}")
    )

    async def converted() -> bool:
        return await _reservations(engine, qid) == {coffee: (2, "converted")}

    await eventually(converted, timeout=20, interval=0.1)
    assert await _stock(engine, coffee) == 3  # sold for good
    async with create_session_factory(engine)() as db:
        row = await db.get(Quote, uuid.UUID(qid))
        assert row is not None
        assert (row.status, row.total) == ("PAID", 29_000)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity": 3, "reason": "x"}, "lines[0].quantity"),  # more than the 2 asked
        ({"quantity": -1, "reason": "x"}, "lines[0].quantity"),
        ({"quantity": 1}, "lines[0].reason"),
        ({"quantity": 0, "reason": "   "}, "lines[0].reason"),
        ({"quantity": 0, "reason": "no queda"}, "lines"),  # every line dropped: a reject
    ],
)
async def test_bad_partial_acceptance_is_problem_json_on_the_field_and_changes_nothing(
    stack: Stack, engine: AsyncEngine, line: dict[str, Any], field: str
) -> None:
    slug, (coffee,), staff, (buyer, _) = await _shop(engine, stack.settings, (8_000,), (5,))
    quote = await _quote(stack, slug, buyer, {coffee: 2})
    qid = quote["id"]
    body = {"shipping_cost": 1_000, "lines": [{"position": _position(quote, coffee), **line}]}
    r = await stack.api.post(f"/api/v1/quotes/{qid}/accept", json=body, headers=staff)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
    after = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=staff)).json()
    assert after["status"] == "REQUESTED"
    assert after["lines"] == quote["lines"]
    assert await _stock(engine, coffee) == 5
    assert await _reservations(engine, qid) == {}


async def test_two_acceptances_racing_for_the_last_unit_exactly_one_wins(
    stack: Stack, engine: AsyncEngine
) -> None:
    slug, (coffee,), staff, buyers = await _shop(engine, stack.settings, (8_000,), (1,))
    quotes = [await _quote(stack, slug, b, {coffee: 1}) for b in buyers]
    answers = await asyncio.gather(
        *(
            stack.api.post(
                f"/api/v1/quotes/{q['id']}/accept", json={"shipping_cost": 0}, headers=staff
            )
            for q in quotes
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
    lost = next(a for a in answers if a.status_code == 422)
    assert "not enough stock for Café de grano" in lost.json()["detail"]
    assert "0 available, 1 accepted; lower the quantity" in lost.json()["detail"]
    assert await _stock(engine, coffee) == 0
    won = quotes[[a.status_code for a in answers].index(200)]
    still = quotes[[a.status_code for a in answers].index(422)]
    assert await _reservations(engine, won["id"]) == {coffee: (1, "reserved")}
    assert await _reservations(engine, still["id"]) == {}
    assert (await stack.api.get(f"/api/v1/quotes/{still['id']}", headers=staff)).json()[
        "status"
    ] == "REQUESTED"
    # The winner's buyer cancels: the unit is given back, and the other may be accepted.
    winner = buyers[quotes.index(won)]
    r = await stack.api.post(
        f"/api/v1/quotes/{won['id']}/cancel", json={"reason": "ya no"}, headers=winner
    )
    assert r.status_code == 200, r.text

    async def released() -> bool:
        return await _stock(engine, coffee) == 1

    await eventually(released, timeout=20, interval=0.1)
    assert await _reservations(engine, won["id"]) == {coffee: (1, "released")}
    r = await stack.api.post(
        f"/api/v1/quotes/{still['id']}/accept", json={"shipping_cost": 0}, headers=staff
    )
    assert r.status_code == 200, r.text
    assert await _stock(engine, coffee) == 0


async def test_an_out_of_stock_variant_cannot_be_put_in_a_cart(
    stack: Stack, engine: AsyncEngine
) -> None:
    slug, (coffee,), _, (buyer, _) = await _shop(engine, stack.settings, (8_000,), (0,))
    r = await stack.api.put(
        f"/api/v1/carts/{slug}/items/{coffee}", json={"quantity": 1}, headers=buyer
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [
        {
            "field": "variant_id",
            "message": "this variant is out of stock",
            "code": "VARIANT_SOLD_OUT",
        }
    ]


async def test_concurrent_reservations_never_oversell(engine: AsyncEngine) -> None:
    """Twelve quotes reserve one unit each of a variant with 5 left, all at once, each in
    its own transaction: exactly 5 get one, the stock ends at 0, never below; a retried
    reservation (same quote, same items) takes nothing more."""
    sessions = create_session_factory(engine)
    async with sessions() as db:
        vendor = await make_vendor(db)
        _, (variant,) = await make_product(db, vendor, "Taza", prices=(5_000,))
        variant.stock = 5
        buyer = await make_user(db, "buyer")
        quote_ids = []
        for _ in range(12):
            quote = await make_quote_row(db, buyer, vendor, 5_000)
            quote_ids.append(quote.id)
        await db.commit()
    item = StockItem(position=0, variant_id=variant.id, quantity=1, label="Taza (T-1)")

    async def reserve(quote_id: uuid.UUID) -> bool:
        async with sessions() as db:
            return not (await stock.reserve(db, quote_id, [item])).short

    won = await asyncio.gather(*(reserve(q) for q in quote_ids))
    assert sum(won) == 5
    winner = quote_ids[won.index(True)]
    assert await reserve(winner)  # a retry: already reserved
    assert await _stock(engine, variant.id) == 0
    async with sessions() as db:
        held = await db.scalars(
            select(StockReservation).where(StockReservation.variant_id == variant.id)
        )
        assert sorted(r.quantity for r in held) == [1] * 5
        # Releasing twice gives back once.
        await stock.settle(db, winner, "PAYMENT_EXPIRED")
        await stock.settle(db, winner, "PAYMENT_EXPIRED")
        await db.commit()
    assert await _stock(engine, variant.id) == 1

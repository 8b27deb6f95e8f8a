"""Ledger postings: balanced, append-only, idempotent; refunds reverse; before-sale refunds."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services import ledger
from marketred.services.errors import Conflict, InvalidInput, NotFound
from tests.payouts.helpers import ledger_rows, make_paid_quote, make_seller, refund

pytestmark = pytest.mark.db


def _by_account(rows: list) -> dict[str, int]:  # type: ignore[type-arg]
    return {r.account: r.amount for r in rows}


async def test_sale_posts_payment_commission_and_payable_once(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1250)
    quote = await make_paid_quote(db, vendor, buyer, 12_990)

    first = await ledger.post_sale(db, quote.id)
    again = await ledger.post_sale(db, quote.id)

    rows = await ledger_rows(db, quote_id=quote.id)
    # 12_990 * 12.5 % = 1_623.75 -> 1_624 (half-up); the vendor gets the rest.
    assert _by_account(rows) == {
        "buyer_payments": 12_990,
        "platform_commission": -1_624,
        "vendor_payable": -11_366,
    }
    assert sum(r.amount for r in rows) == 0
    assert {r.txn_id for r in rows} == {first.txn_id}
    assert first.inserted == 3
    assert again.inserted == 0
    assert again.txn_id == first.txn_id


async def test_zero_commission_vendor_gets_no_commission_row(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=0)
    quote = await make_paid_quote(db, vendor, buyer, 5_000)
    await ledger.post_sale(db, quote.id)
    assert _by_account(await ledger_rows(db, quote_id=quote.id)) == {
        "buyer_payments": 5_000,
        "vendor_payable": -5_000,
    }


async def test_refund_after_sale_reverses_commission_and_payable(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db)
    quote = await make_paid_quote(db, vendor, buyer, 10_005)
    await ledger.post_sale(db, quote.id)

    await refund(db, quote)
    await refund(db, quote)  # a retried activity posts nothing more

    rows = await ledger_rows(db, quote_id=quote.id)
    refund_rows = [r for r in rows if ":refund:" in r.key]
    assert _by_account(refund_rows) == {
        "refunds": -10_005,
        "platform_commission": 1_001,
        "vendor_payable": 9_004,
    }
    balances: dict[str, int] = {}
    for r in rows:
        balances[r.account] = balances.get(r.account, 0) + r.amount
    # Money in, money back out; nobody owes anybody anything.
    assert balances == {
        "buyer_payments": 10_005,
        "refunds": -10_005,
        "platform_commission": 0,
        "vendor_payable": 0,
    }


async def test_refund_before_completion_records_money_in_and_out(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db)
    quote = await make_paid_quote(db, vendor, buyer, 7_000, status="PAID")

    await refund(db, quote)

    assert _by_account(await ledger_rows(db, quote_id=quote.id)) == {
        "buyer_payments": 7_000,
        "refunds": -7_000,
    }
    with pytest.raises(Conflict):
        await ledger.post_sale(db, quote.id)


async def test_refund_larger_than_the_payment_is_refused(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db)
    quote = await make_paid_quote(db, vendor, buyer, 7_000)
    await ledger.post_sale(db, quote.id)
    with pytest.raises(InvalidInput):
        await ledger.post_refund(db, quote.id, 7_001, "demasiado")
    assert await ledger_rows(db, quote_id=quote.id, account="refunds") == []


async def test_posting_for_an_unknown_quote_is_not_found(db: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await ledger.post_refund(db, uuid.uuid4(), 100, "x")
    with pytest.raises(NotFound):
        await ledger.post_sale(db, uuid.uuid4())

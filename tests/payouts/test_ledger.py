"""Ledger postings: balanced, append-only, idempotent; refunds reverse; before-sale refunds."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from marketred.services.errors import Conflict, InvalidInput, NotFound
from marketred.services.ledger import postings as ledger
from marketred.store.session import create_session_factory, transaction
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


async def test_many_partial_refunds_each_post_once_and_never_exceed_the_payment(
    db: AsyncSession,
) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    quote = await make_paid_quote(db, vendor, buyer, 10_005)
    await ledger.post_sale(db, quote.id)

    first = await ledger.post_refund(db, quote.id, 3_333, "una unidad", refund_id="r-1")
    retried = await ledger.post_refund(db, quote.id, 3_333, "una unidad", refund_id="r-1")
    second = await ledger.post_refund(db, quote.id, 4_000, "otra", refund_id="r-2")
    assert (first.inserted, retried.inserted, second.inserted) == (3, 0, 3)
    assert retried.txn_id == first.txn_id != second.txn_id
    assert (second.refunded_total, second.refundable) == (7_333, 2_672)

    with pytest.raises(Conflict):  # the same refund id cannot mean another amount
        await ledger.post_refund(db, quote.id, 3_000, "otra cifra", refund_id="r-1")
    with pytest.raises(InvalidInput) as refused:
        await ledger.post_refund(db, quote.id, 2_673, "un peso de más", refund_id="r-3")
    assert refused.value.errors == [("amount", "1..2672")]
    assert len(await ledger_rows(db, quote_id=quote.id, account="refunds")) == 2

    last = await ledger.post_refund(db, quote.id, 2_672, "el resto", refund_id="r-3")
    assert last.refundable == 0
    rows = await ledger_rows(db, quote_id=quote.id)
    balances: dict[str, int] = {}
    for r in rows:
        balances[r.account] = balances.get(r.account, 0) + r.amount
    # Refunded in three parts, the commission and the vendor's share come back exactly.
    assert balances == {
        "buyer_payments": 10_005,
        "refunds": -10_005,
        "platform_commission": 0,
        "vendor_payable": 0,
    }
    assert {r.key.split(":")[3] for r in rows if ":refund:" in r.key} == {"r-1", "r-2", "r-3"}


async def test_the_single_refund_call_of_the_first_design_keeps_its_keys(
    db: AsyncSession,
) -> None:
    """Workflows started before refunds had ids still call the activity without one: it
    posts (and on a retry finds) the old keys, and counts toward the same cap."""
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    quote = await make_paid_quote(db, vendor, buyer, 10_000)
    await ledger.post_sale(db, quote.id)

    old = await ledger.post_refund(db, quote.id, 6_000, "cancelación")
    assert old.inserted == 3
    keys = {r.key for r in await ledger_rows(db, quote_id=quote.id) if ":refund:" in r.key}
    assert keys == {
        f"quote:{quote.id}:refund:refunds",
        f"quote:{quote.id}:refund:platform_commission",
        f"quote:{quote.id}:refund:vendor_payable",
    }
    assert (await ledger.post_refund(db, quote.id, 6_000, "reintento")).inserted == 0
    with pytest.raises(InvalidInput):
        await ledger.post_refund(db, quote.id, 4_001, "más de lo pagado", refund_id="r-2")
    later = await ledger.post_refund(db, quote.id, 4_000, "el resto", refund_id="r-2")
    assert (later.refunded_total, later.refundable) == (10_000, 0)


async def test_a_refund_id_that_cannot_be_a_ledger_key_is_refused(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db)
    quote = await make_paid_quote(db, vendor, buyer, 5_000)
    with pytest.raises(InvalidInput):
        await ledger.post_refund(db, quote.id, 100, "x", refund_id="a:b")
    with pytest.raises(InvalidInput):
        await ledger.post_refund(db, quote.id, 100, "x", refund_id="x" * 65)


async def test_a_partial_refund_before_completion_leaves_the_rest_as_the_sale(
    db: AsyncSession,
) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    quote = await make_paid_quote(db, vendor, buyer, 12_000, status="SHIPPED")
    await ledger.post_refund(db, quote.id, 2_000, "faltó un producto", refund_id="r-1")
    await ledger.post_sale(db, quote.id)

    by_key = {r.key: r.amount for r in await ledger_rows(db, quote_id=quote.id)}
    assert by_key[f"quote:{quote.id}:sale:buyer_payments"] == 10_000
    assert by_key[f"quote:{quote.id}:sale:platform_commission"] == -1_000
    assert by_key[f"quote:{quote.id}:sale:vendor_payable"] == -9_000
    # Khipu got 12 000 and gave 2 000 back: the ledger says the same.
    payments = sum(a for k, a in by_key.items() if k.endswith(":buyer_payments"))
    assert payments == 12_000
    assert by_key[f"quote:{quote.id}:refund:r-1:refunds"] == -2_000


async def test_refunds_posted_at_once_cannot_together_exceed_the_payment(
    engine: AsyncEngine,
) -> None:
    """Two operators refund the same quote in the same second, each within what is left
    on its own: the postings of a quote are serialised, so the second sees the first."""
    sessions = create_session_factory(engine)
    async with transaction(sessions) as db:
        vendor, _, buyer = await make_seller(db)
        quote = await make_paid_quote(db, vendor, buyer, 10_000)
        await ledger.post_sale(db, quote.id)

    async def refund_in_own_transaction(refund_id: str) -> str:
        try:
            async with transaction(sessions) as db:
                await ledger.post_refund(db, quote.id, 6_000, "doble clic", refund_id=refund_id)
        except InvalidInput:
            return "refused"
        return "posted"

    outcomes = await asyncio.gather(*(refund_in_own_transaction(f"r-{i}") for i in range(4)))
    assert sorted(outcomes) == ["posted", "refused", "refused", "refused"]
    async with transaction(sessions) as db:
        refunded = await ledger_rows(db, quote_id=quote.id, account="refunds")
        assert [r.amount for r in refunded] == [-6_000]

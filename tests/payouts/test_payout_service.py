"""Gathering payouts from the ledger: one payout per run, sales net of refunds, clawbacks
on their own line, rejection releasing quotes, a quote never in two live payouts."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.payouts import quote_number
from marketred.services.ledger import postings as ledger
from marketred.services.payouts import steps as payouts
from marketred.store.models import Payout, PayoutItem
from tests.payouts.helpers import completed_sale, live_items, make_seller, refund
from tests.support.factories import make_payout_row

pytestmark = pytest.mark.db


def _run_id() -> str:
    return f"payout-test-{uuid.uuid4()}"


def _csv_rows(report: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(report), delimiter=";"))


async def test_three_sales_and_a_refund_make_one_payout_whose_csv_adds_up(
    db: AsyncSession,
) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    sales = [await completed_sale(db, vendor, buyer, total) for total in (12_990, 5_005, 30_000)]
    refunded = await completed_sale(db, vendor, buyer, 9_990)
    await refund(db, refunded)

    made = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert made is not None
    assert (made.items, made.status) == (3, "PENDING_APPROVAL")
    # 1_299 + 501 (500.5 rounds up) + 3_000
    assert (made.gross, made.commission, made.net) == (47_995, 4_800, 43_195)

    payout = await db.get(Payout, made.payout_id)
    assert payout is not None
    rows = _csv_rows(payout.report_csv)
    assert rows[0] == [
        "N° cotización",
        "Fecha",
        "Concepto",
        "Monto bruto",
        "Comisión",
        "Monto neto",
    ]
    body, total = rows[1:-1], rows[-1]
    assert sorted(r[0] for r in body) == sorted(quote_number(q.number) for q in sales)
    for r in body:
        assert int(r[3]) - int(r[4]) == int(r[5])
        assert r[2] == "Venta"
    assert total == ["Total", "", "", "47995", "4800", "43195"]
    assert payout.report_csv.endswith("\r\n")

    # A second run straight after finds nothing new.
    assert await payouts.create_vendor_payout(db, vendor.id, _run_id()) is None


async def test_the_same_run_retried_returns_its_payout_instead_of_a_second(
    db: AsyncSession,
) -> None:
    vendor, _, buyer = await make_seller(db)
    await completed_sale(db, vendor, buyer, 10_000)
    run = _run_id()
    first = await payouts.create_vendor_payout(db, vendor.id, run)
    again = await payouts.create_vendor_payout(db, vendor.id, run)
    assert first is not None
    assert again is not None
    assert again.payout_id == first.payout_id


async def test_refund_of_a_paid_out_quote_is_a_clawback_line_in_the_next_payout(
    db: AsyncSession,
) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    early = await completed_sale(db, vendor, buyer, 20_000)
    first = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert first is not None
    await payouts.approve(db, first.payout_id, None)
    await payouts.mark_paid(db, first.payout_id, "sandbox-1")

    await refund(db, early)
    # Clawback alone: the vendor would owe us; nothing is paid, the debt is carried.
    assert await payouts.create_vendor_payout(db, vendor.id, _run_id()) is None

    later = await completed_sale(db, vendor, buyer, 50_000)
    second = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert second is not None
    assert (second.gross, second.commission, second.net) == (30_000, 3_000, 27_000)
    payout = await db.get(Payout, second.payout_id)
    assert payout is not None
    lines = {r[0]: r for r in _csv_rows(payout.report_csv)[1:-1]}
    assert lines[quote_number(early.number)][2:] == [
        "Reverso por reembolso",
        "-20000",
        "-2000",
        "-18000",
    ]
    assert lines[quote_number(later.number)][2:] == ["Venta", "50000", "5000", "45000"]
    # Across both payouts the vendor got exactly the net of what it kept.
    assert first.net + second.net == 45_000


async def test_rejecting_releases_the_quotes_for_the_next_run(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db)
    quote = await completed_sale(db, vendor, buyer, 8_000)
    first = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert first is not None

    assert await payouts.reject(db, first.payout_id, "cuenta bancaria sin validar") == "REJECTED"
    assert await live_items(db, quote.id) == []

    second = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert second is not None
    assert second.payout_id != first.payout_id
    assert [i.payout_id for i in await live_items(db, quote.id)] == [second.payout_id]
    rejected = await db.get(Payout, first.payout_id)
    assert rejected is not None
    assert rejected.status == "REJECTED"
    assert rejected.reason == "cuenta bancaria sin validar"


async def test_a_quote_cannot_be_in_two_live_payouts(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db)
    quote = await completed_sale(db, vendor, buyer, 8_000)
    made = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert made is not None
    other = await make_payout_row(db, vendor, 8_000, _run_id())
    async with db.begin_nested():
        db.add(
            PayoutItem(
                payout_id=other.id,
                quote_id=quote.id,
                kind="sale",
                gross=8_000,
                commission=800,
                net=7_200,
            )
        )
        with pytest.raises(IntegrityError):
            await db.flush()


async def test_paying_posts_the_settlement_and_clears_the_payable(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db)
    await completed_sale(db, vendor, buyer, 11_111)
    made = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert made is not None
    await payouts.approve(db, made.payout_id, None)
    assert await payouts.mark_paid(db, made.payout_id, "ref") == "PAID"
    assert await payouts.mark_paid(db, made.payout_id, "ref") == "PAID"  # retried step

    rows = list(await ledger_rows_for_vendor(db, vendor.id))
    payable = sum(r.amount for r in rows if r.account == "vendor_payable")
    sent = [r.amount for r in rows if r.account == "vendor_payouts"]
    assert payable == 0
    assert sent == [-made.net]


async def ledger_rows_for_vendor(db: AsyncSession, vendor_id: uuid.UUID) -> list:  # type: ignore[type-arg]
    from tests.payouts.helpers import ledger_rows

    return await ledger_rows(db, vendor_id=vendor_id)


async def test_partial_refund_before_payout_pays_only_what_is_left(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    quote = await completed_sale(db, vendor, buyer, 10_000)
    await ledger.post_refund(db, quote.id, 4_000, "una unidad devuelta")
    made = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert made is not None
    assert (made.gross, made.commission, made.net) == (6_000, 600, 5_400)


async def test_a_sale_paid_net_of_a_partial_refund_is_not_clawed_back_again(
    db: AsyncSession,
) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    quote = await completed_sale(db, vendor, buyer, 10_000)
    await ledger.post_refund(db, quote.id, 4_000, "una unidad devuelta", refund_id="r-1")
    first = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert first is not None
    assert first.net == 5_400

    await completed_sale(db, vendor, buyer, 20_000)
    second = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert second is not None
    # Only the new sale: the refund was already taken off the first payout.
    assert (second.items, second.net) == (1, 18_000)


async def test_each_refund_after_the_payout_is_its_own_clawback_line(db: AsyncSession) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    sold = await completed_sale(db, vendor, buyer, 30_000)
    first = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert first is not None
    await payouts.approve(db, first.payout_id, None)
    await payouts.mark_paid(db, first.payout_id, "sandbox-1")

    await ledger.post_refund(db, sold.id, 5_000, "una unidad", refund_id="r-1")
    await ledger.post_refund(db, sold.id, 2_500, "otra unidad", refund_id="r-2")
    await completed_sale(db, vendor, buyer, 40_000)
    second = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert second is not None
    payout = await db.get(Payout, second.payout_id)
    assert payout is not None
    clawbacks = [r[2:] for r in _csv_rows(payout.report_csv)[1:-1] if r[2] != "Venta"]
    assert sorted(clawbacks) == [
        ["Reverso por reembolso", "-2500", "-250", "-2250"],
        ["Reverso por reembolso", "-5000", "-500", "-4500"],
    ]
    assert second.net == 36_000 - 4_500 - 2_250

    # A third refund of the same quote, later: one more line on the payout after.
    await ledger.post_refund(db, sold.id, 1_000, "la última", refund_id="r-3")
    await completed_sale(db, vendor, buyer, 5_000)
    third = await payouts.create_vendor_payout(db, vendor.id, _run_id())
    assert third is not None
    assert (third.items, third.net) == (2, 4_500 - 900)

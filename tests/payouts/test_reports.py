"""The sales report agrees with the ledger to the peso: each column is its account's own
sum, for every vendor and in total; vendors see only theirs; the CSV carries the same
figures."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.services.errors import Forbidden
from marketred.services.ledger import postings as ledger
from marketred.services.ledger import reports
from marketred.services.payouts import steps as payouts
from marketred.store.models import LedgerEntry, User, Vendor
from tests.payouts.helpers import completed_sale, make_paid_quote, make_seller, refund

pytestmark = pytest.mark.db
TODAY = datetime.now(UTC).date()
RANGE = (TODAY - timedelta(days=40), TODAY + timedelta(days=1))


def _operator() -> Principal:
    return Principal(user_id=uuid.uuid4(), role="operator", email="op@marketred.cl")


def _staff(vendor: Vendor, staff: User) -> Principal:
    return Principal(user_id=staff.id, role="vendor", vendor_id=vendor.id, email=staff.email)


async def _account_sum(db: AsyncSession, vendor: Vendor, account: str, like: str = "%") -> int:
    total = await db.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.vendor_id == vendor.id,
            LedgerEntry.account == account,
            LedgerEntry.key.like(like),
        )
    )
    return int(total or 0)


async def _books(db: AsyncSession) -> dict[str, tuple[Vendor, User]]:
    """Two vendors' month: sales, a refund after a sale, a refund before one, a payout."""
    cafe, cafe_staff, buyer = await make_seller(db, commission_bps=1250)
    lana, lana_staff, _ = await make_seller(db, commission_bps=1000)
    await completed_sale(db, cafe, buyer, 12_990)  # commission 1.624 (half-up)
    await completed_sale(db, cafe, buyer, 25_005)  # commission 3.126
    refunded = await completed_sale(db, cafe, buyer, 9_990)
    await refund(db, refunded, 4_000)  # after the sale: commission 500 reversed
    await completed_sale(db, lana, buyer, 34_990)
    paid = await make_paid_quote(db, lana, buyer, 7_000, status="PAID")
    await refund(db, paid, 7_000)  # before any sale: cash in and out, no commission
    payout = await payouts.create_vendor_payout(db, lana.id, f"payout-run-{uuid.uuid4()}")
    assert payout is not None
    assert payout.net == 34_990 - 3_499
    await ledger.post_payout(db, payout.payout_id, lana.id, payout.net)
    return {"cafe": (cafe, cafe_staff), "lana": (lana, lana_staff)}


async def test_each_column_is_its_ledger_account_to_the_peso(db: AsyncSession) -> None:
    books = await _books(db)
    report = await reports.ledger_report(db, _operator(), *RANGE)
    by_vendor = {r.vendor_slug: r for r in report.rows}
    for vendor, _staff_user in books.values():
        row = by_vendor[vendor.slug]
        assert row.sales == await _account_sum(db, vendor, "buyer_payments", "quote:%:sale:%")
        assert row.commission == -await _account_sum(db, vendor, "platform_commission")
        assert row.refunds == -await _account_sum(db, vendor, "refunds")
        assert row.payouts == -await _account_sum(db, vendor, "vendor_payouts")
    cafe, lana = by_vendor[books["cafe"][0].slug], by_vendor[books["lana"][0].slug]
    # The same figures worked out by hand.
    assert (cafe.sales, cafe.commission, cafe.refunds, cafe.payouts) == (
        12_990 + 25_005 + 9_990,
        1_624 + 3_126 + 1_249 - 500,
        4_000,
        0,
    )
    assert (lana.sales, lana.commission, lana.refunds, lana.payouts) == (
        34_990,
        3_499,
        7_000,
        31_491,
    )
    for column in reports.COLUMNS:
        assert report.totals[column] >= getattr(cafe, column) + getattr(lana, column)


async def test_vendors_see_only_their_own_and_the_csv_has_the_same_figures(
    db: AsyncSession,
) -> None:
    books = await _books(db)
    cafe, cafe_staff = books["cafe"]
    mine = await reports.ledger_report(db, _staff(cafe, cafe_staff), *RANGE, vendor_slug="x")
    assert {r.vendor_slug for r in mine.rows} == {cafe.slug}
    assert mine.totals["sales"] == 47_985
    csv = reports.report_csv(mine).splitlines()
    assert csv[0] == "mes;tienda;ventas;comision;reembolsos;pagos_a_tiendas"
    month = TODAY.strftime("%Y-%m")
    assert f"{month};{cafe.slug};47985;5499;4000;0" in csv
    assert csv[-1] == "total;;47985;5499;4000;0"
    buyer = Principal(user_id=uuid.uuid4(), role="buyer")
    with pytest.raises(Forbidden):
        await reports.ledger_report(db, buyer, *RANGE)


async def test_a_month_outside_the_range_is_left_out(db: AsyncSession) -> None:
    await _books(db)
    before = date(2001, 1, 1), date(2001, 12, 31)
    assert (await reports.ledger_report(db, _operator(), *before)).rows == []

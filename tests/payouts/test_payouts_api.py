"""Payout API reads (ownership, CSV download) and the operators' reconciliation report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.payouts import quote_number
from marketred.services.payouts import steps as payouts
from marketred.settings import Settings
from marketred.store.models import Payment
from tests.payouts.helpers import completed_sale, make_paid_quote, make_seller, refund
from tests.support.factories import auth_headers, make_user

pytestmark = pytest.mark.db


async def _payout_for(db: AsyncSession, totals: list[int]):  # type: ignore[no-untyped-def]
    vendor, staff, buyer = await make_seller(db)
    quotes = [await completed_sale(db, vendor, buyer, t) for t in totals]
    made = await payouts.create_vendor_payout(db, vendor.id, f"payout-api-{uuid.uuid4()}")
    assert made is not None
    return vendor, staff, quotes, made


async def test_vendor_sees_only_its_own_payouts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    vendor, staff, quotes, made = await _payout_for(db, [10_000, 20_000])
    _, other_staff, _, other = await _payout_for(db, [5_000])
    buyer = await make_user(db, "buyer")
    operator = await make_user(db, "operator")

    mine = await client.get("/api/v1/payouts", headers=auth_headers(settings, staff))
    assert mine.status_code == 200
    assert [p["id"] for p in mine.json()["items"]] == [str(made.payout_id)]
    assert mine.json()["total"] == 1
    item = mine.json()["items"][0]
    assert (item["vendor"], item["status"]) == (vendor.slug, "PENDING_APPROVAL")
    assert (item["gross"], item["commission"], item["net"]) == (30_000, 3_000, 27_000)

    detail = await client.get(
        f"/api/v1/payouts/{made.payout_id}", headers=auth_headers(settings, staff)
    )
    assert detail.status_code == 200
    assert sorted(i["quote_number"] for i in detail.json()["items"]) == sorted(
        quote_number(q.number) for q in quotes
    )
    hidden = await client.get(
        f"/api/v1/payouts/{other.payout_id}", headers=auth_headers(settings, staff)
    )
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")
    hidden_csv = await client.get(
        f"/api/v1/payouts/{other.payout_id}/report.csv", headers=auth_headers(settings, staff)
    )
    assert hidden_csv.status_code == 404
    assert (
        await client.get("/api/v1/payouts", headers=auth_headers(settings, buyer))
    ).status_code == 403
    assert (await client.get("/api/v1/payouts")).status_code == 401

    by_vendor = await client.get(
        "/api/v1/payouts", params={"vendor": vendor.slug}, headers=auth_headers(settings, operator)
    )
    assert [p["id"] for p in by_vendor.json()["items"]] == [str(made.payout_id)]
    del other_staff


async def test_report_csv_downloads_for_excel_in_spanish(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, staff, quotes, made = await _payout_for(db, [12_990, 1_005])

    r = await client.get(
        f"/api/v1/payouts/{made.payout_id}/report.csv", headers=auth_headers(settings, staff)
    )

    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="pago-')
    assert r.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 ("Comisión")
    lines = r.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "N° cotización;Fecha;Concepto;Monto bruto;Comisión;Monto neto"
    today = datetime.now(UTC).astimezone(ZoneInfo("America/Santiago")).strftime("%d-%m-%Y")
    assert sorted(lines[1:3]) == sorted(
        [
            f"{quote_number(quotes[0].number)};{today};Venta;12990;1299;11691",
            f"{quote_number(quotes[1].number)};{today};Venta;1005;101;904",
        ]
    )
    assert lines[3] == "Total;;;13995;1400;12595"
    assert lines[4] == ""


async def test_reconciliation_lists_each_difference(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    operator = await make_user(db, "operator")
    vendor, staff, buyer = await make_seller(db)
    matched = await completed_sale(db, vendor, buyer, 10_000)
    unposted = await make_paid_quote(db, vendor, buyer, 4_000)  # COMPLETED, never posted
    in_flight = await make_paid_quote(db, vendor, buyer, 3_000, status="SHIPPED")
    refunded = await completed_sale(db, vendor, buyer, 2_000)
    await refund(db, refunded)
    silent_refund = await completed_sale(db, vendor, buyer, 1_000)
    payment = await db.get(Payment, (await _payment_id(db, silent_refund.id)))
    assert payment is not None
    payment.refunded_amount = 1_000  # Khipu refunded it, the ledger never heard
    await db.flush()
    made = await payouts.create_vendor_payout(db, vendor.id, f"payout-rec-{uuid.uuid4()}")
    assert made is not None
    await payouts.approve(db, made.payout_id, operator.id)
    await payouts.mark_paid(db, made.payout_id, "sandbox")
    del matched, in_flight

    today = datetime.now(UTC).astimezone(ZoneInfo("America/Santiago")).date().isoformat()
    r = await client.get(
        "/api/v1/reconciliation",
        params={"from": today, "to": today},
        headers=auth_headers(settings, operator),
    )

    assert r.status_code == 200, r.text
    report = r.json()
    mine = {
        (d["kind"], d["quote_number"]): (d["expected"], d["actual"])
        for d in report["differences"]
        if d["quote_number"]
        in {quote_number(q.number) for q in (unposted, refunded, silent_refund)}
    }
    assert mine == {
        ("payment_not_in_ledger", quote_number(unposted.number)): (4_000, 0),
        ("refund_not_in_ledger", quote_number(silent_refund.number)): (1_000, 0),
    }
    assert report["in_flight"] >= 1
    assert report["in_flight_amount"] >= 3_000
    assert not [d for d in report["differences"] if d["payout_id"] == str(made.payout_id)]
    staff_view = await client.get(
        "/api/v1/reconciliation",
        params={"from": today, "to": today},
        headers=auth_headers(settings, staff),
    )
    assert staff_view.status_code == 403


async def _payment_id(db: AsyncSession, quote_id: uuid.UUID) -> uuid.UUID:
    found = await db.scalar(select(Payment.id).where(Payment.quote_id == quote_id))
    assert found is not None
    return found

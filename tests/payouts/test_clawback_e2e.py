"""The refund saga's ledger half, end to end through the product's own paths: a quote's
sale is posted by the ledger activity the quote workflow runs on COMPLETED; the operator
runs payouts and approves over the API; the sandbox provider pays (PAID, statement
mailed); a partial refund is posted by the activity the quote workflow's refund calls;
the next payout run takes it back as a clawback line; the vendor's statement mail, the
payout's CSV report, the API detail and the statement page all show it."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from marketred.activities.ledger import LedgerActivities
from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.ledger import PostRefundInput, PostSaleInput
from marketred.schemas.payouts import quote_number
from marketred.store.models import LedgerEntry
from marketred.store.session import transaction
from tests.payouts.helpers import make_paid_quote, make_seller
from tests.support.factories import auth_headers, make_user
from tests.support.pages import sign_in
from tests.support.payouts import PayoutStack, run_and_pay

pytestmark = pytest.mark.db


async def test_a_partial_refund_after_the_payout_is_clawed_back_on_the_next_statement(
    payout_api: tuple[httpx.AsyncClient, PayoutStack],
) -> None:
    http, stack = payout_api
    ledger = LedgerActivities(stack.sessions)
    activities = ActivityEnvironment()
    async with transaction(stack.sessions) as db:
        vendor, staff, buyer = await make_seller(db, commission_bps=1000)
        sold = await make_paid_quote(db, vendor, buyer, 50_000)
        operator = await make_user(db, "operator")
    as_operator = auth_headers(stack.settings, operator)

    # COMPLETED: the quote workflow posts the sale.
    await activities.run(ledger.post_sale_to_ledger, PostSaleInput(quote_id=sold.id))
    first = await run_and_pay(http, stack, as_operator, str(vendor.id))
    assert (first["gross"], first["commission"], first["net"]) == (50_000, 5_000, 45_000)

    # After the payout, two units come back: the refund is posted (retried once, as
    # activities are) with its own refund id.
    refund = PostRefundInput(
        quote_id=sold.id, amount=12_000, reason="dos unidades devueltas", refund_id="ret-1"
    )
    posted = await activities.run(ledger.post_refund_to_ledger, refund)
    retried = await activities.run(ledger.post_refund_to_ledger, refund)
    assert (posted.posted, retried.posted) == (True, False)
    assert (posted.refunded_total, posted.refundable, posted.before_sale) == (12_000, 38_000, False)

    # Nothing else owed yet: the clawback waits for a sale to net against.
    run = await http.post("/api/v1/payouts/run", headers=as_operator)
    assert [p for p in run.json()["payouts"] if p["vendor_id"] == str(vendor.id)] == []
    async with transaction(stack.sessions) as db:
        later = await make_paid_quote(db, vendor, buyer, 30_000)
    await activities.run(ledger.post_sale_to_ledger, PostSaleInput(quote_id=later.id))
    second = await run_and_pay(http, stack, as_operator, str(vendor.id))
    # 30 000 sale (net 27 000) less the refund's vendor share (12 000 - 1 200).
    assert (second["gross"], second["commission"], second["net"]) == (18_000, 1_800, 16_200)
    lines = {(i["quote_number"], i["kind"]): i for i in second["items"]}  # type: ignore[attr-defined]
    clawback = lines[(quote_number(sold.number), "clawback")]
    assert (clawback["gross"], clawback["commission"], clawback["net"]) == (
        -12_000,
        -1_200,
        -10_800,
    )

    # The vendor is told: the statement mail lists the take-back line ...
    key = f"payout-{second['id']}:statement"
    [mail] = [m for m in list_caught(stack.mail_folder) if m.key == key]
    assert mail.to == vendor.email
    assert "Reverso por reembolso" in mail.text
    assert "$16.200" in mail.text
    # ... and so do the CSV report and the statement page.
    as_staff = auth_headers(stack.settings, staff)
    report = await http.get(f"/api/v1/payouts/{second['id']}/report.csv", headers=as_staff)
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    body = {(r[0], r[2]): r[3:] for r in rows[1:-1]}
    assert body[(quote_number(sold.number), "Reverso por reembolso")] == [
        "-12000",
        "-1200",
        "-10800",
    ]
    assert body[(quote_number(later.number), "Venta")] == ["30000", "3000", "27000"]
    assert rows[-1] == ["Total", "", "", "18000", "1800", "16200"]
    async with transaction(stack.sessions) as db:
        await sign_in(http, db, stack.settings, staff)
    page = await http.get(f"/vendedor/pagos/{second['id']}")
    assert "Reverso por reembolso" in page.text

    # What the vendor got across both payouts is exactly its share of what was kept.
    async with transaction(stack.sessions) as db:
        payable = await db.scalars(
            select(LedgerEntry.amount).where(
                LedgerEntry.vendor_id == vendor.id, LedgerEntry.account == "vendor_payable"
            )
        )
        assert sum(payable) == 0
    assert first["net"] + second["net"] == (50_000 - 12_000 + 30_000) * 9 // 10  # type: ignore[operator]

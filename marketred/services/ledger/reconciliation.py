"""Operator reconciliation: Khipu payments received vs. ledger payment rows vs. payouts.

For a range of Santiago calendar days [date_from, date_to]:
- every quote whose Khipu payment was confirmed in the range (payments.paid_at), or whose
  ledger payment row was posted in the range, is compared one to one: money received,
  money refunded, against the ledger's `buyer_payments` / `refunds` rows of that quote.
  A paid quote not yet COMPLETED/REFUNDED has no ledger rows by design: it is reported as
  in flight, not as a difference;
- every payout PAID in the range is compared with its `vendor_payouts` ledger rows, and
  ledger payout rows posted in the range must belong to a PAID payout.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.payouts import (
    ReconciliationDifference,
    ReconciliationReport,
    quote_number,
)
from marketred.services.errors import InvalidInput
from marketred.store.models import Payment, Quote
from marketred.store.repositories import ledger as ledger_repo
from marketred.store.repositories import payments as payments_repo
from marketred.store.repositories import payouts as payouts_repo

SANTIAGO = ZoneInfo("America/Santiago")
SETTLED = ("COMPLETED", "REFUNDED")


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    if date_to < date_from:
        raise InvalidInput("the range ends before it starts", errors=[("to", "before from")])
    start = datetime.combine(date_from, time(), SANTIAGO).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), SANTIAGO).astimezone(UTC)
    return start, end


async def reconcile(session: AsyncSession, date_from: date, date_to: date) -> ReconciliationReport:
    start, end = _bounds(date_from, date_to)
    paid = await payments_repo.paid_between(session, start, end)
    by_quote: dict[uuid.UUID, tuple[Payment | None, Quote]] = {q.id: (p, q) for p, q in paid}
    posted = await ledger_repo.quotes_paid_in_ledger_between(session, start, end)
    for q, p in posted:
        by_quote.setdefault(q.id, (p if p is not None and p.paid_at else None, q))
    sums = await ledger_repo.sum_by_account(session, quote_ids=list(by_quote))

    diffs: list[ReconciliationDifference] = []
    totals = {"khipu_in": 0, "khipu_out": 0, "ledger_in": 0, "ledger_out": 0}
    in_flight = in_flight_amount = 0
    for quote_id, (payment, quote) in sorted(by_quote.items(), key=lambda kv: kv[1][1].number):
        number = quote_number(quote.number)
        khipu_in = payment.amount if payment else 0
        khipu_out = payment.refunded_amount if payment else 0
        ledger_in = sums.get((quote_id, "buyer_payments"), 0)
        ledger_out = -sums.get((quote_id, "refunds"), 0)
        totals["khipu_in"] += khipu_in
        totals["khipu_out"] += khipu_out
        totals["ledger_in"] += ledger_in
        totals["ledger_out"] += ledger_out

        def diff(kind: str, expected: int, actual: int, detail: str) -> None:
            diffs.append(
                ReconciliationDifference(
                    kind=kind,
                    quote_id=quote_id,  # noqa: B023  # used at once, inside this iteration
                    quote_number=number,  # noqa: B023
                    expected=expected,
                    actual=actual,
                    detail=detail,
                )
            )

        if payment is None:
            diff(
                "ledger_payment_without_khipu",
                0,
                ledger_in,
                "ledger has a payment Khipu never confirmed",
            )
        elif ledger_in == 0 and quote.status not in SETTLED:
            in_flight += 1
            in_flight_amount += khipu_in
            continue
        elif ledger_in == 0:
            diff(
                "payment_not_in_ledger",
                khipu_in,
                0,
                f"quote is {quote.status} but its payment is not posted",
            )
        elif ledger_in != khipu_in:
            diff(
                "payment_amount_differs",
                khipu_in,
                ledger_in,
                "Khipu amount and ledger payment differ",
            )
        if khipu_out != ledger_out:
            kind = "refund_not_in_ledger" if ledger_out == 0 else "refund_amount_differs"
            diff(kind, khipu_out, ledger_out, "refunded amount in Khipu and in the ledger differ")

    payouts_paid = await payouts_repo.paid_between(session, start, end)
    payout_rows = await ledger_repo.payout_postings(
        session, start, end, [p.id for p in payouts_paid]
    )
    ledger_by_payout: dict[uuid.UUID, int] = {}
    for payout_id, amount in payout_rows:
        if payout_id is not None:
            ledger_by_payout[payout_id] = ledger_by_payout.get(payout_id, 0) - amount
    paid_ids = {p.id for p in payouts_paid}
    for payout in payouts_paid:
        posted_net = ledger_by_payout.get(payout.id, 0)
        if posted_net != payout.net:
            diffs.append(
                ReconciliationDifference(
                    kind="payout_not_in_ledger" if posted_net == 0 else "payout_amount_differs",
                    payout_id=payout.id,
                    expected=payout.net,
                    actual=posted_net,
                    detail="paid payout and its ledger rows differ",
                )
            )
    for payout_id, posted_net in ledger_by_payout.items():
        if payout_id not in paid_ids:
            other = await payouts_repo.get(session, payout_id)
            if other is None or other.status != "PAID":
                state = other.status if other else "missing"
                diffs.append(
                    ReconciliationDifference(
                        kind="ledger_payout_without_paid_payout",
                        payout_id=payout_id,
                        expected=0,
                        actual=posted_net,
                        detail=f"ledger payout rows for a payout that is {state}",
                    )
                )
    return ReconciliationReport(
        date_from=date_from,
        date_to=date_to,
        khipu_received=totals["khipu_in"],
        khipu_refunded=totals["khipu_out"],
        ledger_payments=totals["ledger_in"],
        ledger_refunds=totals["ledger_out"],
        payouts_paid=sum(p.net for p in payouts_paid),
        ledger_payouts=sum(ledger_by_payout.get(p, 0) for p in paid_ids),
        in_flight=in_flight,
        in_flight_amount=in_flight_amount,
        differences=diffs,
    )

"""Partial refunds of a quote's Khipu payment (returns, an operator's refund), once each.

Khipu's refund call takes an amount but no idempotency key, and a partial refund does not
show on the payment read back, so a refund whose answer was lost cannot be checked: our
own row brackets the call (docs/architecture.md, "Money calls whose outcome may be
unknown"). The row is committed as `sending` before Khipu is called and set to `done`
after (both commits by the caller, activities/payments.py); an attempt that finds
`sending` left behind raises `RefundUncertain` (non-retryable: the workflow holds the
refund for an operator, who checks Khipu's panel and records it). Only errors that
certainly sent nothing (Khipu refused with 400) mark it `refused`, and a refused refund
may be asked again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.khipu import KhipuClient, KhipuValidationError
from marketred.schemas.payments import RefundInput, RefundResult
from marketred.services.payments.quote_payment import (
    ERROR_MAX,
    UNCERTAIN,
    PaymentFailure,
    PaymentNotRecorded,
    PaymentRefused,
)
from marketred.store.models import Payment, PaymentRefund
from marketred.store.repositories import payments as repo


class RefundUncertain(PaymentFailure):
    """An earlier attempt of this refund may have reached Khipu: a person must look."""

    kind = "RefundUncertain"


@dataclass
class Sending:
    """A partial refund marked `sending`, for the caller to commit before Khipu is called."""

    payment: Payment
    row: PaymentRefund


async def mark_sending(session: AsyncSession, inp: RefundInput) -> Sending | RefundResult:
    """Step 1: the refund's row in state `sending` (the caller commits it before step 2),
    or the result when it was done already; RefundUncertain when an earlier attempt may
    have reached Khipu."""
    assert inp.refund_id is not None
    payment = await repo.payment_for_quote(session, inp.quote_id, for_update=True)
    if payment is None or payment.khipu_payment_id != inp.khipu_payment_id:
        raise PaymentNotRecorded(
            f"quote {inp.quote_id} has no recorded Khipu payment {inp.khipu_payment_id}"
        )
    row = await repo.lock_refund(session, inp.refund_id)
    if row is not None and row.state == "done":
        return RefundResult(refunded_amount=row.amount, already_refunded=True)
    if row is not None and row.state == "sending":
        raise RefundUncertain(
            "an earlier attempt of this refund may have reached Khipu; check Khipu's"
            " panel and record it if it was made"
        )
    if row is None:
        row = PaymentRefund(
            payment_id=payment.id,
            quote_id=inp.quote_id,
            refund_id=inp.refund_id,
            amount=inp.amount,
            state="sending",
        )
        session.add(row)
    row.state = "sending"
    return Sending(payment, row)


async def send(khipu: KhipuClient, sending: Sending, inp: RefundInput) -> RefundResult:
    """Step 2: ask Khipu for the refund and note its answer on the rows (`done`, or
    `refused` when this raises PaymentRefused; left `sending` when Khipu gave no answer),
    for the caller to commit either way."""
    row, payment = sending.row, sending.payment
    try:
        await khipu.refund_payment(inp.khipu_payment_id, inp.amount)
    except KhipuValidationError as exc:
        row.state, row.last_error = "refused", str(exc)[:ERROR_MAX]
        raise PaymentRefused(f"Khipu refused the refund: {exc}") from exc
    except UNCERTAIN as exc:
        # Left `sending`: the next attempt holds it instead of refunding twice.
        raise RefundUncertain(f"Khipu gave no answer to the refund: {exc}") from exc
    row.state, row.last_error = "done", None
    payment.refunded_amount = min(payment.amount, payment.refunded_amount + inp.amount)
    return RefundResult(refunded_amount=inp.amount)

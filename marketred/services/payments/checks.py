"""The verdict on a Khipu payment read back with GET /v3/payments/{id} (pure rules).

A payment counts as paid only when Khipu says `done` with a paying `status_detail`
(normal, marked-paid-by-receiver) *and* it is ours: same payment id, our receiver id,
our transaction id (the workflow id), the quote's currency and amount. Anything else that
is done is held for an operator with the reason (reference §3, all official plugins
compare these fields).
"""

from __future__ import annotations

from dataclasses import dataclass

from marketred.integrations.khipu import Payment as KhipuPayment
from marketred.integrations.khipu import PaymentStatus, PaymentStatusDetail
from marketred.schemas.money import format_clp
from marketred.schemas.payments import PaymentCheck

# How the payments row's `status` follows each verdict.
ROW_STATUS = {
    "paid": "paid",
    "mismatch": "held",
    "rejected": "rejected",
    "refunded": "refunded",
    "gone": "deleted",
}


@dataclass(frozen=True)
class Expected:
    khipu_payment_id: str
    receiver_id: int
    transaction_id: str
    amount: int
    currency: str


def mismatches(payment: KhipuPayment, expected: Expected) -> list[str]:
    """Human reasons why this payment is not the one we asked for (empty when it is)."""
    reasons: list[str] = []
    if payment.payment_id != expected.khipu_payment_id:
        reasons.append(
            f"Khipu answered payment {payment.payment_id!r}, not {expected.khipu_payment_id!r}"
        )
    if payment.receiver_id != expected.receiver_id:
        reasons.append(f"receiver id is {payment.receiver_id}, expected {expected.receiver_id}")
    if payment.transaction_id != expected.transaction_id:
        reasons.append(
            f"transaction id is {payment.transaction_id!r}, expected {expected.transaction_id!r}"
        )
    if payment.currency != expected.currency:
        reasons.append(f"currency is {payment.currency!r}, expected {expected.currency!r}")
    amount = payment.amount_clp()
    if amount != expected.amount:
        shown = format_clp(amount) if amount is not None else repr(payment.amount)
        reasons.append(f"amount is {shown}, expected {format_clp(expected.amount)}")
    return reasons


def judge(payment: KhipuPayment, expected: Expected) -> PaymentCheck:
    base = {"status": payment.status, "status_detail": payment.status_detail}
    if payment.is_reversed:
        return PaymentCheck(verdict="refunded", reason="Khipu reports the payment reversed", **base)
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.VERIFYING):
        return PaymentCheck(verdict="pending", **base)
    if payment.status != PaymentStatus.DONE:
        # e.g. "deleted" (seen by some integrators, not in the spec): no payment to wait for.
        return PaymentCheck(
            verdict="gone", reason=f"Khipu reports status {payment.status!r}", **base
        )
    if payment.is_declined:
        detail = payment.status_detail
        reason = (
            "the payer marked the payment as abuse"
            if detail == PaymentStatusDetail.MARKED_AS_ABUSE
            else "the payer declined to pay"
        )
        return PaymentCheck(verdict="rejected", reason=reason, **base)
    if not payment.is_paid:
        reason = f"payment is done with an unexpected status_detail {payment.status_detail!r}"
        return PaymentCheck(verdict="mismatch", reason=reason, **base)
    reasons = mismatches(payment, expected)
    if reasons:
        return PaymentCheck(verdict="mismatch", reason="; ".join(reasons), **base)
    return PaymentCheck(verdict="paid", conciliation_date=payment.conciliation_date, **base)

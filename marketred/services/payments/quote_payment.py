"""The one Khipu payment of a quote: create once, read back, delete, refund once.

Creating follows record-before-create: the `payments` row (status `creating`, unique per
quote) is committed *before* Khipu is called, and the Khipu id and URL are stored in the
same row once Khipu answers. The row is locked (SELECT … FOR UPDATE) while Khipu is
called, so two concurrent attempts for one quote never both create.

Khipu v3 has no idempotency key and no search (reference §4, §7): a create that timed
out, got a 5xx, or whose answer was lost because the worker died before our commit may
still have created a payment that we can never find. The next attempt (activity retry)
creates again only when the row holds no Khipu id. The orphan is harmless: its URL was
never stored, returned to the workflow or shown to anyone, Khipu sends it to nobody
(`send_email` is not set), and it expires at `expires_date` (the end of the payment
window). Should its notification ever arrive, the webhook records it as
`orphan_payment` for operators and touches no quote.

Every function works inside the caller's transaction. The commits between the steps
(the row before Khipu is called; Khipu's answer, also when the call failed) belong to
the caller, the payment activities (activities/payments.py, docs/architecture.md).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.khipu import (
    KhipuClient,
    KhipuError,
    KhipuNotFound,
    KhipuServerError,
    KhipuTimeout,
    KhipuUnavailable,
    KhipuValidationError,
    quote_payment_request,
)
from marketred.schemas.payments import (
    CheckPaymentInput,
    CreatePaymentInput,
    PaymentCheck,
    PaymentLink,
    RefundInput,
    RefundResult,
)
from marketred.services.payments.checks import ROW_STATUS, Expected, judge
from marketred.store.models import Payment
from marketred.store.repositories import payments as repo

ERROR_MAX = 2000
# Khipu answered without a definite outcome: the operation may or may not have happened.
UNCERTAIN = (KhipuTimeout, KhipuServerError, KhipuUnavailable)


class PaymentFailure(Exception):
    """A business failure no retry can fix (the activity reports it non-retryable)."""

    kind = "PaymentFailure"


class PaymentNotRecorded(PaymentFailure):
    kind = "PaymentNotRecorded"


class PaymentRefused(PaymentFailure):
    """Khipu refused the request (400) for reasons of its own; an operator must look."""

    kind = "PaymentRefused"


def _link(payment: Payment) -> PaymentLink | None:
    if payment.khipu_payment_id and payment.payment_url:
        return PaymentLink(
            khipu_payment_id=payment.khipu_payment_id, payment_url=payment.payment_url
        )
    return None


async def record_payment(session: AsyncSession, inp: CreatePaymentInput) -> None:
    """Step 1 of creating: the `creating` row, once per quote. The caller commits it
    before step 2 calls Khipu (record-before-create)."""
    await repo.insert_payment_once(
        session,
        quote_id=inp.quote_id,
        transaction_id=inp.workflow_id,
        amount=inp.amount,
        currency=inp.currency,
        expires_at=inp.expires_at,
    )


async def create_at_khipu(
    session: AsyncSession, khipu: KhipuClient, *, public_url: str, inp: CreatePaymentInput
) -> PaymentLink:
    """Step 2: with the row locked, the link it holds, else ask Khipu for the payment.
    Khipu's answer — the link, or the error when this raises — is left on the row for
    the caller to commit either way."""
    payment = await repo.payment_for_quote(session, inp.quote_id, for_update=True)
    if payment is None:  # pragma: no cover - recorded by step 1
        raise PaymentNotRecorded(f"no payment row for quote {inp.quote_id}")
    link = _link(payment)
    if link is not None:
        return link
    if payment.amount != inp.amount or payment.currency != inp.currency:
        raise PaymentRefused(
            f"quote {inp.quote_id} already has a payment of {payment.amount} "
            f"{payment.currency}, not {inp.amount} {inp.currency}"
        )
    request = quote_payment_request(
        public_url=public_url,
        workflow_id=inp.workflow_id,
        quote_id=inp.quote_id,
        quote_number=inp.quote_number,
        vendor_name=inp.vendor_name,
        total_clp=inp.amount,
        expires_at=inp.expires_at,
        payer_email=inp.payer_email,
    )
    try:
        created = await khipu.create_payment(request)
    except KhipuError as exc:
        # The row stays `creating` without a Khipu id: the next attempt creates again.
        payment.last_error = str(exc)[:ERROR_MAX]
        if isinstance(exc, KhipuValidationError):
            raise PaymentRefused(f"Khipu refused the payment: {exc}") from exc
        raise
    payment.khipu_payment_id = created.payment_id
    payment.payment_url = created.payment_url
    payment.status = "pending"
    payment.last_error = None
    return PaymentLink(khipu_payment_id=created.payment_id, payment_url=created.payment_url)


async def check_payment(
    session: AsyncSession, khipu: KhipuClient, *, receiver_id: int, inp: CheckPaymentInput
) -> PaymentCheck:
    """Read the payment back from Khipu, judge it and mirror the verdict on our row."""
    try:
        found = await khipu.get_payment(inp.khipu_payment_id)
    except KhipuNotFound:
        check = PaymentCheck(verdict="gone", reason="Khipu no longer knows this payment")
    else:
        check = judge(
            found,
            Expected(
                khipu_payment_id=inp.khipu_payment_id,
                receiver_id=receiver_id,
                transaction_id=inp.workflow_id,
                amount=inp.amount,
                currency=inp.currency,
            ),
        )
    row = await repo.payment_by_khipu_id(session, inp.khipu_payment_id)
    if row is not None and row.refunded_at is None:
        row.status = ROW_STATUS.get(check.verdict) or (check.status or row.status)
        row.status_detail = check.status_detail
        if check.verdict == "paid" and row.paid_at is None:
            row.paid_at = check.conciliation_date or datetime.now(UTC)
        row.last_error = check.reason if check.verdict in ("mismatch", "rejected") else None
    return check


async def delete_payment(session: AsyncSession, khipu: KhipuClient, inp: CheckPaymentInput) -> None:
    """Delete a still-pending payment; gone or no longer pending is fine (the workflow
    reads the payment back after deleting, so a last-moment payment is still seen)."""
    try:
        await khipu.delete_payment(inp.khipu_payment_id)
    except KhipuNotFound:
        pass
    except KhipuValidationError:
        return
    row = await repo.payment_by_khipu_id(session, inp.khipu_payment_id)
    if row is not None and row.status in ("creating", "pending", "verifying"):
        row.status = "deleted"


async def refund_payment(
    session: AsyncSession, khipu: KhipuClient, inp: RefundInput
) -> RefundResult:
    """Full refund through Khipu, recorded once on the payments row (locked meanwhile).

    A refund moves money, so it is never blindly repeated: when Khipu refuses (400) or
    gives no definite answer, the payment is read back, and `reversed` means an earlier
    attempt went through. The outcome — or the error when this raises — is left on the
    row for the caller to commit either way.
    """
    row = await repo.payment_for_quote(session, inp.quote_id, for_update=True)
    if row is None or row.khipu_payment_id != inp.khipu_payment_id:
        raise PaymentNotRecorded(
            f"quote {inp.quote_id} has no recorded Khipu payment {inp.khipu_payment_id}"
        )
    if row.refunded_at is not None:
        return RefundResult(refunded_amount=row.refunded_amount, already_refunded=True)
    already = False
    try:
        await khipu.refund_payment(inp.khipu_payment_id)
    except KhipuValidationError as exc:
        if not await _is_reversed(khipu, inp.khipu_payment_id):
            row.last_error = str(exc)[:ERROR_MAX]
            raise PaymentRefused(f"Khipu refused the refund: {exc}") from exc
        already = True
    except UNCERTAIN as exc:
        if not await _is_reversed(khipu, inp.khipu_payment_id):
            row.last_error = str(exc)[:ERROR_MAX]
            raise
    row.refunded_amount = row.amount
    row.refunded_at = datetime.now(UTC)
    row.status = "refunded"
    row.status_detail = "reversed"
    row.last_error = None
    return RefundResult(refunded_amount=row.amount, already_refunded=already)


async def _is_reversed(khipu: KhipuClient, payment_id: str) -> bool:
    return (await khipu.get_payment(payment_id)).is_reversed


async def payment_of_quote(session: AsyncSession, quote_id: uuid.UUID) -> Payment | None:
    """The quote's payment row (for pages and operators)."""
    return await repo.payment_for_quote(session, quote_id)

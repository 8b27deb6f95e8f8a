"""Contract between the quote workflow and the payment activities / Khipu webhook.

Activity names (`marketred.schemas.temporal_contracts`, registered by
`marketred.activities.payments`):
- `create_khipu_payment(CreatePaymentInput) -> PaymentLink` — idempotent per quote: the
  first call creates the Khipu payment (recording it before calling Khipu), later calls
  return the same link. A create that timed out is resolved, never blindly repeated.
- `check_khipu_payment(CheckPaymentInput) -> PaymentCheck` — reads the payment back from
  Khipu (GET /v3/payments/{id}) and verifies status, status_detail, receiver, amount,
  currency and transaction id against what we expect.
- `poll_khipu_payment(PollPaymentInput) -> PaymentCheck` — the same read, failing
  (retryable, type PaymentPending) while the verdict is one to wait through, so Temporal's
  retry policy is the poll and polls add no workflow history.
- `delete_khipu_payment(CheckPaymentInput) -> None` — deletes a still-pending payment at
  the end of the window (no-op if already gone or no longer pending).
- `refund_khipu_payment(RefundInput) -> RefundResult` — full refund, recorded once.

Signal `payment_notified(PaymentNotified)` is sent to workflow `transaction_id` (which is
the quote's workflow id) by the webhook endpoint after it verified and stored the event.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class CreatePaymentInput(BaseModel):
    quote_id: uuid.UUID
    workflow_id: str
    quote_number: str
    vendor_name: str
    amount: int
    currency: str = "CLP"
    expires_at: datetime
    payer_email: str | None = None


class PaymentLink(BaseModel):
    khipu_payment_id: str
    payment_url: str


class CheckPaymentInput(BaseModel):
    quote_id: uuid.UUID
    workflow_id: str
    khipu_payment_id: str
    amount: int
    currency: str = "CLP"


PaymentVerdict = Literal["paid", "pending", "mismatch", "rejected", "refunded", "gone"]


class PollPaymentInput(BaseModel):
    """Read the payment back; while the verdict is one of `wait_while`, fail (retryable,
    type PaymentPending) so Temporal retries the read with backoff: a poll that adds no
    workflow history."""

    check: CheckPaymentInput
    wait_while: list[PaymentVerdict] = ["pending"]


class PaymentCheck(BaseModel):
    verdict: PaymentVerdict
    status: str | None = None
    status_detail: str | None = None
    # Human reason when verdict is "mismatch"/"rejected" (shown to operators).
    reason: str | None = None
    conciliation_date: datetime | None = None


class RefundInput(BaseModel):
    quote_id: uuid.UUID
    workflow_id: str
    khipu_payment_id: str
    amount: int
    reason: str


class RefundResult(BaseModel):
    refunded_amount: int
    already_refunded: bool = False


class PaymentNotified(BaseModel):
    khipu_payment_id: str
    event_id: uuid.UUID | None = None

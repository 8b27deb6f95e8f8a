"""Payout contracts (workflow, activities, API) and the pure payout arithmetic.

Workflows (registered by `marketred.workflows.payout`):
- `PayoutWorkflow(PayoutRunInput) -> PayoutRunResult` — one payout run (the schedule's
  action, `POST /api/v1/payouts/run`, `marketred payouts run`): per vendor with unpaid
  payables, create a PENDING_APPROVAL payout and start its `VendorPayoutWorkflow`.
- `VendorPayoutWorkflow(VendorPayoutInput) -> VendorPayoutResult` — one payout: waits for
  the `approve` / `reject` update, transfers, and ends PAID (ledger posted, statement
  mailed) only once the provider or an operator confirms the money left. A transfer in a
  bank file waits SUBMITTED; an outcome nobody can confirm, or a vendor without a bank
  account, waits HELD. Operators resolve both with the updates `confirm_transfer`
  (executed, with the bank's reference → PAID) and `release_transfer` (not executed →
  FAILED, quotes back to the next run); `retry_transfer` (or the signal
  `bank_details_added`) resumes a payout held for missing bank details.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from marketred.schemas.common import StrictModel
from marketred.schemas.money import commission_for

PayoutStatus = Literal[
    "PENDING_APPROVAL", "APPROVED", "SUBMITTED", "HELD", "PAID", "REJECTED", "FAILED"
]
# Why a payout is HELD: no bank account to send to yet; an attempt may have moved the
# money (worker killed mid-transfer, provider answered "maybe"); the transfer kept
# failing until its retries ran out.
HoldCode = Literal["missing_bank_details", "transfer_uncertain", "transfer_failed"]
# What an operator may do with a payout waiting for a person.
CONFIRMABLE_HOLDS: tuple[HoldCode, ...] = ("transfer_uncertain", "transfer_failed")
DEFAULT_TRANSFER_ATTEMPTS = 10
PayoutItemKind = Literal["sale", "clawback"]

PAYOUT_RUN_WORKFLOW = "PayoutWorkflow"
VENDOR_PAYOUT_WORKFLOW = "VendorPayoutWorkflow"


# ---- pure arithmetic ---------------------------------------------------------------


def split_payment(amount: int, bps: int) -> tuple[int, int]:
    """(commission, vendor net) of one quote payment: they always add up to `amount`."""
    commission = commission_for(amount, bps)
    return commission, amount - commission


def refund_split(refund: int, gross: int, commission: int, bps: int) -> tuple[int, int]:
    """(commission returned, vendor net returned) for a refund of a sale of `gross` whose
    commission was `commission`. A full refund returns exactly what was taken; a partial
    one recomputes the commission on the refunded amount (never more than was taken)."""
    return refund_split_after(0, refund, gross, commission, bps)


def refund_split_after(
    refunded_before: int, refund: int, gross: int, commission: int, bps: int
) -> tuple[int, int]:
    """The same split for one of several refunds of a sale: `refunded_before` pesos of it
    were refunded already. The commission returned so far is always the commission of
    the total refunded so far, so the parts add up whatever the order and sizes of the
    refunds, and refunding the whole sale returns exactly the commission and net taken."""
    total = refunded_before + refund
    if refunded_before < 0 or refund <= 0 or total > gross:
        raise ValueError("refunds must be positive and total within 1..gross")

    def returned(amount: int) -> int:
        if amount == gross:
            return commission
        return min(commission, commission_for(amount, bps))

    back = returned(total) - (returned(refunded_before) if refunded_before else 0)
    return back, refund - back


def payout_totals(items: Iterable[tuple[int, int]]) -> tuple[int, int, int]:
    """(gross, commission, net) of a payout from its items' (gross, commission)."""
    gross = commission = 0
    for item_gross, item_commission in items:
        gross += item_gross
        commission += item_commission
    return gross, commission, gross - commission


def quote_number(number: int) -> str:
    return f"Q-{number:06d}"


# ---- workflow and activity contracts -----------------------------------------------


class PayoutRunInput(BaseModel):
    trigger: Literal["schedule", "manual"] = "schedule"
    requested_by: uuid.UUID | None = None
    # How many times a payout's transfer is tried before it is held (settings).
    transfer_attempts: int = Field(default=DEFAULT_TRANSFER_ATTEMPTS, ge=1, le=100)


class PayoutSummary(BaseModel):
    payout_id: uuid.UUID
    workflow_id: str
    vendor_id: uuid.UUID
    vendor_slug: str
    status: PayoutStatus
    gross: int
    commission: int
    net: int
    items: int


class PayoutRunResult(BaseModel):
    workflow_id: str
    payouts: list[PayoutSummary]


class VendorIdList(BaseModel):
    vendor_ids: list[uuid.UUID]


class CreateVendorPayoutInput(BaseModel):
    vendor_id: uuid.UUID
    workflow_id: str
    run_workflow_id: str | None = None


class CreateVendorPayoutResult(BaseModel):
    payout: PayoutSummary | None = None


class VendorPayoutInput(BaseModel):
    payout_id: uuid.UUID
    transfer_attempts: int = Field(default=DEFAULT_TRANSFER_ATTEMPTS, ge=1, le=100)


class PayoutIdInput(BaseModel):
    payout_id: uuid.UUID


class ApprovePayoutInput(BaseModel):
    approved_by: uuid.UUID | None = None


class RejectPayoutInput(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    rejected_by: uuid.UUID | None = None


class PayoutDecisionResult(BaseModel):
    payout_id: uuid.UUID
    status: PayoutStatus


class RecordApprovalInput(BaseModel):
    payout_id: uuid.UUID
    approved_by: uuid.UUID | None = None


class RecordRejectionInput(BaseModel):
    payout_id: uuid.UUID
    reason: str


class TransferReceipt(BaseModel):
    """What the transfer step knows. `confirmed`: the provider says the money left (the
    first design's receipts carry only `provider_ref`: they were all confirmed);
    `submitted`: in a bank file, waiting for an operator; `held`: see `hold_code`."""

    provider_ref: str | None = None
    outcome: Literal["confirmed", "submitted", "held"] = "confirmed"
    hold_code: HoldCode | None = None
    detail: str | None = None


class MarkPayoutPaidInput(BaseModel):
    payout_id: uuid.UUID
    provider_ref: str
    confirmed_by: uuid.UUID | None = None  # the operator who confirmed it, if one did


class MarkPayoutFailedInput(BaseModel):
    payout_id: uuid.UUID
    reason: str
    released_by: uuid.UUID | None = None


class HoldPayoutInput(BaseModel):
    payout_id: uuid.UUID
    code: HoldCode
    reason: str


class ConfirmTransferInput(BaseModel):
    reference: str = Field(min_length=1, max_length=120)
    confirmed_by: uuid.UUID | None = None


class ReleaseTransferInput(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    released_by: uuid.UUID | None = None


class RetryTransferInput(BaseModel):
    requested_by: uuid.UUID | None = None


class StatementResult(BaseModel):
    sent: bool
    to: str | None = None


class VendorPayoutState(BaseModel):
    payout_id: uuid.UUID | None
    status: PayoutStatus
    hold_code: HoldCode | None = None
    reason: str | None = None


class VendorPayoutResult(BaseModel):
    payout_id: uuid.UUID
    status: PayoutStatus
    provider_ref: str | None = None
    reason: str | None = None


# ---- API shapes ----------------------------------------------------------------------


class PayoutOut(BaseModel):
    id: uuid.UUID
    vendor: str
    vendor_name: str
    status: PayoutStatus
    currency: str
    gross: int
    commission: int
    net: int
    created_at: datetime
    approved_at: datetime | None = None
    paid_at: datetime | None = None
    reason: str | None = None
    hold_code: HoldCode | None = None
    workflow_id: str
    # Where the money goes (the vendor's account when the payout was made), masked.
    bank_account: str | None = None


class PayoutItemOut(BaseModel):
    quote_id: uuid.UUID
    quote_number: str
    kind: PayoutItemKind
    gross: int
    commission: int
    net: int
    occurred_at: datetime | None = None


class PayoutDetail(PayoutOut):
    items: list[PayoutItemOut]
    provider_ref: str | None = None


class RejectPayoutBody(StrictModel):
    reason: str = Field(min_length=3, max_length=2000)


class ConfirmTransferBody(StrictModel):
    reference: str = Field(
        min_length=1, max_length=120, description="the bank's reference of the transfer"
    )


class ReleaseTransferBody(StrictModel):
    reason: str = Field(min_length=3, max_length=2000)


class BankFileOut(BaseModel):
    id: uuid.UUID
    run_workflow_id: str
    seq: int
    created_at: datetime
    closed_at: datetime | None
    lines: int
    total: int


# ---- reconciliation ------------------------------------------------------------------

DifferenceKind = Literal[
    "payment_not_in_ledger",
    "payment_amount_differs",
    "ledger_payment_without_khipu",
    "refund_not_in_ledger",
    "refund_amount_differs",
    "payout_not_in_ledger",
    "payout_amount_differs",
    "ledger_payout_without_paid_payout",
]


class ReconciliationDifference(BaseModel):
    kind: DifferenceKind
    quote_id: uuid.UUID | None = None
    quote_number: str | None = None
    payout_id: uuid.UUID | None = None
    expected: int
    actual: int
    detail: str


class ReconciliationReport(BaseModel):
    date_from: date
    date_to: date
    khipu_received: int
    khipu_refunded: int
    ledger_payments: int
    ledger_refunds: int
    payouts_paid: int
    ledger_payouts: int
    # Paid through Khipu but not yet COMPLETED/REFUNDED: not a difference, just in flight.
    in_flight: int
    in_flight_amount: int
    differences: list[ReconciliationDifference]

"""Quote contracts: API bodies, QuoteWorkflow input/updates/query, quote activities.

The workflow, the API and the activities all speak these models, so a field means the
same thing everywhere (money is int CLP, times are tz-aware UTC).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from marketred.schemas.common import StrictModel
from marketred.schemas.money import MAX_PRICE, quote_totals

QuoteStatus = Literal[
    "REQUESTED",
    "ACCEPTED",
    "PAID",
    "SHIPPED",
    "DELIVERED",
    "COMPLETED",
    "REJECTED",
    "EXPIRED",
    "PAYMENT_EXPIRED",
    "CANCELLED",
    "REFUNDED",
    # A refund Khipu refused or nobody could confirm: the workflow waits for an operator
    # (retry at Khipu, or record a refund made outside it). Not final.
    "REFUND_HELD",
    # The buyer asked to return a delivered order (within the return window): the vendor
    # approves (full or partial refund) or declines; a declined return is disputed and an
    # operator decides. Not final.
    "RETURN_REQUESTED",
    "RETURN_DISPUTED",
]
FINAL_STATUSES: frozenset[str] = frozenset(
    {"COMPLETED", "REJECTED", "EXPIRED", "PAYMENT_EXPIRED", "CANCELLED", "REFUNDED"}
)
# States in which the buyer's money is with us (a cancel must refund it).
PAID_STATUSES: frozenset[str] = frozenset({"PAID", "SHIPPED", "DELIVERED"})
Actor = Literal["buyer", "vendor", "operator", "system"]
# ApplicationError type of an update refused for its input, not for the quote's state
# (details[0] names the field): the API answers 422 on that field instead of 409.
QUOTE_INVALID_INPUT = "QuoteInvalidInput"
DeadlineName = Literal["respond_by", "pay_by", "ship_by", "auto_confirm_at"]


def quote_number_label(number: int) -> str:
    return f"Q-{number:06d}"


_QUOTE_NUMBER = re.compile(r"\s*(?:[qQ]-?)?0*(\d{1,9})\s*")


def parse_quote_number(text: str) -> int | None:
    """The number of "Q-000123", "q123" or "123" as people type it; None if it is not one."""
    found = _QUOTE_NUMBER.fullmatch(text)
    return int(found.group(1)) if found else None


def workflow_id_for(quote_id: uuid.UUID) -> str:
    return f"quote-{quote_id}"


# --- API bodies -------------------------------------------------------------------


class QuoteContact(StrictModel):
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)


class CreateQuote(StrictModel):
    vendor: str = Field(min_length=1, max_length=80)
    note: str = Field(default="", max_length=2000)
    contact: QuoteContact = Field(default_factory=QuoteContact)


class LinePriceChange(StrictModel):
    position: int = Field(ge=0)
    unit_price: int = Field(ge=0, le=MAX_PRICE)


class AcceptQuote(StrictModel):
    shipping_cost: int = Field(ge=0, le=MAX_PRICE)
    lines: list[LinePriceChange] | None = None
    note: str | None = Field(default=None, max_length=2000)
    # Hours the buyer has to pay; defaults to the vendor's payment window.
    valid_hours: int | None = Field(default=None, ge=1, le=24 * 30)


class RejectQuote(StrictModel):
    reason: str = Field(min_length=1, max_length=2000)


class CancelQuote(StrictModel):
    reason: str = Field(default="", max_length=2000)


class ShipQuote(StrictModel):
    carrier: str = Field(min_length=1, max_length=120)
    tracking: str = Field(min_length=1, max_length=120)


class ExtendDeadlineBody(StrictModel):
    deadline: DeadlineName
    hours: int = Field(ge=1, le=24 * 30)
    reason: str = Field(default="", max_length=500)


class PaymentUrlOut(BaseModel):
    payment_url: str


class ReturnRequestBody(StrictModel):
    reason: str = Field(min_length=1, max_length=2000)


class ReturnDecisionBody(StrictModel):
    """Approve (refund `amount`, or all that is left when omitted) or decline a return."""

    approve: bool
    amount: int | None = Field(default=None, ge=1, le=MAX_PRICE)
    note: str = Field(default="", max_length=2000)


class RefundBody(StrictModel):
    """An operator's refund of part (or all) of what the buyer paid, with a reason."""

    amount: int = Field(ge=1, le=MAX_PRICE)
    reason: str = Field(min_length=1, max_length=500)


class RecordRefundBody(StrictModel):
    """A held refund the operator made outside Khipu (a bank transfer to the buyer)."""

    reference: str = Field(min_length=1, max_length=120)
    amount: int = Field(ge=1, le=MAX_PRICE)


# --- workflow contracts -------------------------------------------------------------


class QuoteLine(BaseModel):
    position: int
    variant_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    product_name: str
    variant_label: str = ""
    sku: str
    quantity: int
    original_unit_price: int
    unit_price: int

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity


class DeadlinePolicy(BaseModel):
    """Durations resolved from settings and the vendor's overrides at request time."""

    response_hours: int = 48
    reminder_hours_before: int = 12
    payment_hours: int = 72
    ship_days: int = 5
    auto_confirm_days: int = 10
    poll_seconds: int = 60
    # Days after completion during which the buyer may ask to return the order (the
    # workflow stays open that long, so operators may refund part of it too).
    return_days: int = 10
    # After a quote ends with a Khipu payment out there, how long it keeps listening for
    # a late confirmation to refund (the workflow stays open that long).
    late_payment_watch_hours: int = 72


class QuoteWorkflowInput(BaseModel):
    quote_id: uuid.UUID
    number: str
    buyer_id: uuid.UUID
    buyer_email: str | None = None
    vendor_id: uuid.UUID
    vendor_slug: str
    vendor_name: str
    currency: str = "CLP"
    commission_bps: int
    lines: list[QuoteLine]
    note: str = ""
    contact: dict[str, Any] = Field(default_factory=dict)
    policy: DeadlinePolicy = Field(default_factory=DeadlinePolicy)
    public_url: str = "http://127.0.0.1:8000"
    # When the buyer asked: the vendor's time to answer counts from here, so the
    # deadline stored at creation is the one the workflow enforces. None in histories
    # started before this field existed (those count from the workflow's start).
    requested_at: datetime | None = None


class QuoteOutcome(BaseModel):
    status: QuoteStatus
    total: int


class AcceptInput(BaseModel):
    shipping_cost: int
    lines: list[LinePriceChange] | None = None
    note: str | None = None
    valid_hours: int | None = None


class RejectInput(BaseModel):
    reason: str


class CancelInput(BaseModel):
    actor: Literal["buyer", "operator"]
    reason: str = ""
    # The status the canceller saw: if the quote moved on meanwhile (say the vendor
    # accepted it), the cancel is refused so the buyer decides again with the new price.
    expected_status: QuoteStatus | None = None


class StartPaymentInput(BaseModel):
    payer_email: str | None = None


class StartPaymentResult(BaseModel):
    payment_url: str


class MarkShippedInput(BaseModel):
    carrier: str
    tracking: str


class ConfirmDeliveryInput(BaseModel):
    actor: Literal["buyer", "operator"] = "buyer"


class RecheckPaymentInput(BaseModel):
    """An operator asks the workflow to read a held payment back from Khipu again."""

    actor: Literal["operator"] = "operator"


class HeldRefund(BaseModel):
    """A refund Khipu refused or nobody could confirm, waiting for an operator. Its id
    is fixed when it is held, so whichever way it is resolved (a retry at Khipu, a refund
    recorded as made outside it) the ledger posts it once (`post_refund`'s refund id)."""

    refund_id: str
    amount: int
    reason: str
    # Whether the ledger saw the money come in (a late payment did not): post the refund.
    post_to_ledger: bool
    # The quote's status once the refund is done, and the timeline row that says so.
    then_status: QuoteStatus
    done_kind: str = "refunded"
    refusal: str = ""
    # A partial refund (return, operator's refund) asks Khipu under its refund id.
    partial: bool = False


class RequestReturnInput(BaseModel):
    reason: str


class DecideReturnInput(BaseModel):
    actor: Literal["vendor", "operator"]
    approve: bool
    amount: int | None = None
    note: str = ""


class OperatorRefundInput(BaseModel):
    amount: int
    reason: str


class RetryRefundInput(BaseModel):
    actor: Literal["operator"] = "operator"


class RecordRefundInput(BaseModel):
    actor: Literal["operator"] = "operator"
    reference: str
    amount: int


class ExtendDeadlineInput(BaseModel):
    actor: Literal["vendor", "operator"]
    deadline: DeadlineName
    hours: int
    reason: str = ""


class TimelineEntry(BaseModel):
    seq: int
    kind: str
    status: QuoteStatus
    actor: Actor
    message: str = ""
    at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


# The deadline each waiting state runs against.
PENDING_DEADLINE: dict[str, DeadlineName] = {
    "REQUESTED": "respond_by",
    "ACCEPTED": "pay_by",
    "PAID": "ship_by",
    "SHIPPED": "auto_confirm_at",
}


class Deadlines(BaseModel):
    respond_by: datetime | None = None
    remind_at: datetime | None = None
    pay_by: datetime | None = None
    ship_by: datetime | None = None
    auto_confirm_at: datetime | None = None
    # The end of the return window (COMPLETED quotes of the returns design only).
    return_by: datetime | None = None

    def next_for(self, status: str) -> datetime | None:
        """The one deadline that matters in `status` (search attribute QuoteDeadline)."""
        name = PENDING_DEADLINE.get(status)
        return getattr(self, name) if name else None

    def pending_name(self, status: str) -> DeadlineName | None:
        """Which deadline is running in `status` (None when none is)."""
        name = PENDING_DEADLINE.get(status)
        return name if name and getattr(self, name) is not None else None


class QuoteState(BaseModel):
    """Query `state`: everything an operator needs to see why a quote is where it is."""

    quote_id: uuid.UUID
    number: str
    status: QuoteStatus
    version: int
    vendor_slug: str
    buyer_id: uuid.UUID
    currency: str
    lines: list[QuoteLine]
    subtotal: int
    shipping_cost: int
    total: int
    deadlines: Deadlines
    timeline: list[TimelineEntry]
    waiting_for: str | None = None
    last_error: str | None = None
    hold_reason: str | None = None
    reason: str | None = None
    vendor_note: str | None = None
    carrier: str | None = None
    tracking: str | None = None
    payment_url: str | None = None
    khipu_payment_id: str | None = None
    refunded_amount: int = 0
    response_extended: bool = False
    ship_overdue: bool = False
    held_refund: HeldRefund | None = None


def totals_of(lines: list[QuoteLine], shipping_cost: int) -> tuple[int, int]:
    return quote_totals(((line.unit_price, line.quantity) for line in lines), shipping_cost)


# --- activity contracts -------------------------------------------------------------


class ProjectQuoteInput(BaseModel):
    """Snapshot written to `quotes` (only if `version` is newer) and its timeline rows."""

    state: QuoteState


NotificationEvent = Literal[
    "requested",
    "reminder",
    "accepted",
    "rejected",
    "expired",
    "paid",
    "shipped",
    "ship_overdue",
    "payment_expired",
    "cancelled",
    "refunded",
    "completed",
    "payment_held",
    "refund_held",
    "return_requested",
    "return_disputed",
]


class NotifyInput(BaseModel):
    quote_id: uuid.UUID
    workflow_id: str
    event: NotificationEvent
    state: QuoteState


class NotifyResult(BaseModel):
    sent: int
    skipped: int


# --- API responses ------------------------------------------------------------------


class QuoteVendorOut(BaseModel):
    slug: str
    name: str


class QuoteLineOut(BaseModel):
    position: int
    variant_id: uuid.UUID | None
    product_id: uuid.UUID | None
    product_name: str
    variant_label: str
    sku: str
    quantity: int
    original_unit_price: int
    unit_price: int
    line_total: int


class QuoteOut(BaseModel):
    id: uuid.UUID
    number: str
    status: QuoteStatus
    vendor: QuoteVendorOut
    buyer_id: uuid.UUID
    currency: str
    lines: list[QuoteLineOut]
    subtotal: int
    shipping_cost: int
    total: int
    note: str
    contact: QuoteContact
    vendor_note: str | None = None
    reason: str | None = None
    hold_reason: str | None = None
    carrier: str | None = None
    tracking: str | None = None
    deadlines: Deadlines
    timeline: list[TimelineEntry]
    workflow_id: str
    created_at: datetime
    updated_at: datetime
    # Operators only: the quote's workflow in the Temporal UI.
    temporal_url: str | None = None


class QuoteListFilters(BaseModel):
    """Narrowing of a quote list beyond who may see it (operator console, API)."""

    status: str | None = None
    vendor: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    # Quotes whose payment is held for an operator.
    held: bool = False
    # Paid quotes whose ship-by date has passed.
    ship_overdue: bool = False
    # One quote by its number (Q-000123), and a buyer's quotes by their email: what a
    # person asking support about their order gives.
    number: int | None = None
    buyer_email: str | None = None

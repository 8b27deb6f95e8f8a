"""Quote contracts: API bodies, QuoteWorkflow input/updates/query, quote activities.

The workflow, the API and the activities all speak these models, so a field means the
same thing everywhere (money is int CLP, times are tz-aware UTC).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from marketred.schemas.common import StrictModel
from marketred.schemas.money import MAX_PRICE, quote_totals
from marketred.schemas.payments import PaymentLink

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
# States a person resolves with their own updates (never a cancel): a held refund, a
# return waiting for the vendor or, disputed, for an operator.
RESOLVED_BY_A_PERSON: tuple[str, ...] = ("REFUND_HELD", "RETURN_REQUESTED", "RETURN_DISPUTED")
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


def quote_id_of(workflow_id: str) -> uuid.UUID | None:
    """The inverse of workflow_id_for (None for another workflow's id)."""
    try:
        return uuid.UUID(workflow_id.removeprefix("quote-"))
    except ValueError:
        return None


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
    """What the vendor changes on one line when accepting: its unit price, and/or a lower
    quantity (0 drops the line) with the reason the buyer will read."""

    position: int = Field(ge=0)
    unit_price: int | None = Field(default=None, ge=0, le=MAX_PRICE)
    quantity: int | None = Field(default=None, ge=0, le=999)
    reason: str | None = Field(default=None, max_length=500)


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
    # Set when the vendor accepted fewer than asked (0: the line was dropped): what the
    # buyer asked for, and the vendor's reason. None when the quantity is as asked.
    requested_quantity: int | None = None
    change_reason: str | None = None

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
    # Set when a run continues as new: the state the previous run ended with.
    carried: QuoteRunState | None = None
    # A run continues as new once its history reaches this many events (or Temporal
    # suggests it), far below Temporal's 10,240-event warning.
    history_budget: int = 2_000

    @property
    def data_subject(self) -> uuid.UUID:
        """Whose personal data this carries: the payload codec encrypts it with that
        buyer's key (integrations/payload_codec.py)."""
        return self.buyer_id


class QuoteOutcome(BaseModel):
    status: QuoteStatus
    total: int


class AcceptInput(BaseModel):
    shipping_cost: int
    lines: list[LinePriceChange] | None = None
    note: str | None = None
    valid_hours: int | None = None
    # Some line's variant tracks its stock: the acceptance reserves it (reserve_stock
    # activity) for the payment window. False in payloads from before stock reservations.
    reserve_stock: bool = False


class RejectInput(BaseModel):
    reason: str


class CancelInput(BaseModel):
    actor: Literal["buyer", "operator"]
    reason: str = ""
    # The status the canceller saw: if the quote moved on meanwhile (say the vendor
    # accepted it), the cancel is refused so the buyer decides again with the new price.
    expected_status: QuoteStatus | None = None
    # The person who asked (operators' actions, single or bulk): the update's input is
    # kept in the workflow's history, so the history says who did it.
    by_user: uuid.UUID | None = None


class StartPaymentInput(BaseModel):
    payer_email: str | None = None
    # The buyer paying: their key encrypts this payload. None in older histories.
    buyer_id: uuid.UUID | None = None

    @property
    def data_subject(self) -> uuid.UUID | None:
        return self.buyer_id


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
    # The person who asked (operators' actions, single or bulk): the update's input is
    # kept in the workflow's history, so the history says who did it.
    by_user: uuid.UUID | None = None


class RetryNowInput(BaseModel):
    """An operator cuts a retrying step's backoff short: the workflow restarts it now."""

    actor: Literal["operator"] = "operator"
    reason: str = ""
    # Who asked: kept in the workflow's history with the update.
    by_user: uuid.UUID | None = None


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
    # The person who asked (operators' actions, single or bulk): the update's input is
    # kept in the workflow's history, so the history says who did it.
    by_user: uuid.UUID | None = None


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
    # The next reminder: the vendor's while REQUESTED, the buyer's to pay while ACCEPTED.
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


class QuoteRunState(BaseModel):
    """Everything a QuoteWorkflow run knows, in one serializable model: the `state`
    query is built from it and continue-as-new carries it to the next run whole
    (deadlines, timeline, hold, payment link included)."""

    status: QuoteStatus = "REQUESTED"
    version: int = 0
    lines: list[QuoteLine]
    shipping: int = 0
    deadlines: Deadlines = Field(default_factory=Deadlines)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    waiting_for: str | None = None
    # The activity the workflow is waiting on (shown while it retries).
    current_step: str | None = None
    last_error: str | None = None
    hold_reason: str | None = None
    # Khipu's verdict that caused the hold; "mismatch" means money may have arrived.
    hold_verdict: str | None = None
    reason: str | None = None
    vendor_note: str | None = None
    carrier: str | None = None
    tracking: str | None = None
    payment: PaymentLink | None = None
    payment_creating: bool = False
    # A webhook said Khipu has news: check now instead of at the next poll.
    payment_nudged: bool = False
    # A deadline moved (or a payment was just created): the waiting loop starts over.
    deadline_moved: bool = False
    refunded: int = 0
    response_extended: bool = False
    ship_overdue: bool = False
    # Set once the run method has published the request, so an update that lands in
    # the very first workflow task never mails or projects ahead of it.
    started: bool = False
    # A cancel-with-refund in progress (the late-payment watch must not refund too).
    refunding: bool = False
    # An operator's recheck of a held payment is asking Khipu.
    rechecking: bool = False
    # End of the watch for a payment confirmed after the quote ended.
    late_watch_until: datetime | None = None
    # Which run of this quote's workflow this is (1 + continue-as-new count).
    run: int = 1
    # Operators' "retry now" requests so far: a step waiting on a retrying activity
    # restarts it when this changes (workflows/quote_steps.py).
    retry_requests: int = 0
    # 0.2.0 bookkeeping for a lean history: when the Khipu payment was created (polling
    # slows down as it ages), timeline rows already projected, and the search attribute
    # values last upserted (upsert only on change).
    payment_started_at: datetime | None = None
    projected_seq: int = 0
    visible: dict[str, str] | None = None
    # A refund Khipu refused or nobody could confirm, waiting for an operator.
    held_refund: HeldRefund | None = None
    # A refund (retry, return, operator's part) is asking Khipu: other decisions wait.
    refund_busy: bool = False
    # The buyer's reason for the one return a quote may have.
    return_reason: str | None = None
    # An acceptance is reserving stock (an activity): other decisions wait for it.
    accepting: bool = False


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
    # The activity the workflow waits on right now (retrying, if it takes long) and the
    # last failure it reported: filled from Temporal's pending-activity record by
    # services.quotes.progress, since retries leave nothing in the workflow's history.
    current_step: str | None = None
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

    @property
    def data_subject(self) -> uuid.UUID:
        return self.buyer_id


def totals_of(lines: list[QuoteLine], shipping_cost: int) -> tuple[int, int]:
    return quote_totals(((line.unit_price, line.quantity) for line in lines), shipping_cost)


# --- activity contracts -------------------------------------------------------------


class ProjectQuoteInput(BaseModel):
    """Snapshot written to `quotes` (only if `version` is newer) and its timeline rows.

    `state.timeline` holds the rows from `timeline_from` on (earlier ones were written
    by an earlier projection); 1 means the whole timeline (histories before 0.2.0)."""

    state: QuoteState
    timeline_from: int = 1

    @property
    def data_subject(self) -> uuid.UUID:
        return self.state.buyer_id


NotificationEvent = Literal[
    "requested",
    "reminder",
    "accepted",
    "payment_reminder",
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

    @property
    def data_subject(self) -> uuid.UUID:
        return self.state.buyer_id


class NotifyResult(BaseModel):
    sent: int
    skipped: int


class PublishQuoteInput(BaseModel):
    """One activity per transition (patch `PUBLISH_IN_ONE`): the snapshot written to
    `quotes` like ProjectQuoteInput, then — when `event` is given — the mail about it,
    sent in the same activity. `state.timeline` holds the rows from `timeline_from` on."""

    state: QuoteState
    timeline_from: int = 1
    workflow_id: str
    event: NotificationEvent | None = None

    @property
    def data_subject(self) -> uuid.UUID:
        return self.state.buyer_id


class PublishResult(BaseModel):
    """`mailed` False: the mail was not sent by this activity (the mail server failed or
    no event was given); the workflow then sends it with `send_quote_notification`."""

    applied: bool
    mailed: bool


class StockItem(BaseModel):
    position: int
    variant_id: uuid.UUID
    quantity: int
    label: str


class ReserveStockInput(BaseModel):
    """Set the quote's stock reservation to exactly `items` (an empty list releases it):
    keyed by quote, so a retried activity never reserves twice."""

    quote_id: uuid.UUID
    items: list[StockItem]


class StockShortage(BaseModel):
    position: int
    label: str
    requested: int
    available: int


class ReserveStockResult(BaseModel):
    # Empty when reserved; otherwise the lines short of stock (nothing was reserved).
    short: list[StockShortage] = Field(default_factory=list)


# --- API responses ------------------------------------------------------------------


QuoteActionName = Literal[
    "accept",
    "reject",
    "extend_response",
    "pay",
    "cancel",
    "cancel_with_refund",
    "ship",
    "confirm_delivery",
    "extend_deadline",
    "recheck_payment",
    "retry_now",
]


class QuoteAction(BaseModel):
    """Something a party may do to the quote now (the workflow still decides)."""

    name: QuoteActionName
    by: Literal["buyer", "vendor", "operator"]


def allowed_actions(
    status: str,
    *,
    hold_reason: str | None,
    ship_overdue: bool,
    response_extended: bool,
    pending_deadline: DeadlineName | None,
    retrying: bool = False,
) -> list[QuoteAction]:
    """The one place that says which actions a quote offers (API, every page, the
    operators' triage). It mirrors the workflow's update validators; they stay the
    authority: an action listed here can still be refused if the quote moved on."""
    out: list[tuple[QuoteActionName, Literal["buyer", "vendor", "operator"]]] = []
    if status in FINAL_STATUSES:
        return []
    held = hold_reason is not None
    if status == "REQUESTED":
        out += [("accept", "vendor"), ("reject", "vendor")]
        if not response_extended and pending_deadline == "respond_by":
            out.append(("extend_response", "vendor"))
        out.append(("cancel", "buyer"))
    elif status == "ACCEPTED" and held:
        out.append(("recheck_payment", "operator"))
    elif status == "ACCEPTED":
        out += [("pay", "buyer"), ("cancel", "buyer")]
    elif status == "PAID":
        out.append(("ship", "vendor"))
        if ship_overdue:
            out.append(("cancel_with_refund", "buyer"))
    elif status == "SHIPPED":
        out.append(("confirm_delivery", "buyer"))
    if status in PAID_STATUSES and status != "DELIVERED":
        out.append(("cancel_with_refund", "operator"))
    elif status in ("REQUESTED", "ACCEPTED"):
        out.append(("cancel", "operator"))
    if pending_deadline is not None and not held:
        out.append(("extend_deadline", "operator"))
    if retrying:
        out.append(("retry_now", "operator"))
    return [QuoteAction(name=name, by=by) for name, by in out]


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
    # The quantity the buyer asked for, when the vendor accepted fewer (0 = dropped),
    # and the vendor's reason.
    requested_quantity: int | None = None
    change_reason: str | None = None


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
    # From the workflow (its `state` query, mirrored by the projection): what the quote
    # waits for, the error of a step that keeps failing, and what may be done now.
    waiting_for: str | None = None
    last_error: str | None = None
    ship_overdue: bool = False
    allowed_actions: list[QuoteAction] = Field(default_factory=list)
    carrier: str | None = None
    tracking: str | None = None
    deadlines: Deadlines
    timeline: list[TimelineEntry]
    workflow_id: str
    created_at: datetime
    updated_at: datetime
    # Operators only: the quote's workflow in the Temporal UI.
    temporal_url: str | None = None

    def can(self, name: QuoteActionName, by: Literal["buyer", "vendor", "operator"]) -> bool:
        return any(a.name == name and a.by == by for a in self.allowed_actions)


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
    # Quotes that need a person (operators' "Atascadas"): any of STUCK_REASONS, or one.
    stuck: bool = False
    stuck_reason: StuckReason | None = None


# Why a quote needs a person. A deadline is acted on within seconds by a healthy worker,
# so one passed by more than STUCK_GRACE without a transition is stuck (worker down, a
# step failing); `retrying`: a step keeps failing (last_error); `payment_held`: Khipu
# reported something a person must look at; `refund_open`: a cancel's refund has not
# gone through.
StuckReason = Literal["deadline_passed", "retrying", "payment_held", "refund_open"]
STUCK_REASONS: tuple[StuckReason, ...] = (
    "deadline_passed",
    "retrying",
    "payment_held",
    "refund_open",
)
STUCK_GRACE = timedelta(minutes=15)


QuoteWorkflowInput.model_rebuild()

"""What each QuoteWorkflow update may do in the quote's current state (its validators).

Pure functions of the state: each returns the reason for a refusal, or None. Validators
run only when an update arrives, never on replay, so these rules may change freely
between releases. The update handlers do not call them: each handler guards the one
state condition that decides a race between two updates itself, and that guard is
workflow code (changed only behind `workflow.patched`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from marketred.schemas.quotes import (
    FINAL_STATUSES,
    RESOLVED_BY_A_PERSON,
    AcceptInput,
    CancelInput,
    DeadlinePolicy,
    ExtendDeadlineInput,
    QuoteRunState,
)

NOT_AWAITING_VENDOR = "the quote is no longer awaiting the vendor"
PAYMENT_HELD = "the payment is held for review by an operator"
NOT_HELD = "the quote's payment is not held"
ONLY_ACCEPTED_PAID = "only an accepted quote can be paid"
ONLY_PAID_SHIPPED = "only a paid quote can be shipped"
NOT_SHIPPED = "the quote has not been shipped"


def accept(s: QuoteRunState, inp: AcceptInput) -> str | None:
    if s.status != "REQUESTED":
        return NOT_AWAITING_VENDOR
    positions = {line.position for line in s.lines}
    unknown = [c.position for c in inp.lines or [] if c.position not in positions]
    return f"no quote line at position(s) {unknown}" if unknown else None


def reject(s: QuoteRunState) -> str | None:
    return None if s.status == "REQUESTED" else NOT_AWAITING_VENDOR


def cancel(s: QuoteRunState, inp: CancelInput) -> str | None:
    if inp.expected_status is not None and inp.expected_status != s.status:
        return f"the quote changed meanwhile: it is now {s.status}"
    if s.status == "REFUND_HELD":
        return "the quote's refund is held: retry it at Khipu or record it as made"
    if s.status in RESOLVED_BY_A_PERSON:
        return "the quote's return waits for a decision"
    if inp.actor == "operator":
        if s.status in FINAL_STATUSES:
            return f"the quote is already {s.status}"
        if s.status == "DELIVERED":
            return "the delivered sale is being completed"
        return None
    if s.status in ("REQUESTED", "ACCEPTED") or (s.status == "PAID" and s.ship_overdue):
        return None
    return "the buyer can cancel only before paying, or once the vendor missed the ship-by date"


def start_payment(s: QuoteRunState) -> str | None:
    if s.status != "ACCEPTED":
        return ONLY_ACCEPTED_PAID
    return PAYMENT_HELD if s.hold_reason is not None else None


def mark_shipped(s: QuoteRunState) -> str | None:
    return None if s.status == "PAID" else ONLY_PAID_SHIPPED


def confirm_delivery(s: QuoteRunState) -> str | None:
    return None if s.status == "SHIPPED" else NOT_SHIPPED


def extend_deadline(
    s: QuoteRunState, inp: ExtendDeadlineInput, policy: DeadlinePolicy
) -> str | None:
    current = getattr(s.deadlines, inp.deadline)
    if current is None or current != s.deadlines.next_for(s.status):
        return f"the {inp.deadline} deadline is not pending in state {s.status}"
    if inp.actor == "vendor":
        if inp.deadline != "respond_by":
            return "a vendor may only extend its time to answer"
        if s.response_extended:
            return "the vendor already extended its time once"
        if inp.hours > policy.response_hours:
            return f"at most {policy.response_hours} more hours"
    return None


def recheck_payment(s: QuoteRunState) -> str | None:
    if s.status != "ACCEPTED" or s.hold_reason is None:
        return NOT_HELD
    return "the payment is being checked already" if s.rechecking else None


NOTHING_RETRYING = "no step of the quote is waiting to be retried"


def retry_now(s: QuoteRunState) -> str | None:
    return None if s.current_step is not None else NOTHING_RETRYING


# --- the buyer's payment reminder (read by the run loop, not a validator) -----------
# A timer's length is not compared on replay, so these may change between releases;
# whether a run reminds at all is the patch `payment-reminder` (quote_lifecycle.py).

PAYMENT_REMINDER_LEAD = timedelta(hours=24)
# A shorter window gets no reminder: it would arrive soon after the acceptance mail,
# which already says until when to pay.
PAYMENT_REMINDER_MIN_WINDOW = timedelta(hours=6)
PAYMENT_REMINDER_SENT = "payment_reminder_sent"
# Timeline rows that open a payment window (a recheck that finds the payment still in
# progress reopens it: the release row dates the new window).
_WINDOW_OPENERS = ("accepted", "payment_released")


def reminded_to_pay(s: QuoteRunState) -> bool:
    """The buyer got the one payment reminder a quote has."""
    return any(e.kind == PAYMENT_REMINDER_SENT for e in s.timeline)


def payment_reminder_at(s: QuoteRunState) -> datetime | None:
    """When to remind the buyer to pay: 24 h before the window closes, or halfway
    through a window of 48 h or less (so a 24 h window reminds after 12 h); None when
    nothing is to be sent (not awaiting payment, held, reminded, or a window under 6 h).
    Extending the window keeps its start, so the reminder moves with its end."""
    pay_by = s.deadlines.pay_by
    if s.status != "ACCEPTED" or pay_by is None or s.hold_reason is not None:
        return None
    if reminded_to_pay(s):
        return None
    opened = next((e.at for e in reversed(s.timeline) if e.kind in _WINDOW_OPENERS), None)
    if opened is None:
        return None
    window = pay_by - opened
    if window < PAYMENT_REMINDER_MIN_WINDOW:
        return None
    return pay_by - min(PAYMENT_REMINDER_LEAD, window / 2)

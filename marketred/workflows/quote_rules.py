"""What each QuoteWorkflow update may do in the quote's current state (its validators).

Pure functions of the state: each returns the reason for a refusal, or None. Validators
run only when an update arrives, never on replay, so these rules may change freely
between releases. The update handlers do not call them: each handler guards the one
state condition that decides a race between two updates itself, and that guard is
workflow code (changed only behind `workflow.patched`).
"""

from __future__ import annotations

from marketred.schemas.problems import Reason
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
        return Reason(
            "DEADLINE_NOT_PENDING",
            f"the {inp.deadline} deadline is not pending in state {s.status}",
            deadline=inp.deadline,
            status=s.status,
        )
    if inp.actor == "vendor":
        if inp.deadline != "respond_by":
            return Reason(
                "DEADLINE_VENDOR_RESPONSE_ONLY", "a vendor may only extend its time to answer"
            )
        if s.response_extended:
            return Reason("DEADLINE_ALREADY_EXTENDED", "the vendor already extended its time once")
        if inp.hours > policy.response_hours:
            return Reason(
                "DEADLINE_TOO_MANY_HOURS",
                f"at most {policy.response_hours} more hours",
                n=policy.response_hours,
            )
    return None


def recheck_payment(s: QuoteRunState) -> str | None:
    if s.status != "ACCEPTED" or s.hold_reason is None:
        return NOT_HELD
    return "the payment is being checked already" if s.rechecking else None


NOTHING_RETRYING = "no step of the quote is waiting to be retried"


def retry_now(s: QuoteRunState) -> str | None:
    return None if s.current_step is not None else NOTHING_RETRYING

"""What each QuoteWorkflow update may do in the quote's current state (its validators).

Pure functions of the state: each returns the reason for a refusal, or None. Validators
run only when an update arrives, never on replay, so these rules may change freely
between releases. The update handlers do not call them: each handler guards the one
state condition that decides a race between two updates itself, and that guard is
workflow code (changed only behind `workflow.patched`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from marketred.schemas.problems import Reason
from marketred.schemas.quotes import (
    FINAL_STATUSES,
    RESOLVED_BY_A_PERSON,
    AcceptInput,
    CancelInput,
    DeadlinePolicy,
    ExtendDeadlineInput,
    LinePriceChange,
    QuoteLine,
    QuoteRunState,
    ReserveStockResult,
    StockItem,
    totals_of,
)

NOT_AWAITING_VENDOR = "the quote is no longer awaiting the vendor"
PAYMENT_HELD = "the payment is held for review by an operator"
NOT_HELD = "the quote's payment is not held"
ONLY_ACCEPTED_PAID = "only an accepted quote can be paid"
ONLY_PAID_SHIPPED = "only a paid quote can be shipped"
NOT_SHIPPED = "the quote has not been shipped"


def accept(s: QuoteRunState, inp: AcceptInput) -> str | None:
    if s.status != "REQUESTED" or s.accepting:
        return NOT_AWAITING_VENDOR
    positions = {line.position for line in s.lines}
    unknown = [c.position for c in inp.lines or [] if c.position not in positions]
    return f"no quote line at position(s) {unknown}" if unknown else None


def accepted_lines(
    lines: list[QuoteLine], changes: list[LinePriceChange] | None
) -> list[QuoteLine]:
    """The quote's lines as the vendor accepts them: new unit prices, lower quantities
    (0: dropped) with the reason and the quantity the buyer asked for."""
    by_position = {change.position: change for change in changes or []}
    out: list[QuoteLine] = []
    for line in lines:
        change = by_position.get(line.position)
        if change is None:
            out.append(line)
            continue
        update: dict[str, object] = {}
        if change.unit_price is not None:
            update["unit_price"] = change.unit_price
        if change.quantity is not None and change.quantity != line.quantity:
            update["quantity"] = change.quantity
            update["requested_quantity"] = line.quantity
            update["change_reason"] = (change.reason or "").strip()
        out.append(line.model_copy(update=update))
    return out


def accept_input_problem(s: QuoteRunState, inp: AcceptInput) -> tuple[str, Reason] | None:
    """Why the acceptance's own input cannot work, as (field, message); None if it can.
    Fields are named as the API names them (`lines[<index>].quantity`)."""
    requested = {line.position: line.quantity for line in s.lines}
    seen: set[int] = set()
    for index, change in enumerate(inp.lines or []):
        if change.position in seen:
            return f"lines[{index}].position", Reason(
                "ACCEPT_LINE_TWICE",
                f"line {change.position} is changed twice",
                position=change.position,
            )
        seen.add(change.position)
        asked = requested.get(change.position)
        if change.quantity is None or asked is None or change.quantity == asked:
            continue
        if change.quantity < 0:
            return f"lines[{index}].quantity", Reason(
                "ACCEPT_QUANTITY_NEGATIVE", "the quantity cannot be negative"
            )
        if change.quantity > asked:
            return (
                f"lines[{index}].quantity",
                Reason(
                    "ACCEPT_QUANTITY_ABOVE_ASKED",
                    f"line {change.position}: at most the {asked} the buyer asked for",
                    position=change.position,
                    n=asked,
                ),
            )
        if not (change.reason or "").strip():
            return (
                f"lines[{index}].reason",
                Reason(
                    "ACCEPT_REASON_MISSING",
                    f"line {change.position}: say why you lower the quantity or drop the line",
                    position=change.position,
                ),
            )
    lines = accepted_lines(s.lines, inp.lines)
    if all(line.quantity == 0 for line in lines):
        return "lines", Reason(
            "ACCEPT_ALL_DROPPED", "dropping every line is a rejection: reject the quote instead"
        )
    if totals_of(lines, inp.shipping_cost)[1] <= 0:
        # Khipu takes no payment of $0: accepting it would leave the quote stuck.
        return (
            "shipping_cost",
            Reason(
                "ACCEPT_TOTAL_ZERO",
                "the total to pay must be more than $0: set a price or a shipping cost",
            ),
        )
    return None


def stock_items(lines: list[QuoteLine]) -> list[StockItem]:
    """What an acceptance reserves: every line still sold that names its variant."""
    return [
        StockItem(
            position=line.position,
            variant_id=line.variant_id,
            quantity=line.quantity,
            label=line.product_name
            + (f" ({line.variant_label})" if line.variant_label else "")
            + f", SKU {line.sku}",
        )
        for line in lines
        if line.variant_id is not None and line.quantity > 0
    ]


def shortage_message(result: ReserveStockResult) -> tuple[str, Reason]:
    """The vendor's error for an acceptance short of stock, naming the (first) line."""
    short = result.short[0]
    return (
        "lines",
        Reason(
            "ACCEPT_STOCK_SHORT",
            f"line {short.position}, not enough stock for {short.label}: "
            f"{short.available} available, {short.requested} accepted; lower the quantity",
            position=short.position,
            item=short.label,
            n=short.available,
            q=short.requested,
        ),
    )


def reject(s: QuoteRunState) -> str | None:
    return None if s.status == "REQUESTED" and not s.accepting else NOT_AWAITING_VENDOR


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

"""The vendor's side of a REQUESTED quote, part of the QuoteWorkflow: the response
deadline and its reminder, `accept` (with partial acceptance and stock reservation,
issue 20), `reject`, and `extend_deadline` (docs/quotes.md, "Lifecycle" and "Partial
acceptance and stock").

Histories recorded before partial acceptance replay through the first `accept` (prices
only): `PARTIAL_ACCEPT`; before stock reservations, without one: `STOCK_RESERVATIONS`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas import temporal_contracts as c
    from marketred.schemas.problems import refusal_details
    from marketred.schemas.quotes import (
        QUOTE_INVALID_INPUT,
        AcceptInput,
        ExtendDeadlineInput,
        QuoteLine,
        QuoteState,
        RejectInput,
        ReserveStockInput,
    )
    from marketred.workflows import quote_rules as rules
    from marketred.workflows.quote_base import REQUEST_PATH, QuoteWorkflowBase

# workflow.patched ids (issue 20): an acceptance may lower quantities or drop lines; and
# one that sells tracked stock reserves it (released or converted by the projection).
PARTIAL_ACCEPT = "partial-accept"
STOCK_RESERVATIONS = "stock-reservations"


class QuoteAcceptance(QuoteWorkflowBase):
    async def _vendor_phase(self) -> None:
        if self.s.deadlines.remind_at is not None:
            if await self._wait_in("REQUESTED", "remind_at") == "deadline":
                self.s.deadlines.remind_at = None
                self._record("reminder_sent", "system", "the vendor was reminded")
                await self._publish("reminder")
        if await self._wait_in("REQUESTED", "respond_by") == "deadline":
            self._wait_for(None)
            self._record("expired", "system", "the vendor did not answer in time", status="EXPIRED")
            await self._publish("expired")

    # --- updates -----------------------------------------------------------------

    @workflow.update
    async def accept(self, inp: AcceptInput) -> QuoteState:
        # The state guard deciding a race (validators are not re-run here).
        self._refuse_unless(
            self.s.status == "REQUESTED" and not self.s.accepting, rules.NOT_AWAITING_VENDOR
        )
        if self._steps.patched(PARTIAL_ACCEPT):
            lines = rules.accepted_lines(self.s.lines, inp.lines)
            if inp.reserve_stock and self._steps.patched(STOCK_RESERVATIONS):
                await self._reserve_stock(lines)
            self.s.lines = lines
        elif inp.lines:
            prices = {ch.position: ch.unit_price for ch in inp.lines if ch.unit_price is not None}
            self.s.lines = [
                line.model_copy(update={"unit_price": prices.get(line.position, line.unit_price)})
                for line in self.s.lines
            ]
        self.s.shipping = inp.shipping_cost
        self.s.vendor_note = inp.note
        hours = inp.valid_hours or self._in.policy.payment_hours
        self.s.deadlines.respond_by = None
        self.s.deadlines.remind_at = None
        self.s.deadlines.pay_by = workflow.now() + timedelta(hours=hours)
        self.s.waiting_for = "the buyer to pay"
        self._record(
            "accepted",
            "vendor",
            inp.note or "",
            status="ACCEPTED",
            data={"shipping_cost": inp.shipping_cost, "total": self._total},
        )
        return await self._published("accepted")

    async def _reserve_stock(self, lines: list[QuoteLine]) -> None:
        """Reserve the accepted quantities (one activity, keyed by the quote); refused
        naming the line short of stock. A quote that ended meanwhile gives it back."""
        self.s.accepting = True
        try:
            result = await self._steps.run(
                c.RESERVE_STOCK,
                ReserveStockInput(quote_id=self._in.quote_id, items=rules.stock_items(lines)),
                within=REQUEST_PATH,
            )
            assert result is not None
            if result.short:
                self._refuse_input(*rules.shortage_message(result))
            if self.s.status != "REQUESTED":
                await self._steps.run(
                    c.RESERVE_STOCK, ReserveStockInput(quote_id=self._in.quote_id, items=[])
                )
                self._refuse_unless(False, rules.NOT_AWAITING_VENDOR)
        finally:
            self.s.accepting = False

    @accept.validator
    def validate_accept(self, inp: AcceptInput) -> None:
        self._refuse(rules.accept(self.s, inp))
        problem = rules.accept_input_problem(self.s, inp)
        if problem is not None:
            self._refuse_input(*problem)

    @workflow.update
    async def reject(self, inp: RejectInput) -> QuoteState:
        self._refuse_unless(self.s.status == "REQUESTED", rules.NOT_AWAITING_VENDOR)
        self.s.reason = inp.reason
        self.s.deadlines.respond_by = None
        self.s.deadlines.remind_at = None
        self.s.waiting_for = None
        self._record("rejected", "vendor", inp.reason, status="REJECTED")
        return await self._published("rejected")

    @reject.validator
    def validate_reject(self, inp: RejectInput) -> None:
        del inp
        self._refuse(rules.reject(self.s))

    @workflow.update
    async def extend_deadline(self, inp: ExtendDeadlineInput) -> QuoteState:
        current = getattr(self.s.deadlines, inp.deadline)
        self._refuse_unless(
            current is not None
            and current == self.s.deadlines.next_for(self.s.status)
            and not (inp.actor == "vendor" and self.s.response_extended),
            f"the {inp.deadline} deadline is not pending in state {self.s.status}",
        )
        new = current + timedelta(hours=inp.hours)
        setattr(self.s.deadlines, inp.deadline, new)
        if inp.deadline == "respond_by":
            self.s.response_extended = self.s.response_extended or inp.actor == "vendor"
            remind_at = new - timedelta(hours=self._in.policy.reminder_hours_before)
            if self.s.deadlines.remind_at is not None:
                self.s.deadlines.remind_at = max(remind_at, workflow.now())
        self.s.deadline_moved = True
        self._record(
            "deadline_extended",
            inp.actor,
            inp.reason,
            data={"deadline": inp.deadline, "hours": inp.hours, "until": new.isoformat()},
        )
        return await self._published(None)

    @extend_deadline.validator
    def validate_extend_deadline(self, inp: ExtendDeadlineInput) -> None:
        self._refuse(rules.extend_deadline(self.s, inp, self._in.policy))

    # --- refusals ------------------------------------------------------------------

    def _refuse_input(self, field: str, message: str) -> NoReturn:
        """Refuse the acceptance on one field of its input (422 on that field)."""
        raise ApplicationError(
            message,
            field,
            *refusal_details(message),
            type=QUOTE_INVALID_INPUT,
            non_retryable=True,
        )

"""The QuoteWorkflow definition: lifecycle run loop, updates, signal and query."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas.ledger import PostSaleInput
    from marketred.schemas.money import format_clp
    from marketred.schemas.payments import CreatePaymentInput, PaymentLink, PaymentNotified
    from marketred.schemas.quotes import (
        PAID_STATUSES,
        QUOTE_INVALID_INPUT,
        AcceptInput,
        Actor,
        CancelInput,
        ConfirmDeliveryInput,
        ExtendDeadlineInput,
        MarkShippedInput,
        QuoteOutcome,
        QuoteState,
        QuoteWorkflowInput,
        RecheckPaymentInput,
        RejectInput,
        StartPaymentInput,
        StartPaymentResult,
        totals_of,
    )
    from marketred.workflows.quote_returns import QuoteReturns


@workflow.defn(name="QuoteWorkflow")
class QuoteWorkflow(QuoteReturns):
    @workflow.init
    def __init__(self, inp: QuoteWorkflowInput) -> None:
        super().__init__(inp)
        # Recorded here, not in run(): an update can arrive in the very first task.
        policy = inp.policy
        start = inp.requested_at or workflow.now()
        self._deadlines.respond_by = start + timedelta(hours=policy.response_hours)
        remind_at = self._deadlines.respond_by - timedelta(hours=policy.reminder_hours_before)
        self._deadlines.remind_at = remind_at if remind_at > workflow.now() else None
        self._waiting_for = "the vendor to accept or reject"
        self._record("requested", "buyer", inp.note)

    @workflow.run
    async def run(self, inp: QuoteWorkflowInput) -> QuoteOutcome:
        await self._publish("requested", first=True)
        self._started = True

        await self._vendor_phase()
        if self._status == "ACCEPTED":
            await self._payment_phase()
        if self._status == "PAID":
            await self._shipping_phase()
        if self._status == "SHIPPED":
            await self._delivery_phase()
        if self._status == "DELIVERED":
            self._waiting_for = "the ledger"
            await self._steps.run("post_sale_to_ledger", PostSaleInput(quote_id=inp.quote_id))
            self._wait_for(None)
            self._record("completed", "system", status="COMPLETED")
            await self._publish("completed")
            await self._return_window()
        await self._watch_late_payment()
        self._wait_for(None)
        await self._settle()
        if self._status == "REFUND_HELD":
            await self._wait_out_refund_hold()
            await self._settle()
        return QuoteOutcome(status=self._status, total=self._total)

    # --- phases ------------------------------------------------------------------

    async def _vendor_phase(self) -> None:
        if self._deadlines.remind_at is not None:
            if await self._wait_in("REQUESTED", "remind_at") == "deadline":
                self._deadlines.remind_at = None
                self._record("reminder_sent", "system", "the vendor was reminded")
                await self._publish("reminder")
        if await self._wait_in("REQUESTED", "respond_by") == "deadline":
            self._wait_for(None)
            self._record("expired", "system", "the vendor did not answer in time", status="EXPIRED")
            await self._publish("expired")

    async def _payment_phase(self) -> None:
        poll = float(self._in.policy.poll_seconds)
        while self._status == "ACCEPTED":
            if self._hold_reason is not None:
                # Held for an operator: no deadline, no polling, until cancelled or
                # released by recheck_payment (then the loop goes on from the new state).
                await workflow.wait_condition(
                    lambda: self._status != "ACCEPTED" or self._hold_reason is None
                )
                continue
            outcome = await self._wait_in("ACCEPTED", "pay_by", poll)
            self._payment_nudged = False
            if outcome == "moved":
                return
            if self._payment is not None:
                if await self._apply_payment_check() or self._status != "ACCEPTED":
                    continue
            if outcome == "deadline" and self._status == "ACCEPTED":
                if self._payment is not None:
                    await self._delete_payment()
                    # Paid in the last moment between the check and the delete? Only a
                    # payment is worth acting on here: a deleted one reads back as
                    # "gone", which at the window end means expired, not held.
                    last = await self._check_payment()
                    if self._status != "ACCEPTED":
                        continue
                    if last.verdict == "paid":
                        await self._mark_paid()
                        continue
                self._wait_for(None)
                self._record(
                    "payment_expired",
                    "system",
                    "the payment window closed without a payment",
                    status="PAYMENT_EXPIRED",
                )
                await self._publish("payment_expired")

    async def _apply_payment_check(self) -> bool:
        """Read the payment back from Khipu; True when the quote moved on or was held."""
        check = await self._check_payment()
        if self._status != "ACCEPTED":
            return True
        if check.verdict == "paid":
            await self._mark_paid()
            return True
        if check.verdict in ("mismatch", "rejected", "refunded", "gone"):
            self._hold_verdict = check.verdict
            self._hold_reason = check.reason or f"Khipu reports the payment as {check.verdict}"
            self._deadlines.pay_by = None
            self._waiting_for = "an operator (payment held)"
            self._record(
                "payment_held", "system", self._hold_reason, data={"verdict": check.verdict}
            )
            await self._publish("payment_held")
            return True
        return False

    async def _mark_paid(self) -> None:
        self._deadlines.ship_by = workflow.now() + timedelta(days=self._in.policy.ship_days)
        self._waiting_for = "the vendor to ship"
        self._record(
            "paid", "buyer", f"paid {format_clp(self._total)} through Khipu", status="PAID"
        )
        await self._publish("paid")

    async def _shipping_phase(self) -> None:
        if await self._wait_in("PAID", "ship_by") == "deadline":
            self._ship_overdue = True
            self._deadlines.ship_by = None
            self._waiting_for = "the vendor to ship (overdue: the buyer may cancel with refund)"
            self._record("ship_overdue", "system", "the vendor missed the ship-by date")
            await self._publish("ship_overdue")
            await workflow.wait_condition(lambda: self._status != "PAID")

    async def _delivery_phase(self) -> None:
        if await self._wait_in("SHIPPED", "auto_confirm_at") == "deadline":
            self._deliver("system", "delivery confirmed automatically")
            await self._publish(None)

    async def _watch_late_payment(self) -> None:
        """A quote that ended with a Khipu payment out there refunds a late payment."""
        if self._payment is None or self._status not in (
            "CANCELLED",
            "PAYMENT_EXPIRED",
            "EXPIRED",
        ):
            return
        if self._refunded or self._refunding:
            return
        watch_until = workflow.now() + timedelta(hours=self._in.policy.late_payment_watch_hours)
        while not self._refunded:
            if await self._refund_if_paid_late():
                return
            remaining = (watch_until - workflow.now()).total_seconds()
            if remaining <= 0:
                return
            self._payment_nudged = False
            try:
                await workflow.wait_condition(
                    lambda: self._payment_nudged,
                    timeout=min(remaining, float(self._in.policy.poll_seconds) * 60),
                    timeout_summary="late payment watch",
                )
            except TimeoutError:
                pass

    async def _refund_if_paid_late(self) -> bool:
        check = await self._check_payment()
        if check.verdict != "paid":
            return False
        amount = await self._refund_or_hold(
            f"payment received after the quote was {self._status}",
            post_to_ledger=False,
            then_status=self._status,
            done_kind="late_payment_refunded",
        )
        if amount is None:
            return True  # held for an operator; the run waits for the decision
        self._record(
            "late_payment_refunded",
            "system",
            f"a payment of {format_clp(amount)} arrived after the quote ended and was refunded",
        )
        await self._publish("refunded")
        return True

    def _deliver(self, actor: Actor, message: str) -> None:
        self._deadlines.auto_confirm_at = None
        self._waiting_for = None
        self._record("delivered", actor, message, status="DELIVERED")

    # --- updates -----------------------------------------------------------------

    @workflow.update
    async def accept(self, inp: AcceptInput) -> QuoteState:
        self.validate_accept(inp)
        if inp.lines:
            prices = {change.position: change.unit_price for change in inp.lines}
            self._lines = [
                line.model_copy(update={"unit_price": prices.get(line.position, line.unit_price)})
                for line in self._lines
            ]
        self._shipping = inp.shipping_cost
        self._vendor_note = inp.note
        hours = inp.valid_hours or self._in.policy.payment_hours
        self._deadlines.respond_by = None
        self._deadlines.remind_at = None
        self._deadlines.pay_by = workflow.now() + timedelta(hours=hours)
        self._waiting_for = "the buyer to pay"
        self._record(
            "accepted",
            "vendor",
            inp.note or "",
            status="ACCEPTED",
            data={"shipping_cost": inp.shipping_cost, "total": self._total},
        )
        await self._publish("accepted")
        return self._snapshot()

    @accept.validator
    def validate_accept(self, inp: AcceptInput) -> None:
        self._refuse_unless(
            self._status == "REQUESTED", "the quote is no longer awaiting the vendor"
        )
        positions = {line.position for line in self._lines}
        unknown = [c.position for c in inp.lines or [] if c.position not in positions]
        self._refuse_unless(not unknown, f"no quote line at position(s) {unknown}")
        prices = {change.position: change.unit_price for change in inp.lines or []}
        paid_lines = [
            line.model_copy(update={"unit_price": prices.get(line.position, line.unit_price)})
            for line in self._lines
        ]
        if totals_of(paid_lines, inp.shipping_cost)[1] <= 0:
            # Khipu takes no payment of $0: accepting it would leave the quote stuck.
            raise ApplicationError(
                "the total to pay must be more than $0: set a price or a shipping cost",
                "shipping_cost",
                type=QUOTE_INVALID_INPUT,
                non_retryable=True,
            )

    @workflow.update
    async def reject(self, inp: RejectInput) -> QuoteState:
        self.validate_reject(inp)
        self._reason = inp.reason
        self._deadlines.respond_by = None
        self._deadlines.remind_at = None
        self._waiting_for = None
        self._record("rejected", "vendor", inp.reason, status="REJECTED")
        await self._publish("rejected")
        return self._snapshot()

    @reject.validator
    def validate_reject(self, inp: RejectInput) -> None:
        del inp
        self._refuse_unless(
            self._status == "REQUESTED", "the quote is no longer awaiting the vendor"
        )

    @workflow.update
    async def cancel(self, inp: CancelInput) -> QuoteState:
        self.validate_cancel(inp)
        was = self._status
        self._reason = inp.reason or None
        self._hold_reason = None  # the hold ends with the quote (its timeline keeps it)
        self._waiting_for = None
        self._deadlines = self._deadlines.model_copy(
            update={"respond_by": None, "remind_at": None, "pay_by": None, "ship_by": None}
        )
        if was in PAID_STATUSES or self._hold_verdict == "mismatch":
            # Mark the state first so a racing update is refused, then refund.
            self._refunding = True
            self._record("cancelling", inp.actor, inp.reason, status="CANCELLED")
            amount = await self._refund_or_hold(
                inp.reason or "cancelled",
                post_to_ledger=was in PAID_STATUSES,
                then_status="REFUNDED",
            )
            if amount is None:
                return self._snapshot()  # REFUND_HELD: an operator retries or records it
            self._record("refunded", "system", f"refunded {format_clp(amount)}", status="REFUNDED")
            await self._publish("refunded")
            return self._snapshot()
        self._record("cancelled", inp.actor, inp.reason, status="CANCELLED")
        await self._publish("cancelled")
        if self._payment is not None:
            await self._delete_payment()
        return self._snapshot()

    @cancel.validator
    def validate_cancel(self, inp: CancelInput) -> None:
        self._refuse_unless(
            self._status != "REFUND_HELD",
            "the quote's refund is held: retry it at Khipu or record it as made",
        )
        self._refuse_unless(
            self._status not in ("RETURN_REQUESTED", "RETURN_DISPUTED"),
            "the quote's return waits for a decision",
        )
        self._check_cancel(inp)

    @workflow.update
    async def start_payment(self, inp: StartPaymentInput) -> StartPaymentResult:
        self.validate_start_payment(inp)
        if self._payment is None and not self._payment_creating:
            self._payment_creating = True
            try:
                assert self._deadlines.pay_by is not None
                link = await self._steps.run(
                    "create_khipu_payment",
                    CreatePaymentInput(
                        quote_id=self._in.quote_id,
                        workflow_id=workflow.info().workflow_id,
                        quote_number=self._in.number,
                        vendor_name=self._in.vendor_name,
                        amount=self._total,
                        currency=self._in.currency,
                        expires_at=self._deadlines.pay_by,
                        payer_email=inp.payer_email or self._in.buyer_email,
                    ),
                    PaymentLink,
                    timeout=timedelta(minutes=1),
                )
                assert link is not None
                self._payment = link
                self._deadline_moved = True  # start polling Khipu now
                self._record(
                    "payment_started",
                    "buyer",
                    "Khipu payment created",
                    data={"khipu_payment_id": link.khipu_payment_id},
                )
                await self._publish(None)
            finally:
                self._payment_creating = False
        # A second caller while the first creates waits for that one payment, or for the
        # first to fail: then it fails too instead of waiting forever (which would also
        # keep the workflow from ever finishing its handlers).
        await workflow.wait_condition(
            lambda: self._payment is not None or not self._payment_creating
        )
        if self._payment is None:
            raise ApplicationError(
                "the Khipu payment could not be created; try again",
                type="PaymentNotCreated",
                non_retryable=True,
            )
        return StartPaymentResult(payment_url=self._payment.payment_url)

    @start_payment.validator
    def validate_start_payment(self, inp: StartPaymentInput) -> None:
        del inp
        self._refuse_unless(self._status == "ACCEPTED", "only an accepted quote can be paid")
        self._refuse_unless(
            self._hold_reason is None, "the payment is held for review by an operator"
        )

    @workflow.update
    async def mark_shipped(self, inp: MarkShippedInput) -> QuoteState:
        self.validate_mark_shipped(inp)
        self._carrier, self._tracking = inp.carrier, inp.tracking
        self._deadlines.ship_by = None
        self._deadlines.auto_confirm_at = workflow.now() + timedelta(
            days=self._in.policy.auto_confirm_days
        )
        self._waiting_for = "the buyer to confirm delivery"
        self._ship_overdue = False
        self._record(
            "shipped",
            "vendor",
            f"{inp.carrier} {inp.tracking}",
            status="SHIPPED",
            data={"carrier": inp.carrier, "tracking": inp.tracking},
        )
        await self._publish("shipped")
        return self._snapshot()

    @mark_shipped.validator
    def validate_mark_shipped(self, inp: MarkShippedInput) -> None:
        del inp
        self._refuse_unless(self._status == "PAID", "only a paid quote can be shipped")

    @workflow.update
    async def confirm_delivery(self, inp: ConfirmDeliveryInput) -> QuoteState:
        self.validate_confirm_delivery(inp)
        self._deliver(inp.actor, "delivery confirmed")
        await self._publish(None)
        return self._snapshot()

    @confirm_delivery.validator
    def validate_confirm_delivery(self, inp: ConfirmDeliveryInput) -> None:
        del inp
        self._refuse_unless(self._status == "SHIPPED", "the quote has not been shipped")

    @workflow.update
    async def extend_deadline(self, inp: ExtendDeadlineInput) -> QuoteState:
        self.validate_extend_deadline(inp)
        current = getattr(self._deadlines, inp.deadline)
        new = current + timedelta(hours=inp.hours)
        setattr(self._deadlines, inp.deadline, new)
        if inp.deadline == "respond_by":
            self._response_extended = self._response_extended or inp.actor == "vendor"
            remind_at = new - timedelta(hours=self._in.policy.reminder_hours_before)
            if self._deadlines.remind_at is not None:
                self._deadlines.remind_at = max(remind_at, workflow.now())
        self._deadline_moved = True
        self._record(
            "deadline_extended",
            inp.actor,
            inp.reason,
            data={"deadline": inp.deadline, "hours": inp.hours, "until": new.isoformat()},
        )
        await self._publish(None)
        return self._snapshot()

    @extend_deadline.validator
    def validate_extend_deadline(self, inp: ExtendDeadlineInput) -> None:
        current = getattr(self._deadlines, inp.deadline)
        pending = self._deadlines.next_for(self._status)
        self._refuse_unless(
            current is not None and current == pending,
            f"the {inp.deadline} deadline is not pending in state {self._status}",
        )
        if inp.actor == "vendor":
            self._refuse_unless(
                inp.deadline == "respond_by", "a vendor may only extend its time to answer"
            )
            self._refuse_unless(
                not self._response_extended, "the vendor already extended its time once"
            )
            self._refuse_unless(
                inp.hours <= self._in.policy.response_hours,
                f"at most {self._in.policy.response_hours} more hours",
            )

    @workflow.update
    async def recheck_payment(self, inp: RecheckPaymentInput) -> QuoteState:
        """Read a held payment back from Khipu: paid → PAID; still in progress → the
        buyer gets a fresh payment window; anything else stays held with the new reason."""
        self.validate_recheck_payment(inp)
        self._rechecking = True
        try:
            check = await self._check_payment()
        finally:
            self._rechecking = False
        if self._status != "ACCEPTED" or self._hold_reason is None:
            return self._snapshot()  # cancelled while Khipu answered
        if check.verdict == "paid":
            self._release_hold(inp, "Khipu now reports the payment as paid")
            await self._mark_paid()
        elif check.verdict == "pending":
            self._deadlines.pay_by = workflow.now() + timedelta(hours=self._in.policy.payment_hours)
            self._deadline_moved = True
            self._release_hold(inp, "Khipu reports the payment in progress; the window reopens")
            self._wait_for("the buyer to pay")
            await self._publish(None)
        else:
            self._hold_verdict = check.verdict
            self._hold_reason = check.reason or f"Khipu reports the payment as {check.verdict}"
            self._record(
                "payment_recheck",
                inp.actor,
                f"still held: {self._hold_reason}",
                data={"verdict": check.verdict},
            )
            await self._publish(None)
        return self._snapshot()

    @recheck_payment.validator
    def validate_recheck_payment(self, inp: RecheckPaymentInput) -> None:
        del inp
        self._refuse_unless(
            self._status == "ACCEPTED" and self._hold_reason is not None,
            "the quote's payment is not held",
        )
        self._refuse_unless(not self._rechecking, "the payment is being checked already")

    def _release_hold(self, inp: RecheckPaymentInput, message: str) -> None:
        self._hold_reason = None
        self._hold_verdict = None
        self._record("payment_released", inp.actor, message)

    # --- signal and query ----------------------------------------------------------

    @workflow.signal
    def payment_notified(self, notice: PaymentNotified) -> None:
        if self._payment and notice.khipu_payment_id == self._payment.khipu_payment_id:
            self._payment_nudged = True

    @workflow.query
    def state(self) -> QuoteState:
        return self._snapshot()

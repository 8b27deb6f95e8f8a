"""Returns and partial refunds after delivery (issue 13), part of the QuoteWorkflow.

A completed quote stays open for the return window (`DeadlinePolicy.return_days`,
setting `MARKETRED_RETURN_WINDOW_DAYS`, default 10): the buyer may ask once to return it
with a reason (RETURN_REQUESTED); the vendor approves (all that is left, or a partial
amount) or declines; a declined return is disputed (RETURN_DISPUTED) and an operator
decides it, approving an amount or closing it. Meanwhile an operator may refund any part
of what is left, with a reason. Each refund gets its own refund id: Khipu is asked under
it (`payment_refunds`, once), the ledger posts under it (once); a refusal or an unknown
outcome is a held refund (quote_refunds.py). A refund of a sale the vendor was already
paid becomes a clawback line of its next payout (the payout run decides, docs/payouts.md).

Histories recorded before this ended at COMPLETED: `RETURNS_PATCH`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas import temporal_contracts as c
    from marketred.schemas.ledger import PostRefundInput
    from marketred.schemas.money import format_clp
    from marketred.schemas.quotes import (
        QUOTE_INVALID_INPUT,
        Actor,
        DecideReturnInput,
        HeldRefund,
        OperatorRefundInput,
        QuoteState,
        QuoteStatus,
        RequestReturnInput,
    )
    from marketred.workflows.quote_refunds import QuoteRefunds, why_failed

RETURNS_PATCH = "quote-returns"
RETURN_STATUSES = ("RETURN_REQUESTED", "RETURN_DISPUTED")


class QuoteReturns(QuoteRefunds):
    @property
    def _refundable(self) -> int:
        return self._total - self.s.refunded

    async def _return_window(self) -> None:
        """After COMPLETED: wait out the return window, and any return, dispute or held
        refund it brings, before the run ends."""
        if self.s.status != "COMPLETED" or not self._steps.patched(RETURNS_PATCH):
            return
        self.s.deadlines.return_by = workflow.now() + timedelta(days=self._in.policy.return_days)
        self._wait_for("the return window to close")
        # (str(): the status changes under our feet, in update handlers, between awaits.)
        while str(self.s.status) != "REFUNDED":
            if self.s.status == "COMPLETED" and not self.s.refund_busy:
                until = self.s.deadlines.return_by
                remaining = 0.0 if until is None else (until - workflow.now()).total_seconds()
                if remaining <= 0:
                    break
                try:
                    await workflow.wait_condition(
                        lambda: self.s.status != "COMPLETED" or self.s.refund_busy,
                        timeout=remaining,
                        timeout_summary="return window",
                    )
                except TimeoutError:
                    pass
                continue
            # A return, a dispute or a refund under way or held: a person decides.
            await workflow.wait_condition(
                lambda: self.s.status in ("COMPLETED", "REFUNDED") and not self.s.refund_busy
            )
        self.s.deadlines.return_by = None
        self._wait_for(None)

    async def _partial_refund(self, amount: int, reason: str, actor: Actor) -> None:
        """Refund `amount` of the payment; COMPLETED again (REFUNDED when nothing is left),
        or REFUND_HELD when Khipu refuses or nobody can confirm it."""
        refund_id = workflow.uuid4().hex
        then: QuoteStatus = "REFUNDED" if amount >= self._refundable else "COMPLETED"
        try:
            await self._khipu_refund(amount, reason, refund_id)
        except (ActivityError, ApplicationError) as exc:
            self.s.held_refund = HeldRefund(
                refund_id=refund_id,
                amount=amount,
                reason=reason,
                post_to_ledger=True,
                then_status=then,
                done_kind="partial_refund",
                refusal=why_failed(exc),
                partial=True,
            )
            await self._hold_refund()
            return
        await self._steps.run(
            c.POST_REFUND_TO_LEDGER,
            PostRefundInput(
                quote_id=self._in.quote_id, amount=amount, reason=reason, refund_id=refund_id
            ),
        )
        self.s.refunded += amount
        self.s.waiting_for = None if then == "REFUNDED" else "the return window to close"
        self._record(
            "partial_refund",
            actor,
            f"refunded {format_clp(amount)}: {reason}",
            status=then,
            data={"amount": amount, "refund_id": refund_id, "via": "khipu"},
        )
        await self._publish("refunded")

    def _check_amount(self, amount: int | None) -> None:
        if amount is not None and not 1 <= amount <= self._refundable:
            raise ApplicationError(
                f"the amount must be between $1 and what is left to refund,"
                f" {format_clp(self._refundable)}",
                "amount",
                type=QUOTE_INVALID_INPUT,
                non_retryable=True,
            )

    # --- updates -----------------------------------------------------------------------

    @workflow.update
    async def request_return(self, inp: RequestReturnInput) -> QuoteState:
        self._refuse_unless(
            self.s.status == "COMPLETED"
            and self.s.return_reason is None
            and not self.s.refund_busy,
            "a return can be asked only once, within the return window after delivery",
        )
        self.s.return_reason = inp.reason
        self.s.waiting_for = "the vendor to decide the return"
        self._record("return_requested", "buyer", inp.reason, status="RETURN_REQUESTED")
        return await self._published("return_requested")

    @request_return.validator
    def validate_request_return(self, inp: RequestReturnInput) -> None:
        del inp
        until = self.s.deadlines.return_by
        self._refuse_unless(
            self.s.status == "COMPLETED" and until is not None and workflow.now() < until,
            "a return can be asked only within the return window after delivery",
        )
        self._refuse_unless(self.s.return_reason is None, "a return was already asked")
        self._refuse_unless(not self.s.refund_busy, "a refund is under way")
        self._refuse_unless(self._refundable > 0, "everything paid was refunded already")

    @workflow.update
    async def decide_return(self, inp: DecideReturnInput) -> QuoteState:
        self._refuse_unless(
            self.s.status in RETURN_STATUSES and not self.s.refund_busy,
            "no return waits for a decision",
        )
        if not inp.approve:
            if inp.actor == "vendor":
                self.s.waiting_for = "an operator (return disputed)"
                self._record("return_declined", "vendor", inp.note, status="RETURN_DISPUTED")
                await self._publish("return_disputed")
            else:
                self.s.waiting_for = "the return window to close"
                self._record(
                    "return_closed", "operator", inp.note or "return declined", status="COMPLETED"
                )
                await self._publish(None)
            return self._snapshot()
        amount = inp.amount or self._refundable
        self.s.refund_busy = True
        try:
            self._record("return_approved", inp.actor, inp.note, data={"amount": amount})
            await self._partial_refund(amount, f"return: {self.s.return_reason}", inp.actor)
        finally:
            self.s.refund_busy = False
        return self._snapshot()

    @decide_return.validator
    def validate_decide_return(self, inp: DecideReturnInput) -> None:
        if inp.actor == "vendor":
            self._refuse_unless(
                self.s.status == "RETURN_REQUESTED", "no return waits for the vendor"
            )
        else:
            self._refuse_unless(self.s.status in RETURN_STATUSES, "no return waits for a decision")
        self._refuse_unless(not self.s.refund_busy, "a refund is under way")
        if inp.approve:
            self._check_amount(inp.amount)

    @workflow.update
    async def refund(self, inp: OperatorRefundInput) -> QuoteState:
        """Operators: refund part (or all that is left) of a completed quote."""
        self._refuse_unless(
            self.s.status == "COMPLETED" and not self.s.refund_busy, "a refund is under way"
        )
        self.s.refund_busy = True
        try:
            await self._partial_refund(inp.amount, inp.reason, "operator")
        finally:
            self.s.refund_busy = False
        return self._snapshot()

    @refund.validator
    def validate_refund(self, inp: OperatorRefundInput) -> None:
        self._refuse_unless(
            self.s.status == "COMPLETED" and self.s.deadlines.return_by is not None,
            "a partial refund is possible once the quote is completed, until its return"
            " window closes (before that, cancel with a full refund)",
        )
        self._refuse_unless(not self.s.refund_busy, "a refund is under way")
        self._check_amount(inp.amount)

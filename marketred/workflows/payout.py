"""Payout workflows (docs/payouts.md). Deterministic: temporalio, stdlib and schemas only.

`PayoutWorkflow` is one payout run (schedule, API, CLI): per vendor with unpaid ledger
rows it asks `create_vendor_payout` for a PENDING_APPROVAL payout (idempotent by the
payout's workflow id, derived from this run's id) and starts that payout's
`VendorPayoutWorkflow`, which outlives the run (parent close policy ABANDON).

`VendorPayoutWorkflow` waits for an operator's `approve` or `reject` update, then
transfers through the PayoutProvider (idempotency key = payout id). It marks PAID (with
the ledger rows) and mails the vendor its statement only once the money is known to have
left: the provider confirmed it, or an operator confirms a bank file's transfer
(SUBMITTED) or a HELD one (outcome unknown) with the bank's reference. A transfer nobody
can confirm is HELD, never failed-and-released; an operator who checked with the bank
that it was not executed releases it (FAILED, quotes back to the next run).

Versioning: `PATCH_VISIBLE` (status search attribute from the start) and `PATCH_HOLDS`
(the transfer with held and submitted outcomes) guard the commands this design added;
histories recorded before replay through `_transfer_first_design`, kept as it was.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy, UpdateMethodMultiParam

with workflow.unsafe.imports_passed_through():
    from marketred.schemas.payouts import (
        CONFIRMABLE_HOLDS,
        ApprovePayoutInput,
        ConfirmTransferInput,
        CreateVendorPayoutInput,
        CreateVendorPayoutResult,
        HoldCode,
        HoldPayoutInput,
        MarkPayoutFailedInput,
        MarkPayoutPaidInput,
        PayoutDecisionResult,
        PayoutIdInput,
        PayoutRunInput,
        PayoutRunResult,
        PayoutStatus,
        PayoutSummary,
        RecordApprovalInput,
        RecordRejectionInput,
        RejectPayoutInput,
        ReleaseTransferInput,
        RetryTransferInput,
        StatementResult,
        TransferReceipt,
        VendorIdList,
        VendorPayoutInput,
        VendorPayoutResult,
        VendorPayoutState,
    )
    from marketred.schemas.search_attributes import PAYOUT_STATUS

T = TypeVar("T")
Update = TypeVar("Update", bound=UpdateMethodMultiParam[Any, Any])

PATCH_VISIBLE = "payout-status-search-attribute"
PATCH_HOLDS = "payout-held-transfers"


async def db_step(activity: str, arg: Any, result_type: type[T]) -> T:
    """A database step: quick, idempotent, retried until the database answers."""
    args = [] if arg is None else [arg]
    result: T = await workflow.execute_activity(
        activity,
        args=args,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_interval=timedelta(seconds=30),
            non_retryable_error_types=["Conflict", "InvalidInput"],
        ),
    )
    return result


def allowed_in(
    *statuses: PayoutStatus, holds: tuple[HoldCode, ...] = ()
) -> Callable[[Update], Update]:
    """An operator decision possible only in `statuses` (when HELD, only for `holds` if
    given): gives the update below it the validator that refuses it otherwise, before
    anything is written to the history (VendorPayoutWorkflow._refuse_unless)."""

    def with_validator(update: Update) -> Update:
        # `wraps` lends the validator the update's parameters: Temporal requires the same.
        @functools.wraps(update, assigned=(), updated=())
        def validate(self: VendorPayoutWorkflow, *args: object) -> None:
            del args
            self._refuse_unless(*statuses, holds=holds)

        update.validator(validate)
        return update

    return with_validator


def payout_workflow_id(vendor_id: str, run_workflow_id: str) -> str:
    """Stable per (run, vendor), short enough for the column whatever the run's id."""
    digest = hashlib.sha256(run_workflow_id.encode()).hexdigest()[:16]
    return f"payout-{vendor_id}-{digest}"


@workflow.defn(name="PayoutWorkflow")
class PayoutWorkflow:
    @workflow.run
    async def run(self, inp: PayoutRunInput) -> PayoutRunResult:
        run_id = workflow.info().workflow_id
        vendors = await db_step("list_vendors_to_pay", None, VendorIdList)
        created: list[PayoutSummary] = []
        for vendor_id in vendors.vendor_ids:
            payout_wf_id = payout_workflow_id(str(vendor_id), run_id)
            made = await db_step(
                "create_vendor_payout",
                CreateVendorPayoutInput(
                    vendor_id=vendor_id, workflow_id=payout_wf_id, run_workflow_id=run_id
                ),
                CreateVendorPayoutResult,
            )
            if made.payout is None:
                continue
            await workflow.start_child_workflow(
                VendorPayoutWorkflow.run,
                VendorPayoutInput(
                    payout_id=made.payout.payout_id, transfer_attempts=inp.transfer_attempts
                ),
                id=payout_wf_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=(
                    f"Payout {made.payout.vendor_slug}: net {made.payout.net} CLP "
                    f"({made.payout.items} items)"
                ),
            )
            created.append(made.payout)
        workflow.logger.info("payout run %s (%s): %d payouts", run_id, inp.trigger, len(created))
        return PayoutRunResult(workflow_id=run_id, payouts=created)


@workflow.defn(name="VendorPayoutWorkflow")
class VendorPayoutWorkflow:
    @workflow.init
    def __init__(self, inp: VendorPayoutInput) -> None:
        # Set before any update can run, so a decision always knows its payout.
        self._payout_id: uuid.UUID = inp.payout_id
        self._status: PayoutStatus = "PENDING_APPROVAL"
        self._deciding = False
        self._reason: str | None = None
        self._hold_code: HoldCode | None = None
        # Bank details were added (signal) or an operator asked: a payout held for
        # missing bank details tries again.
        self._retry = False
        self._visible = False
        self._provider_ref: str | None = None

    @workflow.run
    async def run(self, inp: VendorPayoutInput) -> VendorPayoutResult:
        self._visible = workflow.patched(PATCH_VISIBLE)
        self._publish()
        await workflow.wait_condition(
            lambda: self._status != "PENDING_APPROVAL" and not self._deciding
        )
        self._publish()
        if self._status == "REJECTED":
            await workflow.wait_condition(workflow.all_handlers_finished)
            return VendorPayoutResult(
                payout_id=inp.payout_id, status="REJECTED", reason=self._reason
            )
        if not workflow.patched(PATCH_HOLDS):
            return await self._transfer_first_design(inp)
        self._visible = True
        return await self._transfer(inp)

    # --- the transfer ----------------------------------------------------------------

    async def _transfer(self, inp: VendorPayoutInput) -> VendorPayoutResult:
        """Transfer until the money is known to have left (PAID) or an operator says it
        was not executed (FAILED); in between it waits SUBMITTED or HELD for a person."""
        while True:
            self._retry = False
            receipt = await self._attempt_transfer(inp)
            if receipt.outcome == "confirmed":
                await self._mark_paid(inp, receipt)
                break
            self._status = "SUBMITTED" if receipt.outcome == "submitted" else "HELD"
            self._hold_code, self._reason = receipt.hold_code, receipt.detail
            self._publish()
            # A person decides (confirm_transfer → PAID, release_transfer → FAILED), or a
            # payout held for missing bank details tries again once they are there.
            await workflow.wait_condition(lambda: self._decided() and not self._deciding)
            if self._status in ("PAID", "FAILED"):
                break
            self._status, self._hold_code, self._reason = "APPROVED", None, None
            self._publish()
        self._publish()
        if self._is_failed():
            await workflow.wait_condition(workflow.all_handlers_finished)
            return VendorPayoutResult(payout_id=inp.payout_id, status="FAILED", reason=self._reason)
        await self._send_statement(inp)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return VendorPayoutResult(
            payout_id=inp.payout_id, status="PAID", provider_ref=self._provider_ref
        )

    def _decided(self) -> bool:
        retry = self._retry and self._hold_code == "missing_bank_details"
        return self._status in ("PAID", "FAILED") or retry

    def _is_failed(self) -> bool:  # read after handlers may have changed the status
        return self._status == "FAILED"

    async def _attempt_transfer(self, inp: VendorPayoutInput) -> TransferReceipt:
        """The transfer step, retried while it certainly sent nothing. When retries run
        out, or the step fails in a way it cannot explain, nobody can vouch for the
        outcome: the payout is held, never released."""
        try:
            receipt = await self._transfer_payout(
                inp,
                first=timedelta(seconds=5),
                most=timedelta(minutes=2),
                attempts=inp.transfer_attempts,
            )
        except ActivityError as exc:
            code: HoldCode = "transfer_failed"
            reason = (
                f"the transfer step failed and its outcome cannot be confirmed "
                f"({exc.cause or exc}); check with the bank"
            )
            await db_step(
                "hold_payout",
                HoldPayoutInput(payout_id=inp.payout_id, code=code, reason=reason),
                PayoutDecisionResult,
            )
            return TransferReceipt(outcome="held", hold_code=code, detail=reason)
        self._provider_ref = receipt.provider_ref
        return receipt

    async def _transfer_payout(
        self, inp: VendorPayoutInput, *, first: timedelta, most: timedelta, attempts: int
    ) -> TransferReceipt:
        """The provider's transfer (idempotency key = payout id), retried `attempts` times
        backing off from `first` to `most`."""
        receipt: TransferReceipt = await workflow.execute_activity(
            "transfer_payout",
            PayoutIdInput(payout_id=inp.payout_id),
            result_type=TransferReceipt,
            start_to_close_timeout=timedelta(minutes=10),
            # A dead worker is noticed by its missing heartbeats, not after 10 minutes.
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                initial_interval=first,
                maximum_interval=most,
                maximum_attempts=attempts,
                non_retryable_error_types=["Conflict", "NotFound"],
            ),
        )
        return receipt

    async def _mark_paid(self, inp: VendorPayoutInput, receipt: TransferReceipt) -> None:
        """The provider confirmed the transfer: PAID, with the ledger rows."""
        assert receipt.provider_ref is not None
        await db_step(
            "mark_payout_paid",
            MarkPayoutPaidInput(payout_id=inp.payout_id, provider_ref=receipt.provider_ref),
            PayoutDecisionResult,
        )
        self._status = "PAID"

    async def _send_statement(self, inp: VendorPayoutInput) -> None:
        try:
            await workflow.execute_activity(
                "send_payout_statement",
                PayoutIdInput(payout_id=inp.payout_id),
                result_type=StatementResult,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(
                    maximum_attempts=10, maximum_interval=timedelta(minutes=5)
                ),
            )
        except ActivityError:
            # The money moved and the ledger is posted; a lost mail must not undo that.
            workflow.logger.warning("payout %s: statement mail could not be sent", inp.payout_id)

    async def _transfer_first_design(self, inp: VendorPayoutInput) -> VendorPayoutResult:
        """The first design's transfer (its retries and outcomes unchanged), for histories
        that reached it before PATCH_HOLDS (any failure marked the payout FAILED and
        released it)."""
        try:
            receipt = await self._transfer_payout(
                inp, first=timedelta(seconds=2), most=timedelta(minutes=5), attempts=20
            )
        except ActivityError as exc:
            reason = str(exc.cause or exc)
            await db_step(
                "mark_payout_failed",
                MarkPayoutFailedInput(payout_id=inp.payout_id, reason=reason),
                PayoutDecisionResult,
            )
            self._status = "FAILED"
            return VendorPayoutResult(payout_id=inp.payout_id, status="FAILED", reason=reason)
        await self._mark_paid(inp, receipt)
        await self._send_statement(inp)
        return VendorPayoutResult(
            payout_id=inp.payout_id, status="PAID", provider_ref=receipt.provider_ref
        )

    # --- what operators see -------------------------------------------------------------

    def _publish(self) -> None:
        """The status as a search attribute (`PayoutStatus = "HELD"` in the Temporal UI
        lists the payouts waiting for a person) and, in the workflow's details, why."""
        if not self._visible:
            return
        workflow.upsert_search_attributes([PAYOUT_STATUS.value_set(self._status)])
        details = f"**{self._status}**"
        if self._hold_code or (self._reason and self._status in ("HELD", "FAILED")):
            details += f" ({self._hold_code or 'reason'}): {self._reason or ''}"
        workflow.set_current_details(details)

    @workflow.query
    def state(self) -> VendorPayoutState:
        return VendorPayoutState(
            payout_id=self._payout_id,
            status=self._status,
            hold_code=self._hold_code,
            reason=self._reason,
        )

    # --- operator decisions ---------------------------------------------------------------

    def _refuse_unless(self, *statuses: PayoutStatus, holds: tuple[HoldCode, ...] = ()) -> None:
        allowed = self._status in statuses and (
            self._status != "HELD" or not holds or self._hold_code in holds
        )
        if self._deciding or not allowed:
            what = self._status.lower().replace("_", " ")
            if self._hold_code:
                what += f" ({self._hold_code.replace('_', ' ')})"
            raise ApplicationError(f"payout is {what}; not possible now", type="PayoutDecided")

    async def _decide(
        self, activity: str, arg: object, decided: PayoutStatus
    ) -> PayoutDecisionResult:
        self._deciding = True  # a second update now fails its validator at once
        try:
            result = await db_step(activity, arg, PayoutDecisionResult)
        except ActivityError as exc:
            raise ApplicationError(str(exc.cause or exc), type="PayoutDecisionFailed") from exc
        finally:
            self._deciding = False
        self._status = decided
        return result

    @allowed_in("PENDING_APPROVAL")
    @workflow.update
    async def approve(self, inp: ApprovePayoutInput) -> PayoutDecisionResult:
        return await self._decide(
            "record_payout_approval",
            RecordApprovalInput(payout_id=self._payout_id, approved_by=inp.approved_by),
            "APPROVED",
        )

    @allowed_in("PENDING_APPROVAL")
    @workflow.update
    async def reject(self, inp: RejectPayoutInput) -> PayoutDecisionResult:
        self._reason = inp.reason
        return await self._decide(
            "record_payout_rejection",
            RecordRejectionInput(payout_id=self._payout_id, reason=inp.reason),
            "REJECTED",
        )

    @allowed_in("SUBMITTED", "HELD", holds=CONFIRMABLE_HOLDS)
    @workflow.update
    async def confirm_transfer(self, inp: ConfirmTransferInput) -> PayoutDecisionResult:
        """An operator saw the money leave (bank statement, bank file executed): PAID with
        the bank's reference; the ledger posts and the vendor is mailed once."""
        self._provider_ref = inp.reference
        return await self._decide(
            "mark_payout_paid",
            MarkPayoutPaidInput(
                payout_id=self._payout_id,
                provider_ref=inp.reference,
                confirmed_by=inp.confirmed_by,
            ),
            "PAID",
        )

    @allowed_in("SUBMITTED", "HELD")
    @workflow.update
    async def release_transfer(self, inp: ReleaseTransferInput) -> PayoutDecisionResult:
        """An operator checked that the transfer was not executed: FAILED, and its quotes
        go back to the next payout run."""
        self._reason = inp.reason
        return await self._decide(
            "mark_payout_failed",
            MarkPayoutFailedInput(
                payout_id=self._payout_id, reason=inp.reason, released_by=inp.released_by
            ),
            "FAILED",
        )

    @allowed_in("HELD", holds=("missing_bank_details",))
    @workflow.update
    async def retry_transfer(self, inp: RetryTransferInput) -> VendorPayoutState:
        """Try a payout held for missing bank details again (the vendor added them)."""
        del inp
        self._retry = True
        return self.state()

    @workflow.signal
    def bank_details_added(self) -> None:
        """Sent when the vendor's staff save a bank account: a payout waiting for one goes
        on (also when the signal lands while the step that found none is still running)."""
        if self._status in ("APPROVED", "HELD"):
            self._retry = True

"""Payout activities: thin adapters from the payout workflows to services/payouts/steps.py.

Idempotency: the payout row is unique per workflow id; decisions, holds and PAID are
state checks under a row lock; the transfer records that it reached the provider before
asking it (services/payouts/transfers.py) and carries the payout id as idempotency key;
the payout's ledger rows have unique keys; the statement is marked once sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from marketred import metrics
from marketred.activities.ledger import business_failure
from marketred.integrations.mail import Mailer, OutgoingMail
from marketred.logs import get_logger
from marketred.schemas.money import format_clp
from marketred.schemas.payouts import (
    CreateVendorPayoutInput,
    CreateVendorPayoutResult,
    HoldPayoutInput,
    MarkPayoutFailedInput,
    MarkPayoutPaidInput,
    PayoutDecisionResult,
    PayoutIdInput,
    RecordApprovalInput,
    RecordRejectionInput,
    StatementResult,
    TransferReceipt,
    VendorIdList,
)
from marketred.services.errors import DomainError, NotFound
from marketred.services.payouts import steps as payouts
from marketred.services.payouts import transfers as payout_transfers
from marketred.services.payouts.providers import TransferNotSent, provider_for
from marketred.services.payouts.report import render_statement
from marketred.services.quotes.notifications import MARK_WAIT_S
from marketred.services.vendors import registry as vendors
from marketred.settings import Settings
from marketred.store.session import transaction, waiting_out_outages

log = get_logger(__name__)
T = TypeVar("T")


class PayoutActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, mailer: Mailer
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._mailer = mailer

    async def _in_transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run one service call in its own transaction; a domain refusal is a business
        failure the workflow sees at once (not retried)."""
        try:
            async with transaction(self._sessions) as session:
                return await work(session)
        except DomainError as exc:
            raise business_failure(exc) from exc

    @activity.defn(name="list_vendors_to_pay")
    async def list_vendors_to_pay(self) -> VendorIdList:
        async with transaction(self._sessions) as session:
            vendor_ids = await payouts.vendors_to_pay(session)
        metrics.PAYOUT_RUNS.inc()
        return VendorIdList(vendor_ids=vendor_ids)

    @activity.defn(name="create_vendor_payout")
    async def create_vendor_payout(self, inp: CreateVendorPayoutInput) -> CreateVendorPayoutResult:
        made = await self._in_transaction(
            lambda session: payouts.create_vendor_payout(
                session, inp.vendor_id, inp.workflow_id, inp.run_workflow_id
            )
        )
        return CreateVendorPayoutResult(payout=made)

    @activity.defn(name="record_payout_approval")
    async def record_payout_approval(self, inp: RecordApprovalInput) -> PayoutDecisionResult:
        status = await self._in_transaction(
            lambda session: payouts.approve(session, inp.payout_id, inp.approved_by)
        )
        return PayoutDecisionResult(payout_id=inp.payout_id, status=status)

    @activity.defn(name="record_payout_rejection")
    async def record_payout_rejection(self, inp: RecordRejectionInput) -> PayoutDecisionResult:
        status = await self._in_transaction(
            lambda session: payouts.reject(session, inp.payout_id, inp.reason)
        )
        return PayoutDecisionResult(payout_id=inp.payout_id, status=status)

    @activity.defn(name="transfer_payout")
    async def transfer_payout(self, inp: PayoutIdInput) -> TransferReceipt:
        """One attempt of the payout's transfer (see services/payouts/transfers.py). Raises
        a retryable error only when nothing was sent; every uncertain outcome comes back
        as a held receipt."""
        provider = provider_for(self._settings, self._sessions, activity.heartbeat)
        start = await self._in_transaction(
            lambda session: payout_transfers.begin_transfer(
                session, inp.payout_id, repeat_safe=provider.repeat_safe
            )
        )
        if start.receipt is not None:
            return start.receipt
        assert start.request is not None
        try:
            result = await provider.transfer(start.request)
        except TransferNotSent as exc:
            await self._in_transaction(
                lambda session: payout_transfers.transfer_not_sent(session, inp.payout_id)
            )
            raise ApplicationError(f"nothing was sent: {exc}", type="TransferNotSent") from exc
        except Exception as exc:  # TransferUncertain, or anything we cannot read
            detail = f"{type(exc).__name__}: {exc}"
            log.warning("payout transfer uncertain", payout=str(inp.payout_id), error=detail)
            return await self._in_transaction(
                lambda session: payout_transfers.transfer_uncertain(session, inp.payout_id, detail)
            )
        return await self._in_transaction(
            lambda session: payout_transfers.finish_transfer(session, inp.payout_id, result)
        )

    @activity.defn(name="mark_payout_paid")
    async def mark_payout_paid(self, inp: MarkPayoutPaidInput) -> PayoutDecisionResult:
        status = await self._in_transaction(
            lambda session: payouts.mark_paid(
                session, inp.payout_id, inp.provider_ref, inp.confirmed_by
            )
        )
        return PayoutDecisionResult(payout_id=inp.payout_id, status=status)

    @activity.defn(name="mark_payout_failed")
    async def mark_payout_failed(self, inp: MarkPayoutFailedInput) -> PayoutDecisionResult:
        status = await self._in_transaction(
            lambda session: payouts.mark_failed(session, inp.payout_id, inp.reason, inp.released_by)
        )
        return PayoutDecisionResult(payout_id=inp.payout_id, status=status)

    @activity.defn(name="hold_payout")
    async def hold_payout(self, inp: HoldPayoutInput) -> PayoutDecisionResult:
        status = await self._in_transaction(
            lambda session: payouts.hold(session, inp.payout_id, inp.code, inp.reason)
        )
        return PayoutDecisionResult(payout_id=inp.payout_id, status=status)

    @activity.defn(name="send_payout_statement")
    async def send_payout_statement(self, inp: PayoutIdInput) -> StatementResult:
        """Read and render in one transaction, send with none open, then mark the
        statement sent, waiting out a short database outage (so a PostgreSQL restart
        right after the mail server took it does not send it again). Only a worker that
        dies between the two sends it once more, with the same Message-ID."""
        async with transaction(self._sessions) as session:
            try:
                payout, vendor = await payouts.with_vendor(session, inp.payout_id)
            except NotFound as exc:
                raise business_failure(exc) from exc
            to = await vendors.vendor_mail_address(session, vendor)
            if payout.statement_sent_at is not None or to is None:
                if to is None:
                    log.warning(
                        "payout statement not sent: vendor has no address", vendor=vendor.slug
                    )
                return StatementResult(sent=payout.statement_sent_at is not None, to=to)
            lines = await payouts.report_lines(session, payout.id)
            mail = OutgoingMail(
                to=to,
                subject=f"MarketRed: te pagamos {format_clp(payout.net)}",
                text=render_statement(vendor.name, payout.paid_at, lines),
                message_key=f"payout-{payout.id}:statement",
            )
        await self._mailer.send(mail)

        async def mark() -> None:
            async with transaction(self._sessions) as session:
                await payouts.mark_statement_sent(session, inp.payout_id, datetime.now(UTC))

        await waiting_out_outages(mark, within=MARK_WAIT_S)
        return StatementResult(sent=True, to=to)

"""Khipu payment activities of the quote workflow (names in marketred.schemas.temporal_contracts).

Adapters over marketred.services.payments and payment_refunds that own the transactions
of a money call: what must be durable before Khipu is called (the payment row, a refund's
`sending` row) is committed first, and Khipu's answer is committed after, also when the
call failed (docs/architecture.md, "Transactions"). Uncertain Khipu answers (timeouts, 5xx,
connection failures) are raised as they are, so Temporal retries; business failures are
non-retryable ApplicationErrors the workflow turns into an operator hold.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from marketred.integrations.khipu import KhipuClient
from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.payments import (
    CheckPaymentInput,
    CreatePaymentInput,
    PaymentCheck,
    PaymentLink,
    PollPaymentInput,
    RefundInput,
    RefundResult,
)
from marketred.services.payments import quote_payment as payments
from marketred.services.payments import refunds as payment_refunds
from marketred.services.payments.quote_payment import PaymentFailure
from marketred.store.session import transaction

T = TypeVar("T")


async def create_payment(
    sessions: async_sessionmaker[AsyncSession],
    khipu: KhipuClient,
    *,
    public_url: str,
    inp: CreatePaymentInput,
) -> PaymentLink:
    """The quote's Khipu payment link, creating the payment the first time only."""
    async with transaction(sessions) as session:  # the row, before Khipu is called
        await payments.record_payment(session, inp)
    async with sessions() as session:
        try:
            return await payments.create_at_khipu(session, khipu, public_url=public_url, inp=inp)
        finally:
            await session.commit()  # Khipu's answer, or its error


async def refund_payment(
    sessions: async_sessionmaker[AsyncSession], khipu: KhipuClient, inp: RefundInput
) -> RefundResult:
    """The full refund, once: its outcome (or error) is committed either way."""
    async with sessions() as session:
        try:
            return await payments.refund_payment(session, khipu, inp)
        finally:
            await session.commit()


async def refund_part(
    sessions: async_sessionmaker[AsyncSession], khipu: KhipuClient, inp: RefundInput
) -> RefundResult:
    """A partial refund, once: `sending` is committed before Khipu is called, Khipu's
    answer after (services/payments/refunds.py)."""
    async with sessions() as session:
        marked = await payment_refunds.mark_sending(session, inp)
        if isinstance(marked, RefundResult):
            return marked
        await session.commit()
        try:
            return await payment_refunds.send(khipu, marked, inp)
        finally:
            await session.commit()


async def _business(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except PaymentFailure as exc:
        raise ApplicationError(str(exc), type=exc.kind, non_retryable=True) from exc


class PaymentActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        khipu: KhipuClient,
        *,
        public_url: str,
        receiver_id: int,
    ) -> None:
        self._sessions = sessions
        self._khipu = khipu
        self._public_url = public_url
        self._receiver_id = receiver_id

    @activity.defn(name=contracts.CREATE_KHIPU_PAYMENT.name)
    async def create_khipu_payment(self, inp: CreatePaymentInput) -> PaymentLink:
        return await _business(
            lambda: create_payment(
                self._sessions, self._khipu, public_url=self._public_url, inp=inp
            )
        )

    @activity.defn(name=contracts.CHECK_KHIPU_PAYMENT.name)
    async def check_khipu_payment(self, inp: CheckPaymentInput) -> PaymentCheck:
        async with self._sessions() as session:
            check = await payments.check_payment(
                session, self._khipu, receiver_id=self._receiver_id, inp=inp
            )
            await session.commit()
            return check

    @activity.defn(name=contracts.POLL_KHIPU_PAYMENT.name)
    async def poll_khipu_payment(self, inp: PollPaymentInput) -> PaymentCheck:
        """One read of a poll: "still pending" is a retryable failure, so Temporal
        retries it with the workflow's backoff and the history stays the same size."""
        check = await self.check_khipu_payment(inp.check)
        if check.verdict in inp.wait_while:
            raise ApplicationError(
                f"Khipu reports the payment as {check.verdict}",
                type="PaymentPending",
                # An expected answer, not an error: no warning per poll in the logs.
                category=ApplicationErrorCategory.BENIGN,
            )
        return check

    @activity.defn(name=contracts.DELETE_KHIPU_PAYMENT.name)
    async def delete_khipu_payment(self, inp: CheckPaymentInput) -> None:
        async with self._sessions() as session:
            await payments.delete_payment(session, self._khipu, inp)
            await session.commit()

    @activity.defn(name=contracts.REFUND_KHIPU_PAYMENT.name)
    async def refund_khipu_payment(self, inp: RefundInput) -> RefundResult:
        if inp.refund_id is not None:
            return await _business(lambda: refund_part(self._sessions, self._khipu, inp))
        return await _business(lambda: refund_payment(self._sessions, self._khipu, inp))

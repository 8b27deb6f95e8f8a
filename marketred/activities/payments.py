"""Khipu payment activities of the quote workflow (names in marketred.schemas.temporal_contracts).

Thin adapters over marketred.services.payments. Uncertain Khipu answers (timeouts, 5xx,
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
from marketred.services import payments
from marketred.services.payments import PaymentFailure

T = TypeVar("T")


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
            lambda: payments.create_payment(
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
        return await _business(lambda: payments.refund_payment(self._sessions, self._khipu, inp))

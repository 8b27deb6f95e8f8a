"""Khipu payment activities of the quote workflow (names in marketred.schemas.payments).

Thin adapters over marketred.services.payments. Uncertain Khipu answers (timeouts, 5xx,
connection failures) are raised as they are, so Temporal retries; business failures are
non-retryable ApplicationErrors the workflow turns into an operator hold.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from marketred.integrations.khipu import KhipuClient
from marketred.schemas.payments import (
    CheckPaymentInput,
    CreatePaymentInput,
    PaymentCheck,
    PaymentLink,
    RefundInput,
    RefundResult,
)
from marketred.services import payment_refunds, payments
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

    @activity.defn(name="create_khipu_payment")
    async def create_khipu_payment(self, inp: CreatePaymentInput) -> PaymentLink:
        return await _business(
            lambda: payments.create_payment(
                self._sessions, self._khipu, public_url=self._public_url, inp=inp
            )
        )

    @activity.defn(name="check_khipu_payment")
    async def check_khipu_payment(self, inp: CheckPaymentInput) -> PaymentCheck:
        async with self._sessions() as session:
            check = await payments.check_payment(
                session, self._khipu, receiver_id=self._receiver_id, inp=inp
            )
            await session.commit()
            return check

    @activity.defn(name="delete_khipu_payment")
    async def delete_khipu_payment(self, inp: CheckPaymentInput) -> None:
        async with self._sessions() as session:
            await payments.delete_payment(session, self._khipu, inp)
            await session.commit()

    @activity.defn(name="refund_khipu_payment")
    async def refund_khipu_payment(self, inp: RefundInput) -> RefundResult:
        if inp.refund_id is not None:
            return await _business(
                lambda: payment_refunds.refund_part(self._sessions, self._khipu, inp)
            )
        return await _business(lambda: payments.refund_payment(self._sessions, self._khipu, inp))

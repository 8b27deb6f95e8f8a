"""Ledger activities called by the quote workflow (contract: marketred/schemas/ledger.py).

Each posting is idempotent through its unique ledger keys, so a retry posts nothing new.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.ledger import PostRefundInput, PostRefundResult, PostSaleInput
from marketred.services.errors import Conflict, DomainError, InvalidInput
from marketred.services.ledger import postings as ledger
from marketred.store.session import transaction


def business_failure(exc: DomainError) -> ApplicationError:
    """Conflicts and bad input will not heal by retrying; a missing row might (a
    projection that has not committed yet), so NotFound stays retryable."""
    return ApplicationError(
        exc.detail,
        type=type(exc).__name__,
        non_retryable=isinstance(exc, Conflict | InvalidInput),
    )


class LedgerActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=contracts.POST_SALE_TO_LEDGER.name)
    async def post_sale_to_ledger(self, inp: PostSaleInput) -> None:
        try:
            async with transaction(self._sessions) as session:
                await ledger.post_sale(session, inp.quote_id)
        except DomainError as exc:
            raise business_failure(exc) from exc

    @activity.defn(name=contracts.POST_REFUND_TO_LEDGER.name)
    async def post_refund_to_ledger(self, inp: PostRefundInput) -> PostRefundResult:
        try:
            async with transaction(self._sessions) as session:
                posted = await ledger.post_refund(
                    session, inp.quote_id, inp.amount, inp.reason, refund_id=inp.refund_id
                )
        except DomainError as exc:
            raise business_failure(exc) from exc
        return PostRefundResult(
            txn_id=posted.txn_id,
            posted=posted.inserted > 0,
            refunded_total=posted.refunded_total,
            refundable=posted.refundable,
            before_sale=posted.before_sale,
        )

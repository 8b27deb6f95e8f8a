"""Quote actions: each checks who may act, then sends one update to the workflow.

The workflow's validator decides whether the action fits the quote's state; a refusal
is a 409 with its reason ("the quote is no longer awaiting the vendor"), or a 422 on the
field when the input itself cannot work (an accepted total of 0).

Every action takes the caller's request key (the API's Idempotency-Key, the web form's
nonce): the update id derives from it, so the same request sent twice is one update.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from marketred.schemas import temporal_contracts as c
from marketred.schemas.accounts import Principal
from marketred.schemas.quotes import (
    AcceptInput,
    AcceptQuote,
    CancelInput,
    CancelQuote,
    ConfirmDeliveryInput,
    DecideReturnInput,
    ExtendDeadlineBody,
    ExtendDeadlineInput,
    MarkShippedInput,
    OperatorRefundInput,
    QuoteOut,
    RecheckPaymentInput,
    RecordRefundBody,
    RecordRefundInput,
    RefundBody,
    RejectInput,
    RejectQuote,
    RequestReturnInput,
    RetryNowInput,
    RetryRefundInput,
    ReturnDecisionBody,
    ReturnRequestBody,
    ShipQuote,
    StartPaymentInput,
    StartPaymentResult,
)
from marketred.services import idempotency, quote_starts, stock, workflow_errors
from marketred.services.quotes_access import quote_for
from marketred.services.quotes_queries import get_quote

R = TypeVar("R", bound=BaseModel)


VENDOR_DECISION_CLOSED = "the quote is no longer awaiting the vendor"


async def _update(
    session: AsyncSession,
    temporal: Client,
    workflow_id: str,
    update: c.Update[Any, R],
    arg: BaseModel,
    *,
    when_closed: str = "the quote has already ended",
    quote_id: uuid.UUID,
    key: str | None = None,
) -> R:
    handle = temporal.get_workflow_handle(workflow_id)
    update_id = idempotency.update_id(update.name, quote_id, key)

    async def send() -> Any:
        return await handle.execute_update(
            update.name, arg, id=update_id, result_type=update.output
        )

    try:
        try:
            result: Any = await send()
        except RPCError as exc:
            # Temporal does not know the workflow: ended, or not started yet (the quote
            # was just committed and its start is on its way). Start it, then act.
            if exc.status != RPCStatusCode.NOT_FOUND or not await quote_starts.start_if_pending(
                session, temporal, quote_id
            ):
                raise
            result = await send()
    except WorkflowUpdateFailedError as exc:
        raise workflow_errors.update_failed(exc) from exc
    except RPCError as exc:
        raise workflow_errors.engine_failed(exc, when_closed=when_closed) from exc
    assert isinstance(result, update.output)
    return result


async def accept_quote(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: AcceptQuote,
    key: str | None = None,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "accept")
    # Only a quote selling tracked stock reserves it (others keep the path without it).
    reserve = await stock.quote_tracks_stock(session, quote_id)
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.ACCEPT,
        AcceptInput(**body.model_dump(), reserve_stock=reserve),
        when_closed=VENDOR_DECISION_CLOSED,
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def reject_quote(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: RejectQuote,
    key: str | None = None,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "reject")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.REJECT,
        RejectInput(reason=body.reason),
        when_closed=VENDOR_DECISION_CLOSED,
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def cancel_quote(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: CancelQuote,
    key: str | None = None,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "cancel")
    actor = "operator" if who.is_operator else "buyer"
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.CANCEL,
        CancelInput(
            actor=actor,
            reason=body.reason,
            # Buyers cancel what they saw; operators cancel whatever the state.
            expected_status=None if who.is_operator else quote.status,
            by_user=who.user_id,
        ),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def start_payment(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> StartPaymentResult:
    quote = await quote_for(session, who, quote_id, "pay")
    return await _update(
        session,
        temporal,
        quote.workflow_id,
        c.START_PAYMENT,
        StartPaymentInput(payer_email=who.email or None, buyer_id=who.user_id),
        quote_id=quote_id,
        key=key,
    )


async def ship_quote(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: ShipQuote,
    key: str | None = None,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "ship")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.MARK_SHIPPED,
        MarkShippedInput(carrier=body.carrier, tracking=body.tracking),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def confirm_delivery(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "deliver")
    actor = "operator" if who.is_operator else "buyer"
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.CONFIRM_DELIVERY,
        ConfirmDeliveryInput(actor=actor),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def extend_deadline(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: ExtendDeadlineBody,
    key: str | None = None,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "extend")
    actor = "operator" if who.is_operator else "vendor"
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.EXTEND_DEADLINE,
        ExtendDeadlineInput(
            actor=actor,
            deadline=body.deadline,
            hours=body.hours,
            reason=body.reason,
            by_user=who.user_id,
        ),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def recheck_payment(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> QuoteOut:
    """Operators: read a held payment back from Khipu (after Khipu fixed it, or to see
    whether the buyer's bank finished); the workflow releases or keeps the hold."""
    quote = await quote_for(session, who, quote_id, "recheck_payment")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.RECHECK_PAYMENT,
        RecheckPaymentInput(by_user=who.user_id),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def retry_now(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> QuoteOut:
    """Operators: restart the step a quote waits on now instead of after its backoff."""
    quote = await quote_for(session, who, quote_id, "retry_now")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.RETRY_NOW,
        RetryNowInput(by_user=who.user_id),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def retry_refund(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> QuoteOut:
    """Operators: ask Khipu again for a refund held (REFUND_HELD); it stays held with
    Khipu's new answer if it still refuses."""
    quote = await quote_for(session, who, quote_id, "retry_refund")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.RETRY_REFUND,
        RetryRefundInput(),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def record_refund(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: RecordRefundBody,
    key: str | None = None,
) -> QuoteOut:
    """Operators: the held refund was made outside Khipu (bank transfer), with the bank's
    reference and the amount (which must be the held refund's)."""
    quote = await quote_for(session, who, quote_id, "record_refund")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.RECORD_REFUND,
        RecordRefundInput(reference=body.reference.strip(), amount=body.amount),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def request_return(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: ReturnRequestBody,
    key: str | None = None,
) -> QuoteOut:
    """Buyers: ask to return a completed quote within the return window."""
    quote = await quote_for(session, who, quote_id, "request_return")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.REQUEST_RETURN,
        RequestReturnInput(reason=body.reason.strip()),
        when_closed="the return window has closed",
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def decide_return(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: ReturnDecisionBody,
    key: str | None = None,
) -> QuoteOut:
    """The vendor approves (all that is left, or `amount`) or declines a return; an
    operator decides a declined (disputed) one."""
    quote = await quote_for(session, who, quote_id, "decide_return")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.DECIDE_RETURN,
        DecideReturnInput(
            actor="operator" if who.is_operator else "vendor",
            approve=body.approve,
            amount=body.amount,
            note=body.note,
        ),
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


async def refund_part(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: RefundBody,
    key: str | None = None,
) -> QuoteOut:
    """Operators: refund part of a completed quote (until its return window closes)."""
    quote = await quote_for(session, who, quote_id, "refund")
    await _update(
        session,
        temporal,
        quote.workflow_id,
        c.REFUND,
        OperatorRefundInput(amount=body.amount, reason=body.reason.strip()),
        when_closed="the quote's return window has closed",
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)

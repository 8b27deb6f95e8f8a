"""Quote actions: each checks who may act, then sends one update to the workflow.

The workflow's validator decides whether the action fits the quote's state; a refusal
is a 409 with its reason ("the quote is no longer awaiting the vendor").
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from marketred.schemas import temporal_contracts as c
from marketred.schemas.accounts import Principal
from marketred.schemas.quotes import (
    AcceptInput,
    AcceptQuote,
    CancelInput,
    CancelQuote,
    ConfirmDeliveryInput,
    ExtendDeadlineBody,
    ExtendDeadlineInput,
    MarkShippedInput,
    QuoteOut,
    RecheckPaymentInput,
    RejectInput,
    RejectQuote,
    RetryNowInput,
    ShipQuote,
    StartPaymentInput,
    StartPaymentResult,
)
from marketred.services.errors import Conflict, Unavailable
from marketred.services.quotes_access import quote_for
from marketred.services.quotes_queries import get_quote

R = TypeVar("R", bound=BaseModel)


VENDOR_DECISION_CLOSED = "the quote is no longer awaiting the vendor"


async def _update(
    temporal: Client,
    workflow_id: str,
    update: c.Update[Any, R],
    arg: BaseModel,
    *,
    when_closed: str = "the quote has already ended",
) -> R:
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        result: Any = await handle.execute_update(update.name, arg, result_type=update.output)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
        if isinstance(cause, ApplicationError) and cause.type == "NoAnswer":
            # Khipu (or the database) did not answer in time; nothing changed.
            raise Unavailable(message, code="NO_ANSWER") from exc
        raise Conflict(message) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The workflow has finished: same answer its validator would have given.
            raise Conflict(when_closed) from exc
        raise Unavailable("the workflow engine did not answer; try again shortly") from exc
    assert isinstance(result, update.output)
    return result


async def accept_quote(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID, body: AcceptQuote
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "accept")
    await _update(
        temporal,
        quote.workflow_id,
        c.ACCEPT,
        AcceptInput(**body.model_dump()),
        when_closed=VENDOR_DECISION_CLOSED,
    )
    return await get_quote(session, who, quote_id)


async def reject_quote(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID, body: RejectQuote
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "reject")
    await _update(
        temporal,
        quote.workflow_id,
        c.REJECT,
        RejectInput(reason=body.reason),
        when_closed=VENDOR_DECISION_CLOSED,
    )
    return await get_quote(session, who, quote_id)


async def cancel_quote(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID, body: CancelQuote
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "cancel")
    actor = "operator" if who.is_operator else "buyer"
    await _update(
        temporal,
        quote.workflow_id,
        c.CANCEL,
        CancelInput(
            actor=actor,
            reason=body.reason,
            # Buyers cancel what they saw; operators cancel whatever the state.
            expected_status=None if who.is_operator else quote.status,  # type: ignore[arg-type]
            by_user=who.user_id,
        ),
    )
    return await get_quote(session, who, quote_id)


async def start_payment(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID
) -> StartPaymentResult:
    quote = await quote_for(session, who, quote_id, "pay")
    return await _update(
        temporal,
        quote.workflow_id,
        c.START_PAYMENT,
        StartPaymentInput(payer_email=who.email or None, buyer_id=who.user_id),
    )


async def ship_quote(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID, body: ShipQuote
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "ship")
    await _update(
        temporal,
        quote.workflow_id,
        c.MARK_SHIPPED,
        MarkShippedInput(carrier=body.carrier, tracking=body.tracking),
    )
    return await get_quote(session, who, quote_id)


async def confirm_delivery(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "deliver")
    actor = "operator" if who.is_operator else "buyer"
    await _update(
        temporal,
        quote.workflow_id,
        c.CONFIRM_DELIVERY,
        ConfirmDeliveryInput(actor=actor),
    )
    return await get_quote(session, who, quote_id)


async def extend_deadline(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: ExtendDeadlineBody,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "extend")
    actor = "operator" if who.is_operator else "vendor"
    await _update(
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
    )
    return await get_quote(session, who, quote_id)


async def recheck_payment(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID
) -> QuoteOut:
    """Operators: read a held payment back from Khipu (after Khipu fixed it, or to see
    whether the buyer's bank finished); the workflow releases or keeps the hold."""
    quote = await quote_for(session, who, quote_id, "recheck_payment")
    await _update(
        temporal, quote.workflow_id, c.RECHECK_PAYMENT, RecheckPaymentInput(by_user=who.user_id)
    )
    return await get_quote(session, who, quote_id)


async def retry_now(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID
) -> QuoteOut:
    """Operators: restart the step a quote waits on now instead of after its backoff."""
    quote = await quote_for(session, who, quote_id, "retry_now")
    await _update(temporal, quote.workflow_id, c.RETRY_NOW, RetryNowInput(by_user=who.user_id))
    return await get_quote(session, who, quote_id)

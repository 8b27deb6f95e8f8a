"""Quote actions: each checks who may act, then sends one update to the workflow.

The workflow's validator decides whether the action fits the quote's state; a refusal
is a 409 with its reason ("the quote is no longer awaiting the vendor"), or a 422 on the
field when the input itself cannot work (an accepted total of 0).

Every action takes the caller's request key (the API's Idempotency-Key, the web form's
nonce): the update id derives from it, so the same request sent twice is one update.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

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
from marketred.services import workflow_errors
from marketred.services.accounts import authz
from marketred.services.operations import idempotency
from marketred.services.quotes import starts as quote_starts
from marketred.services.quotes.access import quote_for
from marketred.services.quotes.queries import get_quote
from marketred.store.repositories import stock

R = TypeVar("R", bound=BaseModel)
B = TypeVar("B", bound=BaseModel, contravariant=True)


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


@dataclass(frozen=True)
class _Action:
    """A quote action: who may take it (authz), the update it sends, and the answer when
    the workflow has already ended."""

    name: authz.QuoteAction
    update: c.Update[Any, Any]
    when_closed: str = "the quote has already ended"


ACCEPT = _Action("accept", c.ACCEPT, when_closed=VENDOR_DECISION_CLOSED)
REJECT = _Action("reject", c.REJECT, when_closed=VENDOR_DECISION_CLOSED)
SHIP = _Action("ship", c.MARK_SHIPPED)
DELIVER = _Action("deliver", c.CONFIRM_DELIVERY)
EXTEND = _Action("extend", c.EXTEND_DEADLINE)
RECHECK_PAYMENT = _Action("recheck_payment", c.RECHECK_PAYMENT)
RETRY_NOW = _Action("retry_now", c.RETRY_NOW)
RETRY_REFUND = _Action("retry_refund", c.RETRY_REFUND)
RECORD_REFUND = _Action("record_refund", c.RECORD_REFUND)
REQUEST_RETURN = _Action(
    "request_return", c.REQUEST_RETURN, when_closed="the return window has closed"
)
DECIDE_RETURN = _Action("decide_return", c.DECIDE_RETURN)
REFUND = _Action("refund", c.REFUND, when_closed="the quote's return window has closed")


async def _act(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    action: _Action,
    arg: BaseModel,
    *,
    key: str | None,
) -> QuoteOut:
    """Every quote action: may this caller take it on the quote (else 404/403), one update
    to its workflow, then the quote as the caller now sees it."""
    quote = await quote_for(session, who, quote_id, action.name)
    await _update(
        session,
        temporal,
        quote.workflow_id,
        action.update,
        arg,
        when_closed=action.when_closed,
        quote_id=quote_id,
        key=key,
    )
    return await get_quote(session, who, quote_id)


def _side(
    who: Principal, party: Literal["buyer", "vendor"]
) -> Literal["buyer", "vendor", "operator"]:
    """Who acts: an operator acting as one, or the party itself."""
    return "operator" if who.is_operator else party


class BodyCommand(Protocol[B]):
    """A quote action with the caller's request body."""

    def __call__(self, session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID,
                 body: B, key: str | None = None) -> Awaitable[QuoteOut]: ...  # fmt: skip


class Command(Protocol):
    """A quote action without a body."""

    def __call__(self, session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID,
                 key: str | None = None) -> Awaitable[QuoteOut]: ...  # fmt: skip


def _command(action: _Action, make: Callable[..., BaseModel]) -> Callable[..., Awaitable[QuoteOut]]:
    """The action as a command `(session, temporal, who, quote_id[, body], key=None)`: its
    workflow input is `make(who[, body])`."""

    async def command(session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID,
                      *body: BaseModel, key: str | None = None) -> QuoteOut:  # fmt: skip
        return await _act(session, temporal, who, quote_id, action, make(who, *body), key=key)

    return command


async def accept_quote(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: AcceptQuote,
    key: str | None = None,
) -> QuoteOut:
    # Only a quote selling tracked stock reserves it (others keep the path without it).
    reserve = await stock.quote_tracks_stock(session, quote_id)
    arg = AcceptInput(**body.model_dump(), reserve_stock=reserve)
    return await _act(session, temporal, who, quote_id, ACCEPT, arg, key=key)


async def cancel_quote(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: CancelQuote,
    key: str | None = None,
) -> QuoteOut:
    quote = await quote_for(session, who, quote_id, "cancel")
    actor = _side(who, "buyer")
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


reject_quote: BodyCommand[RejectQuote] = _command(
    REJECT, lambda _who, body: RejectInput(reason=body.reason)
)
ship_quote: BodyCommand[ShipQuote] = _command(
    SHIP, lambda _who, body: MarkShippedInput(carrier=body.carrier, tracking=body.tracking)
)
confirm_delivery: Command = _command(
    DELIVER, lambda who: ConfirmDeliveryInput(actor=_side(who, "buyer"))
)
extend_deadline: BodyCommand[ExtendDeadlineBody] = _command(
    EXTEND,
    lambda who, body: ExtendDeadlineInput(
        **body.model_dump(), actor=_side(who, "vendor"), by_user=who.user_id
    ),
)
# Operators: read a held payment back from Khipu (after Khipu fixed it, or to see whether
# the buyer's bank finished); the workflow releases or keeps the hold.
recheck_payment: Command = _command(
    RECHECK_PAYMENT, lambda who: RecheckPaymentInput(by_user=who.user_id)
)
# Operators: restart the step a quote waits on now instead of after its backoff.
retry_now: Command = _command(RETRY_NOW, lambda who: RetryNowInput(by_user=who.user_id))
# Operators: ask Khipu again for a refund held (REFUND_HELD); it stays held with Khipu's
# new answer if it still refuses.
retry_refund: Command = _command(RETRY_REFUND, lambda _who: RetryRefundInput())
# Operators: the held refund was made outside Khipu (bank transfer), with the bank's
# reference and the amount (which must be the held refund's).
record_refund: BodyCommand[RecordRefundBody] = _command(
    RECORD_REFUND,
    lambda _who, body: RecordRefundInput(reference=body.reference.strip(), amount=body.amount),
)
# Buyers: ask to return a completed quote within the return window.
request_return: BodyCommand[ReturnRequestBody] = _command(
    REQUEST_RETURN, lambda _who, body: RequestReturnInput(reason=body.reason.strip())
)
# The vendor approves (all that is left, or `amount`) or declines a return; an operator
# decides a declined (disputed) one.
decide_return: BodyCommand[ReturnDecisionBody] = _command(
    DECIDE_RETURN,
    lambda who, body: DecideReturnInput(**body.model_dump(), actor=_side(who, "vendor")),
)
# Operators: refund part of a completed quote (until its return window closes).
refund_part: BodyCommand[RefundBody] = _command(
    REFUND, lambda _who, body: OperatorRefundInput(amount=body.amount, reason=body.reason.strip())
)

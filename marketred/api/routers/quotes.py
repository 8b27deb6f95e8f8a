"""Quotes API (design.md §8): thin handlers, each one service call over the workflow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import JSONResponse

from marketred.api.idempotent import Idempotent
from marketred.http.deps import (
    BuyerPrincipal,
    ClientIP,
    CurrentPrincipal,
    ResourcesDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from marketred.http.quote_starter import start_quote_workflow
from marketred.schemas.common import Page
from marketred.schemas.quotes import (
    AcceptQuote,
    CancelQuote,
    CreateQuote,
    ExtendDeadlineBody,
    PaymentUrlOut,
    QuoteListFilters,
    QuoteOut,
    RecordRefundBody,
    RefundBody,
    RejectQuote,
    ReturnDecisionBody,
    ReturnRequestBody,
    ShipQuote,
    parse_quote_number,
)
from marketred.services import quotes
from marketred.services.errors import InvalidInput

router = APIRouter(prefix="/api/v1/quotes", tags=["quotes"])


@router.post("", status_code=201, response_model=QuoteOut)
async def create_quote(
    body: CreateQuote,
    buyer: BuyerPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    background: BackgroundTasks,
    ip: ClientIP,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """201 once the quote is recorded; its workflow starts right after the commit (the
    quote reads REQUESTED meanwhile, and any action on it starts the workflow first)."""
    out = await idem.run(
        body,
        lambda _k: quotes.create_quote(session, settings, buyer, body, client_ip=ip),
        status=201,
        resource_id=lambda out: str(out.id),
    )
    if isinstance(out, QuoteOut):  # a replayed answer's start was queued the first time
        background.add_task(start_quote_workflow, resources, out.id)  # runs after the commit
    return out


@router.get("")
async def list_quotes(
    who: CurrentPrincipal,
    session: SessionDep,
    status: str | None = None,
    vendor: str | None = None,
    created_from: Annotated[datetime | None, Query(alias="from")] = None,
    created_to: Annotated[datetime | None, Query(alias="to")] = None,
    held: bool = False,
    ship_overdue: bool = False,
    number: Annotated[str | None, Query(max_length=20)] = None,
    buyer: Annotated[str | None, Query(max_length=320)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[QuoteOut]:
    """Quotes the caller is party to (operators: all), newest first; the filters only
    narrow that set. `number` takes "Q-000123" or "123"; `buyer` is the buyer's email."""
    wanted_number = parse_quote_number(number) if number else None
    if number and wanted_number is None:
        raise InvalidInput(
            "not a quote number", errors=[("number", "a quote number such as Q-000123")]
        )
    filters = QuoteListFilters(
        vendor=vendor,
        created_from=created_from,
        created_to=created_to,
        held=held,
        ship_overdue=ship_overdue,
        number=wanted_number,
        buyer_email=buyer or None,
    )
    return await quotes.list_quotes(
        session, who, status=status, limit=limit, offset=offset, filters=filters
    )


@router.get("/{quote_id}")
async def get_quote(
    quote_id: uuid.UUID, who: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> QuoteOut:
    return await quotes.get_quote(
        session,
        who,
        quote_id,
        temporal_ui=(settings.temporal_ui_url, settings.temporal_namespace),
    )


@router.post("/{quote_id}/accept", response_model=QuoteOut)
async def accept_quote(
    quote_id: uuid.UUID,
    body: AcceptQuote,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    return await idem.run(
        body,
        lambda k: quotes.accept_quote(session, temporal, who, quote_id, body, key=k),
    )


@router.post("/{quote_id}/reject", response_model=QuoteOut)
async def reject_quote(
    quote_id: uuid.UUID,
    body: RejectQuote,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    return await idem.run(
        body,
        lambda k: quotes.reject_quote(session, temporal, who, quote_id, body, key=k),
    )


@router.post("/{quote_id}/pay")
async def pay_quote(
    quote_id: uuid.UUID, who: CurrentPrincipal, session: SessionDep, temporal: TemporalDep
) -> PaymentUrlOut:
    """The Khipu payment's URL; the same one on every call (no key needed)."""
    result = await quotes.start_payment(session, temporal, who, quote_id)
    return PaymentUrlOut(payment_url=result.payment_url)


@router.post("/{quote_id}/cancel", response_model=QuoteOut)
async def cancel_quote(
    quote_id: uuid.UUID,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
    body: CancelQuote | None = None,
) -> QuoteOut | JSONResponse:
    cancel = body or CancelQuote()
    return await idem.run(
        cancel,
        lambda k: quotes.cancel_quote(session, temporal, who, quote_id, cancel, key=k),
    )


@router.post("/{quote_id}/ship", response_model=QuoteOut)
async def ship_quote(
    quote_id: uuid.UUID,
    body: ShipQuote,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    return await idem.run(
        body,
        lambda k: quotes.ship_quote(session, temporal, who, quote_id, body, key=k),
    )


@router.post("/{quote_id}/deliver", response_model=QuoteOut)
async def deliver_quote(
    quote_id: uuid.UUID,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    return await idem.run(
        None,
        lambda k: quotes.confirm_delivery(session, temporal, who, quote_id, key=k),
    )


@router.post("/{quote_id}/extend", response_model=QuoteOut)
async def extend_deadline(
    quote_id: uuid.UUID,
    body: ExtendDeadlineBody,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """Push back the running deadline. The same Idempotency-Key sent twice extends once
    (stored answer, and the same Temporal update id)."""
    return await idem.run(
        body,
        lambda k: quotes.extend_deadline(session, temporal, who, quote_id, body, key=k),
    )


@router.post("/{quote_id}/recheck-payment", response_model=QuoteOut)
async def recheck_payment(
    quote_id: uuid.UUID,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """Operators: read a held payment back from Khipu; paid → PAID, in progress → a new
    payment window, anything else stays held with Khipu's current reason."""
    return await idem.run(
        None,
        lambda k: quotes.recheck_payment(session, temporal, who, quote_id, key=k),
    )


@router.post("/{quote_id}/retry-now", response_model=QuoteOut)
async def retry_now(
    quote_id: uuid.UUID,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """Operators: the step the quote waits on (a failing activity) starts again now
    instead of after its backoff; recorded in the quote's history with the operator."""
    return await idem.run(
        None,
        lambda k: quotes.retry_now(session, temporal, who, quote_id, key=k),
    )


@router.post("/{quote_id}/retry-refund", response_model=QuoteOut)
async def retry_refund(
    quote_id: uuid.UUID,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """Operators: ask Khipu again for a held refund (REFUND_HELD → REFUNDED, or still
    held with Khipu's new reason)."""
    return await idem.run(
        None,
        lambda k: quotes.retry_refund(session, temporal, who, quote_id, key=k),
    )


@router.post("/{quote_id}/record-refund", response_model=QuoteOut)
async def record_refund(
    quote_id: uuid.UUID,
    body: RecordRefundBody,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """Operators: a held refund was made outside Khipu (bank transfer): its reference and
    amount; the ledger posts it once."""
    return await idem.run(
        body,
        lambda k: quotes.record_refund(session, temporal, who, quote_id, body, key=k),
    )


@router.post("/{quote_id}/return", response_model=QuoteOut)
async def request_return(
    quote_id: uuid.UUID,
    body: ReturnRequestBody,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """Buyers: ask to return a completed quote, with a reason, within the return window
    (`MARKETRED_RETURN_WINDOW_DAYS` after completion)."""
    return await idem.run(
        body,
        lambda k: quotes.request_return(session, temporal, who, quote_id, body, key=k),
    )


@router.post("/{quote_id}/return-decision", response_model=QuoteOut)
async def decide_return(
    quote_id: uuid.UUID,
    body: ReturnDecisionBody,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """The vendor approves (`amount`, or all that is left) or declines a return; a
    declined return is disputed and an operator decides it the same way."""
    return await idem.run(
        body,
        lambda k: quotes.decide_return(session, temporal, who, quote_id, body, key=k),
    )


@router.post("/{quote_id}/refund", response_model=QuoteOut)
async def refund_part(
    quote_id: uuid.UUID,
    body: RefundBody,
    who: CurrentPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> QuoteOut | JSONResponse:
    """Operators: refund part (or all that is left) of a completed quote, with a reason."""
    return await idem.run(
        body,
        lambda k: quotes.refund_part(session, temporal, who, quote_id, body, key=k),
    )

"""Quotes API (design.md §8): thin handlers, each one service call over the workflow."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from marketred.api.actions import ActionCall, OptionalBody, add_action
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


def _action(
    action: str,
    name: str,
    command: Callable[..., Awaitable[QuoteOut]],
    body: type[BaseModel] | OptionalBody[Any] | None = None,
    doc: str | None = None,
) -> None:
    """`POST /api/v1/quotes/{quote_id}/<action>` (operation `name`, described by `doc`) →
    `command(session, temporal, who, quote_id[, body], key=…)`, the shape of every quote
    command; answers the quote."""

    async def work(call: ActionCall, key: str | None) -> QuoteOut:
        given = () if call.body is None else (call.body,)
        return await command(
            call.session, call.temporal, call.principal, call.target_id, *given, key=key
        )

    add_action(
        router,
        f"/{{quote_id}}/{action}",
        name,
        work,
        principal=CurrentPrincipal,
        response_model=QuoteOut,
        body=body,
        doc=doc,
    )


_action("accept", "accept_quote", quotes.accept_quote, AcceptQuote)
_action("reject", "reject_quote", quotes.reject_quote, RejectQuote)


@router.post("/{quote_id}/pay")
async def pay_quote(
    quote_id: uuid.UUID, who: CurrentPrincipal, session: SessionDep, temporal: TemporalDep
) -> PaymentUrlOut:
    """The Khipu payment's URL; the same one on every call (no key needed)."""
    result = await quotes.start_payment(session, temporal, who, quote_id)
    return PaymentUrlOut(payment_url=result.payment_url)


_action("cancel", "cancel_quote", quotes.cancel_quote, OptionalBody(CancelQuote))
_action("ship", "ship_quote", quotes.ship_quote, ShipQuote)
_action("deliver", "deliver_quote", quotes.confirm_delivery)
_action(
    "extend",
    "extend_deadline",
    quotes.extend_deadline,
    ExtendDeadlineBody,
    """Push back the running deadline. The same Idempotency-Key sent twice extends once
    (stored answer, and the same Temporal update id).""",
)
_action(
    "recheck-payment",
    "recheck_payment",
    quotes.recheck_payment,
    doc="""Operators: read a held payment back from Khipu; paid → PAID, in progress → a new
    payment window, anything else stays held with Khipu's current reason.""",
)
_action(
    "retry-now",
    "retry_now",
    quotes.retry_now,
    doc="""Operators: the step the quote waits on (a failing activity) starts again now
    instead of after its backoff; recorded in the quote's history with the operator.""",
)
_action(
    "retry-refund",
    "retry_refund",
    quotes.retry_refund,
    doc="""Operators: ask Khipu again for a held refund (REFUND_HELD → REFUNDED, or still
    held with Khipu's new reason).""",
)
_action(
    "record-refund",
    "record_refund",
    quotes.record_refund,
    RecordRefundBody,
    """Operators: a held refund was made outside Khipu (bank transfer): its reference and
    amount; the ledger posts it once.""",
)
_action(
    "return",
    "request_return",
    quotes.request_return,
    ReturnRequestBody,
    """Buyers: ask to return a completed quote, with a reason, within the return window
    (`MARKETRED_RETURN_WINDOW_DAYS` after completion).""",
)
_action(
    "return-decision",
    "decide_return",
    quotes.decide_return,
    ReturnDecisionBody,
    """The vendor approves (`amount`, or all that is left) or declines a return; a
    declined return is disputed and an operator decides it the same way.""",
)
_action(
    "refund",
    "refund_part",
    quotes.refund_part,
    RefundBody,
    "Operators: refund part (or all that is left) of a completed quote, with a reason.",
)

"""Quotes API (docs/api.md): thin handlers, each one service call over the workflow."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from marketred.api.idempotent import once
from marketred.http.deps import (
    BuyerPrincipal,
    ClientIP,
    CurrentPrincipal,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from marketred.schemas.accounts import Principal
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
from marketred.services import idempotency, quotes
from marketred.services.errors import InvalidInput

router = APIRouter(prefix="/api/v1/quotes", tags=["quotes"])
CREATE_SCOPE = "POST /api/v1/quotes"
IdempotencyKeyHeader = Annotated[str | None, Header(alias=idempotency.HEADER)]


@router.post("", status_code=201, response_model=QuoteOut)
async def create_quote(
    body: CreateQuote,
    buyer: BuyerPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    ip: ClientIP,
    key: IdempotencyKeyHeader = None,
) -> QuoteOut | JSONResponse:
    record = None
    if key is not None:
        started = await idempotency.begin(
            session, buyer.user_id, CREATE_SCOPE, key, body.model_dump(mode="json")
        )
        if isinstance(started, idempotency.StoredResponse):
            return JSONResponse(started.body, status_code=started.status)
        record = started
    out = await quotes.create_quote(session, temporal, settings, buyer, body, client_ip=ip)
    if record is not None:
        await idempotency.complete(session, record, 201, out.model_dump(mode="json"), str(out.id))
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


def _scope(quote_id: uuid.UUID, action: str) -> str:
    return f"POST /api/v1/quotes/{quote_id}/{action}"


@router.post("/{quote_id}/pay")
async def pay_quote(
    quote_id: uuid.UUID, who: CurrentPrincipal, session: SessionDep, temporal: TemporalDep
) -> PaymentUrlOut:
    """The Khipu payment's URL; the same one on every call (no key needed)."""
    result = await quotes.start_payment(session, temporal, who, quote_id)
    return PaymentUrlOut(payment_url=result.payment_url)


@dataclass(frozen=True)
class _Command:
    """A quote action route: `POST /api/v1/quotes/{quote_id}/<path>` → one service call,
    honouring `Idempotency-Key` (api/idempotent.py)."""

    path: str
    name: str  # the handler's name: OpenAPI operation ids stay as they were
    call: Callable[..., Awaitable[QuoteOut]]
    body: type[BaseModel] | None = None
    body_optional: bool = False  # an empty body means `body()`
    doc: str | None = None


_COMMANDS = (
    _Command("accept", "accept_quote", quotes.accept_quote, AcceptQuote),
    _Command("reject", "reject_quote", quotes.reject_quote, RejectQuote),
    _Command("cancel", "cancel_quote", quotes.cancel_quote, CancelQuote, body_optional=True),
    _Command("ship", "ship_quote", quotes.ship_quote, ShipQuote),
    _Command("deliver", "deliver_quote", quotes.confirm_delivery),
    _Command(
        "extend",
        "extend_deadline",
        quotes.extend_deadline,
        ExtendDeadlineBody,
        doc="Push back the running deadline. The same Idempotency-Key sent twice extends once\n"
        "(stored answer, and the same Temporal update id).",
    ),
    _Command(
        "recheck-payment",
        "recheck_payment",
        quotes.recheck_payment,
        doc="Operators: read a held payment back from Khipu; paid → PAID, in progress → a new\n"
        "payment window, anything else stays held with Khipu's current reason.",
    ),
    _Command(
        "retry-now",
        "retry_now",
        quotes.retry_now,
        doc="Operators: the step the quote waits on (a failing activity) starts again now\n"
        "instead of after its backoff; recorded in the quote's history with the operator.",
    ),
    _Command(
        "retry-refund",
        "retry_refund",
        quotes.retry_refund,
        doc="Operators: ask Khipu again for a held refund (REFUND_HELD → REFUNDED, or still\n"
        "held with Khipu's new reason).",
    ),
    _Command(
        "record-refund",
        "record_refund",
        quotes.record_refund,
        RecordRefundBody,
        doc="Operators: a held refund was made outside Khipu (bank transfer): its reference and\n"
        "amount; the ledger posts it once.",
    ),
    _Command(
        "return",
        "request_return",
        quotes.request_return,
        ReturnRequestBody,
        doc="Buyers: ask to return a completed quote, with a reason, within the return window\n"
        "(`MARKETRED_RETURN_WINDOW_DAYS` after completion).",
    ),
    _Command(
        "return-decision",
        "decide_return",
        quotes.decide_return,
        ReturnDecisionBody,
        doc="The vendor approves (`amount`, or all that is left) or declines a return; a\n"
        "declined return is disputed and an operator decides it the same way.",
    ),
    _Command(
        "refund",
        "refund_part",
        quotes.refund_part,
        RefundBody,
        doc="Operators: refund part (or all that is left) of a completed quote, with a reason.",
    ),
)


def _route(command: _Command) -> None:
    body_type = command.body

    async def handler(
        quote_id: uuid.UUID,
        who: Principal,
        session: AsyncSession,
        temporal: Client,
        body: BaseModel | None = None,
        key: str | None = None,
    ) -> QuoteOut | JSONResponse:
        if body is None and body_type is not None:
            body = body_type()  # an optional body left out (cancel without a reason)
        args = () if body is None else (body,)
        return await once(
            session,
            who.user_id,
            _scope(quote_id, command.path),
            key,
            body,
            lambda k: command.call(session, temporal, who, quote_id, *args, key=k),
        )

    # FastAPI reads the route's parameters from the signature: the body's model is the
    # command's, required unless the command says it may be left out.
    param = inspect.Parameter
    positional = param.POSITIONAL_OR_KEYWORD
    params = [param("quote_id", positional, annotation=uuid.UUID)]
    if body_type is not None and not command.body_optional:
        params.append(param("body", positional, annotation=body_type))
    params += [
        param("who", positional, annotation=CurrentPrincipal),
        param("session", positional, annotation=SessionDep),
        param("temporal", positional, annotation=TemporalDep),
    ]
    if body_type is not None and command.body_optional:
        params.append(param("body", positional, default=None, annotation=body_type | None))
    params.append(param("key", positional, default=None, annotation=IdempotencyKeyHeader))
    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    handler.__name__ = handler.__qualname__ = command.name
    handler.__doc__ = command.doc
    router.post(f"/{{quote_id}}/{command.path}", response_model=QuoteOut)(handler)


for _command in _COMMANDS:
    _route(_command)

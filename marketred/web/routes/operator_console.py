"""Operator console: every quote with filters (status, vendor, date), quotes held for a
payment mismatch or a refund Khipu refused, ship-by breaches, payouts to approve; each
quote links to its workflow in the Temporal UI; cancel with refund; recheck a held payment
with Khipu; retry a held refund (recording one made outside Khipu: return_forms.py)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep, SettingsDep
from marketred.schemas.common import Page
from marketred.schemas.quotes import (
    CancelQuote,
    QuoteListFilters,
    QuoteOut,
    parse_quote_number,
    workflow_id_for,
)
from marketred.services import quotes
from marketred.services.catalog import public as catalog_public
from marketred.services.catalog.images import quote_line_images
from marketred.settings import Settings
from marketred.web.formatting import SANTIAGO, STATUS_LABELS
from marketred.web.routes.actions import OperatorForm, cancelled, notice, refunded
from marketred.web.routes.common import FormState, WebOperator, WebRoute
from marketred.web.routes.deadline_forms import extend_from_form
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 25
QUOTE_STATUSES = [
    s
    for s in STATUS_LABELS
    if s.isupper() and s not in {"PENDING_APPROVAL", "APPROVED", "PAYING", "FAILED"}
]


def temporal_ui_link(settings: Settings, quote_id: uuid.UUID) -> str:
    workflow_id = urlquote(workflow_id_for(quote_id), safe="")
    namespace = urlquote(settings.temporal_namespace, safe="")
    return f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{namespace}/workflows/{workflow_id}"


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _santiago_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SANTIAGO).astimezone(UTC)


@router.get("/operador")
async def all_quotes(
    request: Request, operator: WebOperator, session: SessionDep, settings: SettingsDep
) -> Response:
    params = request.query_params
    status = params.get("estado") if params.get("estado") in QUOTE_STATUSES else None
    vendor = params.get("tienda") or None
    day_from, day_to = _day(params.get("desde")), _day(params.get("hasta"))
    number_text = params.get("numero", "").strip()[:20]
    buyer = params.get("comprador", "").strip()[:320]
    # A number that is not one finds nothing (and says so) rather than everything.
    number = parse_quote_number(number_text) if number_text else None
    bad_number = bool(number_text) and number is None
    try:
        page = max(1, int(params.get("pagina", "1")))
    except ValueError:
        page = 1
    found = (
        Page[QuoteOut](items=[], total=0)
        if bad_number
        else await quotes.list_quotes(
            session,
            operator,
            status=status,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            filters=QuoteListFilters(
                vendor=vendor,
                created_from=_santiago_midnight(day_from) if day_from else None,
                created_to=_santiago_midnight(day_to + timedelta(days=1)) if day_to else None,
                number=number,
                buyer_email=buyer or None,
            ),
        )
    )
    return render(
        request,
        "operator/quotes.html",
        {
            "title_key": "all",
            "quotes": found.items,
            "total": found.total,
            "page": page,
            "pages": max(1, math.ceil(found.total / PAGE_SIZE)),
            "statuses": QUOTE_STATUSES,
            "vendors": await catalog_public.vendor_choices(session),
            "filters": {
                "estado": status or "",
                "tienda": vendor or "",
                "desde": day_from.isoformat() if day_from else "",
                "hasta": day_to.isoformat() if day_to else "",
                "numero": number_text,
                "comprador": buyer,
            },
            "bad_number": bad_number,
            "temporal_link": lambda q: temporal_ui_link(settings, q.id),
            **notice_context(request),
        },
    )


def _flagged_list(name: str, path: str, title_key: str, filters: QuoteListFilters) -> None:
    """GET `path`: the quotes a flag picks (held, late), up to 200, without other filters."""

    async def handler(
        request: Request, operator: WebOperator, session: SessionDep, settings: SettingsDep
    ) -> Response:
        found = await quotes.list_quotes(
            session, operator, status=None, limit=200, offset=0, filters=filters
        )
        return render(
            request,
            "operator/quotes.html",
            {
                "title_key": title_key,
                "quotes": found.items,
                "total": found.total,
                "temporal_link": lambda q: temporal_ui_link(settings, q.id),
            },
        )

    handler.__name__ = name
    router.get(path, name=name)(handler)


_flagged_list("held_quotes", "/operador/retenidas", "held", QuoteListFilters(held=True))
_flagged_list("ship_by_breaches", "/operador/atrasos", "late", QuoteListFilters(ship_overdue=True))


@router.get("/operador/cotizaciones/{quote_id}")
async def operator_quote(
    request: Request,
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return await _quote_page(request, session, settings, operator, quote_id)


async def _quote_page(
    request: Request,
    session: SessionDep,
    settings: Settings,
    operator: WebOperator,
    quote_id: uuid.UUID,
    extend: FormState | None = None,
    status_code: int = 200,
) -> Response:
    quote = await quotes.get_quote(session, operator, quote_id)
    return render(
        request,
        "operator/quote.html",
        {
            "quote": quote,
            "temporal_url": temporal_ui_link(settings, quote.id),
            "line_images": await quote_line_images(session, quote),
            # Held refunds and returns are resolved with their own forms, not a cancel.
            "cancellable": (
                quote.can("cancel", "operator") or quote.can("cancel_with_refund", "operator")
            )
            and quote.status not in ("REFUND_HELD", "RETURN_REQUESTED", "RETURN_DISPUTED"),
            # The deadline now running, which an operator may push back.
            "pending_deadline": quote.deadlines.pending_name(quote.status)
            if quote.can("extend_deadline", "operator")
            else None,
            "extend": extend or FormState(values={"hours": "24"}),
            **notice_context(request),
        },
        status_code=status_code,
    )


@router.post("/operador/cotizaciones/{quote_id}/extender")
async def extend_deadline(
    request: Request, quote_id: uuid.UUID, act: OperatorForm, settings: SettingsDep
) -> Response:
    state = await extend_from_form(act, quote_id, act.form.get("deadline", ""))
    if state is None:
        return notice(_quote_url(quote_id), "plazo-extendido")
    return await _quote_page(
        request, act.session, settings, act.who, quote_id, extend=state, status_code=422
    )


def _quote_url(quote_id: uuid.UUID) -> str:
    return f"/operador/cotizaciones/{quote_id}"


def _rechecked(quote: QuoteOut) -> str:
    if quote.status == "PAID":
        return "pago-liberado"
    return "pago-reabierto" if quote.hold_reason is None else "pago-sigue-retenido"


@router.post("/operador/cotizaciones/{quote_id}/cancelar")
async def cancel_with_refund(quote_id: uuid.UUID, act: OperatorForm) -> Response:
    body = CancelQuote(
        reason=act.form.get("reason", "").strip()[:2000] or "Cancelada por operación"
    )
    return await act.run(
        _quote_url(quote_id),
        act.on_quote(quotes.cancel_quote, quote_id, body),
        cancelled,
    )


def _one_click(
    name: str,
    path: str,
    command: Callable[..., Awaitable[QuoteOut]],
    done: Callable[[QuoteOut], str],
) -> None:
    """POST /operador/cotizaciones/{id}/<path>: a button without fields that calls
    `command` on the quote and comes back with the notice `done(quote)` says."""

    async def handler(quote_id: uuid.UUID, act: OperatorForm) -> Response:
        return await act.run(_quote_url(quote_id), act.on_quote(command, quote_id), done)

    handler.__name__ = name
    router.post(f"/operador/cotizaciones/{{quote_id}}/{path}", name=name)(handler)


_one_click("recheck_payment", "verificar-pago", quotes.recheck_payment, _rechecked)
_one_click("retry_refund", "reintentar-reembolso", quotes.retry_refund, refunded)

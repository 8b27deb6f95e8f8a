"""Operator console: every quote with filters (status, vendor, date), quotes held for a
payment mismatch or a refund Khipu refused, ship-by breaches, payouts to approve; each
quote links to its workflow in the Temporal UI; cancel with refund; recheck a held payment
with Khipu; retry a held refund or record one made outside Khipu."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep, SettingsDep, TemporalDep
from marketred.schemas.common import Page
from marketred.schemas.quotes import (
    CancelQuote,
    QuoteListFilters,
    QuoteOut,
    RecordRefundBody,
    parse_quote_number,
    workflow_id_for,
)
from marketred.services import quotes
from marketred.services.catalog import public as catalog_public
from marketred.services.catalog.images import quote_line_images
from marketred.services.errors import Conflict, InvalidInput
from marketred.settings import Settings
from marketred.web.formatting import SANTIAGO, STATUS_LABELS
from marketred.web.routes.common import FormData, FormState, WebOperator, WebRoute, see_other
from marketred.web.routes.deadline_forms import extend_from_form
from marketred.web.routes.forms import parse_clp, request_key
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


@router.get("/operador/retenidas")
async def held_quotes(
    request: Request, operator: WebOperator, session: SessionDep, settings: SettingsDep
) -> Response:
    held = await quotes.list_quotes(
        session, operator, status=None, limit=200, offset=0, filters=QuoteListFilters(held=True)
    )
    return render(
        request,
        "operator/quotes.html",
        {
            "title_key": "held",
            "quotes": held.items,
            "total": held.total,
            "temporal_link": lambda q: temporal_ui_link(settings, q.id),
        },
    )


@router.get("/operador/atrasos")
async def ship_by_breaches(
    request: Request, operator: WebOperator, session: SessionDep, settings: SettingsDep
) -> Response:
    late = await quotes.list_quotes(
        session,
        operator,
        status=None,
        limit=200,
        offset=0,
        filters=QuoteListFilters(ship_overdue=True),
    )
    return render(
        request,
        "operator/quotes.html",
        {
            "title_key": "late",
            "quotes": late.items,
            "total": late.total,
            "temporal_link": lambda q: temporal_ui_link(settings, q.id),
        },
    )


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
    request: Request,
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    deadline = form.get("deadline", "")
    state = await extend_from_form(session, temporal, operator, quote_id, form, deadline)
    if state is None:
        return see_other(f"/operador/cotizaciones/{quote_id}?aviso=plazo-extendido")
    return await _quote_page(
        request, session, settings, operator, quote_id, extend=state, status_code=422
    )


@router.post("/operador/cotizaciones/{quote_id}/cancelar")
async def cancel_with_refund(
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    reason = form.get("reason", "").strip()[:2000] or "Cancelada por operación"
    try:
        cancelled = await quotes.cancel_quote(
            session, temporal, operator, quote_id, CancelQuote(reason=reason), key=request_key(form)
        )
        status = cancelled.status
    except Conflict:
        return see_other(f"/operador/cotizaciones/{quote_id}?aviso=ya-no-es-posible")
    notice = "reembolsada" if status == "REFUNDED" else "cancelada"
    return see_other(f"/operador/cotizaciones/{quote_id}?aviso={notice}")


@router.post("/operador/cotizaciones/{quote_id}/verificar-pago")
async def recheck_payment(
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    try:
        quote = await quotes.recheck_payment(
            session, temporal, operator, quote_id, key=request_key(form)
        )
    except Conflict:
        return see_other(f"/operador/cotizaciones/{quote_id}?aviso=ya-no-es-posible")
    if quote.status == "PAID":
        notice = "pago-liberado"
    elif quote.hold_reason is None:
        notice = "pago-reabierto"
    else:
        notice = "pago-sigue-retenido"
    return see_other(f"/operador/cotizaciones/{quote_id}?aviso={notice}")


@router.post("/operador/cotizaciones/{quote_id}/reintentar-reembolso")
async def retry_refund(
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    try:
        quote = await quotes.retry_refund(
            session, temporal, operator, quote_id, key=request_key(form)
        )
    except Conflict:
        return see_other(f"/operador/cotizaciones/{quote_id}?aviso=ya-no-es-posible")
    notice = "reembolso-retenido" if quote.status == "REFUND_HELD" else "reembolso-hecho"
    return see_other(f"/operador/cotizaciones/{quote_id}?aviso={notice}")


@router.post("/operador/cotizaciones/{quote_id}/registrar-reembolso")
async def record_refund(
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    page = f"/operador/cotizaciones/{quote_id}"
    reference = form.get("reference", "").strip()
    amount = parse_clp(form.get("amount"), allow_zero=False)
    if not reference or len(reference) > 120 or amount is None:
        return see_other(f"{page}?aviso=reembolso-invalido")
    body = RecordRefundBody(reference=reference, amount=amount)
    try:
        await quotes.record_refund(
            session, temporal, operator, quote_id, body, key=request_key(form)
        )
    except InvalidInput:
        return see_other(f"{page}?aviso=reembolso-invalido")
    except Conflict:
        return see_other(f"{page}?aviso=ya-no-es-posible")
    return see_other(f"{page}?aviso=reembolso-hecho")

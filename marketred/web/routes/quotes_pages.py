"""Buyer's quotes: "Mis cotizaciones", a quote's page (prices, timeline, deadlines), pay with
Khipu, the payment return page that waits for verification, cancel, confirm delivery."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from marketred.http.deps import SessionDep, TemporalDep
from marketred.schemas.quotes import CancelQuote
from marketred.services import quotes
from marketred.services.catalog.images import quote_line_images
from marketred.services.errors import Conflict, Unavailable
from marketred.web.routes.common import FormData, WebBuyer, WebPrincipal, WebRoute, see_other
from marketred.web.routes.forms import request_key
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STATUS_FILTERS = ("REQUESTED", "ACCEPTED", "PAID", "SHIPPED", "COMPLETED", "REJECTED", "EXPIRED")


@router.get("/cotizaciones")
async def my_quotes(request: Request, buyer: WebBuyer, session: SessionDep) -> Response:
    status = request.query_params.get("estado")
    status = status if status in STATUS_FILTERS else None
    page = await quotes.list_quotes(session, buyer, status=status, limit=50, offset=0)
    return render(
        request,
        "quotes/list.html",
        {"quotes": page.items, "total": page.total, "status": status, "statuses": STATUS_FILTERS},
    )


@router.get("/cotizaciones/{quote_id}")
async def quote_page(
    request: Request, quote_id: uuid.UUID, who: WebPrincipal, session: SessionDep
) -> Response:
    quote = await quotes.get_quote(session, who, quote_id)
    # Paid, but the vendor missed the ship-by date: the buyer may cancel with a refund.
    overdue = quote.can("cancel_with_refund", "buyer")
    return render(
        request,
        "quotes/detail.html",
        {
            "quote": quote,
            "ship_overdue": overdue,
            "line_images": await quote_line_images(session, quote),
            **notice_context(request),
        },
    )


@router.post("/cotizaciones/{quote_id}/pagar")
async def pay(
    quote_id: uuid.UUID,
    buyer: WebBuyer,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    """Off to Khipu (the sandbox payer page in dev); a repeated click resumes the same
    payment because the workflow creates it once."""
    del form
    try:
        url = (await quotes.start_payment(session, temporal, buyer, quote_id)).payment_url
    except (Conflict, Unavailable):
        return see_other(f"/cotizaciones/{quote_id}?aviso=pago-no-iniciado")
    return see_other(url)


@router.get("/cotizaciones/{quote_id}/pago")
async def payment_return(
    request: Request, quote_id: uuid.UUID, buyer: WebBuyer, session: SessionDep
) -> Response:
    """Where Khipu sends the payer back. Says the payment is being verified until the
    workflow confirms it; refreshes itself (meta refresh without JS, polling with JS)."""
    quote = await quotes.get_quote(session, buyer, quote_id)
    # A payment held for an operator is not "being verified": no endless refresh.
    waiting = quote.status == "ACCEPTED" and not quote.hold_reason
    return render(request, "quotes/payment_return.html", {"quote": quote, "waiting": waiting})


@router.get("/cotizaciones/{quote_id}/estado.json")
async def quote_status(quote_id: uuid.UUID, who: WebPrincipal, session: SessionDep) -> Response:
    quote = await quotes.get_quote(session, who, quote_id)
    return JSONResponse({"status": quote.status})


@router.post("/cotizaciones/{quote_id}/cancelar")
async def cancel(
    quote_id: uuid.UUID,
    buyer: WebBuyer,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    try:
        body = CancelQuote(reason=form.get("reason", "")[:2000])
        cancelled = await quotes.cancel_quote(
            session, temporal, buyer, quote_id, body, key=request_key(form)
        )
        status = cancelled.status
    except Conflict:
        return see_other(f"/cotizaciones/{quote_id}?aviso=ya-no-es-posible")
    notice = "reembolsada" if status == "REFUNDED" else "cancelada"
    return see_other(f"/cotizaciones/{quote_id}?aviso={notice}")


@router.post("/cotizaciones/{quote_id}/confirmar-entrega")
async def confirm_delivery(
    quote_id: uuid.UUID,
    buyer: WebBuyer,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    try:
        await quotes.confirm_delivery(session, temporal, buyer, quote_id, key=request_key(form))
    except Conflict:
        return see_other(f"/cotizaciones/{quote_id}?aviso=ya-no-es-posible")
    return see_other(f"/cotizaciones/{quote_id}?aviso=entrega-confirmada")


@router.get("/quotes/{quote_id}")
async def khipu_return(request: Request, quote_id: uuid.UUID) -> Response:
    """Khipu's return_url/cancel_url point here (integrations/khipu/quote_payment.py)."""
    outcome = request.query_params.get("payment")
    if outcome == "return":
        return see_other(f"/cotizaciones/{quote_id}/pago")
    if outcome == "cancel":
        return see_other(f"/cotizaciones/{quote_id}?aviso=pago-abandonado")
    return see_other(f"/cotizaciones/{quote_id}")

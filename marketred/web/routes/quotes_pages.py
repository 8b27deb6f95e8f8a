"""Buyer's quotes: "Mis cotizaciones", a quote's page (prices, timeline, deadlines), pay with
Khipu, the payment return page that waits for verification, cancel, confirm delivery."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from marketred.http.deps import SessionDep
from marketred.schemas.quotes import CancelQuote
from marketred.services import quotes
from marketred.services.catalog.images import quote_line_images
from marketred.services.errors import Conflict, Unavailable
from marketred.web.routes.actions import BuyerForm, cancelled, notice
from marketred.web.routes.common import WebBuyer, WebPrincipal, WebRoute, see_other
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
async def pay(quote_id: uuid.UUID, act: BuyerForm) -> Response:
    """Off to Khipu (the sandbox payer page in dev); a repeated click resumes the same
    payment because the workflow creates it once."""
    try:
        url = (await quotes.start_payment(act.session, act.temporal, act.who, quote_id)).payment_url
    except (Conflict, Unavailable):
        return notice(f"/cotizaciones/{quote_id}", "pago-no-iniciado")
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
async def cancel(quote_id: uuid.UUID, act: BuyerForm) -> Response:
    body = CancelQuote(reason=act.form.get("reason", "")[:2000])
    return await act.run(
        f"/cotizaciones/{quote_id}",
        act.on_quote(quotes.cancel_quote, quote_id, body),
        cancelled,
    )


@router.post("/cotizaciones/{quote_id}/confirmar-entrega")
async def confirm_delivery(quote_id: uuid.UUID, act: BuyerForm) -> Response:
    return await act.run(
        f"/cotizaciones/{quote_id}",
        act.on_quote(quotes.confirm_delivery, quote_id),
        "entrega-confirmada",
    )


@router.get("/quotes/{quote_id}")
async def khipu_return(request: Request, quote_id: uuid.UUID) -> Response:
    """Khipu's return_url/cancel_url point here (integrations/khipu/quote_payment.py)."""
    outcome = request.query_params.get("payment")
    if outcome == "return":
        return see_other(f"/cotizaciones/{quote_id}/pago")
    if outcome == "cancel":
        return notice(f"/cotizaciones/{quote_id}", "pago-abandonado")
    return see_other(f"/cotizaciones/{quote_id}")

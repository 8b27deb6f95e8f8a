"""Returns and partial refunds from the web: the buyer's request (quote page), the
vendor's decision (decision page), the operator's decision of a dispute and partial
refund (console). Each form carries a nonce, so a double submit is one update; the
workflow decides what fits, and a refusal comes back as a notice."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from temporalio.client import Client

from marketred.http.deps import SessionDep, TemporalDep
from marketred.schemas.accounts import Principal
from marketred.schemas.quotes import RefundBody, ReturnDecisionBody, ReturnRequestBody
from marketred.services import quotes
from marketred.services.errors import Conflict, InvalidInput
from marketred.web.routes.common import (
    FormData,
    WebBuyer,
    WebOperator,
    WebRoute,
    WebVendor,
    see_other,
)
from marketred.web.routes.forms import parse_clp, request_key

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.post("/cotizaciones/{quote_id}/devolucion")
async def request_return(
    quote_id: uuid.UUID, buyer: WebBuyer, session: SessionDep, temporal: TemporalDep, form: FormData
) -> Response:
    page = f"/cotizaciones/{quote_id}"
    await quotes.get_quote(session, buyer, quote_id)  # someone else's quote: 404 first
    reason = form.get("reason", "").strip()
    if not 1 <= len(reason) <= 2000:
        return see_other(f"{page}?aviso=devolucion-sin-motivo")
    body = ReturnRequestBody(reason=reason)
    try:
        await quotes.request_return(session, temporal, buyer, quote_id, body, key=request_key(form))
    except Conflict:
        return see_other(f"{page}?aviso=ya-no-es-posible")
    return see_other(f"{page}?aviso=devolucion-solicitada")


async def _decide(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    form: dict[str, str],
    page: str,
) -> Response:
    approve = form.get("decision") == "aprobar"
    amount = None
    if approve and form.get("amount", "").strip():
        amount = parse_clp(form.get("amount"), allow_zero=False)
        if amount is None:
            return see_other(f"{page}?aviso=monto-invalido")
    body = ReturnDecisionBody(approve=approve, amount=amount, note=form.get("note", "")[:2000])
    try:
        await quotes.decide_return(session, temporal, who, quote_id, body, key=request_key(form))
    except InvalidInput:
        return see_other(f"{page}?aviso=monto-invalido")
    except Conflict:
        return see_other(f"{page}?aviso=ya-no-es-posible")
    return see_other(f"{page}?aviso={'devolucion-aprobada' if approve else 'devolucion-rechazada'}")


@router.post("/vendedor/cotizaciones/{quote_id}/devolucion")
async def vendor_decides_return(
    quote_id: uuid.UUID,
    vendor: WebVendor,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    return await _decide(
        session, temporal, vendor, quote_id, form, f"/vendedor/cotizaciones/{quote_id}"
    )


@router.post("/operador/cotizaciones/{quote_id}/devolucion")
async def operator_decides_return(
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    return await _decide(
        session, temporal, operator, quote_id, form, f"/operador/cotizaciones/{quote_id}"
    )


@router.post("/operador/cotizaciones/{quote_id}/reembolso")
async def operator_refunds_part(
    quote_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    page = f"/operador/cotizaciones/{quote_id}"
    amount = parse_clp(form.get("amount"), allow_zero=False)
    reason = form.get("reason", "").strip()
    if amount is None or not 1 <= len(reason) <= 500:
        return see_other(f"{page}?aviso=monto-invalido")
    body = RefundBody(amount=amount, reason=reason)
    try:
        out = await quotes.refund_part(
            session, temporal, operator, quote_id, body, key=request_key(form)
        )
    except InvalidInput:
        return see_other(f"{page}?aviso=monto-invalido")
    except Conflict:
        return see_other(f"{page}?aviso=ya-no-es-posible")
    notice = "reembolso-retenido" if out.status == "REFUND_HELD" else "reembolso-hecho"
    return see_other(f"{page}?aviso={notice}")

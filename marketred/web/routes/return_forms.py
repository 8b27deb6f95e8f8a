"""Returns and refunds from the web: the buyer's request (quote page), the vendor's
decision (decision page), the operator's decision of a dispute, a partial refund and a
held refund made outside Khipu (console). Each form carries a nonce, so a double submit
is one update; the workflow decides what fits, and a refusal comes back as a notice
(actions.ActionForm)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.responses import Response

from marketred.schemas.quotes import (
    QuoteOut,
    RecordRefundBody,
    RefundBody,
    ReturnDecisionBody,
    ReturnRequestBody,
)
from marketred.services import quotes
from marketred.web.routes.actions import (
    ActionForm,
    BuyerForm,
    OperatorForm,
    VendorForm,
    notice,
    refunded,
)
from marketred.web.routes.common import WebRoute
from marketred.web.routes.forms import parse_clp

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.post("/cotizaciones/{quote_id}/devolucion")
async def request_return(quote_id: uuid.UUID, act: BuyerForm) -> Response:
    page = f"/cotizaciones/{quote_id}"
    await quotes.get_quote(act.session, act.who, quote_id)  # someone else's quote: 404 first
    reason = act.text("reason", 1, 2000)
    if reason is None:
        return notice(page, "devolucion-sin-motivo")
    body = ReturnRequestBody(reason=reason)
    return await act.run(
        page,
        act.on_quote(quotes.request_return, quote_id, body),
        "devolucion-solicitada",
    )


async def _decide(act: ActionForm, quote_id: uuid.UUID, page: str) -> Response:
    approve = act.form.get("decision") == "aprobar"
    amount = None
    if approve and act.form.get("amount", "").strip():
        amount = parse_clp(act.form.get("amount"), allow_zero=False)
        if amount is None:
            return notice(page, "monto-invalido")
    body = ReturnDecisionBody(approve=approve, amount=amount, note=act.form.get("note", "")[:2000])
    return await act.run(
        page,
        act.on_quote(quotes.decide_return, quote_id, body),
        "devolucion-aprobada" if approve else "devolucion-rechazada",
        invalid="monto-invalido",
    )


@router.post("/vendedor/cotizaciones/{quote_id}/devolucion")
async def vendor_decides_return(quote_id: uuid.UUID, act: VendorForm) -> Response:
    return await _decide(act, quote_id, f"/vendedor/cotizaciones/{quote_id}")


@router.post("/operador/cotizaciones/{quote_id}/devolucion")
async def operator_decides_return(quote_id: uuid.UUID, act: OperatorForm) -> Response:
    return await _decide(act, quote_id, f"/operador/cotizaciones/{quote_id}")


async def _operator_refund(
    act: ActionForm,
    quote_id: uuid.UUID,
    text: tuple[str, int],
    body: type[RefundBody | RecordRefundBody],
    command: Callable[..., Awaitable[QuoteOut]],
    done: str | Callable[[QuoteOut], str],
    invalid: str,
) -> Response:
    """An operator's refund form: an amount and a text field (`text`: its name, the body's
    field too, and its max length); either missing, or refused as invalid, comes back as
    the notice `invalid`."""
    page = f"/operador/cotizaciones/{quote_id}"
    amount = parse_clp(act.form.get("amount"), allow_zero=False)
    value = act.text(text[0], 1, text[1])
    if amount is None or value is None:
        return notice(page, invalid)
    refund = body.model_validate({"amount": amount, text[0]: value})
    return await act.run(page, act.on_quote(command, quote_id, refund), done, invalid=invalid)


@router.post("/operador/cotizaciones/{quote_id}/reembolso")
async def operator_refunds_part(quote_id: uuid.UUID, act: OperatorForm) -> Response:
    """Part of a paid quote given back through Khipu."""
    return await _operator_refund(
        act, quote_id, ("reason", 500), RefundBody, quotes.refund_part, refunded, "monto-invalido"
    )


@router.post("/operador/cotizaciones/{quote_id}/registrar-reembolso")
async def record_refund(quote_id: uuid.UUID, act: OperatorForm) -> Response:
    """A held refund the operator made outside Khipu (its transfer reference)."""
    return await _operator_refund(
        act,
        quote_id,
        ("reference", 120),
        RecordRefundBody,
        quotes.record_refund,
        "reembolso-hecho",
        "reembolso-invalido",
    )

"""Vendor back office: quotes awaiting a decision (by deadline), the decision page
(adjust prices, lower quantities or drop lines with a reason, add shipping, note — or
reject with a reason, or ask once for more time to answer) and orders to ship."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.schemas.quotes import (
    AcceptQuote,
    LinePriceChange,
    QuoteOut,
    RejectQuote,
    ShipQuote,
)
from marketred.services import quotes
from marketred.services.catalog.images import quote_line_images
from marketred.services.errors import InvalidInput
from marketred.web.i18n import gettext as _
from marketred.web.routes.actions import VendorForm, notice
from marketred.web.routes.common import FormState, WebRoute, WebVendor
from marketred.web.routes.deadline_forms import extend_from_form
from marketred.web.routes.forms import parse_clp, parse_int
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def _by_deadline(quotes: list[Any], key: str) -> list[Any]:
    return sorted(quotes, key=lambda q: getattr(q.deadlines, key, None) or FAR_FUTURE)


@router.get("/vendedor")
async def dashboard(request: Request, vendor: WebVendor, session: SessionDep) -> Response:
    pending = await quotes.list_quotes(session, vendor, status="REQUESTED", limit=200, offset=0)
    to_ship = await quotes.list_quotes(session, vendor, status="PAID", limit=200, offset=0)
    recent = await quotes.list_quotes(session, vendor, status=None, limit=20, offset=0)
    return render(
        request,
        "vendor/dashboard.html",
        {
            "pending": _by_deadline(pending.items, "respond_by"),
            "to_ship_count": to_ship.total,
            "recent": recent.items,
            **notice_context(request),
        },
    )


async def _decision_page(
    request: Request,
    session: SessionDep,
    vendor: WebVendor,
    quote_id: uuid.UUID,
    accept: FormState | None = None,
    reject: FormState | None = None,
    extend: FormState | None = None,
    status_code: int = 200,
) -> Response:
    quote = await quotes.get_quote(session, vendor, quote_id)
    if accept is None:
        values: dict[str, object] = {f"price_{ln.position}": ln.unit_price for ln in quote.lines}
        values |= {f"qty_{ln.position}": ln.quantity for ln in quote.lines}
        accept = FormState(values={"shipping_cost": "", **values})
    return render(
        request,
        "vendor/decision.html",
        {
            "quote": quote,
            "accept": accept,
            "line_images": await quote_line_images(session, quote),
            "reject": reject or FormState(),
            "extend": extend or FormState(values={"hours": "24"}),
            "can_extend": _may_ask_for_time(quote),
            "ship": FormState(),
            **notice_context(request),
        },
        status_code=status_code,
    )


@router.get("/vendedor/cotizaciones/{quote_id}")
async def decision_page(
    request: Request, quote_id: uuid.UUID, vendor: WebVendor, session: SessionDep
) -> Response:
    return await _decision_page(request, session, vendor, quote_id)


def read_acceptance(form: dict[str, str], lines: list[Any]) -> tuple[FormState, AcceptQuote | None]:
    state = FormState(values=form)
    shipping = parse_clp(form.get("shipping_cost"))
    if shipping is None:
        state.add(
            "shipping_cost",
            _("Indica el costo de despacho en pesos, por ejemplo 3.990 (0 si es gratis)."),
        )
    changes: list[LinePriceChange] = []
    total = shipping or 0
    kept = 0
    for line in lines:
        name = f"price_{line.position}"
        price = parse_clp(form.get(name))
        if price is None:
            state.add(name, _("Indica un precio en pesos, sin decimales. Ejemplo: 12.990"))
            continue
        quantity = _accepted_quantity(state, form, line)
        if quantity is None:
            continue
        reason = form.get(f"reason_{line.position}", "").strip()
        if quantity < line.quantity and not reason:
            state.add(
                f"reason_{line.position}",
                _("Cuéntale al comprador por qué envías menos o quitas el producto."),
            )
        elif len(reason) > 500:
            state.add(f"reason_{line.position}", _("Máximo 500 caracteres."))
        total += price * quantity
        kept += quantity > 0
        change = LinePriceChange(
            position=line.position,
            unit_price=price if price != line.unit_price else None,
            quantity=quantity if quantity != line.quantity else None,
            reason=reason if quantity != line.quantity else None,
        )
        if change.unit_price is not None or change.quantity is not None:
            changes.append(change)
    if state.ok and kept == 0:
        state.add(
            "lines",
            _("Quitaste todos los productos: si no puedes vender nada, rechaza la cotización."),
        )
    if state.ok and total <= 0:
        # Khipu takes no payment of $0 (the workflow refuses it too).
        state.add(
            "shipping_cost",
            _("El total a pagar debe ser mayor que $0: indica un precio o un costo de despacho."),
        )
    valid_hours = None
    if form.get("valid_hours", "").strip():
        valid_hours = parse_int(form.get("valid_hours"), 1, 24 * 30)
        if valid_hours is None:
            state.add("valid_hours", _("Entre 1 y 720 horas."))
    note = form.get("note", "").strip()
    if len(note) > 2000:
        state.add("note", _("La nota es demasiado larga (máximo 2.000 caracteres)."))
    if not state.ok or shipping is None:
        return state, None
    body = AcceptQuote(
        shipping_cost=shipping,
        lines=changes or None,
        note=note or None,
        valid_hours=valid_hours,
    )
    return state, body


def _accepted_quantity(state: FormState, form: dict[str, str], line: Any) -> int | None:
    """The quantity the vendor accepts of a line: as asked, fewer, or 0 to drop it."""
    name = f"qty_{line.position}"
    raw = form.get(name, "").strip()
    if not raw:
        return int(line.quantity)
    quantity = parse_int(raw, 0, 999)
    if quantity is None:
        state.add(name, _("Indica una cantidad entera, 0 o más (0 quita el producto)."))
        return None
    if quantity > line.quantity:
        state.add(name, _("A lo más %(n)s, lo que pidió el comprador.", n=line.quantity))
        return None
    return quantity


def _decision_url(quote_id: uuid.UUID) -> str:
    return f"/vendedor/cotizaciones/{quote_id}"


@router.post("/vendedor/cotizaciones/{quote_id}/aceptar")
async def accept(request: Request, quote_id: uuid.UUID, act: VendorForm) -> Response:
    quote = await quotes.get_quote(act.session, act.who, quote_id)
    state, body = read_acceptance(act.form, quote.lines)
    if body is not None:
        try:
            return await act.run(
                _decision_url(quote_id),
                act.on_quote(quotes.accept_quote, quote_id, body),
                "aceptada",
            )
        except InvalidInput as exc:
            for field, message in exc.errors or [("shipping_cost", exc.reason)]:
                state.add(_form_field(field, body), message)
    return await _decision_page(
        request, act.session, act.who, quote_id, accept=state, status_code=422
    )


def _form_field(field: str, body: AcceptQuote) -> str:
    """The form's field for the API's (`lines[1].quantity` → `qty_<that line's position>`)."""
    found = re.fullmatch(r"lines\[(\d+)\]\.(\w+)", field)
    if found and body.lines and int(found[1]) < len(body.lines):
        prefix = {"quantity": "qty", "reason": "reason", "unit_price": "price"}.get(found[2], "qty")
        return f"{prefix}_{body.lines[int(found[1])].position}"
    return field


@router.post("/vendedor/cotizaciones/{quote_id}/rechazar")
async def reject(request: Request, quote_id: uuid.UUID, act: VendorForm) -> Response:
    state = FormState(values=act.form)
    reason = act.form.get("reason", "").strip()
    if not reason:
        state.add("reason", _("Cuéntale al comprador por qué no puedes aceptar."))
    elif len(reason) > 2000:
        state.add("reason", _("El motivo es demasiado largo (máximo 2.000 caracteres)."))
    if state.ok:
        body = RejectQuote(reason=reason)
        return await act.run(
            _decision_url(quote_id),
            act.on_quote(quotes.reject_quote, quote_id, body),
            "rechazada",
        )
    return await _decision_page(
        request, act.session, act.who, quote_id, reject=state, status_code=422
    )


def _may_ask_for_time(quote: QuoteOut) -> bool:
    """A vendor may ask once for more time to answer, while the quote waits for it."""
    asked = any(e.kind == "deadline_extended" and e.actor == "vendor" for e in quote.timeline)
    return quote.status == "REQUESTED" and not asked


@router.post("/vendedor/cotizaciones/{quote_id}/extender")
async def ask_for_time(request: Request, quote_id: uuid.UUID, act: VendorForm) -> Response:
    state = await extend_from_form(act, quote_id, "respond_by")
    if state is None:
        return notice(_decision_url(quote_id), "plazo-extendido")
    return await _decision_page(
        request, act.session, act.who, quote_id, extend=state, status_code=422
    )


async def _orders_page(
    request: Request,
    session: SessionDep,
    vendor: WebVendor,
    forms: dict[str, FormState],
    status_code: int = 200,
) -> Response:
    paid = await quotes.list_quotes(session, vendor, status="PAID", limit=200, offset=0)
    shipped = await quotes.list_quotes(session, vendor, status="SHIPPED", limit=50, offset=0)
    context = {"to_ship": _by_deadline(paid.items, "ship_by"), "shipped": shipped.items}
    notices = notice_context(request) if status_code == 200 else {}
    return render(
        request,
        "vendor/orders.html",
        {**context, "forms": forms, **notices},
        status_code=status_code,
    )


@router.get("/vendedor/pedidos")
async def orders_to_ship(request: Request, vendor: WebVendor, session: SessionDep) -> Response:
    return await _orders_page(request, session, vendor, {})


@router.post("/vendedor/cotizaciones/{quote_id}/despachar")
async def ship(request: Request, quote_id: uuid.UUID, act: VendorForm) -> Response:
    state = FormState(values=act.form)
    carrier, tracking = act.form.get("carrier", "").strip(), act.form.get("tracking", "").strip()
    if not carrier:
        state.add("carrier", _("Indica la empresa de transporte (por ejemplo Chilexpress)."))
    if not tracking:
        state.add("tracking", _("Indica el número de seguimiento."))
    if state.ok and len(carrier) <= 120 and len(tracking) <= 120:
        body = ShipQuote(carrier=carrier, tracking=tracking)
        return await act.run(
            "/vendedor/pedidos",
            act.on_quote(quotes.ship_quote, quote_id, body),
            "despachado",
        )
    return await _orders_page(request, act.session, act.who, {str(quote_id): state}, 422)

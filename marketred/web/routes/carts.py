"""Carts page (one cart per vendor, each with its own quote request form) and cart edits."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response

from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep
from marketred.http.quote_starter import start_quote_workflow
from marketred.schemas.quotes import CreateQuote, QuoteContact
from marketred.services import quotes
from marketred.services.accounts import authz
from marketred.services.catalog import carts
from marketred.services.catalog import images as product_images
from marketred.services.errors import InvalidInput
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import (
    FormData,
    FormState,
    WebBuyer,
    WebRoute,
    safe_next,
    see_other,
)
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{8,20}$")


def _quantity(raw: str | None) -> int | None:
    try:
        value = int((raw or "").strip())
    except ValueError:
        return None
    return value if 0 <= value <= 999 else None


async def _carts_page(
    request: Request,
    session: SessionDep,
    buyer_id: uuid.UUID,
    forms: dict[str, FormState] | None = None,
    status_code: int = 200,
) -> Response:
    found = await carts.list_carts(session, buyer_id)
    product_ids = [item.product_id for cart in found for item in cart.items]
    return render(
        request,
        "storefront/carts.html",
        {
            "carts": found,
            "line_images": await product_images.main_images(session, product_ids),
            "forms": forms or {},
            **notice_context(request),
        },
        status_code=status_code,
    )


@router.get("/carros")
async def carts_page(request: Request, buyer: WebBuyer, session: SessionDep) -> Response:
    return await _carts_page(request, session, authz.cart_owner(buyer, "view"))


@router.post("/carros/agregar")
async def add_to_cart(buyer: WebBuyer, session: SessionDep, form: FormData) -> Response:
    back = safe_next(form.get("next"), "/carros")
    quantity = _quantity(form.get("quantity"))
    try:
        variant_id = uuid.UUID(form.get("variant_id", ""))
    except ValueError:
        return see_other(f"{back}{'&' if '?' in back else '?'}aviso=elige-variante")
    if not quantity:
        return see_other(f"{back}{'&' if '?' in back else '?'}aviso=cantidad-invalida")
    try:
        await carts.set_quantity(
            session, authz.cart_owner(buyer, "change"), form.get("vendor", ""), variant_id, quantity
        )
    except InvalidInput as exc:
        notice = "agotado" if carts.sold_out(exc) else "no-disponible"
        return see_other(f"{back}{'&' if '?' in back else '?'}aviso={notice}")
    return see_other("/carros?aviso=agregado")


@router.post("/carros/{vendor_slug}/items/{variant_id}")
async def update_cart_line(
    vendor_slug: str,
    variant_id: uuid.UUID,
    buyer: WebBuyer,
    session: SessionDep,
    form: FormData,
) -> Response:
    quantity = 0 if "remove" in form else _quantity(form.get("quantity"))
    if quantity is None:
        return see_other("/carros?aviso=cantidad-invalida")
    try:
        await carts.set_quantity(
            session, authz.cart_owner(buyer, "change"), vendor_slug, variant_id, quantity
        )
    except InvalidInput as exc:
        return see_other(f"/carros?aviso={'agotado' if carts.sold_out(exc) else 'no-disponible'}")
    return see_other("/carros?aviso=" + ("quitado" if quantity == 0 else "actualizado"))


@router.post("/carros/{vendor_slug}/vaciar")
async def empty_cart(
    vendor_slug: str, buyer: WebBuyer, session: SessionDep, form: FormData
) -> Response:
    del form  # CSRF-checked; nothing else to read
    await carts.clear_cart(session, authz.cart_owner(buyer, "change"), vendor_slug)
    return see_other("/carros?aviso=vaciado")


def validate_quote_request(form: dict[str, str]) -> FormState:
    """Server-side checks of the quote request form, messages in the reader's language."""
    state = FormState(values=form)
    name = form.get("contact_name", "").strip()
    email = form.get("contact_email", "").strip()
    phone = form.get("contact_phone", "").strip()
    if not name:
        state.add("contact_name", _("Indica tu nombre para que la tienda sepa a quién responder."))
    elif len(name) > 200:
        state.add("contact_name", _("El nombre es demasiado largo (máximo 200 caracteres)."))
    if not email:
        state.add("contact_email", _("Indica un correo para recibir la cotización."))
    elif not EMAIL.match(email) or len(email) > 320:
        state.add("contact_email", _("Este correo no parece válido. Ejemplo: nombre@correo.cl"))
    if phone and not PHONE.match(phone):
        state.add(
            "contact_phone", _("Escribe el teléfono solo con números, por ejemplo +56 9 1234 5678.")
        )
    if len(form.get("note", "")) > 2000:
        state.add("note", _("La nota es demasiado larga (máximo 2.000 caracteres)."))
    return state


@router.post("/carros/{vendor_slug}/cotizar")
async def request_quote(
    request: Request,
    vendor_slug: str,
    buyer: WebBuyer,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    form: FormData,
) -> Response:
    state = validate_quote_request(form)
    if state.ok:
        body = CreateQuote(
            vendor=vendor_slug,
            note=form.get("note", "").strip(),
            contact=QuoteContact(
                name=form["contact_name"].strip(),
                email=form["contact_email"].strip(),
                phone=form.get("contact_phone", "").strip() or None,
                address=form.get("contact_address", "").strip() or None,
            ),
        )
        try:
            ip = request.client.host if request.client else None
            quote = await quotes.create_quote(session, settings, buyer, body, client_ip=ip)
            quote_id = quote.id
        except InvalidInput as exc:
            for field, message in exc.errors or [("items", exc.reason)]:
                state.add(field, message)
        else:
            response = see_other(f"/cotizaciones/{quote_id}?aviso=solicitada")
            # After the commit (the session's owner commits before the response goes
            # out): start the workflow (the API's sweep does if this cannot).
            response.background = BackgroundTask(start_quote_workflow, resources, quote_id)
            return response
    return await _carts_page(
        request,
        session,
        authz.cart_owner(buyer, "view"),
        forms={vendor_slug: state},
        status_code=422,
    )

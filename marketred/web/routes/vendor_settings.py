"""Vendor back office: the store's contact, description and deadlines (within the
operator's bounds), and the log of who changed what (services/vendors/settings.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from marketred.http.deps import SessionDep, SettingsDep
from marketred.services.catalog.image_processing import MAX_BYTES
from marketred.services.catalog.media_store import media_store
from marketred.services.errors import InvalidInput
from marketred.services.vendors import settings as vendor_settings
from marketred.settings import Settings
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import FormState, Posted, WebRoute, WebVendor, see_other
from marketred.web.routes.forms import read_upload, refuse_empty
from marketred.web.routes.notices import notice_context
from marketred.web.service_messages import localize
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = "/vendedor/ajustes"
TEXT_FIELDS = ("email", "phone", "description")
DEADLINES = ("response_hours", "payment_hours", "ship_days")


def _messages(settings: Settings) -> dict[str, str]:
    bounds = {b.field: b for b in vendor_settings.deadline_bounds(settings)}
    return {
        "email": _("Revisa el correo (ejemplo: ventas@tienda.cl)."),
        "phone": _("Indica un teléfono con dígitos, por ejemplo +56 2 2345 6789."),
        "description": _("La descripción tiene a lo más 2000 caracteres."),
        "response_hours": _("Entre %(low)s y %(high)s horas.")
        % {"low": bounds["response_hours"].low, "high": bounds["response_hours"].high},
        "payment_hours": _("Entre %(low)s y %(high)s horas.")
        % {"low": bounds["payment_hours"].low, "high": bounds["payment_hours"].high},
        "ship_days": _("Entre %(low)s y %(high)s días.")
        % {"low": bounds["ship_days"].low, "high": bounds["ship_days"].high},
    }


async def _page(
    request: Request,
    session: SessionDep,
    settings: Settings,
    vendor: WebVendor,
    form: FormState | None = None,
    status_code: int = 200,
    logo_error: str | None = None,
) -> Response:
    current = await vendor_settings.own_vendor(session, vendor)
    if form is None:
        values: dict[str, Any] = {f: getattr(current, f) or "" for f in (*TEXT_FIELDS, *DEADLINES)}
        form = FormState(values=values)
    return render(
        request,
        "vendor/settings.html",
        {
            "form": form,
            "vendor": current,
            "bounds": vendor_settings.deadline_bounds(settings),
            "changes": await vendor_settings.changes(session, current.id),
            "logo_error": logo_error,
            **notice_context(request),
        },
        status_code=status_code,
    )


@router.get(PAGE)
async def settings_page(
    request: Request, vendor: WebVendor, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _page(request, session, settings, vendor)


@router.post(PAGE)
async def save_settings(vendor: WebVendor, post: Posted) -> Response:
    state = FormState(values=post.form)
    messages = _messages(post.settings)
    raw: dict[str, Any] = {
        f: post.form.get(f, "").strip() or None for f in (*TEXT_FIELDS, *DEADLINES)
    }
    for field in DEADLINES:
        if raw[field] is not None and not str(raw[field]).isdigit():
            state.add(field, messages[field])
    try:
        body = vendor_settings.VendorSettingsIn.model_validate(raw)
    except ValidationError as exc:
        state.add_invalid(exc, messages, "email")
        body = None
    if body is None or not state.ok:
        return await _page(
            post.request, post.session, post.settings, vendor, state, status_code=422
        )
    try:
        changed = await vendor_settings.save_own_settings(post.session, post.settings, vendor, body)
    except InvalidInput as exc:
        for field, _why in exc.errors:
            state.add(field, messages.get(field, _("Revisa este dato.")))
        return await _page(
            post.request, post.session, post.settings, vendor, state, status_code=422
        )
    return see_other(f"{PAGE}?aviso={'ajustes-guardados' if changed else 'ajustes-sin-cambios'}")


@router.post(PAGE + "/logo")
async def upload_logo(vendor: WebVendor, post: Posted) -> Response:
    data, _name = await read_upload(post.request, "logo", MAX_BYTES)
    try:
        refuse_empty(data, "logo")
        store = media_store(post.settings, post.resources.http)
        await vendor_settings.set_logo(post.session, vendor, data, post.settings.public_url, store)
    except InvalidInput as exc:
        reason = localize(exc.errors[0][1]) if exc.errors else localize(exc.reason)
        return await _page(
            post.request, post.session, post.settings, vendor, status_code=422, logo_error=reason
        )
    return see_other(f"{PAGE}?aviso=logo-guardado")

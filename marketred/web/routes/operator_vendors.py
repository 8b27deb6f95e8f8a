"""Operator console: every vendor with its commission and state; set the commission,
activate or deactivate a vendor (each change logged with who and when)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.services.errors import InvalidInput
from marketred.services.vendors import settings as vendor_settings
from marketred.web.routes.common import FormData, WebOperator, WebRoute, see_other
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = "/operador/tiendas"


def _percent_to_bps(text: str) -> int | None:
    """ "12,5" or "12.5" (percent) → 1250 basis points; None when it is not a percentage."""
    try:
        value = float(text.strip().replace("%", "").replace(",", "."))
    except ValueError:
        return None
    bps = round(value * 100)
    return bps if 0 <= bps <= 10000 and abs(value * 100 - bps) < 1e-6 else None


@router.get(PAGE)
async def vendors_page(request: Request, operator: WebOperator, session: SessionDep) -> Response:
    found = await vendor_settings.all_vendors(session, operator)
    changes = {v.id: await vendor_settings.changes(session, v.id, limit=5) for v in found}
    return render(
        request,
        "operator/vendors.html",
        {"vendors": found, "changes": changes, **notice_context(request)},
    )


@router.post(PAGE + "/{vendor_id}/comision")
async def set_commission(
    vendor_id: uuid.UUID, operator: WebOperator, session: SessionDep, form: FormData
) -> Response:
    bps = _percent_to_bps(form.get("commission", ""))
    if bps is None:
        return see_other(f"{PAGE}?aviso=comision-invalida")
    try:
        changed = await vendor_settings.set_commission(session, operator, vendor_id, bps)
    except InvalidInput:
        return see_other(f"{PAGE}?aviso=comision-invalida")
    return see_other(f"{PAGE}?aviso={'comision-guardada' if changed else 'ajustes-sin-cambios'}")


@router.post(PAGE + "/{vendor_id}/activar")
async def activate(vendor_id: uuid.UUID, operator: WebOperator, session: SessionDep) -> Response:
    await vendor_settings.set_active(session, operator, vendor_id, True)
    return see_other(f"{PAGE}?aviso=tienda-activada")


@router.post(PAGE + "/{vendor_id}/desactivar")
async def deactivate(vendor_id: uuid.UUID, operator: WebOperator, session: SessionDep) -> Response:
    await vendor_settings.set_active(session, operator, vendor_id, False)
    return see_other(f"{PAGE}?aviso=tienda-desactivada")

"""Payouts: the vendor's payouts with statements and a weekly sales/commission chart; the
operator's payouts to approve (and a manual payout run)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.api.deps import SessionDep, SettingsDep, TemporalDep
from marketred.schemas.accounts import Principal
from marketred.services import payout_commands, payout_queries
from marketred.services.errors import Conflict
from marketred.web.charts import sales_chart_svg, weekly_totals
from marketred.web.formatting import SANTIAGO
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import FormData, WebOperator, WebRoute, WebVendor, see_other
from marketred.web.routes.notices import notice_context
from marketred.web.security.principal import WebVendorOrOperator
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CHART_WEEKS = 8
RUN_WAIT_SECONDS = 15


async def _sales_of(
    session: SessionDep, who: Principal, payouts: list[uuid.UUID]
) -> list[tuple[datetime, int, int]]:
    """(when, gross, commission) of each quote in the given payouts."""
    sales = []
    for payout_id in payouts:
        detail = await payout_queries.payout_detail(session, who, payout_id)
        for item in detail.items:
            sales.append((item.occurred_at or detail.created_at, item.gross, item.commission))
    return sales


@router.get("/vendedor/pagos")
async def vendor_payouts(request: Request, vendor: WebVendor, session: SessionDep) -> Response:
    payouts = await payout_queries.list_payouts(session, vendor, limit=100, offset=0)
    sales = await _sales_of(session, vendor, [p.id for p in payouts.items[:30]])
    weeks = weekly_totals(sales, weeks=CHART_WEEKS, today=datetime.now(SANTIAGO).date())
    chart = sales_chart_svg(
        weeks,
        title=_("Ventas y comisión por semana"),
        sales_label=_("Ventas"),
        fee_label=_("Comisión"),
    )
    return render(
        request,
        "vendor/payouts.html",
        {"payouts": payouts.items, "weeks": weeks, "chart": chart, **notice_context(request)},
    )


@router.get("/vendedor/pagos/{payout_id}")
@router.get("/operador/pagos/{payout_id}")
async def payout_statement(
    request: Request, payout_id: uuid.UUID, who: WebVendorOrOperator, session: SessionDep
) -> Response:
    detail = await payout_queries.payout_detail(session, who, payout_id)
    return render(request, "vendor/payout_statement.html", {"payout": detail})


@router.get("/pagos/{payout_id}/informe.csv")
async def payout_report(
    payout_id: uuid.UUID, who: WebVendorOrOperator, session: SessionDep
) -> Response:
    name, data = await payout_queries.report_csv(session, who, payout_id)
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/operador/pagos")
async def payouts_to_approve(
    request: Request, operator: WebOperator, session: SessionDep
) -> Response:
    pending = await payout_queries.list_payouts(
        session, operator, status="PENDING_APPROVAL", limit=200, offset=0
    )
    recent = await payout_queries.list_payouts(session, operator, limit=30, offset=0)
    return render(
        request,
        "operator/payouts.html",
        {"pending": pending.items, "recent": recent.items, **notice_context(request)},
    )


@router.post("/operador/pagos/{payout_id}/aprobar")
async def approve_payout(
    payout_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    del form
    try:
        await payout_commands.approve_payout(temporal, session, payout_id, operator.user_id)
    except Conflict:
        return see_other("/operador/pagos?aviso=ya-no-es-posible")
    return see_other("/operador/pagos?aviso=pago-aprobado")


@router.post("/operador/pagos/generar")
async def run_payouts(
    operator: WebOperator, settings: SettingsDep, temporal: TemporalDep, form: FormData
) -> Response:
    del form
    run = payout_commands.run_payouts(temporal, settings, requested_by=operator.user_id)
    try:
        # A run only creates payouts (seconds); if it takes longer, do not hold the page:
        # the workflow carries on and its payouts appear here when done.
        await asyncio.wait_for(run, timeout=RUN_WAIT_SECONDS)
    except TimeoutError:
        return see_other("/operador/pagos?aviso=pagos-en-curso")
    return see_other("/operador/pagos?aviso=pagos-generados")

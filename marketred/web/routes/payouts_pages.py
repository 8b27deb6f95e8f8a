"""Payouts: the vendor's payouts with statements and a weekly sales/commission chart, and
each payout's statement and CSV report (also for operators, whose console is
operator_payouts.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.http.downloads import csv_attachment
from marketred.http.principal import WebVendorOrOperator
from marketred.schemas.accounts import Principal
from marketred.services.payouts import queries as payout_queries
from marketred.web.charts import sales_chart_svg, weekly_totals
from marketred.web.formatting import SANTIAGO
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import WebRoute, WebVendor
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CHART_WEEKS = 8


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
    return csv_attachment(*await payout_queries.report_csv(session, who, payout_id))

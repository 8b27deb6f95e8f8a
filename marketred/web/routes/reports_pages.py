"""Reports: sales, commission, refunds and payouts per month and vendor, from the ledger
(services/ledger/reports.py). Operators see every vendor (`/operador/informes`), vendor staff
their own (`/vendedor/informes`); a table, a server-rendered SVG chart and a CSV."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.http.downloads import csv_attachment
from marketred.schemas.accounts import Principal
from marketred.services.catalog import public as catalog_public
from marketred.services.errors import InvalidInput
from marketred.services.ledger import reports
from marketred.web.charts import WeekTotals, sales_chart_svg
from marketred.web.formatting import SANTIAGO
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import WebOperator, WebRoute, WebVendor
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _day(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _range(request: Request) -> tuple[date, date]:
    today = datetime.now(SANTIAGO).date()
    year_ago = date(today.year - 1, today.month, 1) if today.month < 12 else date(today.year, 1, 1)
    start = _day(request.query_params.get("desde"), year_ago)
    end = _day(request.query_params.get("hasta"), today)
    return (end, start) if end < start else (start, end)


async def _report(
    request: Request, session: SessionDep, who: Principal, base: str, csv: bool
) -> Response:
    start, end = _range(request)
    vendor = (request.query_params.get("tienda") or None) if who.is_operator else None
    try:
        report = await reports.ledger_report(session, who, start, end, vendor)
    except InvalidInput:
        start, end = date(end.year - 3, end.month, 1), end
        report = await reports.ledger_report(session, who, start, end, vendor)
    if csv:
        name = f"informe-{start.isoformat()}-{end.isoformat()}.csv"
        return csv_attachment(name, reports.report_csv(report))
    months = report.months()
    chart = sales_chart_svg(
        [WeekTotals(m, t["sales"], t["commission"]) for m, t in months],
        title=_("Ventas y comisión por mes"),
        sales_label=_("Ventas"),
        fee_label=_("Comisión"),
        date_format="%m/%Y",
    )
    query = request.url.query
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "months": months,
            "chart": chart,
            "base": base,
            "csv_url": f"{base}.csv" + (f"?{query}" if query else ""),
            "vendors": await catalog_public.vendor_choices(session) if who.is_operator else [],
            "filters": {"desde": start.isoformat(), "hasta": end.isoformat(),
                        "tienda": vendor or ""},
        },
    )  # fmt: skip


@router.get("/operador/informes")
async def operator_report(request: Request, operator: WebOperator, session: SessionDep) -> Response:
    return await _report(request, session, operator, "/operador/informes", csv=False)


@router.get("/operador/informes.csv")
async def operator_report_csv(
    request: Request, operator: WebOperator, session: SessionDep
) -> Response:
    return await _report(request, session, operator, "/operador/informes", csv=True)


@router.get("/vendedor/informes")
async def vendor_report(request: Request, vendor: WebVendor, session: SessionDep) -> Response:
    return await _report(request, session, vendor, "/vendedor/informes", csv=False)


@router.get("/vendedor/informes.csv")
async def vendor_report_csv(request: Request, vendor: WebVendor, session: SessionDep) -> Response:
    return await _report(request, session, vendor, "/vendedor/informes", csv=True)

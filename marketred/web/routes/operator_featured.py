"""Operator console: feature a product or a vendor for a period, end it early, and see
who featured what and when (services/catalog/featured.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.services.catalog import featured
from marketred.services.catalog import public as catalog_public
from marketred.services.catalog.search import search_products
from marketred.services.errors import InvalidInput, NotFound
from marketred.web.formatting import SANTIAGO
from marketred.web.routes.common import FormData, WebOperator, WebRoute, see_other
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = "/operador/destacados"


def _midnight(raw: str) -> datetime | None:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return datetime.combine(day, time.min, tzinfo=SANTIAGO).astimezone(UTC)


@router.get(PAGE)
async def featured_page(request: Request, operator: WebOperator, session: SessionDep) -> Response:
    today = datetime.now(SANTIAGO).date()
    products = await search_products(session, q="", vendor=None, limit=100, offset=0)
    return render(
        request,
        "operator/featured.html",
        {
            "rows": await featured.list_all(session, operator),
            "now": datetime.now(UTC),
            "products": products.items,
            "vendors": await catalog_public.vendor_choices(session),
            "defaults": {"desde": today.isoformat(),
                         "hasta": (today + timedelta(days=14)).isoformat()},
            **notice_context(request),
        },
    )  # fmt: skip


@router.post(PAGE)
async def add_featured(operator: WebOperator, session: SessionDep, form: FormData) -> Response:
    target = form.get("objetivo", "")
    start, end = _midnight(form.get("desde", "")), _midnight(form.get("hasta", ""))
    if start is None or end is None:
        return see_other(f"{PAGE}?aviso=destacado-invalido")
    # "hasta" is inclusive: the period runs to the end of that day.
    end += timedelta(days=1)
    product_id, vendor_slug = None, None
    kind, _sep, value = target.partition(":")
    try:
        if kind == "producto":
            product_id = uuid.UUID(value)
        elif kind == "tienda":
            vendor_slug = value
        else:
            return see_other(f"{PAGE}?aviso=destacado-invalido")
        await featured.feature(
            session, operator, product_id=product_id, vendor_slug=vendor_slug,
            starts_at=start, ends_at=end,
        )  # fmt: skip
    except (ValueError, InvalidInput, NotFound):
        return see_other(f"{PAGE}?aviso=destacado-invalido")
    return see_other(f"{PAGE}?aviso=destacado-creado")


@router.post(PAGE + "/{item_id}/terminar")
async def end_featured(item_id: uuid.UUID, operator: WebOperator, session: SessionDep) -> Response:
    await featured.end_now(session, operator, item_id)
    return see_other(f"{PAGE}?aviso=destacado-terminado")

"""Operators' "Atascadas": quotes that need a person, why each waits (live from its
workflow), and one action for the ones selected or for all matching the filter, with
each quote's result (services/quotes/triage.py)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep, TemporalDep
from marketred.schemas.quotes import STUCK_REASONS, QuoteListFilters, QuoteOut, StuckReason
from marketred.services.errors import InvalidInput
from marketred.services.quotes import queries as quotes_queries
from marketred.services.quotes import triage as quotes_triage
from marketred.web.routes.common import FormData, WebOperator, WebRoute
from marketred.web.routes.operator_console import temporal_ui_link
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 50
# The words the page's filter uses for each reason.
REASON_PARAMS: dict[str, StuckReason] = {
    "plazo": "deadline_passed",
    "error": "retrying",
    "pago": "payment_held",
    "reembolso": "refund_open",
}
ACTION_PARAMS: dict[str, quotes_triage.TriageAction] = {
    "reintentar": "retry",
    "extender": "extend",
    "cancelar": "cancel",
    "verificar-pago": "recheck",
}


def _filters(reason: str | None, vendor: str | None) -> QuoteListFilters:
    stuck_reason = REASON_PARAMS.get(reason or "")
    return QuoteListFilters(stuck=True, stuck_reason=stuck_reason, vendor=vendor or None)


async def _matching(
    session: SessionDep,
    operator: WebOperator,
    filters: QuoteListFilters,
    limit: int,
    offset: int = 0,
) -> tuple[list[QuoteOut], int]:
    page = await quotes_queries.list_quotes(
        session, operator, status=None, limit=limit, offset=offset, filters=filters
    )
    return page.items, page.total


@router.get("/operador/atascadas")
async def stuck_quotes(
    request: Request,
    operator: WebOperator,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> Response:
    params = request.query_params
    reason = params.get("motivo") if params.get("motivo") in REASON_PARAMS else ""
    vendor = params.get("tienda", "").strip()[:80]
    try:
        page = max(1, int(params.get("pagina", "1")))
    except ValueError:
        page = 1
    quotes, total = await _matching(
        session, operator, _filters(reason, vendor), PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    rows = await quotes_triage.with_live_state(temporal, quotes, datetime.now(UTC))
    return render(
        request,
        "operator/triage.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "filters": {"motivo": reason, "tienda": vendor},
            "reasons": REASON_PARAMS,
            "reason_names": {v: k for k, v in REASON_PARAMS.items()},
            "all_reasons": STUCK_REASONS,
            "temporal_link": lambda q: temporal_ui_link(settings, q.id),
            "bulk_limit": quotes_triage.BULK_LIMIT,
        },
    )


@router.post("/operador/atascadas/acciones")
async def bulk_action(
    request: Request,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    res: ResourcesDep,
    form: FormData,
) -> Response:
    action = ACTION_PARAMS.get(form.get("accion", ""))
    if action is None:
        raise InvalidInput("acción desconocida", errors=[("accion", "elige una acción")])
    try:
        hours = int(form.get("horas", "24") or "24")
    except ValueError:
        hours = 0
    if action == "extend" and not 1 <= hours <= 720:
        raise InvalidInput("horas fuera de rango", errors=[("horas", "entre 1 y 720")])
    reason = form.get("motivo_accion", "").strip()[:500]
    if form.get("todas") == "1":
        filters = _filters(form.get("motivo"), form.get("tienda"))
        quotes, _ = await _matching(session, operator, filters, quotes_triage.BULK_LIMIT)
    else:
        raw = (await request.form()).getlist("quote")
        ids = []
        for value in raw:
            try:
                ids.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        quotes = [await quotes_queries.get_quote(session, operator, qid) for qid in ids]
    if not quotes:
        raise InvalidInput("ninguna cotización elegida", errors=[("quote", "elige al menos una")])
    results = await quotes_triage.apply_bulk(
        res.sessions, temporal, operator, action, quotes, hours=hours, reason=reason
    )
    return render(
        request,
        "operator/triage_results.html",
        {
            "action": form.get("accion", ""),
            "results": results,
            "done": sum(1 for r in results if r.ok),
            "refused": sum(1 for r in results if not r.ok),
        },
    )

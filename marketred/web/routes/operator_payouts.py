"""Operator console for payouts: approve or reject pending ones, resolve the ones waiting
for a person (HELD: outcome unknown or no bank account; SUBMITTED: in a bank file),
download the bank files, run payouts now.

Every action form carries a nonce made when the page was drawn: a double-submitted form
sends the same nonce twice, which becomes the same Temporal update (one change)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep, SettingsDep, TemporalDep
from marketred.schemas.payouts import PayoutDecisionResult
from marketred.services.errors import Conflict
from marketred.services.payouts import bank_files as payout_bank_files
from marketred.services.payouts import commands as payout_commands
from marketred.services.payouts import queries as payout_queries
from marketred.settings import Settings
from marketred.web.routes.common import FormData, WebOperator, WebRoute, see_other
from marketred.web.routes.forms import request_key
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

RUN_WAIT_SECONDS = 15
PAGE = "/operador/pagos"


def temporal_payout_link(settings: Settings, workflow_id: str) -> str:
    namespace = urlquote(settings.temporal_namespace, safe="")
    return (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{namespace}/workflows/"
        f"{urlquote(workflow_id, safe='')}"
    )


@router.get(PAGE)
async def payouts_console(
    request: Request, operator: WebOperator, session: SessionDep, settings: SettingsDep
) -> Response:
    async def with_status(status: str, limit: int = 200):  # type: ignore[no-untyped-def]
        page = await payout_queries.list_payouts(
            session, operator, status=status, limit=limit, offset=0
        )
        return page.items

    recent = await payout_queries.list_payouts(session, operator, limit=30, offset=0)
    return render(
        request,
        "operator/payouts.html",
        {
            "pending": await with_status("PENDING_APPROVAL"),
            "held": await with_status("HELD"),
            "submitted": await with_status("SUBMITTED"),
            "bank_files": await payout_bank_files.list_files(session, limit=20),
            "recent": recent.items,
            "temporal_link": lambda wf: temporal_payout_link(settings, wf),
            "nonce": lambda: uuid.uuid4().hex,
            **notice_context(request),
        },
    )


async def _act(
    form: dict[str, str],
    action: Callable[[str | None], Awaitable[PayoutDecisionResult]],
    done: str,
) -> Response:
    try:
        await action(request_key(form))
    except Conflict:
        return see_other(f"{PAGE}?aviso=ya-no-es-posible")
    return see_other(f"{PAGE}?aviso={done}")


def _text(form: dict[str, str], name: str, low: int, high: int) -> str | None:
    value = form.get(name, "").strip()
    return value if low <= len(value) <= high else None


@router.post("/operador/pagos/{payout_id}/aprobar")
async def approve_payout(
    payout_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    return await _act(
        form,
        lambda key: payout_commands.approve_payout(
            temporal, session, payout_id, operator.user_id, key=key
        ),
        "pago-aprobado",
    )


@router.post("/operador/pagos/{payout_id}/rechazar")
async def reject_payout(
    payout_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    reason = _text(form, "reason", 3, 2000)
    if reason is None:
        return see_other(f"{PAGE}?aviso=falta-motivo")
    return await _act(
        form,
        lambda key: payout_commands.reject_payout(
            temporal, session, payout_id, reason, operator.user_id, key=key
        ),
        "pago-rechazado",
    )


@router.post("/operador/pagos/{payout_id}/confirmar")
async def confirm_transfer(
    payout_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    reference = _text(form, "reference", 1, 120)
    if reference is None:
        return see_other(f"{PAGE}?aviso=falta-referencia")
    return await _act(
        form,
        lambda key: payout_commands.confirm_transfer(
            temporal, session, payout_id, reference, operator.user_id, key=key
        ),
        "transferencia-confirmada",
    )


@router.post("/operador/pagos/{payout_id}/no-ejecutado")
async def release_transfer(
    payout_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    reason = _text(form, "reason", 3, 2000)
    if reason is None:
        return see_other(f"{PAGE}?aviso=falta-motivo")
    return await _act(
        form,
        lambda key: payout_commands.release_transfer(
            temporal, session, payout_id, reason, operator.user_id, key=key
        ),
        "transferencia-liberada",
    )


@router.post("/operador/pagos/{payout_id}/reintentar")
async def retry_transfer(
    payout_id: uuid.UUID,
    operator: WebOperator,
    session: SessionDep,
    temporal: TemporalDep,
    form: FormData,
) -> Response:
    return await _act(
        form,
        lambda key: payout_commands.retry_transfer(
            temporal, session, payout_id, operator.user_id, key=key
        ),
        "transferencia-reintentada",
    )


@router.get("/operador/pagos/nominas/{bank_file_id}.csv")
async def download_bank_file(
    bank_file_id: uuid.UUID, operator: WebOperator, session: SessionDep
) -> Response:
    name, data = await payout_bank_files.download(session, bank_file_id, operator.user_id)
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


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
        return see_other(f"{PAGE}?aviso=pagos-en-curso")
    return see_other(f"{PAGE}?aviso=pagos-generados")

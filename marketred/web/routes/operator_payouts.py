"""Operator console for payouts: approve or reject pending ones, resolve the ones waiting
for a person (HELD: outcome unknown or no bank account; SUBMITTED: in a bank file),
download the bank files, run payouts now.

Every action form carries a nonce made when the page was drawn: a double-submitted form
sends the same nonce twice, which becomes the same Temporal update (one change)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep, SettingsDep, TemporalDep
from marketred.http.downloads import csv_attachment
from marketred.schemas.payouts import PayoutDecisionResult
from marketred.services.payouts import bank_files as payout_bank_files
from marketred.services.payouts import commands as payout_commands
from marketred.services.payouts import queries as payout_queries
from marketred.settings import Settings
from marketred.web.routes.actions import OperatorForm, notice
from marketred.web.routes.common import FormData, WebOperator, WebRoute
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


@dataclass(frozen=True)
class Needs:
    """A text field the action needs: its length bounds and the notice when it is not."""

    field: str
    low: int
    high: int
    missing: str


def payout_action(
    name: str,
    path: str,
    command: Callable[..., Awaitable[PayoutDecisionResult]],
    done: str,
    needs: Needs | None = None,
) -> None:
    """POST /operador/pagos/{id}/<path>: `command(temporal, session, payout_id, [text],
    operator_id, key=nonce)`, then back to the console with `done` (or the refusal)."""

    async def handler(payout_id: uuid.UUID, act: OperatorForm) -> Response:
        text: list[str] = []
        if needs is not None:
            value = act.text(needs.field, needs.low, needs.high)
            if value is None:
                return notice(PAGE, needs.missing)
            text.append(value)
        return await act.run(
            PAGE,
            lambda key: command(
                act.temporal, act.session, payout_id, *text, act.who.user_id, key=key
            ),
            done,
        )

    handler.__name__ = name
    router.post(f"{PAGE}/{{payout_id}}/{path}", name=name)(handler)


REASON = Needs("reason", 3, 2000, "falta-motivo")
REFERENCE = Needs("reference", 1, 120, "falta-referencia")

payout_action("approve_payout", "aprobar", payout_commands.approve_payout, "pago-aprobado")
payout_action("reject_payout", "rechazar", payout_commands.reject_payout, "pago-rechazado", REASON)
payout_action(
    "confirm_transfer",
    "confirmar",
    payout_commands.confirm_transfer,
    "transferencia-confirmada",
    REFERENCE,
)
payout_action(
    "release_transfer",
    "no-ejecutado",
    payout_commands.release_transfer,
    "transferencia-liberada",
    REASON,
)
payout_action(
    "retry_transfer", "reintentar", payout_commands.retry_transfer, "transferencia-reintentada"
)


@router.get("/operador/pagos/nominas/{bank_file_id}.csv")
async def download_bank_file(
    bank_file_id: uuid.UUID, operator: WebOperator, session: SessionDep
) -> Response:
    return csv_attachment(
        *await payout_bank_files.download(session, bank_file_id, operator.user_id)
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
        return notice(PAGE, "pagos-en-curso")
    return notice(PAGE, "pagos-generados")

"""Vendor back office: the bank account payouts are sent to, and who changed it when.

Saving a change is logged and mailed to the vendor (services/payouts/bank_accounts.py);
payouts waiting for an account are nudged to go on."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.http.transaction import after_commit
from marketred.schemas.banking import ACCOUNT_TYPES, BANKS, BankAccountIn
from marketred.services.payouts import bank_accounts as vendor_bank_accounts
from marketred.services.payouts import commands as payout_commands
from marketred.web.formatting import N_
from marketred.web.i18n import gettext as _
from marketred.web.routes.actions import notice
from marketred.web.routes.common import FormState, Posted, WebRoute, WebVendor
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = "/vendedor/datos-bancarios"
# Each field and what to say under it when it is refused (translated where shown).
MESSAGES = {
    "bank_code": N_("Elige el banco de la lista."),
    "account_type": N_("Elige el tipo de cuenta."),
    "account_number": N_("El número de cuenta tiene entre 4 y 20 dígitos."),
    "holder_name": N_("Indica el nombre del titular (2 a 100 caracteres)."),
    "holder_rut": N_("Revisa el RUT del titular: el dígito verificador no coincide."),
}


async def _page(
    request: Request,
    session: SessionDep,
    vendor: WebVendor,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    current = await vendor_bank_accounts.own_bank_account(session, vendor)
    if form is None:
        values = current.model_dump() if current else {"account_type": "corriente"}
        form = FormState(values=values)
    return render(
        request,
        "vendor/bank_account.html",
        {
            "form": form,
            "current": current,
            "banks": sorted(BANKS.items(), key=lambda kv: kv[1]),
            "account_types": ACCOUNT_TYPES,
            "changes": await vendor_bank_accounts.changes(session, vendor),
            **notice_context(request),
        },
        status_code=status_code,
    )


@router.get(PAGE)
async def bank_account_page(request: Request, vendor: WebVendor, session: SessionDep) -> Response:
    return await _page(request, session, vendor)


@router.post(PAGE)
async def save_bank_account(vendor: WebVendor, post: Posted) -> Response:
    state = FormState(values=post.form)
    try:
        body = BankAccountIn.model_validate({k: post.form.get(k, "") for k in MESSAGES})
    except ValidationError as exc:
        state.add_invalid(exc, {k: _(v) for k, v in MESSAGES.items()}, "bank_code")
        return await _page(post.request, post.session, vendor, state, status_code=422)
    saved = await vendor_bank_accounts.save_bank_account(post.session, vendor, body)
    if saved.change is None:
        return notice(PAGE, "datos-bancarios-sin-cambios")
    # Once the change is committed (and what was mailed is written down after).
    after_commit(
        post.session, vendor_bank_accounts.notify_change, post.session, post.settings, saved
    )
    after_commit(
        post.session,
        payout_commands.nudge_payouts_waiting_for_bank_details,
        post.resources.temporal.get,
        post.session,
        saved.vendor.id,
    )
    return notice(PAGE, "datos-bancarios-guardados")

"""Operator console: find an account by email or name; deactivate it (signed out
everywhere, refused at every sign-in) or reactivate it; the owner is mailed either way."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.http.transaction import after_commit
from marketred.services.accounts import admin as account_admin
from marketred.services.accounts import mail as auth_mail
from marketred.services.errors import Conflict
from marketred.settings import Settings
from marketred.web.routes.common import Posted, WebOperator, WebRoute, see_other
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/operador/cuentas")
async def accounts(request: Request, operator: WebOperator, session: SessionDep) -> Response:
    query = request.query_params.get("q", "")
    found = await account_admin.find_accounts(session, operator, query)
    return render(
        request,
        "operator/accounts.html",
        {"accounts": found, "q": query, "me": operator.user_id, **notice_context(request)},
    )


async def _set_active(
    session: SessionDep,
    settings: Settings,
    operator: WebOperator,
    user_id: uuid.UUID,
    active: bool,
    notice: str,
) -> Response:
    try:
        user, changed = await account_admin.set_active(session, operator, user_id, active)
    except Conflict:
        return see_other(
            "/operador/cuentas?aviso=" + ("ya-no-es-posible" if active else "no-a-ti-mismo")
        )
    if changed:
        # Told after the commit, once: the owner otherwise only sees a refused sign-in.
        mail = auth_mail.reactivated_mail if active else auth_mail.deactivated_mail
        after_commit(session, auth_mail.send, settings, mail(settings, user.email))
    return see_other("/operador/cuentas?" + urlencode({"aviso": notice, "q": user.email}))


@router.post("/operador/cuentas/{user_id}/desactivar")
async def deactivate(user_id: uuid.UUID, operator: WebOperator, post: Posted) -> Response:
    return await _set_active(
        post.session, post.settings, operator, user_id, False, "cuenta-desactivada"
    )


@router.post("/operador/cuentas/{user_id}/reactivar")
async def reactivate(user_id: uuid.UUID, operator: WebOperator, post: Posted) -> Response:
    return await _set_active(
        post.session, post.settings, operator, user_id, True, "cuenta-reactivada"
    )

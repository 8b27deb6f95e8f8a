"""A buyer's personal data on the web: see and download it, correct it, delete the
account (services/accounts/privacy.py; the same rights over the API at /api/v1/me)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep, TemporalDep
from marketred.http.transaction import after_commit
from marketred.schemas.privacy import CorrectAccount, EraseAccount
from marketred.services.accounts import mail as auth_mail
from marketred.services.accounts import privacy
from marketred.services.accounts import users as accounts
from marketred.services.errors import Conflict, InvalidInput, Unavailable
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import FormData, FormState, WebBuyer, WebRoute, see_other
from marketred.web.routes.notices import notice_context
from marketred.web.security import login
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = "auth/privacy.html"


async def _page(
    request: Request,
    session: SessionDep,
    buyer: WebBuyer,
    *,
    correct: FormState | None = None,
    erase: FormState | None = None,
    status_code: int = 200,
) -> Response:
    user = await accounts.get_active_user(session, buyer.user_id)
    return render(
        request,
        PAGE,
        {
            "user": user,
            "has_password": user.password_hash is not None,
            "correct": correct or FormState(values={"name": user.name, "email": user.email}),
            "erase": erase or FormState(),
            **notice_context(request),
        },
        status_code=status_code,
    )


@router.get("/cuenta/privacidad")
async def privacy_page(request: Request, buyer: WebBuyer, session: SessionDep) -> Response:
    return await _page(request, session, buyer)


@router.get("/cuenta/privacidad/datos.json")
async def download_my_data(buyer: WebBuyer, session: SessionDep) -> Response:
    data = await privacy.export(session, buyer)
    return Response(
        data.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="mis-datos-marketred.json"'},
    )


@router.post("/cuenta/privacidad/corregir")
async def correct_my_data(
    request: Request, form: FormData, buyer: WebBuyer, session: SessionDep, settings: SettingsDep
) -> Response:
    state = FormState(values=form)
    try:
        body = CorrectAccount(name=form.get("name", ""), email=form.get("email") or None)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "email"
            state.add(field, _("Revisa este dato."))
        return await _page(request, session, buyer, correct=state, status_code=422)
    try:
        user, token = await privacy.correct(session, buyer, body)
    except Conflict:
        state.add("email", _("Ya existe una cuenta con ese correo."))
        return await _page(request, session, buyer, correct=state, status_code=409)
    if token is None:
        return see_other("/cuenta/privacidad?aviso=datos-corregidos")
    mail = auth_mail.verification_mail(settings, user.email, token)
    after_commit(session, auth_mail.send, settings, mail)
    return see_other("/cuenta/privacidad?aviso=correo-por-verificar")


@router.post("/cuenta/privacidad/eliminar")
async def erase_my_account(
    request: Request,
    form: FormData,
    buyer: WebBuyer,
    session: SessionDep,
    temporal: TemporalDep,
    res: ResourcesDep,
) -> Response:
    state = FormState()
    body = EraseAccount(password=form.get("password") or None, email=form.get("email") or None)
    try:
        await privacy.erase(session, temporal, buyer, body)
    except InvalidInput as exc:
        for field, _message in exc.errors:
            state.add(
                field,
                _("La contraseña no es correcta.")
                if field == "password"
                else _("Escribe el correo de tu cuenta para confirmar."),
            )
        return await _page(request, session, buyer, erase=state, status_code=422)
    except Conflict:
        state.add(
            "confirm",
            _(
                "Tienes cotizaciones en curso. Cancélalas o espera a que terminen antes de "
                "eliminar tu cuenta."
            ),
        )
        return await _page(request, session, buyer, erase=state, status_code=409)
    except Unavailable:
        state.add("confirm", _("No pudimos revisar tus cotizaciones. Intenta en un momento."))
        return await _page(request, session, buyer, erase=state, status_code=503)
    after_commit(session, res.payload_codec().subjects.forget, buyer.user_id)
    response = see_other("/?aviso=cuenta-eliminada")
    await login.sign_out(request, session, response)
    return response

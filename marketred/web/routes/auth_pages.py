"""Sign-in pages: password and InforedChile (OIDC) sign-in, sign-out, sign-up, email
verification, password reset, personal API tokens.

Every POST checks CSRF (FormData); no GET changes state except the OIDC callback, which
is protected by its `state` + `nonce` + PKCE and only starts a session.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.responses import Response

from marketred.http.deps import ClientIP, ResourcesDep, SessionDep, SettingsDep
from marketred.http.transaction import after_commit
from marketred.schemas.accounts import RegisterBuyer
from marketred.services.accounts import (
    api_tokens,
    credentials,
    email_tokens,
    oidc,
    rate_limits,
    sign_in,
)
from marketred.services.accounts import mail as auth_mail
from marketred.services.accounts import users as accounts
from marketred.services.errors import DomainError, InvalidInput, RateLimited, Unauthorized
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import (
    FormData,
    FormState,
    WebPrincipal,
    WebRoute,
    safe_next,
    see_other,
)
from marketred.web.security import login
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _login_page(
    request: Request,
    settings: SettingsDep,
    form: FormState | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    next_url = safe_next(
        request.query_params.get("next") or (form.values.get("next") if form else None), ""
    )
    return render(
        request,
        "auth/login.html",
        {"form": form or FormState(), "next": next_url, "oidc_enabled": oidc.enabled(settings)},
        status_code=status_code,
        headers=headers,
    )


@router.get("/ingresar")
async def login_form(request: Request, settings: SettingsDep) -> Response:
    return _login_page(request, settings)


@router.post("/ingresar")
async def login_submit(
    request: Request, form: FormData, session: SessionDep, settings: SettingsDep, ip: ClientIP
) -> Response:
    state = FormState(values={"email": form.get("email", ""), "next": form.get("next", "")})
    try:
        user = await sign_in.password_sign_in(
            session, settings, form.get("email", ""), form.get("password", ""), ip=ip
        )
    except RateLimited as exc:
        state.add("email", _("Demasiados intentos. Espera unos minutos e intenta de nuevo."))
        return _login_page(request, settings, state, status_code=429, headers=exc.headers)
    except (Unauthorized, DomainError):
        state.add("password", _("Correo o contraseña incorrectos."))
        return _login_page(request, settings, state, status_code=401)
    return await login.sign_in(
        request, session, user, method="password", next_url=form.get("next") or None
    )


@router.post("/salir")
async def logout(request: Request, _form: FormData, session: SessionDep) -> Response:
    response = see_other("/")
    await login.sign_out(request, session, response)
    return response


@router.get("/registro")
async def register_form(request: Request) -> Response:
    return render(request, "auth/register.html", {"form": FormState()})


@router.post("/registro")
async def register_submit(
    request: Request, form: FormData, session: SessionDep, settings: SettingsDep, ip: ClientIP
) -> Response:
    state = FormState(values={"email": form.get("email", ""), "name": form.get("name", "")})
    if form.get("password", "") != form.get("password_confirm", ""):
        state.add("password_confirm", _("Las contraseñas no coinciden."))
        return render(request, "auth/register.html", {"form": state}, status_code=422)
    per_ip = rate_limits.register_per_ip(settings.register_per_ip_hour)
    if ip and per_ip is not None:  # counted even if the registration is then refused
        try:
            await rate_limits.hit(session, per_ip, ip)
        except RateLimited as exc:
            state.add("email", _("Demasiados registros desde esta red. Intenta más tarde."))
            return render(
                request, "auth/register.html", {"form": state}, status_code=429, headers=exc.headers
            )
    try:
        body = RegisterBuyer(
            email=form.get("email", ""),
            password=form.get("password", ""),
            name=form.get("name", ""),
        )
        user = await accounts.register_buyer(session, body)
    except ValidationError as exc:
        for err in exc.errors():
            state.add(str(err["loc"][0]), _("Revisa este campo."))
        return render(request, "auth/register.html", {"form": state}, status_code=422)
    except DomainError as exc:
        for field, message in exc.errors or [("email", exc.reason)]:
            state.add(field, message)
        return render(request, "auth/register.html", {"form": state}, status_code=exc.status)
    token = await email_tokens.issue(session, user, "verify_email")
    after_commit(
        session, auth_mail.send, settings, auth_mail.verification_mail(settings, user.email, token)
    )
    # Not signed in here: whoever typed the address has not shown it is theirs yet.
    return see_other("/ingresar?registrado=1")


@router.get("/verificar-email/{token}")
async def verify_email_page(request: Request, token: str) -> Response:
    """A link from a mail is a GET: it shows a button; the POST does the change."""
    return render(request, "auth/verify_email.html", {"token": token, "done": False})


@router.post("/verificar-email/{token}")
async def verify_email_submit(
    request: Request, token: str, _form: FormData, session: SessionDep
) -> Response:
    try:
        user = await email_tokens.consume(session, token, "verify_email")
    except InvalidInput:
        return render(
            request, "auth/verify_email.html", {"token": token, "invalid": True}, status_code=400
        )
    await accounts.mark_email_verified(session, user)
    return render(request, "auth/verify_email.html", {"token": token, "done": True})


@router.get("/recuperar")
async def reset_request_form(request: Request) -> Response:
    return render(request, "auth/reset_request.html", {"form": FormState(), "sent": False})


@router.post("/recuperar")
async def reset_request_submit(
    request: Request, form: FormData, session: SessionDep, settings: SettingsDep, ip: ClientIP
) -> Response:
    """The same answer whether or not the address has an account, in about the same
    time: the mail goes out after the answer (a slow SMTP would otherwise tell)."""
    email = form.get("email", "").strip().lower()
    mail = None
    try:
        if ip:
            await rate_limits.hit(session, rate_limits.RESET_PER_IP, ip)
        if email:  # counted for any address: a 429 must not tell which have accounts
            await rate_limits.hit(session, rate_limits.RESET_PER_ACCOUNT, email)
        user = await accounts.find_by_email(session, email) if email else None
        if user is not None and user.active:
            token = await email_tokens.issue(session, user, "reset_password")
            mail = auth_mail.reset_mail(settings, user.email, token)
    except RateLimited as exc:
        state = FormState(values={"email": email})
        state.add("email", _("Demasiadas solicitudes. Intenta más tarde."))
        return render(
            request, "auth/reset_request.html", {"form": state, "sent": False},
            status_code=429, headers=exc.headers,
        )  # fmt: skip
    response = render(request, "auth/reset_request.html", {"form": FormState(), "sent": True})
    if mail is not None:
        response.background = BackgroundTask(auth_mail.send, settings, mail)
    return response


@router.get("/recuperar/{token}")
async def reset_form(request: Request, token: str) -> Response:
    return render(request, "auth/reset_password.html", {"token": token, "form": FormState()})


@router.post("/recuperar/{token}")
async def reset_submit(
    request: Request, token: str, form: FormData, session: SessionDep
) -> Response:
    state = FormState()
    password = form.get("password", "")
    if password != form.get("password_confirm", ""):
        state.add("password_confirm", _("Las contraseñas no coinciden."))
        return render(
            request, "auth/reset_password.html", {"token": token, "form": state}, status_code=422
        )
    try:
        accounts.check_new_password(password)
        user = await email_tokens.consume(session, token, "reset_password")
        await accounts.reset_password(session, user, password)
    except InvalidInput as exc:
        for field, message in exc.errors:
            state.add("password" if field == "password" else "token", message)
        return render(
            request, "auth/reset_password.html", {"token": token, "form": state}, status_code=422
        )
    return see_other("/ingresar?restablecida=1")


@router.get("/auth/oidc/login")
async def oidc_login(request: Request, settings: SettingsDep, resources: ResourcesDep) -> Response:
    if not oidc.enabled(settings):
        return see_other("/ingresar")
    next_url = safe_next(request.query_params.get("next"), "")
    url, pending = await oidc.start_login(settings, resources.http, next_url)
    response = see_other(url)
    login.remember_pending(request, response, pending)
    return response


@router.get("/auth/oidc/callback")
async def oidc_callback(
    request: Request, session: SessionDep, settings: SettingsDep, resources: ResourcesDep
) -> Response:
    pending = login.recall_pending(request)
    code = request.query_params.get("code")
    state = request.query_params.get("state", "")
    if not oidc.enabled(settings) or pending is None or not code:
        raise Unauthorized("the InforedChile sign-in expired or was cancelled; start again")
    claims = await oidc.finish_login(settings, resources.http, pending, code=code, state=state)
    user = await oidc.user_from_claims(session, claims)
    response = await login.sign_in(
        request, session, user, method="oidc", next_url=pending.next_url or None
    )
    login.forget_pending(request, response)
    return response


async def _tokens_page(
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    *,
    created: str | None = None,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "auth/api_tokens.html",
        {
            "tokens": await api_tokens.list_live(session, principal),
            "created": created,
            "form": form or FormState(),
            "can_create": principal.role in ("vendor", "operator"),
        },
        status_code=status_code,
    )


@router.get("/cuenta/tokens")
async def tokens_page(request: Request, session: SessionDep, principal: WebPrincipal) -> Response:
    return await _tokens_page(request, session, principal)


@router.post("/cuenta/tokens")
async def tokens_create(
    request: Request, form: FormData, session: SessionDep, principal: WebPrincipal
) -> Response:
    try:
        raw, _token = await api_tokens.create(session, principal, form.get("name", ""))
    except InvalidInput as exc:
        state = FormState(values={"name": form.get("name", "")})
        for field, message in exc.errors:
            state.add(field, message)
        return await _tokens_page(request, session, principal, form=state, status_code=422)
    # Shown once, in this answer only; the page is no-store (the middleware sets it).
    return await _tokens_page(request, session, principal, created=raw, status_code=201)


@router.post("/cuenta/tokens/{token_id}/revocar")
async def tokens_revoke(
    token_id: uuid.UUID, _form: FormData, session: SessionDep, principal: WebPrincipal
) -> Response:
    await api_tokens.revoke(session, principal, token_id)
    return see_other("/cuenta/tokens")


@router.post("/cuenta/cerrar-todo")
async def revoke_everything(
    request: Request, _form: FormData, session: SessionDep, principal: WebPrincipal
) -> Response:
    """ "Cerrar sesión en todas partes": every session (this one too), API token and JWT."""
    await credentials.revoke_all(
        session, await accounts.get_active_user(session, principal.user_id)
    )
    response = see_other("/ingresar")
    await login.sign_out(request, session, response)
    return response


@router.get("/cuenta")
async def account_home(request: Request, principal: WebPrincipal) -> Response:
    return render(request, "auth/account.html", {"account": principal})


@router.get("/cuenta/contrasena")
async def password_form(request: Request, principal: WebPrincipal) -> Response:
    del principal
    return render(request, "auth/change_password.html", {"form": FormState()})


@router.post("/cuenta/contrasena")
async def password_submit(
    request: Request,
    form: FormData,
    session: SessionDep,
    settings: SettingsDep,
    principal: WebPrincipal,
) -> Response:
    """Changing the password ends every session, this one too: sign in again with it."""
    state = FormState()
    new = form.get("new_password", "")
    if new != form.get("password_confirm", ""):
        state.add("password_confirm", _("Las contraseñas no coinciden."))
        return render(request, "auth/change_password.html", {"form": state}, status_code=422)
    try:
        await sign_in.change_password(
            session, settings, principal.user_id, form.get("current_password", ""), new
        )
    except RateLimited as exc:
        state.add("current_password", _("Demasiados intentos. Espera unos minutos."))
        return render(
            request, "auth/change_password.html", {"form": state},
            status_code=429, headers=exc.headers,
        )  # fmt: skip
    except InvalidInput as exc:
        for field, message in exc.errors:
            state.add("new_password" if field == "password" else field, message)
        return render(request, "auth/change_password.html", {"form": state}, status_code=422)
    response = see_other("/ingresar?restablecida=1")
    await login.sign_out(request, session, response)
    return response

"""Accounts over the API: registration, bearer tokens, email verification, password reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Response

from marketred.http.deps import ClientIP, CurrentPrincipal, SessionDep, SettingsDep
from marketred.http.transaction import after_commit, keep_when_refused
from marketred.schemas.accounts import (
    ChangePassword,
    PasswordResetConfirm,
    PasswordResetRequest,
    RegisterBuyer,
    TokenOut,
    UserOut,
)
from marketred.services.accounts import credentials, email_tokens, rate_limits, sign_in, tokens
from marketred.services.accounts import mail as auth_mail
from marketred.services.accounts import users as accounts

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/register", status_code=201)
async def register(
    body: RegisterBuyer, session: SessionDep, settings: SettingsDep, ip: ClientIP
) -> UserOut:
    per_ip = rate_limits.register_per_ip(settings.register_per_ip_hour)
    if ip and per_ip is not None:
        await rate_limits.hit(session, per_ip, ip)
        keep_when_refused(session)  # counted even if the registration is then refused
    user = await accounts.register_buyer(session, body)
    token = await email_tokens.issue(session, user, "verify_email")
    out = await accounts.to_user_out(session, user)
    after_commit(
        session, auth_mail.send, settings, auth_mail.verification_mail(settings, user.email, token)
    )
    return out


@router.post("/token")
async def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    ip: ClientIP,
    username: Annotated[str, Form(min_length=1, max_length=320)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
) -> TokenOut:
    user = await sign_in.password_sign_in(session, settings, username, password, ip=ip)
    token = tokens.issue_access_token(settings.secret_key, user.id, settings.access_token_minutes)
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)


@router.get("/me")
async def me(principal: CurrentPrincipal, session: SessionDep) -> UserOut:
    user = await accounts.get_active_user(session, principal.user_id)
    return await accounts.to_user_out(session, user)


@router.post("/verify-email/{token}", status_code=204)
async def verify_email(token: str, session: SessionDep) -> Response:
    user = await email_tokens.consume(session, token, "verify_email")
    await accounts.mark_email_verified(session, user)
    return Response(status_code=204)


@router.post("/password-reset", status_code=202)
async def request_password_reset(
    body: PasswordResetRequest,
    session: SessionDep,
    settings: SettingsDep,
    ip: ClientIP,
    background: BackgroundTasks,
) -> dict[str, str]:
    """Always 202, whether or not the address has an account (no account probing); the
    mail goes out after the answer, so a slow SMTP does not tell either."""
    if ip:
        await rate_limits.hit(session, rate_limits.RESET_PER_IP, ip)
    email = str(body.email).strip().lower()
    # Counted for any address, so a 429 does not tell which addresses have accounts.
    await rate_limits.hit(session, rate_limits.RESET_PER_ACCOUNT, email)
    user = await accounts.find_by_email(session, email)
    if user is not None and user.active:
        token = await email_tokens.issue(session, user, "reset_password")
        # A background task runs after the answer is sent, so after the request commits.
        background.add_task(
            auth_mail.send, settings, auth_mail.reset_mail(settings, user.email, token)
        )
    return {"detail": "if the address has an account, a reset link is on its way"}


@router.post("/password-reset/confirm", status_code=204)
async def confirm_password_reset(body: PasswordResetConfirm, session: SessionDep) -> Response:
    user = await email_tokens.consume(session, body.token, "reset_password")
    await accounts.reset_password(session, user, body.password)
    return Response(status_code=204)


@router.post("/revoke-all", status_code=204)
async def revoke_all(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """End every web session, personal API token and JWT of the caller (this one too)."""
    await credentials.revoke_all(
        session, await accounts.get_active_user(session, principal.user_id)
    )
    return Response(status_code=204)


@router.post("/password", status_code=204)
async def change_password(
    body: ChangePassword, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> Response:
    await sign_in.change_password(
        session, settings, principal.user_id, body.current_password, body.new_password
    )
    return Response(status_code=204)

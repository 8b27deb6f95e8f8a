"""A buyer's personal data over the API: export, correct, erase (services/accounts/privacy.py)."""

from __future__ import annotations

from fastapi import APIRouter

from marketred.http.deps import (
    BuyerPrincipal,
    ResourcesDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from marketred.http.transaction import after_commit
from marketred.schemas.accounts import UserOut
from marketred.schemas.privacy import CorrectAccount, EraseAccount, ErasureOut, PersonalDataExport
from marketred.services.accounts import mail as auth_mail
from marketred.services.accounts import privacy
from marketred.services.accounts import users as accounts

router = APIRouter(prefix="/api/v1/me", tags=["privacy"])


@router.get("/data")
async def export_my_data(who: BuyerPrincipal, session: SessionDep) -> PersonalDataExport:
    return await privacy.export(session, who)


@router.patch("")
async def correct_my_data(
    body: CorrectAccount, who: BuyerPrincipal, session: SessionDep, settings: SettingsDep
) -> UserOut:
    user, token = await privacy.correct(session, who, body)
    out = await accounts.to_user_out(session, user)
    if token is not None:
        mail = auth_mail.verification_mail(settings, user.email, token)
        after_commit(session, auth_mail.send, settings, mail)
    return out


@router.post("/erase")
async def erase_my_account(
    body: EraseAccount,
    who: BuyerPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    res: ResourcesDep,
) -> ErasureOut:
    out = await privacy.erase(session, temporal, who, body)
    after_commit(session, res.payload_codec().subjects.forget, who.user_id)
    return out

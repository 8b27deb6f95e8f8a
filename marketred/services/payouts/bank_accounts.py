"""A vendor's bank account for payouts: read, set (by its own staff), and the log of
changes.

Changing where money goes is what an account takeover would do first, so every change
is logged (who, when, before → after with the number masked) and mailed to the vendor's
company address after the commit (`notify_change`); the mail says who changed it and how
to react. Payouts copy the account when they are made (services/payouts/steps.py), so a change
never redirects a payout an operator already looked at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.mail import OutgoingMail
from marketred.logs import get_logger
from marketred.schemas.accounts import Principal
from marketred.schemas.banking import (
    ACCOUNT_TYPES,
    BANKS,
    BankAccountChangeOut,
    BankAccountIn,
    BankAccountOut,
    describe,
)
from marketred.services.accounts import authz
from marketred.services.accounts.mail import send
from marketred.services.errors import NotFound
from marketred.services.vendors import registry as vendors
from marketred.settings import Settings
from marketred.store.models import Vendor, VendorBankAccount, VendorBankAccountChange
from marketred.store.repositories import users as users_repo
from marketred.store.repositories import vendors as vendors_repo

log = get_logger(__name__)
SANTIAGO = ZoneInfo("America/Santiago")


@dataclass(frozen=True)
class SavedBankAccount:
    account: BankAccountOut
    # None when the form said what was already stored: nothing logged, nobody mailed.
    change: VendorBankAccountChange | None
    vendor: Vendor


def _vendor_of(who: Principal) -> uuid.UUID:
    """Bank details are the vendor's own business: only its staff read or set them."""
    authz.require_role(who, "vendor")
    if who.vendor_id is None:
        raise NotFound("no vendor")
    return who.vendor_id


def _out(account: VendorBankAccount, updated_by: str | None) -> BankAccountOut:
    return BankAccountOut(
        bank_code=account.bank_code,
        bank_name=BANKS.get(account.bank_code, account.bank_code),
        account_type=account.account_type,
        account_type_name=ACCOUNT_TYPES[account.account_type],
        account_number=account.account_number,
        holder_name=account.holder_name,
        holder_rut=account.holder_rut,
        updated_at=account.updated_at,
        updated_by=updated_by,
    )


def _summary(account: VendorBankAccount) -> str:
    return describe(
        account.bank_code, account.account_type, account.account_number, account.holder_name
    )


async def _email_of(session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    return await users_repo.email_of(session, user_id)


async def get_bank_account(session: AsyncSession, vendor_id: uuid.UUID) -> VendorBankAccount | None:
    return await session.get(VendorBankAccount, vendor_id, populate_existing=True)


async def own_bank_account(session: AsyncSession, who: Principal) -> BankAccountOut | None:
    account = await get_bank_account(session, _vendor_of(who))
    if account is None:
        return None
    return _out(account, await _email_of(session, account.updated_by))


async def save_bank_account(
    session: AsyncSession, who: Principal, body: BankAccountIn
) -> SavedBankAccount:
    """Set the vendor's account; a change is logged. Call `notify_change` after the
    commit to mail the vendor."""
    vendor_id = _vendor_of(who)
    vendor = await session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound("no vendor")
    account = await session.get(VendorBankAccount, vendor_id, with_for_update=True)
    fields = body.model_dump()
    before = None
    if account is None:
        account = VendorBankAccount(vendor_id=vendor_id, **fields)
        session.add(account)
    elif all(getattr(account, k) == v for k, v in fields.items()):
        return SavedBankAccount(
            _out(account, await _email_of(session, account.updated_by)), None, vendor
        )
    else:
        before = _summary(account)
        for key, value in fields.items():
            setattr(account, key, value)
    account.updated_by = who.user_id
    change = VendorBankAccountChange(
        vendor_id=vendor_id,
        changed_by=who.user_id,
        changed_by_email=who.email or await _email_of(session, who.user_id),
        before=before,
        after=_summary(account),
        # The moment itself (the column default is the transaction's start time).
        created_at=datetime.now(UTC),
    )
    session.add(change)
    await session.flush()
    await session.refresh(account)
    await session.refresh(change)
    log.info("vendor bank account changed", vendor=vendor.slug, by=str(who.user_id))
    return SavedBankAccount(_out(account, change.changed_by_email), change, vendor)


async def changes(
    session: AsyncSession, who: Principal, limit: int = 20
) -> list[BankAccountChangeOut]:
    rows = await vendors_repo.bank_account_changes(session, _vendor_of(who), limit)
    return [
        BankAccountChangeOut(at=c.created_at, by=c.changed_by_email, summary=c.after) for c in rows
    ]


def change_mail(
    settings: Settings, vendor: Vendor, change: VendorBankAccountChange, to: str
) -> OutgoingMail:
    when = change.created_at.astimezone(SANTIAGO).strftime("%d-%m-%Y %H:%M")
    page = settings.public_url.rstrip("/") + "/vendedor/datos-bancarios"
    before = f"Antes: {change.before}\n" if change.before else ""
    return OutgoingMail(
        to=to,
        subject=f"MarketRed: cambió la cuenta bancaria de {vendor.name}",
        text=(
            f"Hola {vendor.name},\n\n"
            f"{change.changed_by_email or 'Alguien de tu equipo'} cambió el {when} la cuenta "
            "donde te transferimos tus pagos.\n\n"
            f"{before}Ahora: {change.after}\n\n"
            "Los pagos ya generados se transfieren a la cuenta que tenían al generarse; los "
            "siguientes, a esta.\n\n"
            "Si no reconoces este cambio, responde a este correo de inmediato y revisa "
            f"quién tiene acceso a tu tienda: {page}\n"
        ),
        message_key=f"vendor-bank-account-change-{change.id}",
    )


async def notify_change(session: AsyncSession, settings: Settings, saved: SavedBankAccount) -> bool:
    """Mail the vendor about a committed change and mark it mailed (the caller commits).
    A mail that cannot go out is logged and left unmarked, never an error: the change
    itself is done."""
    if saved.change is None:
        return False
    to = await vendors.vendor_mail_address(session, saved.vendor)
    if to is None:
        log.warning(
            "bank account change not mailed: vendor has no address", vendor=saved.vendor.slug
        )
        return False
    if not await send(settings, change_mail(settings, saved.vendor, saved.change, to)):
        return False
    saved.change.mailed_at = datetime.now(UTC)
    await session.flush()
    return True

"""The vendor's bank account for payouts (vendor staff only, their own vendor), the log of
its changes, and the banks an account can be at."""

from __future__ import annotations

from fastapi import APIRouter

from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep, VendorPrincipal
from marketred.http.transaction import after_commit
from marketred.schemas.banking import (
    ACCOUNT_TYPES,
    BANKS,
    BankAccountChangeOut,
    BankAccountIn,
    BankAccountOut,
)
from marketred.services.errors import NotFound
from marketred.services.payouts import bank_accounts as vendor_bank_accounts
from marketred.services.payouts import commands as payout_commands

router = APIRouter(prefix="/api/v1", tags=["vendor bank account"])


@router.get("/banks")
async def list_banks() -> dict[str, dict[str, str]]:
    """Banks a payout can go to (CMF code → name) and the account types."""
    return {"banks": BANKS, "account_types": ACCOUNT_TYPES}


@router.get("/vendor/bank-account")
async def get_bank_account(vendor: VendorPrincipal, session: SessionDep) -> BankAccountOut:
    account = await vendor_bank_accounts.own_bank_account(session, vendor)
    if account is None:
        raise NotFound("no bank account yet: PUT one so payouts can reach you")
    return account


@router.put("/vendor/bank-account")
async def put_bank_account(
    body: BankAccountIn,
    vendor: VendorPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
) -> BankAccountOut:
    """Set where payouts go. A change is logged and mailed to the vendor; payouts already
    made keep the account they were made with; payouts waiting for an account go on."""
    saved = await vendor_bank_accounts.save_bank_account(session, vendor, body)
    if saved.change is not None:  # once the change is committed
        after_commit(session, vendor_bank_accounts.notify_change, session, settings, saved)
        after_commit(
            session,
            payout_commands.nudge_payouts_waiting_for_bank_details,
            resources.temporal.get,
            session,
            saved.vendor.id,
        )
    return saved.account


@router.get("/vendor/bank-account/changes")
async def bank_account_changes(
    vendor: VendorPrincipal, session: SessionDep
) -> list[BankAccountChangeOut]:
    return await vendor_bank_accounts.changes(session, vendor)

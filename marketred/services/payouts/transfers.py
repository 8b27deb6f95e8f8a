"""The transfer step of a payout, around the provider call (activities/payouts.py):

1. `begin_transfer` (own transaction): decide whether to call the provider at all. A
   payout already decided answers what it is. A payout without a bank account copies the
   vendor's current one, or is held (`missing_bank_details`) until the vendor adds one.
   A payout whose `transfer_state` is still `sending` was interrupted after asking the
   provider (worker killed, heartbeat lost): unless the provider can be asked again
   safely, it is held (`transfer_uncertain`), never sent a second time. Otherwise it
   writes `sending` and commits before the call.
2. the provider call, outside any transaction.
3. `finish_transfer` / `transfer_not_sent` / `transfer_uncertain` (own transaction):
   record what the provider said.

So every crash point leaves either "nothing sent" (state not yet `sending`, or
`not_sent`) or a held payout a person resolves: money is never sent twice, and a quote is
never released while its money may have moved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.payouts import TransferReceipt
from marketred.services.errors import Conflict, NotFound
from marketred.services.payouts import bank_accounts as vendor_bank_accounts
from marketred.services.payouts import steps as payouts
from marketred.services.payouts.providers import TransferRequest, TransferResult
from marketred.store.models import Payout
from marketred.store.repositories import payouts as repo

NO_BANK_ACCOUNT = (
    "the vendor has no bank account for payouts yet; the payout waits until its staff add "
    "one (Datos bancarios)"
)
INTERRUPTED = (
    "a transfer attempt was interrupted after it reached the provider; check with the bank "
    "whether it was executed, then confirm it with the bank's reference or mark it not "
    "executed"
)


@dataclass(frozen=True)
class TransferStart:
    """Either the step is already decided (`receipt`) or the provider must be asked."""

    receipt: TransferReceipt | None = None
    request: TransferRequest | None = None


async def _locked(session: AsyncSession, payout_id: uuid.UUID) -> Payout:
    payout = await repo.get(session, payout_id, for_update=True)
    if payout is None:
        raise NotFound(f"payout {payout_id} not found")
    return payout


def _held(payout: Payout) -> TransferReceipt:
    return TransferReceipt(outcome="held", hold_code=payout.hold_code, detail=payout.reason)


async def begin_transfer(
    session: AsyncSession, payout_id: uuid.UUID, *, repeat_safe: bool
) -> TransferStart:
    payout = await _locked(session, payout_id)
    if payout.status == "PAID":
        return TransferStart(TransferReceipt(outcome="confirmed", provider_ref=payout.provider_ref))
    if payout.status == "SUBMITTED":
        return TransferStart(TransferReceipt(outcome="submitted", provider_ref=payout.provider_ref))
    if payout.status == "HELD" and payout.hold_code != "missing_bank_details":
        return TransferStart(_held(payout))
    if payout.status not in ("APPROVED", "HELD"):
        raise Conflict(f"payout is {payout.status}; it cannot be transferred")
    if payout.bank_account_number is None:
        account = await vendor_bank_accounts.get_bank_account(session, payout.vendor_id)
        if account is None:
            await payouts.hold(session, payout_id, "missing_bank_details", NO_BANK_ACCOUNT)
            return TransferStart(_held(payout))
        payouts.copy_bank_account(payout, account)
    if payout.status == "HELD":  # held for a bank account that is there now
        payout.status, payout.hold_code = "APPROVED", None
    if payout.transfer_state == "sending" and not repeat_safe:
        await payouts.hold(session, payout_id, "transfer_uncertain", INTERRUPTED)
        return TransferStart(_held(payout))
    payout.transfer_state = "sending"
    await session.flush()
    return TransferStart(
        request=TransferRequest(
            idempotency_key=f"payout-{payout.id}",
            payout_id=payout.id,
            run_workflow_id=payout.run_workflow_id or payout.workflow_id,
            vendor_id=payout.vendor_id,
            amount=payout.net,
            currency=payout.currency,
            reference=f"MarketRed pago {str(payout.id)[:8]}",
        )
    )


async def finish_transfer(
    session: AsyncSession, payout_id: uuid.UUID, result: TransferResult
) -> TransferReceipt:
    payout = await _locked(session, payout_id)
    payout.transfer_state = "done"
    payout.provider_ref = result.reference
    if result.outcome == "submitted" and payout.status == "APPROVED":
        payout.status = "SUBMITTED"
    await session.flush()
    return TransferReceipt(outcome=result.outcome, provider_ref=result.reference)


async def transfer_not_sent(session: AsyncSession, payout_id: uuid.UUID) -> None:
    """The provider certainly did not take it: the next attempt may ask again."""
    payout = await _locked(session, payout_id)
    if payout.transfer_state == "sending":
        payout.transfer_state = "not_sent"
        await session.flush()


async def transfer_uncertain(
    session: AsyncSession, payout_id: uuid.UUID, detail: str
) -> TransferReceipt:
    """The provider answered "maybe" (timed out after accepting, an error we cannot read)."""
    reason = f"the provider could not confirm the transfer ({detail}); check with the bank"
    await payouts.hold(session, payout_id, "transfer_uncertain", reason)
    return _held(await _locked(session, payout_id))

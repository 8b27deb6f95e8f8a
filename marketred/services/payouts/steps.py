"""Payout steps: gather a vendor's unpaid ledger transactions into a payout, decide, settle.

A quote's money reaches a payout as items (see PayoutItem), each carrying the ledger
transactions it settles (PayoutLedgerTxn, one live payout per transaction):
- `sale`: the quote's sale, net of the refunds posted after it but before any payout took
  it (a fully refunded quote yields nothing);
- `clawback`: one refund of a quote whose sale already is in a live payout: the vendor
  was (or will be) paid the full sale, so the refund is taken back from its next payout,
  on its own line with negative amounts. Each partial refund is its own clawback.
A run whose total net is not positive creates nothing: clawbacks wait for later sales.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.logs import get_logger
from marketred.schemas.payouts import (
    CONFIRMABLE_HOLDS,
    HoldCode,
    PayoutStatus,
    PayoutSummary,
    payout_totals,
    quote_number,
)
from marketred.services.errors import Conflict, NotFound
from marketred.services.ledger import postings as ledger
from marketred.services.payouts import bank_accounts as vendor_bank_accounts
from marketred.services.payouts import bank_files as payout_bank_files
from marketred.services.payouts.report import ReportLine, render_csv
from marketred.store.models import LedgerEntry, Payout, PayoutItem, Vendor, VendorBankAccount
from marketred.store.repositories import ledger as ledger_repo
from marketred.store.repositories import payouts as repo

log = get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def summary(payout: Payout, vendor: Vendor, items: int) -> PayoutSummary:
    return PayoutSummary(
        payout_id=payout.id,
        workflow_id=payout.workflow_id,
        vendor_id=payout.vendor_id,
        vendor_slug=vendor.slug,
        status=payout.status,
        gross=payout.gross,
        commission=payout.commission,
        net=payout.net,
        items=items,
    )


@dataclass
class _Candidate:
    item: PayoutItem
    txn_ids: list[uuid.UUID]


def _txn_sums(entries: list[LedgerEntry]) -> dict[uuid.UUID, dict[str, int]]:
    sums: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for e in entries:
        sums[e.txn_id][e.account] = e.amount
    return sums


def _candidate_items(entries: list[LedgerEntry]) -> list[_Candidate]:
    """Items for the vendor's open quote transactions (rows of sales and after-sale
    refunds no live payout carries). A sale still open takes the refunds open beside it;
    a refund whose sale is carried already is a clawback on its own."""
    by_quote: dict[uuid.UUID, dict[str, list[uuid.UUID]]] = defaultdict(lambda: defaultdict(list))
    dates: dict[uuid.UUID, datetime] = {}
    for e in entries:
        assert e.quote_id is not None
        phase = e.key.split(":")[2]  # quote:<id>:<sale|refund>:...
        if e.txn_id not in by_quote[e.quote_id][phase]:
            by_quote[e.quote_id][phase].append(e.txn_id)
        dates[e.txn_id] = min(dates.get(e.txn_id, e.created_at), e.created_at)
    sums = _txn_sums(entries)
    made: list[_Candidate] = []
    for quote_id, txns in by_quote.items():
        refunds = sorted(txns.get("refund", []), key=lambda t: (dates[t], str(t)))
        if txns.get("sale"):
            [sale] = txns["sale"]
            gross = sums[sale].get("buyer_payments", 0)
            commission = -sums[sale].get("platform_commission", 0)
            for refund in refunds:  # refunded before any payout took it: pay what is left
                gross += sums[refund].get("refunds", 0)
                commission -= sums[refund].get("platform_commission", 0)
            if gross or commission:
                item = PayoutItem(
                    quote_id=quote_id,
                    kind="sale",
                    gross=gross,
                    commission=commission,
                    net=gross - commission,
                    occurred_at=dates[sale],
                )
                made.append(_Candidate(item, [sale, *refunds]))
            continue
        for refund in refunds:
            gross = sums[refund].get("refunds", 0)  # negative: money back to the buyer
            commission = -sums[refund].get("platform_commission", 0)
            item = PayoutItem(
                quote_id=quote_id,
                kind="clawback",
                gross=gross,
                commission=commission,
                net=gross - commission,
                occurred_at=dates[refund],
            )
            made.append(_Candidate(item, [refund]))
    return made


async def vendors_to_pay(session: AsyncSession) -> list[uuid.UUID]:
    return await ledger_repo.vendors_with_unassigned_payables(session)


def copy_bank_account(payout: Payout, account: VendorBankAccount) -> None:
    """The payout keeps the account as it is now: a later change does not move it."""
    payout.bank_code = account.bank_code
    payout.bank_account_type = account.account_type
    payout.bank_account_number = account.account_number
    payout.bank_holder_name = account.holder_name
    payout.bank_holder_rut = account.holder_rut


async def create_vendor_payout(
    session: AsyncSession,
    vendor_id: uuid.UUID,
    workflow_id: str,
    run_workflow_id: str | None = None,
) -> PayoutSummary | None:
    """Create the vendor's PENDING_APPROVAL payout for this run (with the vendor's bank
    account as it is now), or return the one this run created already (retries), or
    None when nothing positive is owed."""
    vendor = await session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} not found")
    existing = await repo.get_by_workflow_id(session, workflow_id)
    if existing is not None:
        return summary(existing, vendor, len(await repo.items_of(session, existing.id)))
    await repo.lock_vendor_payouts(session, vendor_id)
    candidates = _candidate_items(await ledger_repo.unassigned_entries(session, vendor_id))
    items = [c.item for c in candidates]
    gross, commission, net = payout_totals((i.gross, i.commission) for i in items)
    if not items or net <= 0:
        return None
    numbers = await repo.quote_numbers(session, [i.quote_id for i in items])
    candidates.sort(
        key=lambda c: (c.item.occurred_at or _now(), numbers[c.item.quote_id], c.item.kind)
    )
    items = [c.item for c in candidates]
    report = render_csv(
        [
            ReportLine(
                quote_number(numbers[i.quote_id]),
                i.occurred_at,
                i.kind,
                i.gross,
                i.commission,
                i.net,
            )
            for i in items
        ]
    )
    payout = Payout(
        vendor_id=vendor_id,
        workflow_id=workflow_id,
        run_workflow_id=run_workflow_id,
        status="PENDING_APPROVAL",
        gross=gross,
        commission=commission,
        net=net,
        report_csv=report,
    )
    account = await vendor_bank_accounts.get_bank_account(session, vendor_id)
    if account is not None:
        copy_bank_account(payout, account)
    await repo.add(session, payout, [(c.item, c.txn_ids) for c in candidates])
    return summary(payout, vendor, len(items))


async def _locked(session: AsyncSession, payout_id: uuid.UUID) -> Payout:
    payout = await repo.get(session, payout_id, for_update=True)
    if payout is None:
        raise NotFound(f"payout {payout_id} not found")
    return payout


async def approve(
    session: AsyncSession, payout_id: uuid.UUID, approved_by: uuid.UUID | None
) -> PayoutStatus:
    payout = await _locked(session, payout_id)
    if payout.status in ("APPROVED", "PAID"):
        return payout.status
    if payout.status != "PENDING_APPROVAL":
        raise Conflict(f"payout is {payout.status}; only a pending payout can be approved")
    payout.status = "APPROVED"
    payout.approved_by = approved_by
    payout.approved_at = _now()
    await session.flush()
    return "APPROVED"


async def reject(session: AsyncSession, payout_id: uuid.UUID, reason: str) -> PayoutStatus:
    """Reject and release the payout's quotes for the next run."""
    payout = await _locked(session, payout_id)
    if payout.status == "REJECTED":
        return "REJECTED"
    if payout.status != "PENDING_APPROVAL":
        raise Conflict(f"payout is {payout.status}; only a pending payout can be rejected")
    payout.status = "REJECTED"
    payout.reason = reason
    await repo.release_items(session, payout_id, _now())
    await session.flush()
    return "REJECTED"


async def mark_paid(
    session: AsyncSession,
    payout_id: uuid.UUID,
    provider_ref: str,
    confirmed_by: uuid.UUID | None = None,
) -> PayoutStatus:
    """The money left: the provider confirmed it (APPROVED, `confirmed_by` None), or an
    operator confirms a transfer in a bank file or one whose outcome was uncertain, with
    the bank's reference. Posts the payout's ledger rows; a repeat changes nothing."""
    payout = await _locked(session, payout_id)
    if payout.status == "PAID":
        return "PAID"
    confirmable = payout.status in ("APPROVED", "SUBMITTED") or (
        payout.status == "HELD" and payout.hold_code in CONFIRMABLE_HOLDS
    )
    if not confirmable:
        raise Conflict(
            f"payout is {payout.status}"
            + (f" ({payout.hold_code})" if payout.hold_code else "")
            + "; no transfer of it can have been executed"
        )
    payout.status = "PAID"
    payout.provider_ref = provider_ref
    payout.paid_at = _now()
    payout.hold_code = None
    if confirmed_by is not None:
        payout.resolved_by, payout.resolved_at = confirmed_by, payout.paid_at
    await ledger.post_payout(session, payout.id, payout.vendor_id, payout.net)
    await session.flush()
    return "PAID"


async def mark_failed(
    session: AsyncSession,
    payout_id: uuid.UUID,
    reason: str,
    released_by: uuid.UUID | None = None,
) -> PayoutStatus:
    """The transfer was not executed (refused for good, or an operator checked with the
    bank): nothing moved, so release the quotes for the next run and void its line in
    the bank file."""
    payout = await _locked(session, payout_id)
    if payout.status == "FAILED":
        return "FAILED"
    if payout.status not in ("APPROVED", "SUBMITTED", "HELD"):
        raise Conflict(f"payout is {payout.status}; only a transfer in progress can fail")
    payout.status = "FAILED"
    payout.reason = reason
    payout.hold_code = None
    if released_by is not None:
        payout.resolved_by, payout.resolved_at = released_by, _now()
    await repo.release_items(session, payout_id, _now())
    await payout_bank_files.void_line(session, payout_id)
    await session.flush()
    return "FAILED"


async def hold(
    session: AsyncSession, payout_id: uuid.UUID, code: HoldCode, reason: str
) -> PayoutStatus:
    """Park a payout whose transfer nobody can vouch for (or that has nowhere to go) for
    a person; its quotes stay in it, so no later run pays them again."""
    payout = await _locked(session, payout_id)
    if payout.status == "HELD" and payout.hold_code == code:
        return "HELD"
    if payout.status not in ("APPROVED", "HELD"):
        raise Conflict(f"payout is {payout.status}; only a transfer in progress can be held")
    payout.status = "HELD"
    payout.hold_code = code
    payout.reason = reason[:2000]
    payout.held_at = _now()
    await session.flush()
    log.warning("payout held", payout=str(payout_id), code=code)
    return "HELD"


async def report_lines(session: AsyncSession, payout_id: uuid.UUID) -> list[ReportLine]:
    return [
        ReportLine(quote_number(n), i.occurred_at, i.kind, i.gross, i.commission, i.net)
        for i, n in await repo.items_of(session, payout_id)
    ]


async def mark_statement_sent(session: AsyncSession, payout_id: uuid.UUID, at: datetime) -> None:
    """Record that the mail server took the payout's statement (the first time only)."""
    payout = await repo.get(session, payout_id)
    if payout is None:
        raise NotFound(f"payout {payout_id} not found")
    if payout.statement_sent_at is None:
        payout.statement_sent_at = at


async def with_vendor(session: AsyncSession, payout_id: uuid.UUID) -> tuple[Payout, Vendor]:
    """A payout and its vendor, for the transfer and statement activities."""
    payout = await repo.get(session, payout_id)
    if payout is None:
        raise NotFound(f"payout {payout_id} not found")
    vendor = await session.get(Vendor, payout.vendor_id)
    if vendor is None:
        raise NotFound(f"vendor of payout {payout_id} not found")
    return payout, vendor

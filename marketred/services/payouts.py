"""Payout steps: gather a vendor's unpaid ledger rows into a payout, decide, settle.

A quote's money reaches a payout as items (see PayoutItem):
- `sale`: the quote's sale rows, net of any refund already posted, when the sale is in
  no live payout yet (a fully refunded quote yields nothing);
- `clawback`: the refund rows of a quote whose sale already is in a live payout: the
  vendor was (or will be) paid the full sale, so the refund is taken back from its next
  payout, on its own line with negative amounts.
A run whose total net is not positive creates nothing: clawbacks wait for later sales.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.payouts import PayoutStatus, PayoutSummary, payout_totals, quote_number
from marketred.services import ledger
from marketred.services.errors import Conflict, NotFound
from marketred.services.payout_report import ReportLine, render_csv
from marketred.store.models import LedgerEntry, Payout, PayoutItem, User, Vendor
from marketred.store.repositories import ledger as ledger_repo
from marketred.store.repositories import payouts as repo


def _now() -> datetime:
    return datetime.now(UTC)


def summary(payout: Payout, vendor: Vendor, items: int) -> PayoutSummary:
    return PayoutSummary(
        payout_id=payout.id,
        workflow_id=payout.workflow_id,
        vendor_id=payout.vendor_id,
        vendor_slug=vendor.slug,
        status=payout.status,  # type: ignore[arg-type]  # the check constraint guards it
        gross=payout.gross,
        commission=payout.commission,
        net=payout.net,
        items=items,
    )


def _phase(entry: LedgerEntry) -> str:
    return entry.key.split(":")[2]  # quote:<id>:<phase>:<account>


def _candidate_items(
    entries: list[LedgerEntry], live: set[tuple[uuid.UUID, str]]
) -> list[PayoutItem]:
    sums: dict[uuid.UUID, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    dates: dict[tuple[uuid.UUID, str], datetime] = {}
    for e in entries:
        assert e.quote_id is not None
        phase = _phase(e)
        sums[e.quote_id][phase][e.account] = e.amount
        dates[(e.quote_id, phase)] = e.created_at
    items: list[PayoutItem] = []
    for quote_id, phases in sums.items():
        sale, refund = phases.get("sale", {}), phases.get("refund", {})
        refund_open = bool(refund) and (quote_id, "clawback") not in live
        if (quote_id, "sale") not in live and sale:
            gross = sale.get("buyer_payments", 0)
            commission = -sale.get("platform_commission", 0)
            if refund_open:  # refunded before any payout took it: pay only what is left
                gross += refund.get("refunds", 0)
                commission -= refund.get("platform_commission", 0)
            if gross or commission:
                items.append(
                    PayoutItem(
                        quote_id=quote_id,
                        kind="sale",
                        gross=gross,
                        commission=commission,
                        net=gross - commission,
                        occurred_at=dates[(quote_id, "sale")],
                    )
                )
        elif (quote_id, "sale") in live and refund_open and "vendor_payable" in refund:
            gross = refund.get("refunds", 0)  # negative: money returned to the buyer
            commission = -refund.get("platform_commission", 0)
            items.append(
                PayoutItem(
                    quote_id=quote_id,
                    kind="clawback",
                    gross=gross,
                    commission=commission,
                    net=gross - commission,
                    occurred_at=dates[(quote_id, "refund")],
                )
            )
    return items


async def vendors_to_pay(session: AsyncSession) -> list[uuid.UUID]:
    return await ledger_repo.vendors_with_unassigned_payables(session)


async def create_vendor_payout(
    session: AsyncSession, vendor_id: uuid.UUID, workflow_id: str
) -> PayoutSummary | None:
    """Create the vendor's PENDING_APPROVAL payout for this run, or return the one this
    run created already (retries), or None when nothing positive is owed."""
    vendor = await session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} not found")
    existing = await repo.get_by_workflow_id(session, workflow_id)
    if existing is not None:
        return summary(existing, vendor, len(await repo.items_of(session, existing.id)))
    await repo.lock_vendor_payouts(session, vendor_id)
    entries = await ledger_repo.unassigned_entries(session, vendor_id)
    quote_ids = sorted({e.quote_id for e in entries if e.quote_id is not None})
    items = _candidate_items(entries, await ledger_repo.live_item_kinds(session, quote_ids))
    gross, commission, net = payout_totals((i.gross, i.commission) for i in items)
    if not items or net <= 0:
        return None
    numbers = await repo.quote_numbers(session, [i.quote_id for i in items])
    items.sort(key=lambda i: (i.occurred_at or _now(), numbers[i.quote_id], i.kind))
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
        status="PENDING_APPROVAL",
        gross=gross,
        commission=commission,
        net=net,
        report_csv=report,
    )
    await repo.add(session, payout, items)
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
        return payout.status  # type: ignore[return-value]
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


async def mark_paid(session: AsyncSession, payout_id: uuid.UUID, provider_ref: str) -> PayoutStatus:
    payout = await _locked(session, payout_id)
    if payout.status == "PAID":
        return "PAID"
    if payout.status != "APPROVED":
        raise Conflict(f"payout is {payout.status}; only an approved payout can be paid")
    payout.status = "PAID"
    payout.provider_ref = provider_ref
    payout.paid_at = _now()
    await ledger.post_payout(session, payout.id, payout.vendor_id, payout.net)
    await session.flush()
    return "PAID"


async def mark_failed(session: AsyncSession, payout_id: uuid.UUID, reason: str) -> PayoutStatus:
    """The transfer was refused for good: nothing moved, so release the quotes."""
    payout = await _locked(session, payout_id)
    if payout.status == "FAILED":
        return "FAILED"
    if payout.status != "APPROVED":
        raise Conflict(f"payout is {payout.status}; only an approved payout can fail")
    payout.status = "FAILED"
    payout.reason = reason
    await repo.release_items(session, payout_id, _now())
    await session.flush()
    return "FAILED"


async def report_lines(session: AsyncSession, payout_id: uuid.UUID) -> list[ReportLine]:
    return [
        ReportLine(quote_number(n), i.occurred_at, i.kind, i.gross, i.commission, i.net)
        for i, n in await repo.items_of(session, payout_id)
    ]


async def vendor_mail_address(session: AsyncSession, vendor: Vendor) -> str | None:
    """The vendor's company address, else its first active staff member's."""
    if vendor.email:
        return vendor.email
    return await session.scalar(
        select(User.email)
        .where(User.vendor_id == vendor.id, User.active.is_(True))
        .order_by(User.created_at)
        .limit(1)
    )


async def with_vendor(session: AsyncSession, payout_id: uuid.UUID) -> tuple[Payout, Vendor]:
    """A payout and its vendor, for the transfer and statement activities."""
    payout = await repo.get(session, payout_id)
    if payout is None:
        raise NotFound(f"payout {payout_id} not found")
    vendor = await session.get(Vendor, payout.vendor_id)
    if vendor is None:
        raise NotFound(f"vendor of payout {payout_id} not found")
    return payout, vendor

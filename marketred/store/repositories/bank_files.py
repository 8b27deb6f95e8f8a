"""SQL of the payout runs' bank transfer files (nóminas) and their lines."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import Payout, PayoutBankFile, PayoutBankFileLine, Vendor


async def lock_run(session: AsyncSession, run_workflow_id: str) -> None:
    """A transaction-scoped advisory lock on the run's files (until the transaction ends)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"bank-file:{run_workflow_id}"}
    )


async def file_of_payout(session: AsyncSession, payout_id: uuid.UUID) -> PayoutBankFile | None:
    return await session.scalar(
        select(PayoutBankFile)
        .join(PayoutBankFileLine, PayoutBankFileLine.bank_file_id == PayoutBankFile.id)
        .where(PayoutBankFileLine.payout_id == payout_id)
    )


async def latest_file_of_run(session: AsyncSession, run_workflow_id: str) -> PayoutBankFile | None:
    return await session.scalar(
        select(PayoutBankFile)
        .where(PayoutBankFile.run_workflow_id == run_workflow_id)
        .order_by(PayoutBankFile.seq.desc())
        .limit(1)
    )


async def line_of_payout(session: AsyncSession, payout_id: uuid.UUID) -> PayoutBankFileLine | None:
    return await session.scalar(
        select(PayoutBankFileLine).where(PayoutBankFileLine.payout_id == payout_id)
    )


async def files_with_totals(
    session: AsyncSession, limit: int
) -> list[tuple[PayoutBankFile, int, int]]:
    """Newest first, each with the number and sum of its lines not voided."""
    live = PayoutBankFileLine.voided_at.is_(None)
    rows = await session.execute(
        select(
            PayoutBankFile,
            func.count(PayoutBankFileLine.id).filter(live),
            func.coalesce(func.sum(PayoutBankFileLine.amount).filter(live), 0),
        )
        .outerjoin(PayoutBankFileLine, PayoutBankFileLine.bank_file_id == PayoutBankFile.id)
        .group_by(PayoutBankFile.id)
        .order_by(PayoutBankFile.created_at.desc(), PayoutBankFile.seq.desc())
        .limit(limit)
    )
    return [(f, int(n), int(total)) for f, n, total in rows.all()]


async def live_lines(
    session: AsyncSession, bank_file_id: uuid.UUID
) -> list[tuple[PayoutBankFileLine, Payout, Vendor]]:
    """The file's lines not voided, in the order they were added, with payout and vendor."""
    found = await session.execute(
        select(PayoutBankFileLine, Payout, Vendor)
        .join(Payout, Payout.id == PayoutBankFileLine.payout_id)
        .join(Vendor, Vendor.id == Payout.vendor_id)
        .where(
            PayoutBankFileLine.bank_file_id == bank_file_id,
            PayoutBankFileLine.voided_at.is_(None),
        )
        .order_by(PayoutBankFileLine.created_at, PayoutBankFileLine.id)
    )
    return [(line, payout, vendor) for line, payout, vendor in found]

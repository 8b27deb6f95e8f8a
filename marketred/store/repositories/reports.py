"""SQL of the sales reports: the ledger summed per Santiago month and vendor."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import LedgerEntry, Vendor

TIMEZONE = "America/Santiago"
# month (a date or a timestamp at its start), vendor slug, vendor name, sales, commission,
# refunds, payouts
MonthRow = tuple[date | datetime, str, str, int, int, int, int]


async def monthly_by_vendor(
    session: AsyncSession,
    begin: datetime,
    end: datetime,
    *,
    vendor_id: uuid.UUID | None = None,
    vendor_slug: str | None = None,
) -> list[MonthRow]:
    """Ledger entries created in [begin, end), summed per Santiago month and vendor:
    sales (the `buyer_payments` rows of sale postings), net commission, refunds and
    payouts, each as a positive amount of money."""
    local = func.timezone(TIMEZONE, LedgerEntry.created_at)
    month = func.date_trunc("month", local).label("month")
    sale = LedgerEntry.key.like("quote:%:sale:%")

    def total(account: str, only_sales: bool = False) -> ColumnElement[Any]:
        condition = LedgerEntry.account == account
        if only_sales:
            condition = condition & sale
        return func.coalesce(func.sum(case((condition, LedgerEntry.amount), else_=0)), 0)

    query = (
        select(
            month,
            Vendor.slug,
            Vendor.name,
            total("buyer_payments", only_sales=True),
            -total("platform_commission"),
            -total("refunds"),
            -total("vendor_payouts"),
        )
        .join(Vendor, Vendor.id == LedgerEntry.vendor_id)
        .where(LedgerEntry.created_at >= begin, LedgerEntry.created_at < end)
        .group_by(month, Vendor.slug, Vendor.name)
        .order_by(month, Vendor.name)
    )
    if vendor_id is not None:
        query = query.where(LedgerEntry.vendor_id == vendor_id)
    elif vendor_slug:
        query = query.where(Vendor.slug == vendor_slug)
    return [
        (m, slug, name, int(s), int(c), int(r), int(p))
        for m, slug, name, s, c, r, p in (await session.execute(query)).all()
    ]

"""Sales reports per month and vendor, read from the ledger and nothing else.

The ledger is the books (services/ledger/postings.py): reading the report from `ledger_entries`
makes it agree with them to the peso by construction, and a test checks it against the
accounts' own sums. Per Santiago month and vendor:

- sales: completed sales, gross (the `buyer_payments` rows of sale postings);
- commission: our net commission (`platform_commission`, less reversals by refunds);
- refunds: money returned to buyers (`refunds`);
- payouts: money sent to the vendor (`vendor_payouts`).

Operators see every vendor (or one); vendor staff only their own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.services.accounts import authz
from marketred.services.errors import InvalidInput
from marketred.store.repositories import reports as repo
from marketred.store.repositories.reports import TIMEZONE

COLUMNS = ("sales", "commission", "refunds", "payouts")


@dataclass
class ReportRow:
    month: date
    vendor_slug: str
    vendor_name: str
    sales: int = 0
    commission: int = 0
    refunds: int = 0
    payouts: int = 0


@dataclass
class Report:
    start: date
    end: date  # inclusive
    rows: list[ReportRow]
    totals: dict[str, int] = field(default_factory=dict)

    def months(self) -> list[tuple[date, dict[str, int]]]:
        """Totals per month, every month of the range (for the chart)."""
        sums: dict[date, dict[str, int]] = {}
        month = self.start.replace(day=1)
        while month <= self.end:
            sums[month] = dict.fromkeys(COLUMNS, 0)
            month = _next_month(month)
        for row in self.rows:
            target = sums.setdefault(row.month, dict.fromkeys(COLUMNS, 0))
            for column in COLUMNS:
                target[column] += getattr(row, column)
        return sorted(sums.items())


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _santiago_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)


async def ledger_report(
    session: AsyncSession,
    who: Principal,
    start: date,
    end: date,
    vendor_slug: str | None = None,
) -> Report:
    if who.is_operator:
        vendor_filter = None
    else:
        authz.require_role(who, "vendor")
        vendor_filter = who.vendor_id
    if end < start:
        raise InvalidInput("end before start", errors=[("hasta", "after the start date")])
    if (end - start).days > 366 * 3:
        raise InvalidInput("range too long", errors=[("hasta", "at most three years")])
    found = await repo.monthly_by_vendor(
        session,
        _santiago_midnight(start),
        _santiago_midnight(end + timedelta(days=1)),
        vendor_id=vendor_filter,
        vendor_slug=vendor_slug,
    )
    rows = [
        ReportRow(
            month=m.date() if isinstance(m, datetime) else m,
            vendor_slug=slug,
            vendor_name=name,
            sales=s,
            commission=c,
            refunds=r,
            payouts=p,
        )
        for m, slug, name, s, c, r, p in found
    ]
    rows = [r for r in rows if any(getattr(r, c) for c in COLUMNS)]
    totals = {c: sum(getattr(r, c) for r in rows) for c in COLUMNS}
    return Report(start, end, rows, totals)


def report_csv(report: Report) -> str:
    """Semicolon-separated with whole pesos (what a Chilean spreadsheet opens as numbers)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["mes", "tienda", "ventas", "comision", "reembolsos", "pagos_a_tiendas"])
    for row in report.rows:
        writer.writerow(
            [row.month.strftime("%Y-%m"), row.vendor_slug,
             row.sales, row.commission, row.refunds, row.payouts]
        )  # fmt: skip
    t = report.totals
    writer.writerow(["total", "", t["sales"], t["commission"], t["refunds"], t["payouts"]])
    return out.getvalue()

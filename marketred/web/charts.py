"""Server-rendered SVG chart of sales and commission per week (no JavaScript, no CDN)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

from marketred.web.formatting import SANTIAGO, clp


@dataclass(frozen=True)
class WeekTotals:
    week_start: date  # Monday, Santiago calendar
    gross: int
    commission: int


def weekly_totals(
    sales: Iterable[tuple[datetime, int, int]], *, weeks: int, today: date
) -> list[WeekTotals]:
    """(when, gross, commission) sales summed per Santiago week, the last `weeks` weeks
    oldest first, empty weeks included so the axis is regular."""
    this_monday = today - timedelta(days=today.weekday())
    starts = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    sums = {s: [0, 0] for s in starts}
    for when, gross, commission in sales:
        day = when.astimezone(SANTIAGO).date()
        monday = day - timedelta(days=day.weekday())
        if monday in sums:
            sums[monday][0] += gross
            sums[monday][1] += commission
    return [WeekTotals(s, g, c) for s, (g, c) in sums.items()]


def sales_chart_svg(
    weeks: list[WeekTotals],
    *,
    title: str,
    sales_label: str,
    fee_label: str,
    date_format: str = "%d/%m",
) -> Markup:
    """Paired bars per week; every bar has a <title> with its exact amount, and the
    figure has a text alternative (the table beside it carries the same numbers)."""
    width, height, left, bottom, top = 760, 280, 70, 40, 16
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max((w.gross for w in weeks), default=0) or 1
    slot = plot_w / max(len(weeks), 1)
    bar = slot * 0.35
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for i in range(5):  # gridlines with CLP labels
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dbe3"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#4f5b6a">{escape(clp(round(value)))}</text>'
        )
    for i, week in enumerate(weeks):
        x = left + i * slot + slot * 0.12
        for j, (amount, css, label) in enumerate(
            ((week.gross, "bar-sales", sales_label), (week.commission, "bar-commission", fee_label))
        ):
            h = plot_h * amount / peak
            parts.append(
                f'<rect class="{css}" x="{x + j * bar:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(label)} '
                f"{escape(week.week_start.strftime(date_format))}: "
                f"{escape(clp(amount))}</title></rect>"
            )
        day = escape(week.week_start.strftime(date_format))
        parts.append(
            f'<text x="{x + bar:.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle" fill="#4f5b6a">{day}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

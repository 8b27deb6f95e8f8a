"""When the buyer is reminded to pay (quote_rules.payment_reminder_at), a pure rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketred.schemas.quotes import Deadlines, QuoteRunState, TimelineEntry
from marketred.workflows import quote_rules as rules

ACCEPTED_AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _accepted(window: timedelta, *kinds: str) -> QuoteRunState:
    timeline = [
        TimelineEntry(seq=i + 1, kind=kind, status="ACCEPTED", actor="system", at=ACCEPTED_AT)
        for i, kind in enumerate(("requested", "accepted", *kinds))
    ]
    return QuoteRunState(
        status="ACCEPTED",
        lines=[],
        deadlines=Deadlines(pay_by=ACCEPTED_AT + window),
        timeline=timeline,
    )


@pytest.mark.parametrize(
    ("window", "after"),
    [
        (timedelta(hours=72), timedelta(hours=48)),  # 24 h before the end
        (timedelta(hours=48), timedelta(hours=24)),
        (timedelta(hours=24), timedelta(hours=12)),  # halfway through a short window
        (timedelta(hours=6), timedelta(hours=3)),
        (timedelta(days=30), timedelta(days=29)),
    ],
)
def test_reminded_24_hours_before_the_end_or_halfway_through(
    window: timedelta, after: timedelta
) -> None:
    assert rules.payment_reminder_at(_accepted(window)) == ACCEPTED_AT + after


def test_no_reminder_for_a_window_under_six_hours() -> None:
    assert rules.payment_reminder_at(_accepted(timedelta(hours=5, minutes=59))) is None


def test_no_reminder_once_sent_held_or_no_longer_awaiting_payment() -> None:
    window = timedelta(hours=72)
    assert rules.payment_reminder_at(_accepted(window, "payment_reminder_sent")) is None
    held = _accepted(window)
    held.hold_reason = "el monto no coincide"
    assert rules.payment_reminder_at(held) is None
    paid = _accepted(window)
    paid.status = "PAID"
    assert rules.payment_reminder_at(paid) is None

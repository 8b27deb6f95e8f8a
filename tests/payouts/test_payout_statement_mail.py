"""The payout statement is mailed with no transaction open and recorded once sent: a
database outage right after the mail server took it does not make the retry send it
again (the same design as the quote mail outbox, services/quotes/notifications.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketred.activities.payouts import PayoutActivities
from marketred.schemas.payouts import PayoutIdInput
from marketred.services.payouts import steps as payouts
from marketred.settings import Settings
from marketred.store.models import Payout
from tests.payouts.helpers import completed_sale, make_seller
from tests.support.outages import FlakySessions, RecordingMailer

pytestmark = pytest.mark.db


async def test_a_database_outage_right_after_the_statement_was_taken_sends_it_once(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    vendor, _, buyer = await make_seller(db, commission_bps=1000)
    await completed_sale(db, vendor, buyer, 12_990)
    made = await payouts.create_vendor_payout(db, vendor.id, f"payout-test-{uuid.uuid4()}")
    assert made is not None
    stored = await db.get(Payout, made.payout_id)
    assert stored is not None
    stored.status, stored.paid_at = "PAID", datetime.now(UTC)
    await db.flush()

    sessions = FlakySessions(session_factory)
    mailer = RecordingMailer(settings.mail_from)
    mailer.then = lambda: setattr(sessions, "failures", 3)  # PostgreSQL killed right now
    activity = PayoutActivities(sessions, settings, mailer)  # type: ignore[arg-type]
    first = await activity.send_payout_statement(PayoutIdInput(payout_id=made.payout_id))
    mailer.then = lambda: None
    again = await activity.send_payout_statement(PayoutIdInput(payout_id=made.payout_id))

    assert (first.sent, again.sent, first.to) == (True, True, vendor.email)
    assert mailer.message_ids == [f"<payout-{made.payout_id}.statement@marketred>"]
    await db.refresh(stored)
    assert stored.statement_sent_at is not None

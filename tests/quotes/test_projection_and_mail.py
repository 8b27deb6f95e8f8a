"""The projection never moves a quote backwards; a quote mail is sent once per event."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from marketred.activities.notifications import NotificationActivities
from marketred.activities.quote_publish import PublishActivities
from marketred.integrations.mail import Mailer
from marketred.sandbox.mailcatcher import CaughtMail, list_caught
from marketred.schemas.quotes import (
    Deadlines,
    NotifyInput,
    PublishQuoteInput,
    QuoteLine,
    QuoteState,
    TimelineEntry,
    workflow_id_for,
)
from marketred.services.quotes import notifications
from marketred.services.quotes import projection as quotes_projection
from marketred.settings import Settings
from marketred.store.models import Quote, SentNotification, Vendor
from marketred.store.models import QuoteLine as QuoteLineRow
from marketred.store.repositories import personal_data
from marketred.store.repositories import quotes as quotes_repo
from tests.support.factories import make_user, make_vendor
from tests.support.outages import FlakySessions, RecordingMailer
from tests.support.ports import free_port
from tests.support.servers import catching_mail

pytestmark = pytest.mark.db

LINE = QuoteLine(
    position=0,
    product_name="Café",
    sku="CAF-1",
    quantity=2,
    original_unit_price=5_000,
    unit_price=5_000,
)


async def _quote(db: AsyncSession) -> tuple[Quote, str]:
    vendor = await make_vendor(db, email="ventas@example.cl")
    buyer = await make_user(db, "buyer")
    qid = uuid.uuid4()
    quote = await quotes_repo.add_quote(
        db,
        Quote(
            id=qid,
            workflow_id=workflow_id_for(qid),
            buyer_id=buyer.id,
            vendor_id=vendor.id,
            status="REQUESTED",
            version=0,
            subtotal=10_000,
            total=10_000,
            commission_bps=1000,
        ),
        [QuoteLineRow(**LINE.model_dump())],
    )
    return quote, buyer.email


def _state(
    quote: Quote, status: str, version: int, kinds: list[str], shipping: int = 0
) -> QuoteState:
    start = datetime(2026, 11, 28, 12, tzinfo=UTC)
    return QuoteState(
        quote_id=quote.id,
        number="Q-000001",
        status=status,
        version=version,  # type: ignore[arg-type]
        vendor_slug="x",
        buyer_id=quote.buyer_id,
        currency="CLP",
        lines=[LINE.model_copy(update={"unit_price": 4_000})] if shipping else [LINE],
        subtotal=8_000 if shipping else 10_000,
        shipping_cost=shipping,
        total=(8_000 if shipping else 10_000) + shipping,
        deadlines=Deadlines(pay_by=start + timedelta(hours=72)) if shipping else Deadlines(),
        timeline=[
            TimelineEntry(
                seq=i + 1,
                kind=k,
                status="ACCEPTED" if k == "accepted" else "REQUESTED",
                actor="vendor",
                at=start + timedelta(minutes=i),
            )
            for i, k in enumerate(kinds)
        ],
        reason=None,
    )


async def test_older_snapshot_never_moves_the_quote_back(db: AsyncSession) -> None:
    quote, _ = await _quote(db)
    accepted = _state(quote, "ACCEPTED", 2, ["requested", "accepted"], shipping=3_990)
    assert await quotes_projection.project(db, accepted)
    assert not await quotes_projection.project(db, _state(quote, "REQUESTED", 1, ["requested"]))
    assert not await quotes_projection.project(db, accepted)  # a replayed activity
    await db.refresh(quote)
    assert (quote.status, quote.version, quote.total) == ("ACCEPTED", 2, 11_990)
    assert quote.next_deadline == accepted.deadlines.pay_by
    assert quote.accepted_at == accepted.timeline[1].at
    assert [e.kind for e in await quotes_repo.events_of(db, quote.id)] == ["requested", "accepted"]
    assert [ln.unit_price for ln in await quotes_repo.lines_of(db, quote.id)] == [4_000]


async def test_quote_mail_is_sent_once_per_event_even_when_retried(
    db: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    with catching_mail(tmp_path) as port:
        quote, buyer_email = await _quote(db)
        state = _state(quote, "ACCEPTED", 2, ["requested", "accepted"], shipping=3_990)
        inp = NotifyInput(
            quote_id=quote.id, workflow_id=quote.workflow_id, event="accepted", state=state
        )
        mailer = Mailer(f"smtp://127.0.0.1:{port}", settings.mail_from)
        activity = NotificationActivities(session_factory, settings, mailer)
        first = await activity.send_quote_notification(inp)
        again = await activity.send_quote_notification(inp)  # a duplicate execution
        await asyncio.sleep(0.2)
        caught = list_caught(tmp_path)
    assert (first.sent, again.sent, again.skipped) == (1, 0, 1)
    assert len(caught) == 1
    mail = caught[0]
    assert mail.to == buyer_email
    assert mail.subject == "Tu cotización Q-000001 fue aceptada: $11.990"
    assert "Envío: $3.990" in mail.text
    assert f"/cotizaciones/{quote.id}" in mail.text
    assert mail.key == f"{quote.workflow_id}:accepted:buyer"
    # A valid msg-id on the wire (a raw ':' in it cut the header at the first colon, so
    # every mail of a quote carried the same Message-ID "<quote-<uuid>").
    assert mail.message_id == f"<{quote.workflow_id}.accepted.buyer@marketred>"


async def test_a_payment_held_again_after_a_recheck_mails_the_operators_again(
    db: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Held, rechecked (the window reopened), held again: two mails, each sent once."""
    with catching_mail(tmp_path) as port:
        quote, _ = await _quote(db)
        await make_user(db, "operator")
        mailer = Mailer(f"smtp://127.0.0.1:{port}", settings.mail_from)
        activity = NotificationActivities(session_factory, settings, mailer)
        outcomes = []
        for version in (3, 3, 6):
            state = _state(quote, "ACCEPTED", version, ["requested", "accepted"], shipping=1)
            state.hold_reason = "el monto no coincide"
            inp = NotifyInput(
                quote_id=quote.id, workflow_id=quote.workflow_id, event="payment_held", state=state
            )
            outcomes.append(await activity.send_quote_notification(inp))
        await asyncio.sleep(0.2)
        caught = list_caught(tmp_path)
    assert [(o.sent, o.skipped) for o in outcomes] == [(1, 0), (0, 1), (1, 0)]
    assert sorted((m.key or "").strip() for m in caught) == [
        f"{quote.workflow_id}:payment_held@3:operator",
        f"{quote.workflow_id}:payment_held@6:operator",
    ]
    assert sorted(m.message_id or "" for m in caught) == [
        f"<{quote.workflow_id}.payment_held=3.operator@marketred>",
        f"<{quote.workflow_id}.payment_held=6.operator@marketred>",
    ]


# The quote mail outbox (services/quotes/notifications.py): the fault harness at N=300 saw 4
# mails sent twice — the mail server took a mail, then PostgreSQL or the worker was killed
# before the commit that recorded it, and the retry sent it again.


async def _accepted(db: AsyncSession) -> NotifyInput:
    quote, _ = await _quote(db)
    state = _state(quote, "ACCEPTED", 2, ["requested", "accepted"], shipping=3_990)
    return NotifyInput(
        quote_id=quote.id, workflow_id=quote.workflow_id, event="accepted", state=state
    )


async def _outbox(db: AsyncSession, inp: NotifyInput) -> list[tuple[str, str, str | None]]:
    rows = await db.execute(
        select(SentNotification.key, SentNotification.state, SentNotification.message_id)
        .where(SentNotification.quote_id == inp.quote_id)
        .execution_options(populate_existing=True)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_database_outage_right_after_the_mail_server_took_a_mail_sends_it_once(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    inp = await _accepted(db)
    sessions = FlakySessions(session_factory)
    mailer = RecordingMailer(settings.mail_from)
    mailer.then = lambda: setattr(sessions, "failures", 3)  # PostgreSQL killed right now
    activity = NotificationActivities(sessions, settings, mailer)  # type: ignore[arg-type]
    first = await activity.send_quote_notification(inp)  # marking waits the outage out
    mailer.then = lambda: None
    again = await activity.send_quote_notification(inp)  # the activity retried anyway
    assert (first.sent, again.sent, again.skipped) == (1, 0, 1)
    message_id = f"<{inp.workflow_id}.accepted.buyer@marketred>"
    assert mailer.message_ids == [message_id]
    assert await _outbox(db, inp) == [("accepted:buyer", "sent", message_id)]


async def test_a_claim_left_sending_by_a_dead_worker_is_resent_with_its_own_message_id(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    inp = await _accepted(db)
    # A worker claimed the mail (under the Message-ID it recorded) and died before the
    # mark; the retry comes after the activity's timeout.
    recorded = "<claimed-by-the-dead-worker@marketred>"
    db.add(
        SentNotification(
            quote_id=inp.quote_id,
            key="accepted:buyer",
            recipients="x",
            state="sending",
            message_id=recorded,
            claimed_at=datetime.now(UTC) - timedelta(minutes=2),
        )
    )
    await db.flush()
    mailer = RecordingMailer(settings.mail_from)
    outcome = await NotificationActivities(
        session_factory, settings, mailer
    ).send_quote_notification(inp)
    assert outcome.sent == 1
    assert mailer.message_ids == [recorded]  # the same Message-ID, not a new one
    assert await _outbox(db, inp) == [("accepted:buyer", "sent", recorded)]


async def test_a_claim_being_sent_right_now_is_not_sent_by_a_second_attempt(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    inp = await _accepted(db)
    mailer = RecordingMailer(settings.mail_from)
    activity = NotificationActivities(session_factory, settings, mailer)
    # The first attempt claimed and is talking to the mail server (claim committed).
    async with session_factory() as session, session.begin():
        (planned,) = await notifications.plan(session, settings, inp)
        assert (await notifications.claim(session, planned)).verdict == "new"
    with pytest.raises(ApplicationError) as raised:
        await activity.send_quote_notification(inp)  # a duplicate execution meanwhile
    assert raised.value.type == "MailBeingSent"
    assert not raised.value.non_retryable
    assert mailer.message_ids == []
    async with session_factory() as session, session.begin():
        await notifications.mark_sent(session, planned)  # the first attempt finishes
    assert (await activity.send_quote_notification(inp)).skipped == 1
    assert mailer.message_ids == []


async def test_a_mail_the_server_refused_is_sent_on_the_retry(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    inp = await _accepted(db)
    refusing = Mailer(f"smtp://127.0.0.1:{free_port()}", settings.mail_from)  # nobody there
    with pytest.raises(ConnectionRefusedError):
        await NotificationActivities(session_factory, settings, refusing).send_quote_notification(
            inp
        )
    assert await _outbox(db, inp) == []  # the claim was withdrawn
    mailer = RecordingMailer(settings.mail_from)
    outcome = await NotificationActivities(
        session_factory, settings, mailer
    ).send_quote_notification(inp)
    assert outcome.sent == 1
    assert len(mailer.message_ids) == 1


async def _contact_quote(db: AsyncSession, contact: dict[str, str]) -> tuple[Quote, str]:
    quote, account_email = await _quote(db)
    quote.contact = contact
    await db.flush()
    return quote, account_email


async def _vendor_name(db: AsyncSession, quote: Quote) -> str:
    vendor = await db.get(Vendor, quote.vendor_id)
    assert vendor is not None
    return vendor.name


def _key(mail: CaughtMail) -> str:
    return (mail.key or "").strip()


async def _mail_each(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
    inputs: list[NotifyInput],
) -> list[CaughtMail]:
    with catching_mail(tmp_path) as port:
        mailer = Mailer(f"smtp://127.0.0.1:{port}", settings.mail_from)
        activity = NotificationActivities(sessions, settings, mailer)
        for inp in inputs:
            await activity.send_quote_notification(inp)
        await asyncio.sleep(0.2)
        return list_caught(tmp_path)


async def test_the_buyer_gets_a_receipt_at_the_quote_contact_email(
    db: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    quote, account_email = await _contact_quote(
        db, {"name": "Ana", "email": "compras@ana.cl", "phone": "+56 9 1234 5678"}
    )
    state = _state(quote, "REQUESTED", 1, ["requested"])
    state.deadlines = Deadlines(respond_by=datetime(2026, 12, 3, 15, 30, tzinfo=UTC))
    inp = NotifyInput(
        quote_id=quote.id, workflow_id=quote.workflow_id, event="requested", state=state
    )
    caught = await _mail_each(session_factory, settings, tmp_path, [inp, inp])
    receipts = [m for m in caught if _key(m) == f"{quote.workflow_id}:requested:buyer"]
    assert len(receipts) == 1  # sent once, however often the activity runs
    receipt = receipts[0]
    assert receipt.to == "compras@ana.cl"
    assert account_email not in receipt.to
    vendor = await _vendor_name(db, quote)
    assert receipt.subject == f"Recibimos tu solicitud de cotización Q-000001 a {vendor}"
    assert "2 × Café a $5.000" in receipt.text
    assert "Total (sin envío): $10.000" in receipt.text
    # 15:30 UTC is 12:30 in Santiago (summer time, UTC-3).
    assert "03-12-2026 12:30 (hora de Santiago)" in receipt.text
    assert f"/cotizaciones/{quote.id}" in receipt.text
    # The vendor's "new quote" mail is unchanged.
    assert any(_key(m) == f"{quote.workflow_id}:requested:vendor" for m in caught)


async def test_the_payment_reminder_names_the_quote_total_link_and_deadline(
    db: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    quote, account_email = await _quote(db)
    state = _state(quote, "ACCEPTED", 3, ["requested", "accepted"], shipping=3_990)
    reminder = NotifyInput(
        quote_id=quote.id, workflow_id=quote.workflow_id, event="payment_reminder", state=state
    )
    caught = await _mail_each(session_factory, settings, tmp_path, [reminder, reminder])
    assert len(caught) == 1
    mail = caught[0]
    # No contact email on the quote: the account's.
    assert mail.to == account_email
    assert _key(mail) == f"{quote.workflow_id}:payment_reminder:buyer"
    # pay_by 2026-12-01 12:00 UTC is 09:00 in Santiago.
    assert mail.subject == "Recordatorio: paga tu cotización Q-000001 antes del 01-12-2026 09:00"
    assert await _vendor_name(db, quote) in mail.text
    assert "Total a pagar: $11.990" in mail.text
    assert f"/cotizaciones/{quote.id}" in mail.text
    assert "01-12-2026 09:00 (hora de Santiago)" in mail.text


async def test_every_buyer_mail_of_a_quote_goes_to_its_contact_email(
    db: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    quote, _ = await _contact_quote(db, {"name": "Ana", "email": "compras@ana.cl"})
    accepted = _state(quote, "ACCEPTED", 2, ["requested", "accepted"], shipping=3_990)
    inputs = [
        NotifyInput(quote_id=quote.id, workflow_id=quote.workflow_id, event=event, state=accepted)
        for event in ("accepted", "payment_reminder", "payment_expired")
    ]
    caught = await _mail_each(session_factory, settings, tmp_path, inputs)
    assert sorted(_key(m).split(":", 1)[1] for m in caught) == [
        "accepted:buyer",
        "payment_expired:buyer",
        "payment_reminder:buyer",
    ]
    assert {m.to for m in caught} == {"compras@ana.cl"}


async def test_erasing_the_buyer_also_erases_the_contact_email_from_the_mail_log(
    db: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    quote, account_email = await _contact_quote(db, {"name": "Ana", "email": "compras@ana.cl"})
    state = _state(quote, "REQUESTED", 1, ["requested"])
    inp = NotifyInput(
        quote_id=quote.id, workflow_id=quote.workflow_id, event="requested", state=state
    )
    await _mail_each(session_factory, settings, tmp_path, [inp])
    pseudonym = f"borrado-{quote.buyer_id}@marketred.invalid"
    await personal_data.pseudonymise_quotes(db, quote.buyer_id, account_email, pseudonym)
    logged = list(
        await db.scalars(
            select(SentNotification.recipients).where(
                SentNotification.quote_id == quote.id,
                SentNotification.key == "requested:buyer",
            )
        )
    )
    assert logged == [pseudonym]


async def test_one_publish_projects_and_mails_once_and_leaves_refused_mail_to_the_sender(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """publish_quote (one activity per transition): with the mail server down the quote
    is still projected and the mail is reported as not sent (the workflow then sends it
    with send_quote_notification); retried attempts project nothing again and mail once."""
    port = free_port()
    local = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
    publish = PublishActivities(session_factory, local).publish_quote
    quote, buyer_email = await _quote(db)
    await db.commit()
    state = _state(quote, "ACCEPTED", 2, ["requested", "accepted"], shipping=3_990)
    inp = PublishQuoteInput(
        state=state, timeline_from=1, workflow_id=quote.workflow_id, event="accepted"
    )

    refused = await publish(inp)  # nothing listens on the port yet
    await db.refresh(quote)
    assert (refused.applied, refused.mailed) == (True, False)
    assert (quote.status, quote.version) == ("ACCEPTED", 2)

    with catching_mail(tmp_path, port):
        retried = await publish(inp)
        again = await publish(inp)
        await asyncio.sleep(0.2)
        caught = list_caught(tmp_path)
    assert (retried.applied, retried.mailed) == (False, True)
    assert (again.applied, again.mailed) == (False, True)
    assert [(m.to, m.key) for m in caught] == [(buyer_email, f"{quote.workflow_id}:accepted:buyer")]
    assert [e.kind for e in await quotes_repo.events_of(db, quote.id)] == ["requested", "accepted"]

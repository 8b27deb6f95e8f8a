"""The projection never moves a quote backwards; a quote mail is sent once per event."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketred.activities.quote_publish import PublishActivities
from marketred.integrations.mail import Mailer
from marketred.sandbox.mailcatcher import list_caught, start_catcher
from marketred.schemas.quotes import (
    Deadlines,
    NotifyInput,
    PublishQuoteInput,
    QuoteLine,
    QuoteState,
    TimelineEntry,
    workflow_id_for,
)
from marketred.services import notifications, quotes_projection
from marketred.settings import Settings
from marketred.store.models import Quote
from marketred.store.models import QuoteLine as QuoteLineRow
from marketred.store.repositories import quotes as quotes_repo
from tests.support.factories import make_user, make_vendor
from tests.support.ports import free_port

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
    db: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    catcher = start_catcher(tmp_path, "127.0.0.1", port)
    try:
        quote, buyer_email = await _quote(db)
        state = _state(quote, "ACCEPTED", 2, ["requested", "accepted"], shipping=3_990)
        inp = NotifyInput(
            quote_id=quote.id, workflow_id=quote.workflow_id, event="accepted", state=state
        )
        mailer = Mailer(f"smtp://127.0.0.1:{port}", settings.mail_from)
        first = await notifications.notify(db, mailer, settings, inp)
        again = await notifications.notify(db, mailer, settings, inp)
        await asyncio.sleep(0.2)
        caught = list_caught(tmp_path)
    finally:
        catcher.stop()
    assert (first.sent, again.sent, again.skipped) == (1, 0, 1)
    assert len(caught) == 1
    mail = caught[0]
    assert mail.to == buyer_email
    assert mail.subject == "Tu cotización Q-000001 fue aceptada: $11.990"
    assert "Envío: $3.990" in mail.text
    assert f"/cotizaciones/{quote.id}" in mail.text
    assert mail.key == f"{quote.workflow_id}:accepted:buyer"


async def test_a_payment_held_again_after_a_recheck_mails_the_operators_again(
    db: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    """Held, rechecked (the window reopened), held again: two mails, each sent once."""
    port = free_port()
    catcher = start_catcher(tmp_path, "127.0.0.1", port)
    try:
        quote, _ = await _quote(db)
        await make_user(db, "operator")
        mailer = Mailer(f"smtp://127.0.0.1:{port}", settings.mail_from)
        outcomes = []
        for version in (3, 3, 6):
            state = _state(quote, "ACCEPTED", version, ["requested", "accepted"], shipping=1)
            state.hold_reason = "el monto no coincide"
            inp = NotifyInput(
                quote_id=quote.id, workflow_id=quote.workflow_id, event="payment_held", state=state
            )
            outcomes.append(await notifications.notify(db, mailer, settings, inp))
        await asyncio.sleep(0.2)
        caught = list_caught(tmp_path)
    finally:
        catcher.stop()
    assert [(o.sent, o.skipped) for o in outcomes] == [(1, 0), (0, 1), (1, 0)]
    assert sorted((m.key or "").strip() for m in caught) == [
        f"{quote.workflow_id}:payment_held@3:operator",
        f"{quote.workflow_id}:payment_held@6:operator",
    ]


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

    catcher = start_catcher(tmp_path, "127.0.0.1", port)
    try:
        retried = await publish(inp)
        again = await publish(inp)
        await asyncio.sleep(0.2)
        caught = list_caught(tmp_path)
    finally:
        catcher.stop()
    assert (retried.applied, retried.mailed) == (False, True)
    assert (again.applied, again.mailed) == (False, True)
    assert [(m.to, m.key) for m in caught] == [(buyer_email, f"{quote.workflow_id}:accepted:buyer")]
    assert [e.kind for e in await quotes_repo.events_of(db, quote.id)] == ["requested", "accepted"]

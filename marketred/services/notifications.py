"""Quote mail: who is told about which transition, rendered in Spanish, sent once.

Idempotent per quote, event and party: the (quote, key) row is claimed in the same
transaction that sends, so a retried activity or replayed workflow mails nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.mail import Mailer, OutgoingMail
from marketred.schemas.quotes import NotifyInput
from marketred.services import mail_templates
from marketred.services.quotes_queries import temporal_url
from marketred.settings import Settings
from marketred.store.models import Quote, Vendor
from marketred.store.repositories import quotes as quotes_repo

PARTIES = ("buyer", "vendor", "operator")


@dataclass(frozen=True)
class NotifyOutcome:
    sent: int
    skipped: int


async def _recipients(session: AsyncSession, party: str, quote: Quote) -> list[str]:
    if party == "buyer":
        # The buyer's mail of a quote goes where they asked for it on the quote request
        # (its contact email), else to the account; an inactive account gets none.
        account = await quotes_repo.user_email(session, quote.buyer_id)
        if account is None:
            return []
        contact = quote.contact.get("email") if quote.contact else None
        return [contact.strip() if isinstance(contact, str) and contact.strip() else account]
    if party == "vendor":
        return await quotes_repo.vendor_recipients(session, quote.vendor_id)
    return await quotes_repo.operator_emails(session)


async def notify(
    session: AsyncSession, mailer: Mailer, settings: Settings, inp: NotifyInput
) -> NotifyOutcome:
    quote = await quotes_repo.get(session, inp.quote_id)
    if quote is None:
        raise LookupError(f"quote {inp.quote_id} is not in the database yet")
    vendor = await session.get(Vendor, quote.vendor_id)
    base = settings.public_url.rstrip("/")
    context: dict[str, object] = {
        "q": inp.state,
        "vendor_name": vendor.name if vendor else "",
        "buyer_link": f"{base}/cotizaciones/{quote.id}",
        "vendor_link": f"{base}/vendedor/cotizaciones/{quote.id}",
        "temporal_link": temporal_url(
            settings.temporal_ui_url, settings.temporal_namespace, inp.workflow_id
        ),
    }
    sent = skipped = 0
    for party in PARTIES:
        rendered = mail_templates.render(inp.event, party, context)
        if rendered is None:
            continue
        recipients = await _recipients(session, party, quote)
        if not recipients:
            continue
        key = notification_key(inp, party)
        async with session.begin_nested():
            if not await quotes_repo.claim_notification(
                session, quote.id, key, ", ".join(recipients)
            ):
                skipped += 1
                continue
            subject, body = rendered
            # A failed send raises: the claim rolls back with the savepoint and the
            # activity retries.
            await mailer.send(
                OutgoingMail(
                    to=", ".join(recipients),
                    subject=subject,
                    text=body,
                    message_key=f"{inp.workflow_id}:{key}",
                )
            )
        await session.commit()
        sent += 1
    return NotifyOutcome(sent=sent, skipped=skipped)


# Events a quote can go through more than once (a payment held again after a recheck,
# a refund held again after a retry): each occurrence is its own mail, keyed by the
# state version that carried it. The others keep the first design's key.
REPEATABLE_EVENTS = frozenset({"payment_held", "refund_held"})


def notification_key(inp: NotifyInput, party: str) -> str:
    if inp.event in REPEATABLE_EVENTS:
        return f"{inp.event}@{inp.state.version}:{party}"
    return f"{inp.event}:{party}"

"""Quote mail: who is told about which transition, rendered in Spanish, sent once.

The mail of each (quote, event, party) goes through an outbox row (`quote_notifications`)
so that it is sent once even when a worker or PostgreSQL is killed around the send:

1. `plan` renders the mails (a read);
2. `claim` writes the row `sending` with the mail's Message-ID — the caller commits it
   *before* calling the mail server, and no transaction is open during SMTP;
3. `mark_sent` records that the server took it; the caller waits out a short database
   outage for it (`MARK_WAIT_S`), so a PostgreSQL killed right after the mail server
   accepted a mail does not make the retry send it again;
4. a mail the server refused is `release`d, so the retry sends it at once.

A claim found still `sending` after `RECLAIM_AFTER_S` means its attempt died between the
mail server's "accepted" and the mark: the mail is sent again with the claim's own
Message-ID (at-least-once; mail clients show one message per Message-ID). A younger one
is `busy` (another attempt may be sending it now): the caller fails and Temporal retries.
The activity (activities/notifications.py) owns these transactions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.mail import OutgoingMail, message_id_for
from marketred.schemas.quotes import NotifyInput
from marketred.services.quotes import mail_templates
from marketred.services.quotes.queries import temporal_url
from marketred.settings import Settings
from marketred.store.models import Quote, Vendor
from marketred.store.repositories import quotes as quotes_repo
from marketred.store.repositories.quotes import ClaimVerdict

PARTIES = ("buyer", "vendor", "operator")

# SMTP waits at most 15 s per step (integrations/mail.py); marking waits out up to
# MARK_WAIT_S of database outage. A claim older than both together has no attempt
# sending it any more. All of it stays under the activity's 60 s start-to-close
# timeout, so the retry after a worker's death (which comes after that timeout) sends
# the mail again at once.
MARK_WAIT_S = 15.0
RECLAIM_AFTER_S = 45.0


@dataclass(frozen=True)
class QuoteMail:
    quote_id: uuid.UUID
    key: str
    mail: OutgoingMail


@dataclass(frozen=True)
class Claim:
    verdict: ClaimVerdict
    mail: OutgoingMail  # with the Message-ID to send it with


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


async def plan(session: AsyncSession, settings: Settings, inp: NotifyInput) -> list[QuoteMail]:
    """The mails this event sends, one per party that has a template and recipients."""
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
    mails: list[QuoteMail] = []
    for party in PARTIES:
        rendered = mail_templates.render(inp.event, party, context)
        if rendered is None:
            continue
        recipients = await _recipients(session, party, quote)
        if not recipients:
            continue
        key = notification_key(inp, party)
        subject, body = rendered
        message_key = f"{inp.workflow_id}:{key}"
        mail = OutgoingMail(
            to=", ".join(recipients),
            subject=subject,
            text=body,
            message_key=message_key,
            message_id=message_id_for(message_key),
        )
        mails.append(QuoteMail(quote_id=quote.id, key=key, mail=mail))
    return mails


async def claim(session: AsyncSession, planned: QuoteMail) -> Claim:
    assert planned.mail.message_id is not None
    verdict, message_id = await quotes_repo.claim_notification(
        session,
        planned.quote_id,
        planned.key,
        planned.mail.to,
        planned.mail.message_id,
        reclaim_after_s=RECLAIM_AFTER_S,
    )
    return Claim(verdict, _with_id(planned.mail, message_id))


async def mark_sent(session: AsyncSession, planned: QuoteMail) -> None:
    await quotes_repo.mark_notification_sent(session, planned.quote_id, planned.key)


async def release(session: AsyncSession, planned: QuoteMail, claimed: Claim) -> None:
    assert claimed.mail.message_id is not None
    await quotes_repo.release_notification(
        session,
        planned.quote_id,
        planned.key,
        claimed.mail.message_id,
    )


def _with_id(mail: OutgoingMail, message_id: str) -> OutgoingMail:
    return mail if mail.message_id == message_id else replace(mail, message_id=message_id)


# Events a quote can go through more than once (a payment held again after a recheck,
# a refund held again after a retry): each occurrence is its own mail, keyed by the
# state version that carried it. The others keep the first design's key.
REPEATABLE_EVENTS = frozenset({"payment_held", "refund_held"})


def notification_key(inp: NotifyInput, party: str) -> str:
    if inp.event in REPEATABLE_EVENTS:
        return f"{inp.event}@{inp.state.version}:{party}"
    return f"{inp.event}:{party}"

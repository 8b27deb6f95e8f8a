"""Quote notification activity: mails the party who must act or needs to know.

It owns the transactions of the quote mail outbox (services/quotes/notifications.py): the
claim is committed before the mail server is called, nothing is open during SMTP, and
the mark waits out a short database outage.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from marketred.integrations.mail import Mailer
from marketred.logs import get_logger
from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.quotes import NotifyInput, NotifyResult
from marketred.services.quotes import notifications
from marketred.services.quotes.notifications import QuoteMail
from marketred.settings import Settings
from marketred.store.session import transaction, waiting_out_outages

log = get_logger(__name__)


class QuoteMails:
    """Sends a quote event's mails through the outbox; used by both quote activities
    that mail (send_quote_notification, and publish_quote in quote_publish.py)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        mailer: Mailer | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._mailer = mailer or Mailer(settings.smtp_url, settings.mail_from)

    async def send(self, inp: NotifyInput) -> NotifyResult:
        async with transaction(self._sessions) as session:
            mails = await notifications.plan(session, self._settings, inp)
        sent = skipped = 0
        for planned in mails:
            if await self._send_once(planned):
                sent += 1
            else:
                skipped += 1
        return NotifyResult(sent=sent, skipped=skipped)

    async def _send_once(self, planned: QuoteMail) -> bool:
        """True if this attempt sent the mail; False if it was sent before."""
        async with transaction(self._sessions) as session:
            claim = await notifications.claim(session, planned)
        if claim.verdict == "sent":
            return False
        if claim.verdict == "busy":
            raise ApplicationError(
                f"mail {planned.key} is being sent by another attempt", type="MailBeingSent"
            )
        if claim.verdict == "resend":
            log.warning(
                "quote mail resent: an earlier attempt died after claiming it",
                message_id=claim.mail.message_id,
            )
        try:
            await self._mailer.send(claim.mail)
        except Exception:
            await self._release(planned, claim)
            raise

        async def mark() -> None:
            async with transaction(self._sessions) as session:
                await notifications.mark_sent(session, planned)

        await waiting_out_outages(mark, within=notifications.MARK_WAIT_S)
        return True

    async def _release(self, planned: QuoteMail, claim: notifications.Claim) -> None:
        try:
            async with transaction(self._sessions) as session:
                await notifications.release(session, planned, claim)
        except Exception as exc:  # the claim is taken over after RECLAIM_AFTER_S
            log.warning("quote mail claim not released", key=planned.key, error=str(exc))


class NotificationActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        mailer: Mailer | None = None,
    ) -> None:
        self._mails = QuoteMails(sessions, settings, mailer)

    @activity.defn(name=contracts.SEND_QUOTE_NOTIFICATION.name)
    async def send_quote_notification(self, inp: NotifyInput) -> NotifyResult:
        return await self._mails.send(inp)

"""Quote notification activity: mails the party who must act or needs to know."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from marketred.integrations.mail import Mailer
from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.quotes import NotifyInput, NotifyResult
from marketred.services import notifications
from marketred.settings import Settings


class NotificationActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._mailer = Mailer(settings.smtp_url, settings.mail_from)

    @activity.defn(name=contracts.SEND_QUOTE_NOTIFICATION.name)
    async def send_quote_notification(self, inp: NotifyInput) -> NotifyResult:
        async with self._sessions() as session:
            outcome = await notifications.notify(session, self._mailer, self._settings, inp)
            await session.commit()
        return NotifyResult(sent=outcome.sent, skipped=outcome.skipped)

"""One activity per quote transition: mail about it, then project the snapshot.

Before (and for histories recorded before patch PUBLISH_IN_ONE) a transition ran two
activities — `project_quote`, then `send_quote_notification` in the background. Both
halves are idempotent on their own (the projection by version, the mail by its claimed
(quote, key) row), so doing them in one activity keeps every guarantee: a retried
attempt re-projects nothing and mails nobody twice. The mail is best effort here: when
the mail server fails (or takes over MAIL_WITHIN_S), the activity still projects and
succeeds with `mailed=False`, and the workflow sends that mail with
`send_quote_notification` (which retries until it goes out) — a mail outage never holds
a transition or its request.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from marketred.activities.notifications import QuoteMails
from marketred.activities.quotes import project_and_commit
from marketred.logs import get_logger
from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.quotes import NotifyInput, PublishQuoteInput, PublishResult
from marketred.settings import Settings

log = get_logger(__name__)

# The mail's share of the activity (the workflow gives it 60 s): past this the mail is
# left to send_quote_notification, so a hanging mail server never holds a transition.
MAIL_WITHIN_S = 20.0


class PublishActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._mails = QuoteMails(sessions, settings)

    @activity.defn(name=contracts.PUBLISH_QUOTE.name)
    async def publish_quote(self, inp: PublishQuoteInput) -> PublishResult:
        # The mail first, the projection last: the workflow acts on what follows a
        # transition (the return window after "completed") as soon as this activity
        # ends, so the database shows the new state no earlier than before. The mail
        # goes through the outbox (its own short transactions, none open during SMTP).
        mailed = inp.event is not None and await self._mail(inp)
        async with self._sessions() as session:
            applied = await project_and_commit(session, inp.state, contracts.PUBLISH_QUOTE.name)
        return PublishResult(applied=applied, mailed=mailed)

    async def _mail(self, inp: PublishQuoteInput) -> bool:
        assert inp.event is not None
        # No quote row yet: planning the mail fails (LookupError, below), the projection
        # says so (QuoteNotRecorded) and the activity is tried again, mail included. (The
        # plan reads the quote anyway: no separate look first, one transaction fewer.)
        notice = NotifyInput(
            quote_id=inp.state.quote_id,
            workflow_id=inp.workflow_id,
            event=inp.event,
            state=inp.state.model_copy(update={"timeline": []}),  # mail needs none
        )
        try:
            # A timeout mid-send leaves the claim "sending": send_quote_notification
            # resends it under the same Message-ID once the claim is stale.
            await asyncio.wait_for(self._mails.send(notice), MAIL_WITHIN_S)
        except Exception as exc:  # any failure: left to send_quote_notification
            log.warning(
                "quote mail deferred",
                quote=str(inp.state.quote_id),
                mail_event=inp.event,
                error=f"{type(exc).__name__}: {exc}",
            )
            return False
        return True

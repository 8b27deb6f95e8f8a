"""Stand-ins for a dependency going away at a chosen moment, in-process."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketred.integrations.mail import Mailer, OutgoingMail


class FlakySessions:
    """A session factory whose next `failures` sessions find the database away."""

    def __init__(self, real: async_sessionmaker[AsyncSession], failures: int = 0) -> None:
        self.real = real
        self.failures = failures

    def __call__(self) -> AsyncSession:
        if self.failures:
            self.failures -= 1
            raise OSError("connection refused (PostgreSQL restarting)")
        return self.real()


class RecordingMailer(Mailer):
    """Takes every mail as a mail server would and keeps the Message-ID it carried;
    `then` runs right after accepting (say, the database going away at that moment)."""

    def __init__(self, sender: str) -> None:
        super().__init__("smtp://127.0.0.1:1", sender)
        self.message_ids: list[str] = []
        self.then: Callable[[], None] = lambda: None

    async def send(self, mail: OutgoingMail) -> None:
        self.message_ids.append(str(self._build(mail)["Message-ID"]))
        self.then()

"""SMTP sending (stdlib smtplib in a thread: mail is rare and small)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from marketred import metrics


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Stable id (e.g. "quote-<uuid>:accepted") so a re-sent message is recognisable.
    message_key: str | None = None
    # The Message-ID header as recorded before a first send (an outbox claim), so a
    # resend carries the very same one; by default `message_id_for(message_key)`.
    message_id: str | None = None


def message_id_for(key: str) -> str:
    """A valid RFC 5322 msg-id for a stable key: its left part must be a dot-atom, so
    the key's ':' become '.' and '@' become '=' ("quote-<uuid>:payment_held@3:operator"
    → "<quote-<uuid>.payment_held=3.operator@marketred>"). Unescaped, a ':' cut the
    header at the first colon on the wire and every mail of a quote shared one id."""
    return f"<{key.replace(':', '.').replace('@', '=')}@marketred>"


class Mailer:
    def __init__(self, smtp_url: str, sender: str) -> None:
        parsed = urlparse(smtp_url)
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self._tls = parsed.scheme == "smtps"
        self._starttls = parsed.scheme == "smtp+starttls"
        self._user = unquote(parsed.username) if parsed.username else None
        self._password = unquote(parsed.password) if parsed.password else None
        self._sender = sender
        self._context: ssl.SSLContext | None = None

    def _build(self, mail: OutgoingMail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        if mail.message_key:
            msg["X-MarketRed-Key"] = mail.message_key
        message_id = mail.message_id or (
            message_id_for(mail.message_key) if mail.message_key else None
        )
        if message_id:
            msg["Message-ID"] = message_id
        msg.set_content(mail.text)
        if mail.html:
            msg.add_alternative(mail.html, subtype="html")
        return msg

    def _tls_context(self) -> ssl.SSLContext:
        # smtplib verifies nothing unless given a context: check the relay's certificate.
        # Built once per mailer: loading the CA bundle costs ~20 ms of CPU (it was half
        # the worker's CPU in bench/lifecycle.py when built for every mail).
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _send_sync(self, mail: OutgoingMail) -> None:
        smtp: smtplib.SMTP
        if self._tls:
            smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=15, context=self._tls_context())
        else:
            smtp = smtplib.SMTP(self._host, self._port, timeout=15)
        with smtp:
            if self._starttls:
                smtp.starttls(context=self._tls_context())
            if self._user and self._password:
                smtp.login(self._user, self._password)
            smtp.send_message(self._build(mail))

    async def send(self, mail: OutgoingMail) -> None:
        with metrics.smtp_send():
            await asyncio.to_thread(self._send_sync, mail)

"""Dev mail catcher: an aiosmtpd server that stores every message as a .eml file.

The API's `/dev/mail` page lists them. Files are named by arrival time so a listing is
chronological without an index.
"""

from __future__ import annotations

import email
import email.policy
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Store:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        del server, session
        name = f"{time.time_ns()}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def start_catcher(folder: Path, host: str, port: int) -> Controller:
    controller = Controller(_Store(folder), hostname=host, port=port)
    controller.start()
    return controller


@dataclass
class CaughtMail:
    id: str
    received_at: datetime
    sender: str
    to: str
    subject: str
    text: str
    key: str | None
    message_id: str | None = None


def list_caught(folder: Path, limit: int = 200) -> list[CaughtMail]:
    if not folder.exists():
        return []
    out: list[CaughtMail] = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        out.append(
            CaughtMail(
                id=path.stem,
                received_at=datetime.fromtimestamp(int(path.stem) / 1e9, UTC),
                sender=str(msg["From"] or ""),
                to=str(msg["To"] or ""),
                subject=str(msg["Subject"] or ""),
                text=body.get_content() if body else "",
                key=str(msg["X-MarketRed-Key"]) if msg["X-MarketRed-Key"] else None,
                message_id=str(msg["Message-ID"]).strip() if msg["Message-ID"] else None,
            )
        )
    return out

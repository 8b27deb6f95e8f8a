"""Finding 4 (docs/security.md): the access log names the route, not the path — reset
and verification links carry their secret token in the path."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from marketred.api import middleware

pytestmark = pytest.mark.db


class Recorder:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, **fields})


async def test_access_log_shows_route_templates_not_secret_tokens(client, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(middleware, "log", recorder)
    token = secrets.token_urlsafe(32)
    await client.get(f"/recuperar/{token}")
    await client.get(f"/verificar-email/{token}")
    await client.get(f"/no-existe/{token}")
    requests = [e for e in recorder.lines if e["event"] == "request"]
    assert [e["path"] for e in requests] == [
        "/recuperar/{token}",
        "/verificar-email/{token}",
        "<unmatched>",
    ]
    assert token not in repr(recorder.lines)

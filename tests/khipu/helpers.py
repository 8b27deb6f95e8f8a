"""Helpers for the Khipu tests: a webhook receiver (servers: tests/support/servers.py)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

__all__ = ["Receiver"]


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A merchant endpoint that records every webhook and answers scripted codes."""

    codes: deque[int] = field(default_factory=deque)
    default_code: int = 200
    received: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> PlainTextResponse:
            body = await request.body()
            self.received.append(Received(time.monotonic(), dict(request.headers), body))
            code = self.codes.popleft() if self.codes else self.default_code
            return PlainTextResponse("ok" if code == 200 else "nope", status_code=code)

        return Starlette(routes=[Route("/webhooks/khipu", hook, methods=["POST"])])

"""Helpers for the Khipu tests: real servers on free ports, a webhook receiver, polling."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.support.ports import free_port

__all__ = ["Receiver", "eventually", "free_port", "serve"]


@asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[str]:
    """Run an ASGI app under a real uvicorn server in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn exited before starting")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until `check()` (sync or async) is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


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

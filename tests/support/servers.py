"""Real servers for tests: HTTP in the test's event loop (browser tests and webhooks need
real origins) and the SMTP mail catcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from marketred.sandbox.mailcatcher import start_catcher
from tests.support.ports import free_port


@asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[str]:
    """Run an ASGI app under a real uvicorn server in this event loop; yields its URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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


@contextmanager
def catching_mail(folder: Path, port: int | None = None) -> Iterator[int]:
    """The test mail catcher (an SMTP server writing each mail under `folder`) on `port`
    (a free one unless given); yields the port."""
    port = port or free_port()
    controller = start_catcher(folder, "127.0.0.1", port)
    try:
        yield port
    finally:
        controller.stop()

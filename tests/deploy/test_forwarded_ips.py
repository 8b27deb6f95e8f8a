"""MARKETRED_FORWARDED_ALLOW_IPS reaches uvicorn: the client address the app sees (rate
limits, quote creation) is the X-Forwarded-For one only when the proxy is trusted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from marketred.settings import Settings
from marketred.workers.cli import api_server_options
from tests.support.ports import free_port


async def _echo_client(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI app answering with the client address and scheme uvicorn resolved."""
    del receive
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def _serve(allow: str) -> AsyncIterator[str]:
    port = free_port()
    settings = Settings(_env_file=None, port=port, forwarded_allow_ips=allow)  # type: ignore[call-arg]
    server = uvicorn.Server(uvicorn.Config(_echo_client, **api_server_options(settings)))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await task


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


async def test_a_trusted_proxy_gives_the_real_client_and_scheme() -> None:
    async with _serve("127.0.0.1") as url, httpx.AsyncClient() as http:
        seen = (await http.get(url, headers=FORWARDED)).json()
    assert seen == {"client": "203.0.113.7", "scheme": "https"}


async def test_headers_from_anyone_else_are_ignored() -> None:
    async with _serve("10.0.0.5") as url, httpx.AsyncClient() as http:
        seen = (await http.get(url, headers=FORWARDED)).json()
    assert seen == {"client": "127.0.0.1", "scheme": "http"}

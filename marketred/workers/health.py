"""The worker's health endpoint, for orchestrator probes (Kubernetes, compose).

A worker serves no HTTP otherwise, so this is a tiny HTTP/1.1 responder on asyncio
streams, not a web framework:

- `GET /healthz` — 200 while the process's event loop answers (liveness).
- `GET /readyz` — 200 while the worker polls its task queue and Temporal answers a health
  check within 3 s; 503 before polling starts, while shutting down (so a rollout waits
  for the new pod and stops sending it nothing), or when Temporal is unreachable.
"""

from __future__ import annotations

import asyncio
import json

from temporalio.client import Client

_REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}


class WorkerHealth:
    def __init__(self, client: Client | None = None) -> None:
        self.client = client
        self.polling = False
        self.stopping = False
        self._server: asyncio.Server | None = None

    @classmethod
    async def serve(cls, host: str, port: int | None) -> WorkerHealth:
        """Start answering on host:port (no port: a health object that serves nothing)."""
        health = cls()
        if port is not None:
            health._server = await asyncio.start_server(health._handle, host, port)
        return health

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def readiness(self) -> tuple[int, dict[str, str]]:
        if self.stopping:
            return 503, {"status": "stopping"}
        if not self.polling or self.client is None:
            return 503, {"status": "starting"}
        try:
            async with asyncio.timeout(3):
                await self.client.service_client.check_health()
        except Exception as exc:
            return 503, {"status": "not ready", "temporal": f"unavailable: {type(exc).__name__}"}
        return 200, {"status": "ready", "temporal": "ok"}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                request_line = await reader.readline()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # headers: nothing in them matters here
            parts = request_line.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            if parts[:1] != ["GET"]:
                status, body = 404, {"status": "not found"}
            elif path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif path == "/readyz":
                status, body = await self.readiness()
            else:
                status, body = 404, {"status": "not found"}
            payload = json.dumps(body).encode()
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

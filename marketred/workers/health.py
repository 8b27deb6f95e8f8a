"""The worker's health endpoint, for orchestrator probes (Kubernetes, compose).

A worker serves no HTTP otherwise, so this is a tiny HTTP/1.1 responder on asyncio
streams, not a web framework:

- `GET /healthz` — 200 while the process's event loop answers (liveness).
- `GET /readyz` — 200 while the worker polls its task queue and Temporal answers a health
  check within 3 s; 503 before polling starts, while shutting down (so a rollout waits
  for the new pod and stops sending it nothing), or when Temporal is unreachable.
- `GET /metrics` — Prometheus text: the business metrics (marketred/metrics.py) and the
  Temporal SDK's (workers/sdk_metrics.py). With MARKETRED_METRICS_TOKEN set it needs
  `Authorization: Bearer <token>` (else 401), like the API's /metrics.
"""

from __future__ import annotations

import asyncio
import json

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from temporalio.client import Client

from marketred.services.operations.metrics_access import metrics_allowed
from marketred.workers.sdk_metrics import SdkMetrics

_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 503: "Service Unavailable"}


class WorkerHealth:
    def __init__(
        self,
        client: Client | None = None,
        *,
        sdk_metrics: SdkMetrics | None = None,
        metrics_token: str | None = None,
    ) -> None:
        self.client = client
        self.polling = False
        self.stopping = False
        self.sdk_metrics = sdk_metrics
        self.metrics_token = metrics_token
        self._server: asyncio.Server | None = None

    @classmethod
    async def serve(
        cls,
        host: str,
        port: int | None,
        *,
        sdk_metrics: SdkMetrics | None = None,
        metrics_token: str | None = None,
    ) -> WorkerHealth:
        """Start answering on host:port (no port: a health object that serves nothing)."""
        health = cls(sdk_metrics=sdk_metrics, metrics_token=metrics_token)
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

    async def metrics(self) -> bytes:
        sdk = await self.sdk_metrics.scrape() if self.sdk_metrics is not None else b""
        return generate_latest() + sdk

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            authorization = None
            async with asyncio.timeout(5):
                request_line = await reader.readline()
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "authorization":
                        authorization = value.strip()
            parts = request_line.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            content_type = "application/json"
            body: dict[str, str] | bytes
            if parts[:1] != ["GET"]:
                status, body = 404, {"status": "not found"}
            elif path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif path == "/readyz":
                status, body = await self.readiness()
            elif path == "/metrics" and metrics_allowed(self.metrics_token, authorization):
                status, body, content_type = 200, await self.metrics(), CONTENT_TYPE_LATEST
            elif path == "/metrics":
                status, body = 401, {"status": "unauthorized"}
            else:
                status, body = 404, {"status": "not found"}
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                f"Content-Type: {content_type}\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

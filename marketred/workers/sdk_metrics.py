"""The Temporal SDK's own metrics (workflow/activity task latencies, failures, slots,
schedule-to-start) for the worker's /metrics.

The SDK's core serves Prometheus text on an address of its own. We bind it to loopback
on a free port and the worker's health server (workers/health.py) appends that text to
the business metrics, so one scrape of one port gets both and the core's server is never
reachable from outside the process's host.
"""

from __future__ import annotations

import socket

import httpx
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SdkMetrics:
    def __init__(self, port: int | None = None) -> None:
        self.address = f"127.0.0.1:{port or _free_loopback_port()}"
        self.runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(
                    bind_address=self.address,
                    counters_total_suffix=True,
                    durations_as_seconds=True,
                )
            )
        )

    async def scrape(self) -> bytes:
        """The core's current exposition text ("" if it does not answer)."""
        try:
            async with httpx.AsyncClient(timeout=3.0) as http:
                response = await http.get(f"http://{self.address}/metrics")
        except httpx.HTTPError:
            return b""
        return response.content if response.status_code == 200 else b""

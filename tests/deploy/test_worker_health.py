"""The worker's /healthz and /readyz, as a Kubernetes probe or compose healthcheck reads
them (plain HTTP on a real socket)."""

from __future__ import annotations

import httpx
from temporalio.testing import WorkflowEnvironment

from marketred.workers.health import WorkerHealth
from tests.support.ports import free_port


async def test_ready_only_while_polling_and_temporal_answers(
    dev_server_env: WorkflowEnvironment,
) -> None:
    port = free_port()
    health = await WorkerHealth.serve("127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200
            starting = await http.get("/readyz")
            assert (starting.status_code, starting.json()["status"]) == (503, "starting")

            health.client = dev_server_env.client
            health.polling = True
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json() == {"status": "ready", "temporal": "ok"}

            health.stopping = True  # SIGTERM: a rollout must not count this pod as ready
            stopping = await http.get("/readyz")
            assert (stopping.status_code, stopping.json()["status"]) == (503, "stopping")
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/metrics")).status_code == 200
            assert (await http.post("/healthz")).status_code == 404
    finally:
        await health.close()


async def test_not_ready_when_temporal_is_unreachable() -> None:
    from temporalio.client import Client

    # A lazy client to a port nobody listens on: every call fails.
    client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    port = free_port()
    health = await WorkerHealth.serve("127.0.0.1", port)
    health.client, health.polling = client, True
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.get(f"http://127.0.0.1:{port}/readyz")
        assert r.status_code == 503
        assert r.json()["temporal"].startswith("unavailable")
    finally:
        await health.close()


async def test_no_port_serves_nothing() -> None:
    health = await WorkerHealth.serve("127.0.0.1", None)
    await health.close()

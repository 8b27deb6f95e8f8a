"""The production process shape the fault harness (bench/faults.py) kills, started as an
operator would: PostgreSQL (embedded, in the foreground so it can die and come back on
the same data), the `temporal` CLI's server on its own SQLite file, `marketred migrate`,
2 × `marketred worker`, 2 × `marketred api` on two ports, and the Khipu, mail and
directory sandboxes — all under the one restart-on-failure supervisor
(`marketred/workers/supervisor.py`), which brings back whatever the chaos loop kills.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from marketred.workers.embedded_db import ensure_database, foreground_postgres, wait_ready
from marketred.workers.local_stack import (
    TEMPORAL_HINT,
    find_binary,
    marketred_command,
    temporal_dev_server,
)
from marketred.workers.supervisor import Child, Supervisor
from tests.support.ports import free_port

NAMESPACE = "marketred"
REPLICAS = 2


@dataclass
class Shape:
    home: Path
    sup: Supervisor
    env: dict[str, str]
    api_urls: list[str]
    khipu_url: str
    temporal_address: str
    database_url: str
    webhook_secret: str
    khipu_api_key: str
    _tending: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def kinds(self) -> dict[str, list[Child]]:
        """What the chaos loop may kill, by kind."""
        by_kind: dict[str, list[Child]] = {"worker": [], "api": [], "temporal": [], "postgres": []}
        for child in self.sup.children:
            kind = child.name.split("-")[0]
            if kind in by_kind:
                by_kind[kind].append(child)
        return by_kind

    def start_tending(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.sup.tend()
                time.sleep(0.2)

        self._tending = threading.Thread(target=loop, name="supervisor", daemon=True)
        self._tending.start()

    def stop(self) -> None:
        self._stop.set()
        if self._tending is not None:
            self._tending.join()
        grace = {f"worker-{i + 1}": 25.0 for i in range(REPLICAS)}
        self.sup.stop_all(grace=grace, default_grace=15)

    def restarts(self) -> dict[str, int]:
        return {c.name: c.restarts for c in self.sup.children}


def _wait(what: str, url: str, child: Child, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited while starting: {child.last_line()}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready in {timeout:.0f}s ({child.last_line()})")


def start_shape(home: Path, say: Callable[[str], None] = print) -> Shape:
    """Start everything in order and return once both APIs answer /readyz with 200."""
    home.mkdir(parents=True, exist_ok=True)
    sup = Supervisor(
        home / "logs",
        home / "state.json",
        # Kills come every few seconds: come back fast, and never wait long.
        first_backoff=0.5,
        max_backoff=4.0,
        on_event=lambda line: say(f"supervisor: {line}"),
    )
    pg = foreground_postgres(home / "pgdata")
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MARKETRED_") and k != "DATABASE_URL"
    }
    base_env["PYTHONUNBUFFERED"] = "1"
    postgres = sup.start("postgres", pg.args, base_env, user=pg.user)
    asyncio.run(wait_ready(pg.admin_url, 60))
    if not postgres.alive():
        raise RuntimeError(f"postgres exited: {postgres.last_line()}")
    database_url = asyncio.run(ensure_database(pg.admin_url, "marketred"))
    say("postgres ready")

    ports = {
        name: free_port()
        for name in (
            "temporal",
            "temporal_ui",
            "temporal_http",
            "temporal_metrics",
            "khipu",
            "directory",
            "smtp",
            "api-1",
            "api-2",
            "worker-1",
            "worker-2",
        )
    }
    temporal_address = f"127.0.0.1:{ports['temporal']}"
    temporal = sup.start(
        "temporal",
        temporal_dev_server(
            find_binary("temporal", TEMPORAL_HINT),
            home / "temporal.sqlite",
            ports["temporal"],
            ports["temporal_ui"],
            NAMESPACE,
            "--http-port",
            str(ports["temporal_http"]),
            "--metrics-port",
            str(ports["temporal_metrics"]),
        ),
        base_env,
    )
    webhook_secret = secrets.token_urlsafe(32)
    khipu_api_key = secrets.token_urlsafe(24)
    api_urls = [f"http://127.0.0.1:{ports[f'api-{i + 1}']}" for i in range(REPLICAS)]
    directory = f"http://127.0.0.1:{ports['directory']}"
    env = {
        **base_env,
        "MARKETRED_HOME": str(home),
        "DATABASE_URL": database_url,
        "MARKETRED_HOST": "127.0.0.1",
        # Khipu calls back the first API (its notify_url); a killed API is retried by Khipu.
        "MARKETRED_PUBLIC_URL": api_urls[0],
        "MARKETRED_SECRET_KEY": secrets.token_urlsafe(32),
        "MARKETRED_LOG_JSON": "true",
        "MARKETRED_TEMPORAL_ADDRESS": temporal_address,
        "MARKETRED_TEMPORAL_NAMESPACE": NAMESPACE,
        "MARKETRED_TEMPORAL_UI_URL": f"http://127.0.0.1:{ports['temporal_ui']}",
        "MARKETRED_KHIPU_API_BASE": f"http://127.0.0.1:{ports['khipu']}",
        "MARKETRED_KHIPU_SANDBOX_PORT": str(ports["khipu"]),
        "MARKETRED_KHIPU_API_KEY": khipu_api_key,
        "MARKETRED_KHIPU_WEBHOOK_SECRET": webhook_secret,
        "MARKETRED_KHIPU_POLL_SECONDS": "5",
        # The checks wait for every workflow to close; a return window would keep each
        # completed quote's workflow open for days (returns are not in this lifecycle).
        "MARKETRED_RETURN_WINDOW_DAYS": "0",
        # At most 10 buyers (registration is limited per address): a large run asks ~30
        # quotes of each, past the per-account hourly guard this harness is not testing.
        "MARKETRED_QUOTES_PER_ACCOUNT_HOUR": "1000",
        "MARKETRED_DIRECTORY_SECRET": secrets.token_urlsafe(32),
        "MARKETRED_DIRECTORY_SANDBOX_PORT": str(ports["directory"]),
        "MARKETRED_DIRECTORY_INDEXER_URL": f"{directory}/indexer/products",
        "MARKETRED_EMBED_ORIGINS": f'["{directory}"]',
        "MARKETRED_SMTP_URL": f"smtp://127.0.0.1:{ports['smtp']}",
        "MARKETRED_MAILCATCHER_PORT": str(ports["smtp"]),
    }
    _wait_temporal(temporal_address, temporal, 90)
    say("temporal ready")
    sup.run_once("migrate", marketred_command("migrate"), env, timeout=300)
    sup.run_once("seed-demo", marketred_command("seed-demo"), env, timeout=180)
    say("migrated and seeded")
    sup.start("mail", marketred_command("sandbox", "mail"), env)
    khipu = sup.start("khipu", marketred_command("sandbox", "khipu"), env)
    directory_child = sup.start("directory", marketred_command("sandbox", "directory"), env)
    for i in range(REPLICAS):
        port = ports[f"worker-{i + 1}"]
        worker = sup.start(
            f"worker-{i + 1}",
            marketred_command("worker"),
            {**env, "MARKETRED_WORKER_HEALTH_PORT": str(port)},
        )
        _wait(worker.name, f"http://127.0.0.1:{port}/readyz", worker, 180)
    for i in range(REPLICAS):
        api = sup.start(
            f"api-{i + 1}",
            marketred_command("api"),
            {**env, "MARKETRED_PORT": str(ports[f"api-{i + 1}"])},
        )
        _wait(api.name, f"{api_urls[i]}/readyz", api, 180)
    khipu_url = f"http://127.0.0.1:{ports['khipu']}"
    _wait("Khipu sandbox", f"{khipu_url}/_sandbox/controls", khipu, 60)
    _wait("directory sandbox", f"{directory}/", directory_child, 60)
    say("the shape is up: " + ", ".join(c.name for c in sup.children))
    return Shape(
        home=home,
        sup=sup,
        env=env,
        api_urls=api_urls,
        khipu_url=khipu_url,
        temporal_address=temporal_address,
        database_url=database_url,
        webhook_secret=webhook_secret,
        khipu_api_key=khipu_api_key,
    )


def _wait_temporal(address: str, child: Child, timeout: float) -> None:
    from temporalio.client import Client

    async def check() -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not child.alive():
                raise RuntimeError(f"temporal exited while starting: {child.last_line()}")
            try:
                client = await Client.connect(address, namespace=NAMESPACE)
                await client.service_client.check_health()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    asyncio.run(check())

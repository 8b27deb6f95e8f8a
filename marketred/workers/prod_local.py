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
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from marketred.settings import Settings
from marketred.workers import local_stack
from marketred.workers.local_stack import TEMPORAL_HINT, find_binary, marketred_command
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


def _start_replicas(
    sup: Supervisor,
    role: str,
    env: dict[str, str],
    port_of: Callable[[int], int],
    variable: str,
    kind: str,
) -> None:
    """REPLICAS of `marketred <role>` (worker-1, worker-2, …), each on the port `variable`
    names and listed in state.json as `kind`, each ready (/readyz) before the next."""
    for i in range(REPLICAS):
        port = port_of(i)
        info: dict[str, Any] = {kind: port}
        child = sup.start(
            f"{role}-{i + 1}", marketred_command(role), {**env, variable: str(port)}, **info
        )
        _wait(child.name, _answers_200(f"http://127.0.0.1:{port}/readyz"), 120, child)


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

    def stop() -> None:
        # Workers get longer than their graceful shutdown (running activities finish).
        sup.stop_all(grace={f"worker-{i + 1}": 25 for i in range(REPLICAS)})
        console.print(f"Stopped. Data kept in {home}")

    return local_stack.serve_in_foreground(
        sup,
        lambda: _start(settings, home, ports, sup),
        stop,
        console=console,
        name="prod-local",
    )


def _start(settings: Settings, home: Path, ports: Ports, sup: Supervisor) -> None:
    """Everything up, in order; a step that fails raises (the caller stops the rest)."""
    caddy = find_binary("caddy", "Debian package `caddy`; .ci/run installs it")
    temporal_bin = find_binary("temporal", TEMPORAL_HINT)
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
            database_url = local_stack.supervised_postgres(sup, home / "pgdata", dict(os.environ))
        env = child_env(home, ports, certs, database_url, keys)

        status.update("Starting Temporal and the proxy…")
        temporal_child = sup.start(
            "temporal",
            local_stack.temporal_dev_server(
                temporal_bin,
                home / "temporal.sqlite",
                ports.temporal,
                ports.temporal_ui,
                NAMESPACE,
                "--http-port",
                str(ports.temporal_http),
                "--metrics-port",
                str(ports.temporal_metrics),
            ),
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
        sup.run_once("migrate", marketred_command("migrate"), env, timeout=300)
        sup.run_once("seed-demo", marketred_command("seed-demo"), env, timeout=120)

        status.update("Starting the sandboxes, 2 workers and 2 APIs…")
        sup.start("mail", marketred_command("sandbox", "mail"), env, port=ports.smtp)
        khipu = sup.start("khipu", marketred_command("sandbox", "khipu"), env, port=ports.khipu)
        directory = sup.start(
            "directory", marketred_command("sandbox", "directory"), env, port=ports.directory
        )
        # One at a time: the first worker registers the search attributes.
        _start_replicas(
            sup, "worker", env, ports.worker_health, "MARKETRED_WORKER_HEALTH_PORT", "health_port"
        )
        _start_replicas(sup, "api", env, ports.api, "MARKETRED_PORT", "port")
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
        "base_port": ports.base,
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

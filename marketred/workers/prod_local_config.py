"""What `marketred prod-local` runs with: its ports, certificates, secrets, the Caddyfile
and the production settings every child gets (the process side is prod_local.py)."""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from marketred.integrations.payload_codec import new_key_entry
from marketred.settings import Settings
from marketred.workers.local_ca import LocalCA, load_or_create_ca

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


SECRET_NAMES = (
    "secret_key",
    "khipu_api_key",
    "khipu_webhook_secret",
    "directory_secret",
    "indexer_secret",
    "oidc_client_secret",
    "temporal_ui_password",
)


def load_secrets(path: Path) -> dict[str, str]:
    """Random production secrets, made once and kept (sessions survive a restart); a
    secret added since the file was made (the payload codec's keys, say) is generated
    and saved beside the others."""
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRET_NAMES if name not in stored]
    if not missing and "codec_keys" in stored:
        return stored
    made = {**stored, **{name: secrets.token_urlsafe(32) for name in missing}}
    made.setdefault("codec_keys", new_key_entry("prod-local-1"))
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
        "MARKETRED_CODEC_KEYS": keys["codec_keys"],
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
        "MARKETRED_INDEXER_SECRET": keys["indexer_secret"],
        "MARKETRED_DIRECTORY_SANDBOX_PORT": str(ports.directory),
        "MARKETRED_DIRECTORY_INDEXER_URL": f"{directory}/indexer/products",
        "MARKETRED_OIDC_ISSUER": directory,
        "MARKETRED_OIDC_CLIENT_ID": "marketred",
        "MARKETRED_OIDC_CLIENT_SECRET": keys["oidc_client_secret"],
        "MARKETRED_EMBED_ORIGINS": json.dumps([directory]),
        "MARKETRED_SMTP_URL": f"smtp://127.0.0.1:{ports.smtp}",
        "MARKETRED_MAILCATCHER_PORT": str(ports.smtp),
    }


def temporal_settings(env: dict[str, str]) -> Settings:
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

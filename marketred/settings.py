"""The one settings class (design.md §10).

Built once per process (API lifespan, worker main, CLI command) and passed down; nothing
imports a module-level instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values shipped for the embedded dev stack. Outside dev, Settings refuses to start with
# any of them, so a production deploy cannot run on a secret that is in this repository.
DEV_SECRET_KEY = "dev-only-secret-key-change-me-before-production-0123456789"
DEV_KHIPU_API_KEY = "d6ec59c7-e299-4704-840d-300442546982"
DEV_KHIPU_WEBHOOK_SECRET = "1a4cbbbeb8bdb7e1d73572b9cc43ce4ce18f79d9"
DEV_KHIPU_RECEIVER_ID = 985101
DEV_DIRECTORY_SECRET = "dev-directory-shared-secret"
DEV_OIDC_CLIENT_SECRET = "dev-oidc-client-secret"
PLACEHOLDER_SECRETS = frozenset(
    {
        DEV_SECRET_KEY,
        DEV_KHIPU_API_KEY,
        DEV_KHIPU_WEBHOOK_SECRET,
        DEV_DIRECTORY_SECRET,
        DEV_OIDC_CLIENT_SECRET,
        "changeme",
        "secret",
    }
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKETRED_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    home: Path = Path(".marketred")
    # DATABASE_URL is the conventional name and carries no prefix.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET_KEY
    log_level: str = "INFO"
    log_json: bool = True
    # Proxies whose X-Forwarded-For/-Proto the API believes (uvicorn's forwarded_allow_ips):
    # comma-separated addresses or CIDR ranges, or "*" behind a proxy only it can reach.
    forwarded_allow_ips: str = "127.0.0.1"
    # The worker's own /healthz, /readyz (for orchestrator probes) and /metrics (business
    # + Temporal SDK metrics); unset: not served.
    worker_health_port: int | None = Field(default=None, ge=1, le=65535)
    # Bearer token Prometheus sends to both /metrics (services/metrics_access.py). Unset
    # in production, the API does not serve /metrics at all.
    metrics_token: str | None = None
    # How often the worker re-reads holds, backlogs and overdue deadlines into gauges.
    ops_gauges_seconds: float = Field(default=30.0, gt=0)

    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_task_queue: str = "marketred"
    # Worker Deployment Versioning (workers/versioning.py): off by default; on, workers
    # poll as this deployment with the package version as build id.
    temporal_worker_versioning: bool = False
    temporal_deployment_name: str = "marketred"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    # How every client and worker reaches Temporal (integrations/temporal.connect): TLS with
    # the system's CAs, or with `temporal_tls_ca_file`; mTLS with a client cert + key (a
    # self-hosted frontend with requireClientAuth, Temporal Cloud); or a Temporal Cloud API
    # key (implies TLS). `temporal_tls_server_name` is the name the server certificate
    # must carry when it differs from the address's host (also sent as SNI).
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: str | None = None
    temporal_dev_port: int = 7233
    temporal_ui_port: int = 8233

    khipu_api_base: str = "http://127.0.0.1:8010"
    khipu_api_key: str = DEV_KHIPU_API_KEY
    khipu_webhook_secret: str = DEV_KHIPU_WEBHOOK_SECRET
    khipu_receiver_id: int = DEV_KHIPU_RECEIVER_ID
    khipu_poll_seconds: int = 60
    khipu_sandbox_port: int = 8010

    directory_secret: str = DEV_DIRECTORY_SECRET
    directory_indexer_url: str = "http://127.0.0.1:8020/indexer/products"
    # How often the worker signals catalog changes still waiting in `indexer_outbox`.
    indexer_sweep_seconds: float = Field(default=5.0, gt=0)
    directory_sandbox_port: int = 8020
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None

    smtp_url: str = "smtp://127.0.0.1:8025"
    mail_from: str = "MarketRed <no-reply@marketred.cl>"
    mailcatcher_port: int = 8025

    embed_origins: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:8020"])
    commission_bps: int = Field(default=1000, ge=0, le=10000)

    # Quote deadlines (design.md §4); vendors may override the first four.
    vendor_response_hours: int = 48
    vendor_reminder_hours_before: int = 12
    payment_window_hours: int = 72
    ship_by_days: int = 5
    auto_confirm_days: int = 10

    payout_cron: str = "0 9 * * 1"
    payout_timezone: str = "America/Santiago"
    # How payouts reach vendors: "bank_file" (a nómina operators download and upload to
    # the bank, then confirm) or "sandbox" (records and confirms, moves nothing). Unset:
    # bank_file in production, sandbox otherwise.
    payout_provider: Literal["bank_file", "sandbox"] | None = None
    # Attempts of a payout's transfer (about 5 s, then doubling to 2 min apart) before
    # it is held for an operator.
    payout_transfer_attempts: int = Field(default=10, ge=1, le=100)

    access_token_minutes: int = 60

    @property
    def is_dev(self) -> bool:
        return self.env in ("dev", "test")

    @property
    def payout_provider_name(self) -> Literal["bank_file", "sandbox"]:
        if self.payout_provider is not None:
            return self.payout_provider
        return "bank_file" if self.env == "production" else "sandbox"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @field_validator("metrics_token")
    @classmethod
    def _empty_token_is_none(cls, value: str | None) -> str | None:
        # An empty line in an env file must not become a token that "Bearer " matches.
        return value or None

    @model_validator(mode="after")
    def _client_cert_needs_its_key(self) -> Settings:
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            raise ValueError(
                "MARKETRED_TEMPORAL_TLS_CERT_FILE and MARKETRED_TEMPORAL_TLS_KEY_FILE go "
                "together (the client certificate for mTLS and its private key)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env != "production":
            return self
        for name in ("secret_key", "khipu_api_key", "khipu_webhook_secret", "directory_secret"):
            if getattr(self, name) in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"MARKETRED_{name.upper()} still holds a development placeholder; "
                    "set a real secret before running in production"
                )
        if self.oidc_client_secret in PLACEHOLDER_SECRETS:
            raise ValueError("MARKETRED_OIDC_CLIENT_SECRET holds a development placeholder")
        if self.payout_provider == "sandbox":
            raise ValueError("the sandbox payout provider moves no money; not in production")
        if not self.database_url:
            raise ValueError("DATABASE_URL is required in production")
        if not self.temporal_address:
            raise ValueError("MARKETRED_TEMPORAL_ADDRESS is required in production")
        return self

    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_dev_port}"

    @property
    def temporal_uses_tls(self) -> bool:
        return bool(
            self.temporal_tls
            or self.temporal_tls_ca_file
            or self.temporal_tls_cert_file
            or self.temporal_tls_server_name
            or self.temporal_api_key
        )

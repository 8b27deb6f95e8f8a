"""The one settings class (README.md, "Configuration").

Built once per process (API lifespan, worker main, CLI command) and passed down; nothing
imports a module-level instance.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as _SourceError

# Values shipped for the embedded dev stack. Outside dev, Settings refuses to start with
# any of them, so a production deploy cannot run on a secret that is in this repository.
DEV_SECRET_KEY = "dev-only-secret-key-change-me-before-production-0123456789"
DEV_KHIPU_API_KEY = "d6ec59c7-e299-4704-840d-300442546982"
DEV_KHIPU_WEBHOOK_SECRET = "1a4cbbbeb8bdb7e1d73572b9cc43ce4ce18f79d9"
DEV_KHIPU_RECEIVER_ID = 985101
DEV_DIRECTORY_SECRET = "dev-directory-shared-secret"
DEV_INDEXER_SECRET = "dev-indexer-push-secret"
DEV_OIDC_CLIENT_SECRET = "dev-oidc-client-secret"
# `id=base64url(32 bytes)`: the payload codec's key for tests and in-process use; `marketred
# dev` and prod-local generate their own (integrations/payload_codec.py).
DEV_CODEC_KEYS = "dev-2026=ZGV2LW9ubHktY29kZWMta2V5LW5vdC1mb3ItcHJvZCE"
_DEV_CODEC_KEY = b"dev-only-codec-key-not-for-prod!"
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,40}")
PLACEHOLDER_SECRETS = frozenset(
    {
        DEV_SECRET_KEY,
        DEV_KHIPU_API_KEY,
        DEV_KHIPU_WEBHOOK_SECRET,
        DEV_DIRECTORY_SECRET,
        DEV_INDEXER_SECRET,
        DEV_OIDC_CLIENT_SECRET,
        DEV_CODEC_KEYS,
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
    # uvicorn processes of `marketred api` (each with its own pool of `db_pool_size`).
    api_workers: int = Field(default=1, ge=1, le=64)
    # Database connections per process: `db_pool_size` kept open, `db_max_overflow` more
    # under bursts. A worker also needs one per concurrently running activity that uses
    # the database, so the worker sizes its pool to `worker_max_concurrent_activities`
    # when that is larger (see workers/deps.py).
    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_max_overflow: int = Field(default=10, ge=0, le=500)
    # Temporal worker concurrency: activities (each may hold a database connection) and
    # workflow tasks; the sticky cache keeps that many workflows in memory between tasks.
    worker_max_concurrent_activities: int = Field(default=20, ge=1, le=1000)
    worker_max_concurrent_workflow_tasks: int = Field(default=32, ge=1, le=1000)
    worker_max_cached_workflows: int = Field(default=1000, ge=0, le=100_000)
    # The worker's own /healthz, /readyz (for orchestrator probes) and /metrics (business
    # + Temporal SDK metrics); unset: not served.
    worker_health_port: int | None = Field(default=None, ge=1, le=65535)
    # Bearer token Prometheus sends to both /metrics (services/operations/metrics_access.py). Unset
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
    # Master keys of the payload codec that encrypts every Temporal payload (AES-256-GCM):
    # comma-separated `id=base64url-32-bytes`; the first encrypts, all decrypt (rotation:
    # put a new key first, keep the old ones until no history needs them). They also wrap
    # the per-buyer data keys (docs/privacy.md).
    codec_keys: str = DEV_CODEC_KEYS
    # How long a process trusts a buyer's data key it read (a shredded key stops working
    # everywhere within this time; the process that shreds forgets it at once).
    codec_key_cache_seconds: float = Field(default=60.0, ge=0)
    temporal_dev_port: int = 7233
    temporal_ui_port: int = 8233

    khipu_api_base: str = "http://127.0.0.1:8010"
    khipu_api_key: str = DEV_KHIPU_API_KEY
    khipu_webhook_secret: str = DEV_KHIPU_WEBHOOK_SECRET
    khipu_receiver_id: int = DEV_KHIPU_RECEIVER_ID
    khipu_poll_seconds: int = 60
    khipu_sandbox_port: int = 8010

    # One key per direction (docs/directory.md): the directory signs what it sends us
    # with `directory_secret`; we sign our pushes to its indexer with `indexer_secret`.
    directory_secret: str = DEV_DIRECTORY_SECRET
    indexer_secret: str = DEV_INDEXER_SECRET
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

    # A JSON list or a comma-separated one (NoDecode: we parse it, see _origins_list).
    embed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8020"]
    )
    commission_bps: int = Field(default=1000, ge=0, le=10000)

    # Quote deadlines (docs/quotes.md, "Lifecycle"); vendors may override the first four.
    vendor_response_hours: int = 48
    vendor_reminder_hours_before: int = 12
    payment_window_hours: int = 72
    ship_by_days: int = 5
    auto_confirm_days: int = 10
    # The bounds within which a vendor may set its own deadlines (back office).
    vendor_response_hours_min: int = Field(default=12, ge=1)
    vendor_response_hours_max: int = Field(default=168, ge=1)
    vendor_payment_hours_min: int = Field(default=24, ge=1)
    vendor_payment_hours_max: int = Field(default=168, ge=1)
    vendor_ship_days_min: int = Field(default=1, ge=1)
    vendor_ship_days_max: int = Field(default=30, ge=1)
    # Days after completion a buyer may ask to return an order (the workflow stays open).
    return_window_days: int = Field(default=10, ge=0, le=90)

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
    # Production: operators sign in with InforedChile only, unless this allows their
    # password too (a break-glass setting; docs/security.md).
    operator_password_sign_in: bool = False

    # Coarse ceilings per client address (0 turns one off): sign-in attempts per minute
    # across accounts (wrong passwords also lock the account+address pair after 5), and
    # registrations per hour. Behind a proxy that does not forward addresses every client
    # shares one address: raise them, or set MARKETRED_FORWARDED_ALLOW_IPS.
    login_per_ip_minute: int = Field(default=30, ge=0)
    register_per_ip_hour: int = Field(default=10, ge=0)

    # How often each API process starts quote workflows its requests could not start
    # right after their commit (a crash, Temporal away): rows at least this old.
    quote_start_sweep_seconds: float = Field(default=5.0, gt=0)

    # Quote requests per hour. Per account is the guard; per client address is only a
    # coarse ceiling against floods, high enough for many buyers behind one address
    # (carrier NAT, an office, a proxy that does not forward addresses); 0 turns it off.
    quotes_per_account_hour: int = Field(default=20, ge=1)
    quotes_per_ip_hour: int = Field(default=1000, ge=0)

    # Product photo renditions: in PostgreSQL, or an S3-compatible bucket (path-style URLs,
    # SigV4; AWS S3, MinIO, Ceph, R2...).
    media_store: Literal["postgres", "s3"] = "postgres"
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    # `marketred dev`'s first start makes one demo quote per state through the API.
    demo_quotes: bool = True

    @field_validator("embed_origins", mode="before")
    @classmethod
    def _origins_list(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list ({exc.msg})") from exc
        return [part.strip() for part in text.split(",") if part.strip()]

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
    def _s3_needs_its_bucket(self) -> Settings:
        if self.media_store == "s3":
            missing = [
                f"MARKETRED_{name.upper()}"
                for name in ("s3_endpoint", "s3_bucket", "s3_access_key", "s3_secret_key")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"MARKETRED_MEDIA_STORE=s3 needs {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env != "production":
            return self
        names = (
            "secret_key",
            "khipu_api_key",
            "khipu_webhook_secret",
            "directory_secret",
            "indexer_secret",
        )
        for name in names:
            if getattr(self, name) in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"MARKETRED_{name.upper()} still holds a development placeholder; "
                    "set a real secret before running in production"
                )
        _check_production_transport(self)
        if _DEV_CODEC_KEY in self.codec_key_ring().values():
            raise ValueError(
                "MARKETRED_CODEC_KEYS still holds the development key; set real keys "
                "(`marketred codec new-key`) before running in production"
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

    @model_validator(mode="after")
    def _codec_keys_parse(self) -> Settings:
        self.codec_key_ring()
        return self

    def codec_key_ring(self) -> dict[str, bytes]:
        """`codec_keys` as {key id: 32-byte key}, the encrypting key first."""
        ring: dict[str, bytes] = {}
        for entry in filter(None, (e.strip() for e in self.codec_keys.split(","))):
            key_id, sep, encoded = entry.partition("=")
            key_id = key_id.strip()
            try:
                key = base64.urlsafe_b64decode(encoded.strip() + "=" * (-len(encoded.strip()) % 4))
            except ValueError:
                key = b""
            if not sep or not key_id or len(key) != 32 or not _KEY_ID.fullmatch(key_id):
                raise ValueError(
                    "MARKETRED_CODEC_KEYS: each entry is `id=<32 bytes in base64url>` with "
                    "an id of letters, digits, `.`, `_` or `-` (generate one with "
                    "`marketred codec new-key`)"
                )
            if key_id in ring:
                raise ValueError(f"MARKETRED_CODEC_KEYS: key id {key_id!r} appears twice")
            ring[key_id] = key
        if not ring:
            raise ValueError("MARKETRED_CODEC_KEYS needs at least one key")
        return ring

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


# HMAC keys we hold (cookies, CSRF, JWTs, directory signatures): at least 256 bits.
MIN_SECRET_BYTES = 32
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _LOOPBACK_HOSTS


def _check_production_transport(s: Settings) -> None:
    """Production (docs/security.md, finding 3): long secrets, https everywhere a browser
    or a payment goes, explicit embed origins, mail over TLS. Plain http/SMTP is allowed
    only to a loopback peer (a sidecar, or `marketred prod-local`'s sandboxes): nothing
    crosses a network in the clear."""
    for name in ("secret_key", "directory_secret", "indexer_secret"):
        if len(getattr(s, name).encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"MARKETRED_{name.upper()} is shorter than {MIN_SECRET_BYTES} bytes; "
                "use a random value such as `openssl rand -base64 48`"
            )
    if not s.public_url.startswith("https://"):
        raise ValueError(
            "MARKETRED_PUBLIC_URL must be https:// in production (Secure cookies, HSTS)"
        )
    if not s.khipu_api_base.startswith("https://") and not _is_loopback(s.khipu_api_base):
        raise ValueError("MARKETRED_KHIPU_API_BASE must be https:// in production")
    if (
        "embed_origins" not in s.model_fields_set
        or not s.embed_origins
        or any(
            o == "*" or not (o.startswith("https://") or _is_loopback(o)) for o in s.embed_origins
        )
    ):
        raise ValueError(
            "MARKETRED_EMBED_ORIGINS must list the directory's https origins explicitly "
            "in production (no '*', no http)"
        )
    smtp = urlsplit(s.smtp_url)
    if smtp.scheme not in ("smtps", "smtp+starttls") and not _is_loopback(s.smtp_url):
        raise ValueError(
            "MARKETRED_SMTP_URL must use TLS in production (smtps:// or smtp+starttls://); "
            "plain smtp:// only to a loopback relay"
        )


class SettingsInvalid(Exception):
    """The environment does not make valid settings; the message is one readable line."""


def _variable(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else f"MARKETRED_{field.upper()}"


def describe_errors(exc: ValidationError) -> str:
    """One line naming each offending variable: `MARKETRED_PORT: Input should be ...`."""
    parts = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        loc = error["loc"]
        parts.append(f"{_variable(str(loc[0]))}: {message}" if loc else message)
    return "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, or SettingsInvalid with one line saying what is wrong
    (instead of pydantic's multi-line traceback at start)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsInvalid(f"invalid settings: {describe_errors(exc)}") from None
    except _SourceError as exc:
        # pydantic-settings could not decode a variable (e.g. malformed JSON).
        raise SettingsInvalid(f"invalid settings: {' '.join(str(exc).split())}") from None

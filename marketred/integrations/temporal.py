"""How every MarketRed process reaches Temporal, and start-up registration of search
attributes.

`connect()` is the one place a Temporal client is built (API, worker, CLI, dev stack):
address, namespace, TLS / mTLS, API key and the encrypting payload codec all come from
`Settings`, so a worker and the API can never disagree on how to reach the cluster or
Temporal Cloud, nor send a payload unencrypted.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from marketred import tracing
from marketred.integrations.payload_codec import EncryptionCodec, SubjectKeys, data_converter
from marketred.logs import get_logger
from marketred.schemas import search_attributes
from marketred.settings import Settings
from marketred.store.session import create_engine, create_session_factory

log = get_logger(__name__)

_TYPES = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}
# The names the CLIs (temporal, tcld) take for each type.
_CLI_TYPES = {
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
}
# How a server says "not you / not here": Temporal Cloud answers the operator service's
# AddSearchAttributes with one of these; so does a self-hosted frontend whose authorizer
# does not give this client admin rights.
_REFUSALS = {
    RPCStatusCode.PERMISSION_DENIED,
    RPCStatusCode.UNIMPLEMENTED,
    RPCStatusCode.UNAUTHENTICATED,
}
_CLOUD_SUFFIXES = (".tmprl.cloud", ".api.temporal.io")


class TemporalSettingsError(ValueError):
    """A Temporal connection setting points at something unusable (a missing file)."""


def _read(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TemporalSettingsError(f"{setting}: cannot read {path}: {exc.strerror}") from exc


def tls_config(settings: Settings) -> TLSConfig | bool:
    """What `Client.connect(tls=...)` gets: False for plaintext (dev server, a sidecar),
    True for TLS against the system's CAs, or a TLSConfig with our CA / client cert."""
    if not settings.temporal_uses_tls:
        return False
    ca = _read(settings.temporal_tls_ca_file, "MARKETRED_TEMPORAL_TLS_CA_FILE")
    cert = _read(settings.temporal_tls_cert_file, "MARKETRED_TEMPORAL_TLS_CERT_FILE")
    key = _read(settings.temporal_tls_key_file, "MARKETRED_TEMPORAL_TLS_KEY_FILE")
    if ca is None and cert is None and not settings.temporal_tls_server_name:
        return True
    return TLSConfig(
        server_root_ca_cert=ca,
        client_cert=cert,
        client_private_key=key,
        domain=settings.temporal_tls_server_name,
    )


def payload_codec(
    settings: Settings, sessions: async_sessionmaker[AsyncSession] | None = None
) -> EncryptionCodec:
    """The codec of every client, worker and the codec endpoint: the master keys from
    settings; buyers' keys from `sessions`, or from `DATABASE_URL` when given none."""
    if sessions is None and settings.database_url:
        sessions = create_session_factory(create_engine(settings.database_url, pool_size=2))
    ring = settings.codec_key_ring()
    return EncryptionCodec(
        ring, SubjectKeys(ring, sessions, cache_seconds=settings.codec_key_cache_seconds)
    )


async def connect(
    settings: Settings,
    *,
    target: str | None = None,
    codec: EncryptionCodec | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """Every Temporal client (and so every worker) encrypts its payloads with `codec`
    (integrations/payload_codec.py), by default one built from settings. `runtime`: the
    worker's, exporting SDK metrics (workers/sdk_metrics.py)."""
    return await Client.connect(
        target or settings.temporal_target(),
        namespace=settings.temporal_namespace,
        data_converter=data_converter(codec or payload_codec(settings)),
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
        runtime=runtime,
        interceptors=tracing.temporal_interceptors(),
    )


def search_attribute_types() -> dict[str, IndexedValueType.ValueType]:
    return {
        key.name: _TYPES[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
        for key in search_attributes.ALL
    }


def is_temporal_cloud(address: str) -> bool:
    host = address.rsplit(":", 1)[0]
    return host.endswith(_CLOUD_SUFFIXES)


def registration_command(
    names: list[str], namespace: str, address: str, settings: Settings | None = None
) -> str:
    """The command an operator runs to add `names` where we may not: `tcld` for Temporal
    Cloud, the `temporal` CLI (with this process's TLS flags) for a self-hosted cluster.
    Secrets stay out of it: the API key is referenced as an environment variable."""
    types = search_attribute_types()
    if is_temporal_cloud(address):
        args = ["tcld", "namespace", "search-attributes", "add", "--namespace", namespace]
        for name in names:
            args += ["--search-attribute", f"{name}={_CLI_TYPES[types[name]]}"]
        return shlex.join(args)
    args = ["temporal", "operator", "search-attribute", "create"]
    args += ["--address", address, "--namespace", namespace]
    if settings is not None:
        for flag, value in (
            ("--tls-ca-path", settings.temporal_tls_ca_file),
            ("--tls-cert-path", settings.temporal_tls_cert_file),
            ("--tls-key-path", settings.temporal_tls_key_file),
            ("--tls-server-name", settings.temporal_tls_server_name),
        ):
            if value:
                args += [flag, str(value)]
        if settings.temporal_uses_tls and not any(a.startswith("--tls-") for a in args):
            args.append("--tls")
    for name in names:
        args += ["--name", name, "--type", _CLI_TYPES[types[name]]]
    command = shlex.join(args)
    if settings is not None and settings.temporal_api_key:
        command += ' --api-key "$MARKETRED_TEMPORAL_API_KEY"'
    return command


class SearchAttributesRefused(RuntimeError):
    """The server would not add our search attributes; `command` is what to run instead."""

    def __init__(self, missing: list[str], namespace: str, reason: str, command: str) -> None:
        self.missing = missing
        self.command = command
        super().__init__(
            f"Temporal refused to register the search attributes {', '.join(missing)} "
            f"in namespace {namespace!r} ({reason}). Quote workflows need them. Register "
            f"them once with:\n\n    {command}\n\nthen start the worker again."
        )


async def register_search_attributes(
    client: Client, namespace: str, *, settings: Settings | None = None
) -> list[str]:
    """Add the quote search attributes that the namespace lacks; return the added names.

    A server that refuses the operator service (Temporal Cloud, or a cluster whose
    authorizer does not let this client administer) raises SearchAttributesRefused with
    the exact command to run instead. If it refuses even to list them, we cannot tell what
    is missing: the command is logged and start-up goes on."""
    address = client.service_client.config.target_host
    wanted = search_attribute_types()
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as exc:
        if exc.status not in _REFUSALS:
            raise
        log.warning(
            "cannot list Temporal search attributes; make sure they are registered",
            reason=f"{exc.status.name}: {exc.message}",
            command=registration_command(sorted(wanted), namespace, address, settings),
        )
        return []
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {k: v for k, v in wanted.items() if k not in known}
    if not missing:
        return []
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as exc:
        names = sorted(missing)
        if exc.status in _REFUSALS:
            command = registration_command(names, namespace, address, settings)
            raise SearchAttributesRefused(
                names, namespace, f"{exc.status.name}: {exc.message}", command
            ) from exc
        if "already" not in str(exc).lower():  # another process registered them first
            raise
    return sorted(missing)

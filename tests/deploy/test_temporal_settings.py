"""The Temporal connection settings: what `connect()` is given, and what operators read
when something is wrong."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from marketred.integrations import temporal
from marketred.settings import Settings
from marketred.workers.local_ca import create_ca


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_plaintext_unless_something_asks_for_tls() -> None:
    assert temporal.tls_config(_settings()) is False


def test_tls_with_system_roots_for_a_flag_or_an_api_key() -> None:
    assert temporal.tls_config(_settings(temporal_tls=True)) is True
    assert temporal.tls_config(_settings(temporal_api_key="k")) is True


def test_mtls_files_and_server_name_are_read_into_the_tls_config(tmp_path: Path) -> None:
    ca = create_ca(tmp_path)
    client = ca.issue(tmp_path, "client", ["w"], client=True)
    cfg = temporal.tls_config(
        _settings(
            temporal_tls_ca_file=ca.cert,
            temporal_tls_cert_file=client.cert,
            temporal_tls_key_file=client.key,
            temporal_tls_server_name="ns.acct.tmprl.cloud",
        )
    )
    assert isinstance(cfg, TLSConfig)
    assert cfg.server_root_ca_cert == ca.cert.read_bytes()
    assert cfg.client_cert == client.cert.read_bytes()
    assert cfg.client_private_key == client.key.read_bytes()
    assert cfg.domain == "ns.acct.tmprl.cloud"


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="TEMPORAL_TLS_KEY_FILE"):
        _settings(temporal_tls_cert_file=Path("/etc/marketred/client.pem"))


def test_an_unreadable_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(temporal.TemporalSettingsError, match="MARKETRED_TEMPORAL_TLS_CA_FILE"):
        temporal.tls_config(_settings(temporal_tls_ca_file=tmp_path / "missing.pem"))


def test_api_and_worker_refuse_to_start_on_an_unreadable_tls_file(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "MARKETRED_HOME": str(tmp_path),
        "MARKETRED_TEMPORAL_TLS_CA_FILE": str(tmp_path / "missing-ca.pem"),
    }
    for command in ("api", "worker"):
        ran = subprocess.run(
            [sys.executable, "-m", "marketred.workers.cli", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 3, (command, ran.stdout, ran.stderr)
        assert "MARKETRED_TEMPORAL_TLS_CA_FILE" in ran.stderr
        assert "missing-ca.pem" in ran.stderr


def test_temporal_cloud_gets_the_tcld_command() -> None:
    command = temporal.registration_command(
        ["QuoteStatus", "QuoteTotal"], "marketred.a1b2c", "marketred.a1b2c.tmprl.cloud:7233"
    )
    assert shlex.split(command) == [
        "tcld",
        "namespace",
        "search-attributes",
        "add",
        "--namespace",
        "marketred.a1b2c",
        "--search-attribute",
        "QuoteStatus=Keyword",
        "--search-attribute",
        "QuoteTotal=Int",
    ]
    # API-key endpoints of Temporal Cloud too.
    assert temporal.is_temporal_cloud("us-east-1.aws.api.temporal.io:7233")
    assert not temporal.is_temporal_cloud("temporal-frontend.temporal.svc:7233")


def test_self_hosted_command_keeps_the_api_key_out_of_the_text() -> None:
    settings = _settings(temporal_api_key="very-secret", temporal_namespace="marketred")
    command = temporal.registration_command(
        ["QuoteDeadline"], "marketred", "temporal.internal:7233", settings
    )
    assert "very-secret" not in command
    assert command == (
        "temporal operator search-attribute create --address temporal.internal:7233 "
        "--namespace marketred --tls --name QuoteDeadline --type Datetime "
        '--api-key "$MARKETRED_TEMPORAL_API_KEY"'
    )

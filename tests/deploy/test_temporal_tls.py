"""Workers and clients reach a TLS-protected Temporal the way production does.

The Temporal dev server has no TLS options, so the test puts a real TLS terminator in
front of it — Caddy, with a certificate from a local CA, requiring client certificates
(mutual TLS, like Temporal Cloud or a frontend with requireClientAuth). Every connection
goes through `integrations.temporal.connect` with the MARKETRED_TEMPORAL_TLS_* settings.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from marketred.integrations import temporal
from marketred.settings import Settings
from marketred.store.migrate import upgrade
from marketred.workers.local_ca import CertFiles, LocalCA, create_ca
from tests.support.caddy import RunningCaddy, start_caddy
from tests.support.ports import free_port
from tests.support.temporal import TEMPORAL_BIN

SERVER_NAME = "temporal.test.internal"
API_KEY = "tls-test-api-key-0123456789"
OK_NAMESPACE = "tls-ok"
REFUSED_NAMESPACE = "tls-refused"


@dataclass
class Pki:
    ca: LocalCA
    server: CertFiles
    client: CertFiles
    stranger: CertFiles  # a client certificate from another CA


@dataclass
class Proxies:
    mtls: int  # client certificate required
    refusing: int  # mTLS, and the operator service's AddSearchAttributes refused (like Cloud)
    api_key: int  # server TLS only; `Authorization: Bearer <API_KEY>` required


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = create_ca(folder)
    other = create_ca(folder / "other", "Someone else's CA")
    return Pki(
        ca=ca,
        server=ca.issue(folder, "frontend", [SERVER_NAME]),
        client=ca.issue(folder, "worker", ["marketred-worker"], client=True),
        stranger=other.issue(folder / "other", "stranger", ["stranger"], client=True),
    )


@pytest.fixture(scope="module")
async def temporal_server() -> AsyncIterator[str]:
    """A dev server without our search attributes (the worker must register them)."""
    env = await WorkflowEnvironment.start_local(
        namespace=OK_NAMESPACE,
        port=free_port(),
        dev_server_existing_path=TEMPORAL_BIN,
        dev_server_extra_args=["--namespace", REFUSED_NAMESPACE],
        dev_server_log_level="error",
        data_converter=pydantic_data_converter,
    )
    yield env.client.service_client.config.target_host
    await env.shutdown()


def _caddyfile(pki: Pki, proxies: Proxies, upstream: str) -> str:
    mtls = f"""tls {pki.server.cert} {pki.server.key} {{
		client_auth {{
			mode require_and_verify
			trusted_ca_cert_file {pki.ca.cert}
		}}
	}}"""
    return f"""{{
	admin off
	auto_https off
}}
https://:{proxies.mtls} {{
	{mtls}
	reverse_proxy h2c://{upstream}
}}
https://:{proxies.refusing} {{
	{mtls}
	handle /temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes {{
		header Content-Type application/grpc
		header Grpc-Status 7
		header Grpc-Message "Request unauthorized."
		respond 200
	}}
	handle {{
		reverse_proxy h2c://{upstream}
	}}
}}
https://:{proxies.api_key} {{
	tls {pki.server.cert} {pki.server.key}
	@without_key not header Authorization "Bearer {API_KEY}"
	handle @without_key {{
		header Content-Type application/grpc
		header Grpc-Status 16
		header Grpc-Message "API key required"
		respond 200
	}}
	handle {{
		reverse_proxy h2c://{upstream}
	}}
}}
"""


@pytest.fixture(scope="module")
def proxies(
    tmp_path_factory: pytest.TempPathFactory, pki: Pki, temporal_server: str
) -> Iterator[Proxies]:
    ports = Proxies(free_port(), free_port(), free_port())
    caddy: RunningCaddy = start_caddy(
        tmp_path_factory.mktemp("caddy"),
        _caddyfile(pki, ports, temporal_server),
        [ports.mtls, ports.refusing, ports.api_key],
    )
    yield ports
    caddy.stop()


@pytest.fixture
def worker_database(new_database) -> str:  # type: ignore[no-untyped-def]
    """A database of its own: the payout run below commits to it."""
    url: str = new_database()
    upgrade(url)
    return url


def _settings(pki: Pki, port: int, namespace: str = OK_NAMESPACE, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "temporal_address": f"127.0.0.1:{port}",
        "temporal_namespace": namespace,
        "temporal_tls_ca_file": pki.ca.cert,
        "temporal_tls_cert_file": pki.client.cert,
        "temporal_tls_key_file": pki.client.key,
        "temporal_tls_server_name": SERVER_NAME,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _worker_env(
    settings: Settings, home: Path, database_url: str, health_port: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETRED_")}
    env.update(
        {
            "MARKETRED_ENV": "test",
            "MARKETRED_HOME": str(home),
            "DATABASE_URL": database_url,
            "MARKETRED_LOG_JSON": "false",
            "MARKETRED_WORKER_HEALTH_PORT": str(health_port),
            "MARKETRED_TEMPORAL_ADDRESS": settings.temporal_target(),
            "MARKETRED_TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "MARKETRED_TEMPORAL_TLS_CA_FILE": str(settings.temporal_tls_ca_file),
            "MARKETRED_TEMPORAL_TLS_CERT_FILE": str(settings.temporal_tls_cert_file),
            "MARKETRED_TEMPORAL_TLS_KEY_FILE": str(settings.temporal_tls_key_file),
            "MARKETRED_TEMPORAL_TLS_SERVER_NAME": str(settings.temporal_tls_server_name),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "marketred.workers.cli", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"worker not ready in {timeout}s:\n{log.read_text()[-3000:]}")


async def test_worker_runs_quotes_infrastructure_over_mutual_tls(
    pki: Pki, proxies: Proxies, worker_database: str, tmp_path: Path
) -> None:
    settings = _settings(pki, proxies.mtls)
    database_url = worker_database
    health_port = free_port()
    log = tmp_path / "worker.log"
    proc = _start_worker(_worker_env(settings, tmp_path, database_url, health_port), log)
    try:
        _wait_ready(proc, health_port, log)
        client = await temporal.connect(settings)
        # The worker registered the quote search attributes through the proxy...
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=OK_NAMESPACE)
        )
        assert {"QuoteStatus", "VendorSlug", "BuyerId", "QuoteTotal", "QuoteDeadline"} <= set(
            listed.custom_attributes
        )
        # ...and runs workflows and activities: a payout run over an empty ledger.
        from marketred.services.payouts.commands import run_payouts

        result = await run_payouts(client, settings)
        assert result.payouts == []
        assert result.workflow_id.startswith("payout-run-")
    finally:
        proc.terminate()
        assert proc.wait(60) == 0, log.read_text()[-3000:]


async def test_connection_without_a_trusted_client_certificate_is_refused(
    pki: Pki, proxies: Proxies
) -> None:
    no_cert = _settings(pki, proxies.mtls, temporal_tls_cert_file=None, temporal_tls_key_file=None)
    # TLS 1.3 reports a refused client certificate after the handshake: as a bad
    # certificate alert or a closed connection, depending on timing.
    with pytest.raises(RuntimeError, match="Failed client connect"):
        await temporal.connect(no_cert)
    stranger = _settings(
        pki,
        proxies.mtls,
        temporal_tls_cert_file=pki.stranger.cert,
        temporal_tls_key_file=pki.stranger.key,
    )
    with pytest.raises(RuntimeError, match="Failed client connect"):
        await temporal.connect(stranger)
    # The same proxy with our certificate: it is the certificate that was refused.
    assert await (
        await temporal.connect(_settings(pki, proxies.mtls))
    ).service_client.check_health()


async def test_server_certificate_must_carry_the_configured_name(
    pki: Pki, proxies: Proxies
) -> None:
    wrong = _settings(pki, proxies.mtls, temporal_tls_server_name="temporal.elsewhere.example")
    with pytest.raises(RuntimeError, match=r"temporal\.elsewhere\.example"):
        await temporal.connect(wrong)
    client = await temporal.connect(_settings(pki, proxies.mtls))
    assert await client.service_client.check_health()


async def test_api_key_is_sent_as_a_bearer_token(pki: Pki, proxies: Proxies) -> None:
    keyless = _settings(
        pki, proxies.api_key, temporal_tls_cert_file=None, temporal_tls_key_file=None
    )
    with pytest.raises(RuntimeError, match="API key required"):
        await temporal.connect(keyless)
    client = await temporal.connect(keyless.model_copy(update={"temporal_api_key": API_KEY}))
    assert await client.service_client.check_health()


async def test_a_server_that_refuses_registration_gets_the_exact_command(
    pki: Pki, proxies: Proxies, worker_database: str, tmp_path: Path
) -> None:
    settings = _settings(pki, proxies.refusing, namespace=REFUSED_NAMESPACE)
    client = await temporal.connect(settings)
    with pytest.raises(temporal.SearchAttributesRefused) as refused:
        await temporal.register_search_attributes(client, REFUSED_NAMESPACE, settings=settings)
    command = refused.value.command
    assert command.startswith(
        f"temporal operator search-attribute create --address 127.0.0.1:{proxies.refusing} "
        f"--namespace {REFUSED_NAMESPACE} --tls-ca-path {pki.ca.cert} "
        f"--tls-cert-path {pki.client.cert} --tls-key-path {pki.client.key} "
        f"--tls-server-name {SERVER_NAME} "
    )
    assert "--name QuoteStatus --type Keyword" in command
    assert "--name QuoteTotal --type Int" in command
    assert "--name QuoteDeadline --type Datetime" in command
    # Nothing was registered behind the refusal.
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=REFUSED_NAMESPACE)
    )
    assert "QuoteStatus" not in listed.custom_attributes

    # The worker process stops at start-up and prints that command.
    log = tmp_path / "worker.log"
    proc = _start_worker(_worker_env(settings, tmp_path, worker_database, free_port()), log)
    assert proc.wait(90) == 3, log.read_text()[-3000:]
    printed = log.read_text()
    assert "refused to register the search attributes" in printed
    assert command in printed

    # An administrator the server lets in runs it (here: the same frontend without the
    # refusal), with the temporal CLI from temporal-bin; then nothing is missing.
    args = shlex.split(command.replace(f":{proxies.refusing} ", f":{proxies.mtls} "))
    ran = subprocess.run([TEMPORAL_BIN, *args[1:]], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert (
        await temporal.register_search_attributes(client, REFUSED_NAMESPACE, settings=settings)
        == []
    )

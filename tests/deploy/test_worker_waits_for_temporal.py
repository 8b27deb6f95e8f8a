"""A worker started while Temporal is away waits and retries instead of exiting with a
traceback (found by bench/faults.py: each Temporal restart crashed the workers that were
starting, and only an outside supervisor brought them back)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.temporal import TEMPORAL_BIN

pytestmark = [pytest.mark.e2e, pytest.mark.db]


def _until(what: str, check, proc: subprocess.Popen[bytes], log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 180
    while not check():
        assert proc.poll() is None, f"worker exited: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"{what}: {log.read_text()[-3000:]}"
        time.sleep(0.3)


def _answers(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_worker_started_before_temporal_waits_then_polls(database_url: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="marketred-worker-"))
    temporal_port, health_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETRED_")}
    env |= {
        "DATABASE_URL": database_url,
        "MARKETRED_HOME": str(home),
        "MARKETRED_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "MARKETRED_WORKER_HEALTH_PORT": str(health_port),
        "MARKETRED_TEMPORAL_TASK_QUEUE": f"waits-{temporal_port}",
        "PYTHONUNBUFFERED": "1",
    }
    log = home / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "marketred.workers.cli", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    server: subprocess.Popen[bytes] | None = None
    health = f"http://127.0.0.1:{health_port}"
    try:
        _until(
            "no second retry line",
            lambda: log.read_text().count("temporal unreachable; retrying") >= 2,
            worker,
            log,
        )
        assert "Traceback" not in log.read_text()
        assert _answers(f"{health}/healthz") == 200  # alive, so a probe does not kill it
        assert _answers(f"{health}/readyz") == 503  # not ready: takes no traffic yet

        server = subprocess.Popen(
            [
                TEMPORAL_BIN,
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(temporal_port),
                "--http-port",
                str(free_port()),
                "--metrics-port",
                str(free_port()),
                "--log-level",
                "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        _until("never ready", lambda: _answers(f"{health}/readyz") == 200, worker, log)
        assert "worker started" in log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(60)
        if server is not None:
            server.terminate()
            server.wait(60)
    output = log.read_text()[-3000:]
    shutil.rmtree(home, ignore_errors=True)
    assert code == 0, output

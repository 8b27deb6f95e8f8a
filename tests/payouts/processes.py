"""The real `marketred worker` and CLI as child processes, for tests that kill or restart
a worker (the crash test, the schedule restart test)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

from temporalio.testing import WorkflowEnvironment

from marketred.settings import Settings
from tests.support.temporal import unique_task_queue

T = TypeVar("T")


def worker_env(
    settings: Settings,
    env: WorkflowEnvironment,
    home: Path,
    smtp_port: int,
    **extra: str,
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "MARKETRED_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "MARKETRED_TEMPORAL_TASK_QUEUE": unique_task_queue(),
        "MARKETRED_HOME": str(home),
        "MARKETRED_ENV": "test",
        "MARKETRED_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "MARKETRED_LOG_JSON": "false",
        "MARKETRED_LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "marketred.workers.cli", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the worker's own clean stop), SIGKILL if it does not stop in 30 s."""
    if worker.poll() is not None:
        return
    os.kill(worker.pid, signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "marketred.workers.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout

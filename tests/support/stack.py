"""The whole product as real subprocesses (`marketred dev`), for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import asyncpg
import httpx
import psutil

from tests.support.ports import free_port


@dataclass
class RunningStack:
    proc: subprocess.Popen[bytes]
    home: Path
    env: dict[str, str]
    base_url: str
    temporal_address: str
    temporal_ui_url: str
    khipu_url: str
    directory_url: str
    log_path: Path

    def descendants(self) -> list[psutil.Process]:
        try:
            return list(psutil.Process(self.proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def stack_env(home: Path, database_url: str | None) -> dict[str, str]:
    ports = {name: free_port() for name in ("api", "tp", "ui", "khipu", "dir", "smtp")}
    env = {
        **os.environ,
        "MARKETRED_HOME": str(home),
        "MARKETRED_PORT": str(ports["api"]),
        "MARKETRED_PUBLIC_URL": f"http://127.0.0.1:{ports['api']}",
        "MARKETRED_TEMPORAL_DEV_PORT": str(ports["tp"]),
        "MARKETRED_TEMPORAL_UI_PORT": str(ports["ui"]),
        "MARKETRED_TEMPORAL_UI_URL": f"http://127.0.0.1:{ports['ui']}",
        "MARKETRED_KHIPU_SANDBOX_PORT": str(ports["khipu"]),
        "MARKETRED_KHIPU_API_BASE": f"http://127.0.0.1:{ports['khipu']}",
        "MARKETRED_DIRECTORY_SANDBOX_PORT": str(ports["dir"]),
        "MARKETRED_DIRECTORY_INDEXER_URL": f"http://127.0.0.1:{ports['dir']}/indexer/products",
        "MARKETRED_EMBED_ORIGINS": f'["http://127.0.0.1:{ports["dir"]}"]',
        "MARKETRED_SMTP_URL": f"smtp://127.0.0.1:{ports['smtp']}",
        "MARKETRED_MAILCATCHER_PORT": str(ports["smtp"]),
        "MARKETRED_KHIPU_POLL_SECONDS": "2",
        # Suites count their own quotes; the demo ones are tested in test_dev_demo_quotes.
        "MARKETRED_DEMO_QUOTES": "false",
        # A completed quote's workflow ends at once instead of staying open for returns:
        # these suites wait for workflows to close (mail, erasure); returns have their
        # own tests (tests/quotes/test_workflow_returns.py).
        "MARKETRED_RETURN_WINDOW_DAYS": "0",
        # Every browser of a suite signs in and registers from 127.0.0.1, like many people
        # behind one proxy; on a quiet machine a suite signs in more than 30 times a minute.
        # The per-IP limits have their own tests (tests/accounts/test_abuse_limits.py).
        "MARKETRED_LOGIN_PER_IP_MINUTE": "1000",
        "MARKETRED_REGISTER_PER_IP_HOUR": "1000",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)
    env.pop("MARKETRED_TEMPORAL_ADDRESS", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def start_stack(
    home: Path,
    database_url: str | None,
    timeout: float = 240,
    overrides: dict[str, str] | None = None,
) -> RunningStack:
    home.mkdir(parents=True, exist_ok=True)
    env = {**stack_env(home, database_url), **(overrides or {})}
    log_path = home / "dev-stack.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "marketred.workers.cli", "dev"],
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    stack = RunningStack(
        proc=proc,
        home=home,
        env=env,
        base_url=env["MARKETRED_PUBLIC_URL"],
        temporal_address=f"127.0.0.1:{env['MARKETRED_TEMPORAL_DEV_PORT']}",
        temporal_ui_url=env["MARKETRED_TEMPORAL_UI_URL"],
        khipu_url=env["MARKETRED_KHIPU_API_BASE"],
        directory_url=f"http://127.0.0.1:{env['MARKETRED_DIRECTORY_SANDBOX_PORT']}",
        log_path=log_path,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"marketred dev exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{stack.base_url}/readyz", timeout=2).status_code == 200:
                return stack
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stack.stop()
    raise RuntimeError(f"stack not ready in {timeout}s:\n{log_path.read_text()[-4000:]}")


@contextmanager
def running_stack(
    home: Path, database_url: str | None = None, overrides: dict[str, str] | None = None
) -> Iterator[RunningStack]:
    """`start_stack` for the length of a `with` block (stopped however the block ends)."""
    running = start_stack(home, database_url, overrides=overrides)
    try:
        yield running
    finally:
        running.stop()


async def connect_stack_database(stack: RunningStack) -> asyncpg.Connection:
    """A connection to the running stack's own database (found as the CLI finds it)."""
    state = json.loads((stack.home / "stack.json").read_text())
    url = urlparse(state["database_url"])
    return await asyncpg.connect(
        host=parse_qs(url.query).get("host", [url.hostname])[0],
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.path.lstrip("/"),
    )

"""Browser fixtures: the whole product (`marketred dev`) on free ports and Debian's
Chromium driven by Playwright. Without Chromium the browser tests fail (never skip):
CI installs it with apt (see .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from marketred.workers import embedded_db
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """One running product for all browser tests. With MARKETRED_TEST_DATABASE_URL (CI's
    PostgreSQL) the stack gets a fresh database there; otherwise its embedded one."""
    home = Path(tempfile.mkdtemp(prefix="marketred-e2e-"))
    admin = os.environ.get("MARKETRED_TEST_DATABASE_URL")
    database_url = None
    if admin:
        database_url = embedded_db.ensure_database_sync(
            admin, f"mr_e2e_{uuid.uuid4().hex[:8]}", fresh=True
        )
    running = start_stack(home, database_url)
    try:
        yield running
    finally:
        _dump_workflows(running)
        running.stop()
        # Keep the processes' logs beside the screenshots (CI artifacts).
        logs = ARTIFACTS / "e2e-logs"
        shutil.rmtree(logs, ignore_errors=True)
        if (home / "logs").exists():
            shutil.copytree(home / "logs", logs)
        if running.log_path.exists():
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(running.log_path, logs / "dev-stack.log")
        shutil.rmtree(home, ignore_errors=True)


def _dump_workflows(running: RunningStack) -> None:
    """Every workflow's history beside the logs: why a quote is where it is, after the fact."""
    temporal = str(Path(sys.executable).parent / "temporal")
    out = ARTIFACTS / "e2e-workflows"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    base = [temporal, "workflow", "--address", running.temporal_address]
    listed = subprocess.run(
        [*base[:2], "list", "--address", running.temporal_address, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    (out / "list.json").write_text(listed.stdout + listed.stderr)
    for line in listed.stdout.splitlines():
        found = re.search(r'"workflowId":\s*"([^"]+)"', line)
        if found:
            shown = subprocess.run(
                [*base[:2], "show", "--address", running.temporal_address, "-w", found[1]],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            (out / f"{found[1]}.txt").write_text(shown.stdout + shown.stderr)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
    )
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()

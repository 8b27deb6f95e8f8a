"""A newcomer's first `make run`: the stack under ./.marketred with demo quotes in each
state (real workflows, seen in the console and in Temporal), the real data path printed,
no XDG_RUNTIME_DIR warning, and `marketred vendor add` from another terminal in the same
folder working with no variables at all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, screenshot, sign_in
from tests.support.stack import RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

STATES = {"REQUESTED", "ACCEPTED", "PAID", "SHIPPED", "COMPLETED"}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = Path(tmp_path_factory.mktemp("checkout"))
    with running_stack(
        folder / ".marketred", overrides={"MARKETRED_DEMO_QUOTES": "true"}
    ) as running:
        yield running


def _printed(stack: RunningStack, text: str, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log = stack.log_path.read_text(errors="replace")
        if text in log:
            return log
        assert stack.proc.poll() is None, log[-3000:]
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.3)


def _operator_quotes(stack: RunningStack) -> list[dict[str, object]]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        r = api.post(
            "/api/v1/auth/token",
            data={"username": "operador@marketred.cl", "password": "marketred-demo"},
        )
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        items: list[dict[str, object]] = api.get(
            "/api/v1/quotes", params={"limit": 100}, headers=headers
        ).json()["items"]
        return items


def test_first_start_shows_quotes_in_every_state_as_real_workflows(first_run: RunningStack):
    log = _printed(first_run, "Press Ctrl-C")
    # Rich wraps long lines and adds the source line on the right: compare without them.
    flat = "".join(re.sub(r"dev_stack\.py:\d+", "", log).split())
    assert f"datain{first_run.home.resolve() / 'pgdata'}" in flat
    assert "XDG_RUNTIME_DIR" not in log
    assert "Demo quotes" in log
    assert "not made" not in log

    quotes = _operator_quotes(first_run)
    statuses = {str(q["status"]) for q in quotes}
    assert statuses >= STATES, statuses
    held = [q for q in quotes if q["hold_reason"]]
    assert len(held) == 1
    assert "amount is" in str(held[0]["hold_reason"])

    listed = subprocess.run(
        [
            str(Path(sys.executable).parent / "temporal"),
            "workflow",
            "list",
            "--address",
            first_run.temporal_address,
            "--query",
            "WorkflowType='QuoteWorkflow'",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    workflows = json.loads(listed.stdout or "[]")
    ids = {w["execution"]["workflowId"] for w in workflows}
    assert {f"quote-{q['id']}" for q in quotes} <= ids


async def test_operator_console_shows_the_demo_quotes(first_run: RunningStack):
    _printed(first_run, "Press Ctrl-C")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(base_url=first_run.base_url, locale="es-CL")
        page = await context.new_page()
        await sign_in(page, "operador@marketred.cl")
        await page.goto("/operador")
        for label in (
            "Esperando respuesta",
            "Aceptada, por pagar",
            "Pagada",
            "Despachada",
            "Completada",
        ):
            await expect(page.get_by_role("cell", name=label, exact=True).first).to_be_visible()
        await screenshot(page, "operador-consola-demo")
        await page.goto("/operador/retenidas")
        await expect(page.get_by_text("amount is").first).to_be_visible()
        await browser.close()


def test_vendor_add_beside_the_running_stack_needs_no_variables(first_run: RunningStack):
    _printed(first_run, "Press Ctrl-C")
    # Another terminal in the same folder: none of the stack's variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETRED_")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "marketred.workers.cli",
            "vendor",
            "add",
            "ferreteria-temuco",
            "--name",
            "Ferretería Temuco",
            "--rut",
            "76.111.111-6",
        ],
        cwd=first_run.home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "vendor ferreteria-temuco created" in done.stdout
    with httpx.Client(base_url=first_run.base_url, timeout=30) as api:
        assert api.get("/api/v1/vendors/ferreteria-temuco/products").status_code == 200


def test_without_a_running_stack_the_cli_still_says_what_is_missing(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETRED_")}
    env.pop("DATABASE_URL", None)
    (tmp_path / ".marketred").mkdir()
    # A state file left by a stack that died (a pid that is not running).
    (tmp_path / ".marketred" / "stack.json").write_text(
        json.dumps({"pid": 2**22 + 7, "database_url": "postgresql://x@/y", "temporal_address": ""})
    )
    done = subprocess.run(
        [sys.executable, "-m", "marketred.workers.cli", "vendor", "add", "x", "--name", "X",
         "--rut", "76.111.111-6"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "DATABASE_URL is not set" in done.stderr

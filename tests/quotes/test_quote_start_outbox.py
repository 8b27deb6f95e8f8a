"""A quote and the promise to start its workflow commit together; the start comes after
the commit, and a committed quote always gets its workflow — also when the API dies
between the commit and the start (the restarted API's sweep starts it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.quotes import CreateQuote, QuoteWorkflowInput
from marketred.services.accounts import users as accounts
from marketred.services.catalog import carts
from marketred.services.quotes import creation as quotes_creation
from marketred.services.quotes import starts as quote_starts
from marketred.settings import Settings
from marketred.store.models import Quote, QuoteStartOutbox
from marketred.store.session import create_session_factory
from tests.support.factories import auth_headers, make_product, make_user, make_vendor
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.db

BODY = {"vendor": "", "note": "", "contact": {"name": "Ana", "email": "ana@example.cl"}}


async def _seller_and_buyer(engine: AsyncEngine) -> tuple[str, uuid.UUID, Any]:
    async with create_session_factory(engine)() as db:
        vendor = await make_vendor(db)
        _, variants = await make_product(db, vendor, prices=(10_000,))
        buyer = await make_user(db, "buyer")
        await db.commit()
    return vendor.slug, variants[0].id, buyer


async def _not_found(env: WorkflowEnvironment, workflow_id: str) -> bool:
    try:
        await env.client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        return exc.status == RPCStatusCode.NOT_FOUND
    return False


async def test_the_start_comes_after_the_commit_once_and_never_twice(
    settings: Settings, engine: AsyncEngine, dev_server_env: WorkflowEnvironment
) -> None:
    local = settings.model_copy(update={"temporal_task_queue": unique_task_queue()})
    slug, variant_id, buyer = await _seller_and_buyer(engine)
    sessions = create_session_factory(engine)
    async with sessions() as db:
        await carts.set_quantity(db, buyer.id, slug, variant_id, 2)
        quote = await quotes_creation.create_quote(
            db,
            local,
            accounts.principal_of(buyer),
            CreateQuote(vendor=slug, note="", contact={"name": "Ana"}),
        )
        # Not committed yet: nobody else sees the quote or its start, nothing started.
        async with sessions() as other:
            assert await other.get(Quote, quote.id) is None
            assert await other.get(QuoteStartOutbox, quote.id) is None
        assert await _not_found(dev_server_env, quote.workflow_id)
        await db.commit()

    async with sessions() as db:
        row = await db.get(QuoteStartOutbox, quote.id)
        assert row is not None
        assert row.task_queue == local.temporal_task_queue
        inp = QuoteWorkflowInput.model_validate(row.workflow_input)
    assert (inp.quote_id, inp.buyer_id, len(inp.lines)) == (quote.id, buyer.id, 1)
    client = dev_server_env.client
    assert await quote_starts.start_pending(sessions, client, quote_ids=[quote.id]) == 1
    handle = client.get_workflow_handle(quote.workflow_id)
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.workflow_type == quote_starts.WORKFLOW_TYPE
    assert described.task_queue == local.temporal_task_queue
    async with sessions() as db:
        assert await db.get(QuoteStartOutbox, quote.id) is None
    # Started again by a late sweep or an action: the same run, no error.
    assert await quote_starts.start_pending(sessions, client, quote_ids=[quote.id]) == 0
    await quote_starts.start(client, local.temporal_task_queue, inp)
    assert (await handle.describe()).run_id == described.run_id
    # Ended: a stale start never begins a second run of the quote.
    await handle.terminate("test over")
    await quote_starts.start(client, local.temporal_task_queue, inp)
    after = await handle.describe()
    assert (after.run_id, after.status) == (described.run_id, WorkflowExecutionStatus.TERMINATED)


async def test_a_failed_request_leaves_neither_quote_nor_start(
    client: httpx.AsyncClient, db: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = await make_vendor(db)
    _, variants = await make_product(db, vendor)
    buyer = await make_user(db, "buyer")
    await carts.set_quantity(db, buyer.id, vendor.slug, variants[0].id, 1)
    await db.commit()

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("the database went away")

    # After the quote, its lines, its start promise and the emptied cart are written.
    monkeypatch.setattr(quotes_creation, "quote_out", broken)
    with pytest.raises(RuntimeError, match="went away"):
        await client.post(
            "/api/v1/quotes",
            json={**BODY, "vendor": vendor.slug},
            headers=auth_headers(settings, buyer),
        )
    quotes = await db.scalar(
        select(func.count()).select_from(Quote).where(Quote.buyer_id == buyer.id)
    )
    starts = await db.scalar(
        select(func.count())
        .select_from(QuoteStartOutbox)
        .where(QuoteStartOutbox.workflow_input["buyer_id"].astext == str(buyer.id))
    )
    assert (quotes, starts) == (0, 0)


def _api(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "marketred.workers.cli", "api"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def _ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{url}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_api_killed_between_commit_and_start_the_restarted_api_starts_it(
    settings: Settings, engine: AsyncEngine, dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    slug, variant_id, buyer = await _seller_and_buyer(engine)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "MARKETRED_ENV": "test",
        "MARKETRED_HOME": str(tmp_path),
        "MARKETRED_SECRET_KEY": settings.secret_key,
        "MARKETRED_PORT": str(port),
        "MARKETRED_TEMPORAL_TASK_QUEUE": unique_task_queue(),
        "MARKETRED_QUOTE_START_SWEEP_SECONDS": "1",
        "MARKETRED_LOG_JSON": "false",
        "MARKETRED_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "api.log"
    # The first API cannot reach Temporal: its start after the commit fails, as if the
    # process had died right after the commit — then it really dies (SIGKILL).
    first = _api({**env, "MARKETRED_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}, log)
    try:
        await eventually(lambda: _ready(url), timeout=60, interval=0.3)
        headers = auth_headers(settings, buyer)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            r = await http.put(
                f"/api/v1/carts/{slug}/items/{variant_id}", json={"quantity": 1}, headers=headers
            )
            assert r.status_code == 200, r.text
            r = await http.post("/api/v1/quotes", json={**BODY, "vendor": slug}, headers=headers)
            assert r.status_code == 201, r.text
        quote = r.json()
        assert quote["status"] == "REQUESTED"
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
    sessions = create_session_factory(engine)
    async with sessions() as db:
        assert await db.get(Quote, uuid.UUID(quote["id"])) is not None
        assert await db.get(QuoteStartOutbox, uuid.UUID(quote["id"])) is not None
    assert await _not_found(dev_server_env, quote["workflow_id"])

    target = dev_server_env.client.service_client.config.target_host
    second = _api({**env, "MARKETRED_TEMPORAL_ADDRESS": target}, log)
    try:

        async def started() -> bool:
            async with sessions() as db:
                waiting = await db.get(QuoteStartOutbox, uuid.UUID(quote["id"]))
            return waiting is None and not await _not_found(dev_server_env, quote["workflow_id"])

        await eventually(started, timeout=60, interval=0.3)
    finally:
        os.kill(second.pid, signal.SIGTERM)
        second.wait(30)
    handle = dev_server_env.client.get_workflow_handle(quote["workflow_id"])
    described = await handle.describe()
    assert described.workflow_type == quote_starts.WORKFLOW_TYPE
    assert described.status == WorkflowExecutionStatus.RUNNING, log.read_text()
    await handle.terminate("test over")

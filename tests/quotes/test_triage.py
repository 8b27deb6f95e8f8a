"""Operators' triage on the Temporal dev server with the real QuoteWorkflow and the real
projection: quotes whose payment Khipu reports as a mismatch are held; the API says what
each waits for and what may be done; "Atascadas" lists them with why, read from the
workflow; one bulk "verify with Khipu" for all matching releases them all, each update
carrying the operator's id into that quote's history."""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.activities.quote_publish import PublishActivities
from marketred.activities.quotes import QuoteActivities
from marketred.app import create_app
from marketred.schemas.payments import PaymentNotified
from marketred.settings import Settings
from marketred.store.session import create_session_factory
from marketred.workers.step_errors import StepErrors
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld
from tests.quotes.test_quotes_api import (  # the dev-server stack and its parties
    Parties,
    Stack,
    _parties,
    _request_quote,
    stack,
)
from tests.quotes.workflow_helpers import record_history
from tests.support.api import make_resources
from tests.support.factories import make_user
from tests.support.pages import csrf_of, sign_in
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.db
__all__ = ["stack"]


async def _held_quote(stack: Stack, p: Parties) -> dict[str, str]:
    r = await _request_quote(stack, p, quantity=1)
    assert r.status_code == 201, r.text
    quote = r.json()
    qid = quote["id"]
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 0}, headers=p.staff
    )
    assert r.status_code == 200, r.text
    assert (await stack.api.post(f"/api/v1/quotes/{qid}/pay", headers=p.buyer)).status_code == 200
    handle = stack.env.client.get_workflow_handle(quote["workflow_id"])
    await handle.signal(
        "payment_notified", PaymentNotified(khipu_payment_id=f"kp-{uuid.UUID(qid).hex[:8]}")
    )
    return quote  # type: ignore[no-any-return]


async def test_held_payments_found_in_atascadas_and_released_in_bulk(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    stack.world.verdict = "mismatch"  # Khipu: "the amount differs"
    quotes = [await _held_quote(stack, p), await _held_quote(stack, p)]

    async def detail(qid: str) -> dict[str, object]:
        r = await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.operator)
        return r.json()  # type: ignore[no-any-return]

    for q in quotes:
        held = await eventually(
            functools.partial(detail, q["id"]),
            lambda d: d["hold_reason"],
            timeout=15,
            interval=0.1,
        )
        # What it waits for and what may be done: from the workflow, computed once.
        assert held["waiting_for"] == "an operator (payment held)"
        actions = {(a["name"], a["by"]) for a in held["allowed_actions"]}
        assert ("recheck_payment", "operator") in actions
        assert ("cancel", "operator") in actions
        assert ("pay", "buyer") not in actions

    sessions = create_session_factory(engine)
    async with sessions() as db:
        operator = await make_user(db, "operator")
        await sign_in(stack.api, db, stack.settings, operator)
        await db.commit()
    page = await stack.api.get(
        "/operador/atascadas", params={"motivo": "pago", "tienda": p.vendor_slug}
    )
    assert page.status_code == 200, page.text
    for q in quotes:
        assert f'data-number="{q["number"]}"' in page.text
    assert page.text.count('data-reason="payment_held"') == 2
    assert "una persona de operaciones (pago retenido)" in page.text
    assert "amount differs" in page.text

    stack.world.verdict = "paid"  # Khipu fixed its side
    r = await stack.api.post(
        "/operador/atascadas/acciones",
        data={
            "csrf_token": csrf_of(page.text),
            "accion": "verificar-pago",
            "todas": "1",
            "motivo": "pago",
            "tienda": p.vendor_slug,
        },
    )
    assert r.status_code == 200, r.text
    assert r.text.count('data-result="ok"') == 2, r.text
    assert "2 de 2 aplicadas; 0 no se pudieron aplicar." in r.text
    for q in quotes:
        assert (await detail(q["id"]))["status"] == "PAID"
        # The operator's update is in the quote's history with their id.
        history = await stack.env.client.get_workflow_handle(q["workflow_id"]).fetch_history()
        accepted = [
            e.workflow_execution_update_accepted_event_attributes.accepted_request.input
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        ]
        recheck = [i for i in accepted if i.name == "recheck_payment"]
        assert len(recheck) == 1
        body = json.loads(recheck[0].args.payloads[0].data)
        assert body["by_user"] == str(operator.id)
    after = await stack.api.get(
        "/operador/atascadas", params={"motivo": "pago", "tienda": p.vendor_slug}
    )
    assert "data-reason=" not in after.text


@pytest.fixture
async def recording_stack(
    settings: Settings, engine: AsyncEngine, dev_server_env: WorkflowEnvironment
) -> AsyncIterator[Stack]:
    """The quote stack with the worker's step-error recorder (workers/step_errors.py)."""
    tq = unique_task_queue()
    # No mail server listens on that port: publish_quote leaves each mail to the fake.
    nobody = f"smtp://127.0.0.1:{free_port()}"
    local = settings.model_copy(
        update={"temporal_task_queue": tq, "khipu_poll_seconds": 1, "smtp_url": nobody}
    )
    sessions = create_session_factory(engine)
    world = FakeWorld()
    real = {"publish_quote", "project_quote"}
    fakes = [a for a in world.activities() if a.__temporal_activity_definition.name not in real]  # type: ignore[attr-defined]
    worker = Worker(
        dev_server_env.client,
        task_queue=tq,
        workflows=[QuoteWorkflow],
        activities=[
            PublishActivities(sessions, local).publish_quote,
            QuoteActivities(sessions).project_quote,
            *fakes,
        ],
        interceptors=[StepErrors(sessions)],
    )
    async with httpx.AsyncClient(timeout=10) as http, worker:
        app = create_app(
            local, make_resources(local, engine, sessions, http, dev_server_env.client)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            yield Stack(api, local, world, dev_server_env, Path("."))


async def test_a_step_that_keeps_failing_is_listed_with_its_error_until_it_succeeds(
    recording_stack: Stack, engine: AsyncEngine
) -> None:
    stack = recording_stack
    p = await _parties(engine, stack.settings)
    stack.world.check_failures = 10_000  # Khipu does not answer
    quote = await _held_quote(stack, p)  # the notification makes the workflow ask Khipu

    async def detail() -> dict[str, object]:
        r = await stack.api.get(f"/api/v1/quotes/{quote['id']}", headers=p.operator)
        return r.json()  # type: ignore[no-any-return]

    failing = await eventually(detail, lambda d: d["last_error"], timeout=60, interval=0.1)
    assert re.match(
        r"\w+_khipu_payment: Khipu timed out \(attempt \d+\)", str(failing["last_error"])
    )
    assert {"name": "retry_now", "by": "operator"} in failing["allowed_actions"]
    sessions = create_session_factory(engine)
    async with sessions() as db:
        operator = await make_user(db, "operator")
        await sign_in(stack.api, db, stack.settings, operator)
        await db.commit()
    page = await stack.api.get(
        "/operador/atascadas", params={"motivo": "error", "tienda": p.vendor_slug}
    )
    assert f'data-number="{quote["number"]}"' in page.text
    assert 'data-reason="retrying"' in page.text
    assert "_khipu_payment: Khipu timed out" in page.text

    stack.world.check_failures = 0  # Khipu is back; the operator does not wait the backoff
    stack.world.verdict = "paid"
    r = await stack.api.post(
        "/operador/atascadas/acciones",
        data={"csrf_token": csrf_of(page.text), "accion": "reintentar", "quote": quote["id"]},
    )
    assert r.status_code == 200, r.text
    assert "1 de 1 aplicadas" in r.text
    await eventually(
        detail, lambda d: d["status"] == "PAID" and not d["last_error"], timeout=120, interval=0.1
    )
    history = await stack.env.client.get_workflow_handle(quote["workflow_id"]).fetch_history()
    retried = [
        json.loads(
            e.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads[
                0
            ].data
        )
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == "retry_now"
    ]
    assert [r["by_user"] for r in retried] == [str(operator.id)]
    await record_history(stack.env.client.get_workflow_handle(quote["workflow_id"]), "retry_now")
    timeline = (await detail())["timeline"]
    assert isinstance(timeline, list)
    assert "operator_retry" in [e["kind"] for e in timeline]
    after = await stack.api.get(
        "/operador/atascadas", params={"motivo": "error", "tienda": p.vendor_slug}
    )
    assert f'data-number="{quote["number"]}"' not in after.text

"""Operators' triage on the Temporal dev server with the real QuoteWorkflow and the real
projection: quotes whose payment Khipu reports as a mismatch are held; the API says what
each waits for and what may be done; "Atascadas" lists them with why, read from the
workflow; one bulk "verify with Khipu" for all matching releases them all, each update
carrying the operator's id into that quote's history."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType

from marketred.schemas.payments import PaymentNotified
from marketred.store.session import create_session_factory
from tests.quotes.test_quotes_api import (  # the dev-server stack and its parties
    Parties,
    Stack,
    _eventually,
    _parties,
    _request_quote,
    stack,
)
from tests.support.factories import make_user
from tests.web.helpers import csrf_of, sign_in

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
        held = await _eventually(lambda q=q: detail(q["id"]), lambda d: d["hold_reason"])
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

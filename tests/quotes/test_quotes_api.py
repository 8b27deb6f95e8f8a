"""The quote API against the Temporal dev server, real quote activities (projection and
mail to a caught SMTP server) and real PostgreSQL. Khipu and the ledger are faked here
(their own tests cover them); the full-stack run with the Khipu sandbox is bench/."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.activities.notifications import NotificationActivities
from marketred.activities.quote_publish import PublishActivities
from marketred.activities.quotes import QuoteActivities
from marketred.app import create_app
from marketred.sandbox.mailcatcher import list_caught, start_catcher
from marketred.schemas.accounts import Principal
from marketred.schemas.payments import PaymentNotified
from marketred.schemas.quotes import CreateQuote, ExtendDeadlineBody
from marketred.services import quotes as quote_service
from marketred.services.accounts import users as accounts
from marketred.settings import Settings
from marketred.store.models import QuoteStartOutbox
from marketred.store.repositories import users as users_repo
from marketred.store.session import create_session_factory
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld
from tests.support.api import make_resources
from tests.support.factories import auth_headers, make_product, make_user, make_vendor
from tests.support.journey import COMPLETED_TIMELINE
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.db


@dataclass
class Stack:
    api: httpx.AsyncClient
    settings: Settings
    world: FakeWorld
    env: WorkflowEnvironment
    mail_dir: Path


@pytest.fixture
async def stack(
    settings: Settings,
    engine: AsyncEngine,
    dev_server_env: WorkflowEnvironment,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    port = free_port()
    tq = unique_task_queue()
    local = settings.model_copy(
        update={"temporal_task_queue": tq, "smtp_url": f"smtp://127.0.0.1:{port}", "home": tmp_path}
    )
    catcher = start_catcher(tmp_path / "mail", "127.0.0.1", port)
    sessions = create_session_factory(engine)
    world = FakeWorld()
    quote_acts = QuoteActivities(sessions)
    real = {"publish_quote", "project_quote", "send_quote_notification", "reserve_stock"}
    fakes = [a for a in world.activities() if a.__temporal_activity_definition.name not in real]  # type: ignore[attr-defined]
    worker = Worker(
        dev_server_env.client,
        task_queue=tq,
        workflows=[QuoteWorkflow],
        activities=[
            PublishActivities(sessions, local).publish_quote,
            quote_acts.project_quote,
            quote_acts.reserve_stock,
            NotificationActivities(sessions, local).send_quote_notification,
            *fakes,
        ],
    )
    async with httpx.AsyncClient(timeout=10) as http, worker:
        app = create_app(
            local, make_resources(local, engine, sessions, http, dev_server_env.client)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=60
        ) as api:
            yield Stack(api, local, world, dev_server_env, tmp_path / "mail")
    catcher.stop()


@dataclass
class Parties:
    vendor_slug: str
    buyer: dict[str, str]
    other_buyer: dict[str, str]
    staff: dict[str, str]
    other_staff: dict[str, str]
    operator: dict[str, str]
    variant_id: uuid.UUID
    buyer_email: str


async def _parties(engine: AsyncEngine, settings: Settings) -> Parties:
    async with create_session_factory(engine)() as db:
        vendor = await make_vendor(db, email=f"ventas-{uuid.uuid4().hex[:6]}@example.cl")
        other = await make_vendor(db)
        _, variants = await make_product(db, vendor, "Taladro", prices=(10_000,))
        buyer = await make_user(db, "buyer")
        users = [
            buyer,
            await make_user(db, "buyer"),
            await make_user(db, "vendor", vendor),
            await make_user(db, "vendor", other),
            await make_user(db, "operator"),
        ]
        await db.commit()
    h = [auth_headers(settings, u) for u in users]
    return Parties(vendor.slug, h[0], h[1], h[2], h[3], h[4], variants[0].id, buyer.email)


async def _request_quote(stack: Stack, p: Parties, quantity: int = 2) -> httpx.Response:
    r = await stack.api.put(
        f"/api/v1/carts/{p.vendor_slug}/items/{p.variant_id}",
        json={"quantity": quantity},
        headers=p.buyer,
    )
    assert r.status_code == 200, r.text
    return await stack.api.post(
        "/api/v1/quotes",
        json={"vendor": p.vendor_slug, "note": "Urgente", "contact": {"name": "Ana"}},
        headers=p.buyer,
    )


async def test_quote_accepted_with_shipping_paid_shipped_delivered_completes(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    r = await _request_quote(stack, p)
    assert r.status_code == 201, r.text
    quote = r.json()
    assert quote["number"].startswith("Q-")
    assert quote["status"] == "REQUESTED"
    assert quote["total"] == 20_000
    qid = quote["id"]
    carts = await stack.api.get("/api/v1/carts", headers=p.buyer)
    assert all(c["vendor"]["slug"] != p.vendor_slug for c in carts.json()["items"])

    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3_990}, headers=p.staff
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["total"]) == ("ACCEPTED", 23_990)

    r = await stack.api.post(f"/api/v1/quotes/{qid}/pay", headers=p.buyer)
    assert r.status_code == 200, r.text
    assert r.json()["payment_url"].startswith("https://khipu.test/")
    stack.world.verdict = "paid"
    handle = stack.env.client.get_workflow_handle(quote["workflow_id"])
    await handle.signal(
        "payment_notified", PaymentNotified(khipu_payment_id=f"kp-{uuid.UUID(qid).hex[:8]}")
    )

    async def detail() -> dict[str, object]:
        return (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.buyer)).json()  # type: ignore[no-any-return]

    await eventually(detail, lambda d: d["status"] == "PAID", timeout=15, interval=0.1)
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/ship",
        json={"carrier": "Starken", "tracking": "ST-1"},
        headers=p.staff,
    )
    assert r.status_code == 200, r.text
    r = await stack.api.post(f"/api/v1/quotes/{qid}/deliver", headers=p.buyer)
    assert r.status_code == 200, r.text
    final = await eventually(detail, lambda d: d["status"] == "COMPLETED", timeout=15, interval=0.1)
    kinds = [(e["kind"], e["status"]) for e in final["timeline"]]
    assert [k for k, _ in kinds] == COMPLETED_TIMELINE
    assert all(e["at"] for e in final["timeline"])
    assert final["tracking"] == "ST-1"

    async def subjects() -> list[str]:
        return [m.subject for m in list_caught(stack.mail_dir)]

    caught = await eventually(
        subjects, lambda s: any("despachado" in x for x in s), timeout=15, interval=0.1
    )
    assert any("Nueva cotización" in s for s in caught)
    assert any("aceptada" in s and "$23.990" in s for s in caught)
    page = await stack.api.get("/dev/mail")
    assert "Nueva cotización" in page.text


async def test_rejected_quote_shows_the_reason_to_the_buyer(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/reject", json={"reason": "Sin stock"}, headers=p.staff
    )
    assert r.status_code == 200, r.text
    seen = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.buyer)).json()
    assert seen["status"] == "REJECTED"
    assert seen["reason"] == "Sin stock"
    again = await stack.api.post(
        f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 0}, headers=p.staff
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["detail"] == "the quote is no longer awaiting the vendor"


async def test_parties_see_only_their_quotes(stack: Stack, engine: AsyncEngine) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    for who in (p.other_buyer, p.other_staff):
        assert (await stack.api.get(f"/api/v1/quotes/{qid}", headers=who)).status_code == 404
        listed = (await stack.api.get("/api/v1/quotes", headers=who)).json()
        assert qid not in {q["id"] for q in listed["items"]}
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 0}, headers=p.other_staff
    )
    assert r.status_code == 404
    # The right vendor cannot pay, the buyer cannot accept: wrong role on a visible quote.
    assert (await stack.api.post(f"/api/v1/quotes/{qid}/pay", headers=p.staff)).status_code == 403
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 0}, headers=p.buyer
    )
    assert r.status_code == 403
    mine = (await stack.api.get("/api/v1/quotes?status=REQUESTED", headers=p.staff)).json()
    assert qid in {q["id"] for q in mine["items"]}
    op = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.operator)).json()
    assert op["temporal_url"].endswith(op["workflow_id"])
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/cancel", json={"reason": "prueba"}, headers=p.operator
    )
    assert r.json()["status"] == "CANCELLED"


async def test_idempotency_key_returns_the_same_quote_and_refuses_another_body(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    await stack.api.put(
        f"/api/v1/carts/{p.vendor_slug}/items/{p.variant_id}", json={"quantity": 1}, headers=p.buyer
    )
    body = {"vendor": p.vendor_slug, "note": "x", "contact": {}}
    first, second = await asyncio.gather(
        stack.api.post("/api/v1/quotes", json=body, headers={**p.buyer, **key}),
        stack.api.post("/api/v1/quotes", json=body, headers={**p.buyer, **key}),
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    other = await stack.api.post(
        "/api/v1/quotes", json={**body, "note": "y"}, headers={**p.buyer, **key}
    )
    assert other.status_code == 422
    listed = (await stack.api.get("/api/v1/quotes", headers=p.buyer)).json()
    assert listed["total"] == 1


async def test_empty_cart_is_422(stack: Stack, engine: AsyncEngine) -> None:
    p = await _parties(engine, stack.settings)
    r = await stack.api.post(
        "/api/v1/quotes", json={"vendor": p.vendor_slug, "note": "", "contact": {}}, headers=p.buyer
    )
    assert r.status_code == 422


async def test_operators_find_quotes_by_search_attributes(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    client = stack.env.client

    async def ids(query: str) -> set[str]:
        return {wf.id async for wf in client.list_workflows(query)}

    by_vendor = f"VendorSlug='{p.vendor_slug}' AND QuoteStatus='REQUESTED'"
    found = await eventually(
        lambda: ids(by_vendor), lambda s: f"quote-{qid}" in s, timeout=15, interval=0.1
    )
    assert found == {f"quote-{qid}"}
    soon = datetime.now(UTC) + timedelta(hours=49)
    due = f"VendorSlug='{p.vendor_slug}' AND QuoteDeadline < '{soon.isoformat()}'"
    assert f"quote-{qid}" in await eventually(lambda: ids(due), bool, timeout=15, interval=0.1)
    later_only = (
        f"VendorSlug='{p.vendor_slug}' AND QuoteDeadline < '{datetime.now(UTC).isoformat()}'"
    )
    assert await ids(later_only) == set()
    desc = await client.get_workflow_handle(f"quote-{qid}").describe()
    summary = await desc.static_summary()
    assert summary is not None
    assert summary.startswith("Q-")
    await stack.api.post(f"/api/v1/quotes/{qid}/reject", json={"reason": "x"}, headers=p.staff)
    rejected = f"VendorSlug='{p.vendor_slug}' AND QuoteStatus='REJECTED'"
    assert await eventually(lambda: ids(rejected), bool, timeout=15, interval=0.1) == {
        f"quote-{qid}"
    }


async def test_vendor_extends_its_answer_time_once_over_http(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    before = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.staff)).json()
    respond_by = datetime.fromisoformat(before["deadlines"]["respond_by"])

    # Bad input names the field and changes nothing.
    bad = await stack.api.post(
        f"/api/v1/quotes/{qid}/extend",
        json={"deadline": "respond_by", "hours": 0},
        headers=p.staff,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "hours" in bad.text
    # The buyer may not extend; another vendor does not even see the quote.
    body = {"deadline": "respond_by", "hours": 24, "reason": "Consultando al proveedor"}
    r = await stack.api.post(f"/api/v1/quotes/{qid}/extend", json=body, headers=p.buyer)
    assert r.status_code == 403
    r = await stack.api.post(f"/api/v1/quotes/{qid}/extend", json=body, headers=p.other_staff)
    assert r.status_code == 404

    r = await stack.api.post(f"/api/v1/quotes/{qid}/extend", json=body, headers=p.staff)
    assert r.status_code == 200, r.text
    after = r.json()
    assert datetime.fromisoformat(after["deadlines"]["respond_by"]) == respond_by + timedelta(
        hours=24
    )
    extended = [e for e in after["timeline"] if e["kind"] == "deadline_extended"]
    assert [(e["actor"], e["message"]) for e in extended] == [
        ("vendor", "Consultando al proveedor")
    ]

    # Once only for the vendor; an operator may still extend the pending deadline.
    again = await stack.api.post(f"/api/v1/quotes/{qid}/extend", json=body, headers=p.staff)
    assert again.status_code == 409
    assert "already extended" in again.json()["detail"]
    wrong = await stack.api.post(
        f"/api/v1/quotes/{qid}/extend",
        json={"deadline": "ship_by", "hours": 2},
        headers=p.operator,
    )
    assert wrong.status_code == 409
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/extend",
        json={"deadline": "respond_by", "hours": 2, "reason": "pedido del comprador"},
        headers=p.operator,
    )
    assert r.status_code == 200, r.text
    final = datetime.fromisoformat(r.json()["deadlines"]["respond_by"])
    assert final == respond_by + timedelta(hours=26)


async def test_the_same_idempotency_key_sent_twice_to_extend_extends_once(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    before = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.operator)).json()
    respond_by = datetime.fromisoformat(before["deadlines"]["respond_by"])
    body = {"deadline": "respond_by", "hours": 24, "reason": "pedido del comprador"}
    headers = {**p.operator, "Idempotency-Key": "extend-once-1"}

    # Twice one after the other (a retry after a lost answer), then twice at once (a
    # double click): the first answer every time, one extension in total.
    first = await stack.api.post(f"/api/v1/quotes/{qid}/extend", json=body, headers=headers)
    assert first.status_code == 200, first.text
    again = await stack.api.post(f"/api/v1/quotes/{qid}/extend", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    racing = await asyncio.gather(
        *(
            stack.api.post(
                f"/api/v1/quotes/{qid}/extend",
                json=body,
                headers={**p.operator, "Idempotency-Key": "extend-once-2"},
            )
            for _ in range(2)
        )
    )
    assert [r.status_code for r in racing] == [200, 200], [r.text for r in racing]

    after = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.operator)).json()
    assert datetime.fromisoformat(after["deadlines"]["respond_by"]) == respond_by + timedelta(
        hours=48
    )
    extended = [e for e in after["timeline"] if e["kind"] == "deadline_extended"]
    assert len(extended) == 2

    # The same key with another body is refused and changes nothing.
    other = await stack.api.post(
        f"/api/v1/quotes/{qid}/extend", json={**body, "hours": 5}, headers=headers
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.text


async def test_one_update_id_per_request_key_even_past_the_stored_answer(
    stack: Stack, engine: AsyncEngine
) -> None:
    """A web form posted twice carries the same nonce and has no stored answer: the
    workflow itself must see one update (one extension)."""
    p = await _parties(engine, stack.settings)
    qid = uuid.UUID((await _request_quote(stack, p)).json()["id"])
    operator = Principal(user_id=uuid.uuid4(), role="operator")
    body = ExtendDeadlineBody(deadline="respond_by", hours=3, reason="doble clic")
    async with create_session_factory(engine)() as db:
        for _ in range(2):
            await quote_service.extend_deadline(
                db, stack.env.client, operator, qid, body, key="web:nonce-1"
            )
        # Another nonce (the form drawn again) is another request.
        await quote_service.extend_deadline(
            db, stack.env.client, operator, qid, body, key="web:nonce-2"
        )
        out = await quote_service.get_quote(db, operator, qid)
    assert [e.kind for e in out.timeline].count("deadline_extended") == 2


async def test_accepting_a_total_of_zero_is_422_on_the_field_and_changes_nothing(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/accept",
        json={"shipping_cost": 0, "lines": [{"position": 0, "unit_price": 0}]},
        headers=p.staff,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "shipping_cost" in r.text
    assert "more than $0" in r.json()["detail"]
    after = (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.staff)).json()
    assert after["status"] == "REQUESTED"


async def test_a_refused_refund_is_held_where_operators_look_and_they_are_mailed(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3_990}, headers=p.staff
    )
    assert r.status_code == 200, r.text
    assert (await stack.api.post(f"/api/v1/quotes/{qid}/pay", headers=p.buyer)).status_code == 200
    stack.world.verdict = "paid"
    handle = stack.env.client.get_workflow_handle(f"quote-{qid}")
    await handle.signal(
        "payment_notified", PaymentNotified(khipu_payment_id=f"kp-{uuid.UUID(qid).hex[:8]}")
    )

    async def detail() -> dict[str, object]:
        return (await stack.api.get(f"/api/v1/quotes/{qid}", headers=p.operator)).json()  # type: ignore[no-any-return]

    await eventually(detail, lambda d: d["status"] == "PAID", timeout=15, interval=0.1)
    stack.world.refund_refusal = "Khipu refused the refund: El pago ya fue rendido"
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/cancel", json={"reason": "sin stock"}, headers=p.operator
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "REFUND_HELD"
    assert "ya fue rendido" in r.json()["hold_reason"]

    held = await stack.api.get("/api/v1/quotes?held=true&limit=100", headers=p.operator)
    assert qid in [q["id"] for q in held.json()["items"]]
    # The buyer cannot cancel again nor resolve it; the operator can.
    r = await stack.api.post(f"/api/v1/quotes/{qid}/retry-refund", headers=p.buyer)
    assert r.status_code == 403
    mails = await eventually(
        lambda: _caught(stack),
        lambda m: any("Reembolso retenido" in x.subject for x in m),
        timeout=15,
        interval=0.1,
    )
    operator_mail = next(x for x in mails if "Reembolso retenido" in x.subject)
    assert "ya fue rendido" in operator_mail.text

    stack.world.refund_refusal = None
    r = await stack.api.post(
        f"/api/v1/quotes/{qid}/retry-refund",
        headers={**p.operator, "Idempotency-Key": "retry-1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "REFUNDED"
    assert [x.amount for x in stack.world.refunds] == [23_990]
    held = await stack.api.get("/api/v1/quotes?held=true&limit=100", headers=p.operator)
    assert qid not in [q["id"] for q in held.json()["items"]]


async def _caught(stack: Stack) -> list[Any]:
    return list_caught(stack.mail_dir)


async def test_return_asked_by_the_buyer_declined_by_the_vendor_decided_by_an_operator(
    stack: Stack, engine: AsyncEngine
) -> None:
    p = await _parties(engine, stack.settings)
    qid = (await _request_quote(stack, p)).json()["id"]
    base = f"/api/v1/quotes/{qid}"
    r = await stack.api.post(f"{base}/accept", json={"shipping_cost": 3_990}, headers=p.staff)
    assert r.status_code == 200, r.text
    assert (await stack.api.post(f"{base}/pay", headers=p.buyer)).status_code == 200
    stack.world.verdict = "paid"
    await stack.env.client.get_workflow_handle(f"quote-{qid}").signal(
        "payment_notified", PaymentNotified(khipu_payment_id=f"kp-{uuid.UUID(qid).hex[:8]}")
    )

    async def detail() -> dict[str, Any]:
        return (await stack.api.get(base, headers=p.operator)).json()  # type: ignore[no-any-return]

    await eventually(detail, lambda d: d["status"] == "PAID", timeout=15, interval=0.1)
    ship = {"carrier": "Starken", "tracking": "ST-9"}
    assert (await stack.api.post(f"{base}/ship", json=ship, headers=p.staff)).status_code == 200
    assert (await stack.api.post(f"{base}/deliver", headers=p.buyer)).status_code == 200
    await eventually(detail, lambda d: d["status"] == "COMPLETED", timeout=15, interval=0.1)

    # Only the buyer asks, with a reason; bad input names the field.
    r = await stack.api.post(f"{base}/return", json={"reason": ""}, headers=p.buyer)
    assert r.status_code == 422
    assert "reason" in r.text
    r = await stack.api.post(f"{base}/return", json={"reason": "x"}, headers=p.staff)
    assert r.status_code == 403
    asked = await stack.api.post(f"{base}/return", json={"reason": "Llegó roto"}, headers=p.buyer)
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "RETURN_REQUESTED"

    # The vendor declines: disputed, and only an operator decides now.
    r = await stack.api.post(
        f"{base}/return-decision", json={"approve": False, "note": "Llegó bien"}, headers=p.staff
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "RETURN_DISPUTED"
    r = await stack.api.post(f"{base}/return-decision", json={"approve": True}, headers=p.staff)
    assert r.status_code == 409
    over = await stack.api.post(
        f"{base}/return-decision", json={"approve": True, "amount": 999_999}, headers=p.operator
    )
    assert over.status_code == 422
    assert "amount" in over.text
    decision = {"approve": True, "amount": 5_000, "note": "Fotos del daño"}
    keyed = {**p.operator, "Idempotency-Key": "decide-1"}
    first = await stack.api.post(f"{base}/return-decision", json=decision, headers=keyed)
    again = await stack.api.post(f"{base}/return-decision", json=decision, headers=keyed)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert first.json()["status"] == "COMPLETED"
    assert [x.amount for x in stack.world.refunds] == [5_000]
    assert [x.amount for x in stack.world.ledger_refunds] == [5_000]
    kinds = [e["kind"] for e in first.json()["timeline"]]
    assert kinds[-4:] == [
        "return_requested",
        "return_declined",
        "return_approved",
        "partial_refund",
    ]
    # The operator may refund more, up to what is left.
    r = await stack.api.post(
        f"{base}/refund", json={"amount": 1_000, "reason": "Compensación"}, headers=p.operator
    )
    assert r.status_code == 200, r.text
    assert [x.amount for x in stack.world.ledger_refunds] == [5_000, 1_000]
    # The vendor was asked, and the operators told of the dispute.
    await eventually(
        lambda: _caught(stack),
        lambda m: any("Devolución solicitada" in x.subject for x in m),
        timeout=15,
        interval=0.1,
    )
    await eventually(
        lambda: _caught(stack),
        lambda m: any("Devolución en disputa" in x.subject for x in m),
        timeout=15,
        interval=0.1,
    )


async def test_an_action_that_overtakes_the_workflow_start_starts_it_first(
    stack: Stack, engine: AsyncEngine
) -> None:
    """The quote is committed but its start has not happened yet (the response's start
    is on its way, or Temporal was away): the vendor's accept starts it, then acts."""
    p = await _parties(engine, stack.settings)
    r = await stack.api.put(
        f"/api/v1/carts/{p.vendor_slug}/items/{p.variant_id}", json={"quantity": 1}, headers=p.buyer
    )
    assert r.status_code == 200, r.text
    sessions = create_session_factory(engine)
    async with sessions() as db:
        buyer = await users_repo.get_by_email(db, p.buyer_email)
        assert buyer is not None
        quote = await quote_service.create_quote(
            db,
            stack.settings,
            accounts.principal_of(buyer),
            CreateQuote(vendor=p.vendor_slug, note="", contact={"name": "Ana"}),
        )
        await db.commit()  # committed; no start was made
    with pytest.raises(RPCError):
        await stack.env.client.get_workflow_handle(quote.workflow_id).describe()

    r = await stack.api.post(
        f"/api/v1/quotes/{quote.id}/accept", json={"shipping_cost": 0}, headers=p.staff
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ACCEPTED"
    async with sessions() as db:
        assert await db.get(QuoteStartOutbox, quote.id) is None

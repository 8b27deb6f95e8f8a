"""Run, approve and reject through the API, against a worker on the Temporal dev server
(no timers here, and it queues an update sent before a workflow's first task, which the
time-skipping server does not) and committed data (activities use their own connections)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from marketred.store.session import transaction
from tests.payouts.helpers import completed_sale, make_seller
from tests.support.factories import auth_headers, make_user
from tests.support.payouts import PayoutStack

pytestmark = pytest.mark.db


async def test_operator_runs_approves_and_rejects_payouts_over_http(
    payout_api: tuple[httpx.AsyncClient, PayoutStack],
) -> None:
    http, stack = payout_api
    async with transaction(stack.sessions) as db:
        vendor, staff, buyer = await make_seller(db)
        await completed_sale(db, vendor, buyer, 40_000)
        other, other_staff, other_buyer = await make_seller(db)
        await completed_sale(db, other, other_buyer, 9_000)
        operator = await make_user(db, "operator")
    as_operator = auth_headers(stack.settings, operator)
    as_staff = auth_headers(stack.settings, staff)

    refused = await http.post("/api/v1/payouts/run", headers=as_staff)
    assert refused.status_code == 403
    run = await http.post(
        "/api/v1/payouts/run", headers={**as_operator, "Idempotency-Key": "semana-48"}
    )
    assert run.status_code == 201, run.text
    replay = await http.post(
        "/api/v1/payouts/run", headers={**as_operator, "Idempotency-Key": "semana-48"}
    )
    assert replay.json() == run.json()  # same run answered, nothing created twice
    created = {p["vendor_slug"]: p for p in run.json()["payouts"]}
    ours, theirs = created[vendor.slug], created[other.slug]
    assert (ours["gross"], ours["commission"], ours["net"]) == (40_000, 4_000, 36_000)

    staff_try = await http.post(f"/api/v1/payouts/{ours['payout_id']}/approve", headers=as_staff)
    assert staff_try.status_code == 403
    approved = await http.post(f"/api/v1/payouts/{ours['payout_id']}/approve", headers=as_operator)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] in ("APPROVED", "PAID")
    for _ in range(100):
        seen = await http.get(f"/api/v1/payouts/{ours['payout_id']}", headers=as_staff)
        if seen.json()["status"] == "PAID":
            break
        await asyncio.sleep(0.1)
    assert seen.json()["status"] == "PAID"
    assert seen.json()["paid_at"]
    twice = await http.post(f"/api/v1/payouts/{ours['payout_id']}/approve", headers=as_operator)
    assert twice.status_code == 409

    no_reason = await http.post(
        f"/api/v1/payouts/{theirs['payout_id']}/reject", json={}, headers=as_operator
    )
    assert no_reason.status_code == 422
    rejected = await http.post(
        f"/api/v1/payouts/{theirs['payout_id']}/reject",
        json={"reason": "cuenta bancaria sin validar"},
        headers=as_operator,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "REJECTED"
    assert rejected.json()["reason"] == "cuenta bancaria sin validar"
    del other_staff

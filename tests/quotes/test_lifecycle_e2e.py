"""Through the API alone, on the whole stack (`marketred dev` as subprocesses: real
worker, PostgreSQL, Temporal dev server, Khipu sandbox with its signed webhook, mail
catcher): a quote accepted with shipping 3.990, paid, shipped, delivered, COMPLETED."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import journey
from tests.support.stack import RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.db]
CONTACT = "e2e-contacto@example.cl"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[RunningStack]:
    del database_url  # the stack brings its own embedded PostgreSQL
    with running_stack(Path(tmp_path_factory.mktemp("stack"))) as running:
        yield running


def _wait_mail(api: httpx.Client, text: str) -> str:
    for _ in range(300):
        mail = api.get("/dev/mail").text
        if text in mail:
            return mail
        time.sleep(0.1)
    raise AssertionError(f"no mail with {text!r} arrived")


def test_quote_paid_through_khipu_sandbox_ends_completed(stack: RunningStack) -> None:
    with (
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
        httpx.Client(base_url=stack.khipu_url, timeout=30) as khipu,
    ):
        buyer = journey.login(api, "comprador@marketred.cl")
        staff = journey.login(api, f"staff@{journey.SLUG}.cl")
        variant = journey.first_variant(api)
        journey.fill_cart(api, buyer, variant, 2)
        r = api.post(
            "/api/v1/quotes",
            json={
                "vendor": journey.SLUG,
                "note": "e2e",
                "contact": {"name": "E2E", "email": CONTACT},
            },
            headers=buyer,
        )
        assert r.status_code == 201, r.text
        quote = r.json()
        qid = quote["id"]
        r = api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3990}, headers=staff)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == 2 * variant["price"] + 3990
        r = api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer)
        assert r.status_code == 200, r.text
        journey.pay_at_khipu(khipu, quote["workflow_id"])
        journey.wait_status(api, qid, "PAID", buyer)
        final = journey.ship_and_deliver(api, qid, staff, buyer, "E2E")
        timeline = final["timeline"]
        assert isinstance(timeline, list)
        assert [e["kind"] for e in timeline] == journey.COMPLETED_TIMELINE
        assert all(e["at"] for e in timeline)
        # COMPLETED shows before the workflow has sent its last mails (they go out in
        # order, in the background): wait for the "shipped" one.
        mail = _wait_mail(api, "despachado")
        assert "Nueva cotización" in mail
        assert "despachado" in mail
        # Every buyer mail of the quote went to the contact email given on it: the receipt
        # of the request first.
        to_buyer = [
            m for m in mail.split("<article>") if quote["number"] in m and f"para {CONTACT}" in m
        ]
        assert any(f"Recibimos tu solicitud de cotización {quote['number']}" in m for m in to_buyer)
        assert any("fue aceptada" in m for m in to_buyer)
        assert not any(
            quote["number"] in m and "para comprador@marketred.cl" in m
            for m in mail.split("<article>")
        )

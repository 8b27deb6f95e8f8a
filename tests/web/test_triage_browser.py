"""Operators' "Atascadas" in the browser, on the whole stack: Khipu's sandbox stops
answering payment reads, so quotes whose buyers paid pile up with the step's error; the
sandbox recovers, the operator selects them all and retries now (no waiting out the
backoff); they all proceed to PAID, and each quote's history holds the operator's
retry_now update with their id."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.support.browser import new_page, screenshot, sign_in
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SLUG = "cafe-altiplano"
QUOTES = 3
# The bulk action the operator applies (its option label) and the update it sends.
ACTION_LABEL = "Reintentar ahora"
ACTION_UPDATE = "retry_now"


async def _login(api: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = await api.post("/api/v1/auth/token", data={"username": email, "password": "marketred-demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _paid_but_unconfirmed(
    api: httpx.AsyncClient, khipu: httpx.AsyncClient, buyer: dict[str, str], staff: dict[str, str]
) -> dict[str, str]:
    """A quote accepted and paid at Khipu, whose workflow cannot read the payment back."""
    variant = (await api.get(f"/api/v1/vendors/{SLUG}/products")).json()["items"][0]["variants"][0]
    r = await api.put(
        f"/api/v1/carts/{SLUG}/items/{variant['id']}", json={"quantity": 1}, headers=buyer
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        "/api/v1/quotes", json={"vendor": SLUG, "note": "", "contact": {}}, headers=buyer
    )
    assert r.status_code == 201, r.text
    quote: dict[str, str] = r.json()
    r = await api.post(
        f"/api/v1/quotes/{quote['id']}/accept", json={"shipping_cost": 0}, headers=staff
    )
    assert r.status_code == 200, r.text
    assert (await api.post(f"/api/v1/quotes/{quote['id']}/pay", headers=buyer)).status_code == 200
    rows = (await khipu.get("/_sandbox/payments")).json()
    rows = rows if isinstance(rows, list) else rows["items"]
    payment = next(p for p in rows if p["transaction_id"] == quote["workflow_id"])
    assert (await khipu.post(f"/_sandbox/payments/{payment['payment_id']}/pay", json={})).is_success
    return quote


def _updates(stack: RunningStack, workflow_id: str, codec_auth: str) -> list[dict[str, object]]:
    """The updates accepted in a workflow's history (name and input), via the CLI."""
    temporal = str(Path(sys.executable).parent / "temporal")
    shown = subprocess.run(
        [
            temporal,
            "workflow",
            "show",
            "--address",
            stack.temporal_address,
            "-w",
            workflow_id,
            "-o",
            "json",
            # Payloads are encrypted (docs/privacy.md): an operator reads them through our
            # codec endpoint, as in the Temporal UI.
            "--codec-endpoint",
            f"{stack.base_url}/codec",
            "--codec-auth",
            codec_auth,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    events = json.loads(shown.stdout)["events"]
    found = []
    for event in events:
        attrs = event.get("workflowExecutionUpdateAcceptedEventAttributes")
        if attrs:
            request = attrs["acceptedRequest"]["input"]
            found.append({"name": request["name"], "args": _payload_text(request.get("args"))})
    return found


def _payload_text(args: object) -> str:
    """The update's arguments as text, whether the CLI printed them decoded or base64."""
    text = json.dumps(args)
    for data in re.findall(r'"data":\s*"([A-Za-z0-9+/=]+)"', text):
        try:
            text += base64.b64decode(data).decode()
        except (ValueError, UnicodeDecodeError):
            continue
    return text


async def test_stuck_quotes_found_acted_on_in_bulk_and_proceeding(browser, stack) -> None:
    async with (
        httpx.AsyncClient(base_url=stack.base_url, timeout=60) as api,
        httpx.AsyncClient(base_url=stack.khipu_url, timeout=60) as khipu,
    ):
        buyer = await _login(api, "comprador@marketred.cl")
        staff = await _login(api, f"staff@{SLUG}.cl")
        # Khipu stops answering payment reads (500 to every GET /v3/payments/{id}).
        r = await khipu.post(
            "/_sandbox/faults", json={"operation": "getPaymentById", "count": 100_000}
        )
        assert r.is_success, r.text
        quotes = [await _paid_but_unconfirmed(api, khipu, buyer, staff) for _ in range(QUOTES)]
        numbers = [q["number"] for q in quotes]

        context, page = await new_page(browser, stack)
        await sign_in(page, "operador@marketred.cl")
        rows = page.locator("tr[data-number]").filter(has_text=re.compile("|".join(numbers)))
        for _ in range(120):  # the worker records each step's error from its 2nd attempt
            await page.goto(f"/operador/atascadas?motivo=error&tienda={SLUG}")
            if await rows.count() == QUOTES:
                break
            await asyncio.sleep(1)
        await expect(rows).to_have_count(QUOTES)
        for number in numbers:
            row = page.locator(f'tr[data-number="{number}"]')
            await expect(row.locator("[data-last-error]")).to_contain_text("_khipu_payment")
            await expect(row.get_by_text("Paso con errores, reintentando")).to_be_visible()
            await expect(row.locator("[data-last-error]")).to_contain_text("(attempt ")
        await screenshot(page, "operador-atascadas")

        assert (await khipu.delete("/_sandbox/faults")).is_success  # Khipu recovers
        await page.get_by_label("Seleccionar todas").check()
        for number in numbers:
            await expect(page.get_by_label(f"Seleccionar {number}")).to_be_checked()
        await page.get_by_label("Aplicar").select_option(label=ACTION_LABEL)
        await page.get_by_label("Motivo", exact=True).last.fill("Khipu volvió")
        await page.get_by_role("button", name="Aplicar a las seleccionadas").click()
        summary = page.locator("[data-triage-summary]")
        await expect(summary).to_contain_text(f"{QUOTES} de {QUOTES} aplicadas")
        for number in numbers:
            await expect(
                page.locator(f'tr[data-number="{number}"][data-result="ok"]')
            ).to_be_visible()
        await screenshot(page, "operador-atascadas-resultado")

        for quote in quotes:  # they all proceed
            for _ in range(600):
                status = (await api.get(f"/api/v1/quotes/{quote['id']}", headers=buyer)).json()[
                    "status"
                ]
                if status == "PAID":
                    break
                await asyncio.sleep(0.5)
            assert status == "PAID", quote["number"]
        await page.goto(f"/operador/atascadas?motivo=error&tienda={SLUG}")
        await expect(rows).to_have_count(0)
        await context.close()

    me, codec_auth = await _login_me(stack)
    for quote in quotes:
        shown = _updates(stack, quote["workflow_id"], codec_auth)
        updates = [u for u in shown if u["name"] == ACTION_UPDATE]
        assert len(updates) == 1, updates
        assert me in str(updates[0]["args"]), updates[0]


async def _login_me(stack: RunningStack) -> tuple[str, str]:
    """The operator's id and the Authorization value for the codec endpoint."""
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as api:
        headers = await _login(api, "operador@marketred.cl")
        me = str((await api.get("/api/v1/auth/me", headers=headers)).json()["id"])
        return me, headers["Authorization"]
